"""How long caches may keep a live media playlist: to the next segment boundary, in nginx's seconds."""

from __future__ import annotations

import pytest

from rcmedia.web.live import live_cache_control

US = 1_000_000


def nginx_stale_from(now_us: int, cache_control: str) -> int:
    """The whole second from which nginx 1.22 takes a response got at ``now_us`` as expired:
    ``valid_sec = ngx_time() + s-maxage``, expired once ``valid_sec < ngx_time()``."""
    shared = int(cache_control.split("s-maxage=")[1].split(",", maxsplit=1)[0])
    assert shared > 0, "nginx takes s-maxage=0 as do not store"
    return now_us // US + shared + 1


@pytest.mark.parametrize(
    ("now_s", "boundary_s"),
    [
        pytest.param(10.0, 16.0, id="whole-seconds"),
        pytest.param(10.7, 16.4, id="now-late-in-its-second"),
        pytest.param(10.2, 16.4, id="now-early-in-its-second"),
        pytest.param(16.1, 16.4, id="same-second-as-the-boundary"),
        pytest.param(15.9, 16.04, id="short-slate-segment"),
    ],
)
def test_the_edge_keeps_it_to_the_first_whole_second_at_or_after_the_boundary(
    now_s: float, boundary_s: float
) -> None:
    now_us, boundary_us = round(now_s * US), round(boundary_s * US)
    cache_control = live_cache_control(boundary_us, now_us, 6)

    stale_from = nginx_stale_from(now_us, cache_control)
    assert stale_from * US >= boundary_us, "never stale before the boundary"
    assert stale_from * US < boundary_us + 2 * US
    if now_us // US < boundary_us // US:  # not in the boundary's own second: exact to nginx's second
        assert stale_from == -(-boundary_us // US)


def test_browsers_get_the_whole_seconds_left_and_the_stale_bound_is_three_targets() -> None:
    assert live_cache_control(16_400_000, 10_700_000, 6) == (
        "public, max-age=5, s-maxage=6, stale-while-revalidate=1, stale-if-error=18"
    )
    assert live_cache_control(16_400_000, 16_100_000, 2).startswith("public, max-age=0, s-maxage=1,")
    assert live_cache_control(16_400_000, 16_100_000, 2).endswith("stale-if-error=6")
