"""The password-check pool: bounded running and waiting, the rest refused at once."""

from __future__ import annotations

import asyncio
import threading

import pytest

from rcmedia.errors import BusyError
from rcmedia.web.password_checks import PasswordChecks


async def test_checks_beyond_threads_and_queue_are_refused_at_once() -> None:
    checks = PasswordChecks(threads=1, queue=2)
    release = threading.Event()
    running: list[str] = []

    def check(name: str) -> str:
        running.append(name)
        release.wait(5)
        return name

    try:
        taken = [asyncio.create_task(checks.run(lambda n=n: check(n))) for n in ("a", "b", "c")]
        await asyncio.sleep(0.05)
        assert checks.pending == 3
        assert running == ["a"]  # one thread: one check at a time
        with pytest.raises(BusyError) as refused:
            await checks.run(lambda: check("d"))
        assert refused.value.retry_after >= 1
        release.set()
        assert await asyncio.gather(*taken) == ["a", "b", "c"]
        assert checks.pending == 0
        assert await checks.run(lambda: "again") == "again"
    finally:
        release.set()
        checks.close()


async def test_a_cancelled_request_keeps_its_place_until_its_check_ends() -> None:
    checks = PasswordChecks(threads=1, queue=0)
    release = threading.Event()
    try:
        task = asyncio.create_task(checks.run(lambda: release.wait(5)))
        await asyncio.sleep(0.05)
        task.cancel()
        await asyncio.sleep(0.01)
        # the hash still runs in its thread (and holds its memory): no room for another yet
        with pytest.raises(BusyError):
            await checks.run(lambda: True)
        release.set()
        for _ in range(100):
            if checks.pending == 0:
                break
            await asyncio.sleep(0.01)
        assert await checks.run(lambda: True) is True
    finally:
        release.set()
        checks.close()
