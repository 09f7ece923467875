"""The failed-login throttle: five failures block a key for a minute, a success forgets them;
attempts count before they are checked, per name and per address."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rcmedia.core.throttle import FailureThrottle, LoginLimits

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


def test_attempts_count_before_they_are_checked() -> None:
    throttle = FailureThrottle(limit=3)
    assert [throttle.attempt("k", T0) for _ in range(5)] == [None, None, None, 60, 60]
    throttle.release("k")  # one of the three was never checked: the key may try once more
    assert throttle.attempt("k", T0) is None
    assert throttle.attempt("k", T0) == 60


def test_a_release_takes_back_one_attempt_not_all() -> None:
    throttle = FailureThrottle(limit=3)
    for _ in range(2):
        throttle.attempt("k", T0)
    throttle.release("k")
    throttle.release("k")
    throttle.release("k")  # more releases than attempts: nothing left, nothing below zero
    assert [throttle.attempt("k", T0) for _ in range(4)] == [None, None, None, 60]


def limits(per_address: int | None = 4) -> LoginLimits:
    return LoginLimits(
        per_name=FailureThrottle(limit=2),
        per_address=FailureThrottle(limit=per_address, block=timedelta(minutes=5)) if per_address else None,
    )


def test_login_limits_per_name_and_address() -> None:
    login = limits()
    assert login.attempt("Operator", "10.0.0.1", T0) is None
    assert login.attempt(" operator", "10.0.0.1", T0) is None  # the same name, written otherwise
    assert login.attempt("operator", "10.0.0.1", T0) == 60
    assert login.attempt("operator", "10.0.0.2", T0) is None  # another address has its own count
    assert login.attempt("editor", "10.0.0.1", T0) is None
    assert login.attempt("admin", "10.0.0.1", T0) is None  # the address's fourth attempt
    assert login.attempt("someone", "10.0.0.1", T0) == 300
    assert login.attempt("someone", "10.0.0.1", T0 + timedelta(minutes=5)) is None


def test_a_success_forgets_the_name_but_takes_back_one_from_the_address() -> None:
    login = limits()
    for name in ("a", "b", "c"):
        login.attempt(name, "10.0.0.1", T0)
    login.attempt("editor", "10.0.0.1", T0)  # the fourth: the address is blocked…
    login.succeeded("editor", "10.0.0.1")  # …until that one turns out right
    assert login.attempt("d", "10.0.0.1", T0) is None
    assert login.attempt("e", "10.0.0.1", T0) == 300


def test_without_a_per_address_limit() -> None:
    login = limits(per_address=None)
    assert all(login.attempt(f"name-{n}", "10.0.0.1", T0) is None for n in range(100))
    login.release("name-1", "10.0.0.1")
