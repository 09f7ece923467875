"""The failed-login throttle: five failures block a key for a minute, a success forgets them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rcmedia.core.throttle import FailureThrottle

T0 = datetime(2026, 3, 2, 4, 30, tzinfo=UTC)


def test_five_failures_block_for_a_minute() -> None:
    throttle = FailureThrottle()
    for n in range(4):
        throttle.failed("k", T0 + timedelta(seconds=n))
        assert throttle.retry_after("k", T0 + timedelta(seconds=n)) is None
    throttle.failed("k", T0 + timedelta(seconds=4))
    assert throttle.retry_after("k", T0 + timedelta(seconds=4)) == 60
    assert throttle.retry_after("k", T0 + timedelta(seconds=34)) == 30
    assert throttle.retry_after("other", T0 + timedelta(seconds=34)) is None
    assert throttle.retry_after("k", T0 + timedelta(seconds=64)) is None
    throttle.failed("k", T0 + timedelta(seconds=65))  # a fresh count after the block
    assert throttle.retry_after("k", T0 + timedelta(seconds=65)) is None


def test_a_success_forgets_and_old_failures_expire() -> None:
    throttle = FailureThrottle(limit=3, window=timedelta(minutes=15))
    for _ in range(2):
        throttle.failed("k", T0)
    throttle.succeeded("k")
    throttle.failed("k", T0)
    assert throttle.retry_after("k", T0) is None
    throttle.failed("k", T0 + timedelta(minutes=16))  # the earlier one is past the window
    throttle.failed("k", T0 + timedelta(minutes=16))
    assert throttle.retry_after("k", T0 + timedelta(minutes=16)) is None
    throttle.failed("k", T0 + timedelta(minutes=16))
    assert throttle.retry_after("k", T0 + timedelta(minutes=16)) == 60


def test_memory_stays_bounded() -> None:
    throttle = FailureThrottle(max_keys=100)
    for n in range(1000):
        throttle.failed(f"name-{n}", T0 + timedelta(seconds=n))
    assert len(throttle._records) <= 100
