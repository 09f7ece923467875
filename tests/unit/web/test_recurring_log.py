"""A recurring problem is logged once per interval, with how often it recurred meanwhile."""

from __future__ import annotations

import logging

import pytest

from rcmedia.web.recurring_log import RecurringLog


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_once_per_interval_then_with_the_count_left_out(caplog: pytest.LogCaptureFixture) -> None:
    clock = Ticks()
    recurring = RecurringLog(logging.getLogger("test.recurring"), interval=60, clock=clock)
    with caplog.at_level(logging.WARNING):
        logged = [recurring.warning("emfile", "cannot accept: %s", "Too many open files") for _ in range(500)]
        clock.now += 30
        logged.append(recurring.warning("emfile", "cannot accept: %s", "Too many open files"))
        clock.now += 31
        logged.append(recurring.warning("emfile", "cannot accept: %s", "Too many open files"))

    assert logged.count(True) == 2
    assert [r.getMessage() for r in caplog.records] == [
        "cannot accept: Too many open files",
        "cannot accept: Too many open files (and 500 more times in the last 61 s)",
    ]


def test_each_key_has_its_own_interval(caplog: pytest.LogCaptureFixture) -> None:
    recurring = RecurringLog(logging.getLogger("test.recurring"), interval=60, clock=Ticks())
    with caplog.at_level(logging.WARNING):
        assert recurring.warning("a", "first")
        assert recurring.warning("b", "second")
        assert not recurring.warning("a", "first")
    assert len(caplog.records) == 2
