"""The live master over assets of different sizes: each listed rung says what it really plays.

The channels of ``schedules.py``, but every programme has 540p, 360p and 144p renditions while the
slate has only 144p (as a slate made from a small title card would). The default profile's iptv
output has 1080p, 720p, 540p and 360p rungs; mobile has 720p, 540p, 360p and 240p.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import m3u8
import pytest

from rcmedia.catalog.repository import Catalog
from rcmedia.storage.local import LocalStorage
from tests.integration.web import schedules
from tests.integration.web.published import CODECS, RUNG_FACTS, Client, Published, publish_fake_asset
from tests.integration.web.schedules import NOW, OnAir, put_on_air


@pytest.fixture
def on_air(catalog: Catalog, storage: LocalStorage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> OnAir:
    def publish(catalog: Catalog, storage: LocalStorage, **options: Any) -> Published:
        if options["series"] != "slate":
            options["rungs"] = ("540p", "360p", "144p")
        return publish_fake_asset(catalog, storage, **options)

    monkeypatch.setattr(schedules, "publish_fake_asset", publish)
    return put_on_air(catalog, storage, tmp_path / "playlists")


async def master_of(client: Client, path: str) -> dict[str, m3u8.model.StreamInfo]:
    response = await client.get(path)
    assert response.status == 200, await response.text()
    return {p.uri.split("?")[0]: p.stream_info for p in m3u8.loads(await response.text()).playlists}


def attributes(info: m3u8.model.StreamInfo) -> tuple[object, ...]:
    return info.resolution, info.bandwidth, info.average_bandwidth, info.codecs, info.frame_rate


def facts(rung: str) -> tuple[object, ...]:
    f = RUNG_FACTS[rung]
    return (f["width"], f["height"]), f["bandwidth"], f["average_bandwidth"], CODECS, 25


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        # 1080p and 720p would play the programmes' 540p and the slate's 144p: 540p's files
        pytest.param("iptv", {"540p.m3u8": facts("540p"), "360p.m3u8": facts("360p")}, id="iptv"),
        # 240p plays 144p of everything; 720p the same files as 540p
        pytest.param(
            "mobile",
            {"540p.m3u8": facts("540p"), "360p.m3u8": facts("360p"), "240p.m3u8": facts("144p")},
            id="mobile",
        ),
    ],
)
async def test_each_listed_rung_has_the_attributes_of_what_it_plays(
    schedule_client: Client, output: str, expected: dict[str, tuple[object, ...]]
) -> None:
    live = f"/live/rcxf/{output}"
    listed = await master_of(schedule_client, f"{live}/master.m3u8")

    assert {uri: attributes(info) for uri, info in listed.items()} == expected
    assert list(listed) == list(expected)  # highest first
    for uri in listed:
        media = await schedule_client.get(f"{live}/{uri}")
        assert media.status == 200
        assert m3u8.loads(await media.text()).segments


async def test_catch_up_master_rates_the_same_way(schedule_client: Client) -> None:
    start = int(NOW.timestamp() - 7200)
    listed = await master_of(schedule_client, f"/catchup/rcxf/iptv/master.m3u8?utc={start}&duration=3600")
    assert {uri: attributes(info) for uri, info in listed.items()} == {
        "540p.m3u8": facts("540p"),
        "360p.m3u8": facts("360p"),
    }
