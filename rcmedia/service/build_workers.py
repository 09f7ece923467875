"""Building many channels' EPG days at once: the pure builder spread over worker processes.

Channels are independent and the builder is pure and deterministic, so building them in other
processes gives the same days as building them one after another here. Workers are forked
(Linux), so they start with the parent's inputs, the shared asset index among them, already in
memory: nothing is sent to them but a channel's position in the list. What comes back are the
days with each event as a plain tuple (``rcmedia.core.event_tuples``), far cheaper to pickle than
Event objects; still, remaking the events here costs about a third of building them, so N idle
CPUs give less than N times the speed, and busy ones nothing (see ``default_workers``). The
parent builds channels too, from the back of the list while the workers take them from the front.

Nothing here reads or writes storage: callers read every channel's inputs first and store the
results after, in their own process.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from itertools import starmap
from pathlib import Path

from rcmedia.core.builder import BuildInput, DaySchedule, build_outputs
from rcmedia.core.event_tuples import EventFields, event_fields, new_event
from rcmedia.core.models import Output

MIN_PARALLEL = 8  # fewer channel builds than this are not worth starting processes for
IN_FLIGHT = 2  # channel builds queued per worker, so that none waits for the next
IDLE_SAMPLE_S = 0.05  # how long default_workers watches the CPUs


@dataclass(frozen=True, kw_only=True, slots=True)
class ChannelBuild:
    """One channel's outputs, built together (see ``rcmedia.core.builder.build_outputs``)."""

    specs: tuple[BuildInput, ...]
    first_day: date
    days: int

    def build(self) -> list[list[DaySchedule]]:
        return build_outputs(self.specs, self.first_day, self.days)


def available_cpus() -> int:
    """The CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1  # pragma: no cover - not Linux


def idle_cpus(sample_s: float = IDLE_SAMPLE_S) -> float | None:
    """How many CPUs' worth sat idle over a short sample (Linux ``/proc/stat``); None if unknown."""

    def idle_and_total() -> tuple[int, int]:
        with Path("/proc/stat").open(encoding="ascii") as stat:
            ticks = [int(field) for field in stat.readline().split()[1:]]  # the "cpu" line: all CPUs
        return ticks[3] + ticks[4], sum(ticks)  # idle and iowait, of all

    try:
        idle0, total0 = idle_and_total()
        time.sleep(sample_s)
        idle1, total1 = idle_and_total()
    except (OSError, ValueError, IndexError):
        return None
    if total1 <= total0:
        return None
    return (idle1 - idle0) / (total1 - total0) * (os.cpu_count() or 1)


def default_workers() -> int:
    """One process per CPU that is free now, at least one.

    Processes only help on CPUs that nothing else wants: on a machine busy with other work
    (transcodes, the origin, tests) a second build process shares a CPU with them, gains
    nothing and adds the cost of sending its days back.
    """
    cpus = available_cpus()
    idle = idle_cpus()
    return cpus if idle is None else max(1, min(cpus, round(idle)))


def build_channels(
    builds: Sequence[ChannelBuild], *, workers: int | None = None
) -> Iterator[list[list[DaySchedule]]]:
    """``build.build()`` for each of ``builds``, in order: the same days as building them one by one.

    ``workers`` processes in all, this one included (default: ``default_workers()``); with one,
    with too few builds to be worth it, or where processes cannot be forked, everything is built
    here. All is built before the first result comes back; a channel that cannot be built raises
    when its turn comes, after the ones before it, as building them one by one would.
    """
    few = len(builds) < MIN_PARALLEL  # not worth sampling the CPUs for, nor starting processes
    count = 1 if few else default_workers() if workers is None else workers
    with _collector_paused():
        if count <= 1 or "fork" not in multiprocessing.get_all_start_methods():
            return _in_order(_build_here(builds))
        return _in_order(_build_spread(builds, count - 1))


def _in_order(outcomes: list[list[list[DaySchedule]] | BaseException]) -> Iterator[list[list[DaySchedule]]]:
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
        yield outcome


# --- in the parent ---------------------------------------------------------------------------


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while channels are built.

    A week of 100 channels makes over a million objects that hold references (events, tuples,
    lists) and none of them in a cycle, so collecting finds nothing; but each pass walks them
    all, the results built so far included: a sixth of the build, and growing faster than it.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _build_here(builds: Sequence[ChannelBuild]) -> list[list[list[DaySchedule]] | BaseException]:
    outcomes: list[list[list[DaySchedule]] | BaseException] = []
    for build in builds:
        outcomes.append(_outcome(build))
        if isinstance(outcomes[-1], BaseException):
            break
    return outcomes


def _build_spread(
    builds: Sequence[ChannelBuild], processes: int
) -> list[list[list[DaySchedule]] | BaseException]:
    for build in builds:
        for spec in build.specs:
            spec.index.prepare(spec.channel.grid)  # once, here, rather than once per worker
    outcomes: list[list[list[DaySchedule]] | BaseException | None] = [None] * len(builds)
    front, back = 0, len(builds)  # workers take from the front, this process from the back
    with ProcessPoolExecutor(
        max_workers=processes,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_adopt,
        initargs=(builds,),
    ) as pool:
        running: dict[Future[_Packed], int] = {}
        while front < back or running:
            while front < back and len(running) < processes * IN_FLIGHT:
                running[pool.submit(_build_packed, front)] = front
                front += 1
            if front < back:
                back -= 1
                outcomes[back] = _outcome(builds[back])
                done = [future for future in running if future.done()]
            else:
                done = list(wait(running, return_when=FIRST_COMPLETED).done)
            for future in done:
                failure = future.exception()
                number = running.pop(future)
                outcomes[number] = _unpack(future.result()) if failure is None else failure
    return [outcome for outcome in outcomes if outcome is not None]


def _outcome(build: ChannelBuild) -> list[list[DaySchedule]] | BaseException:
    try:
        return build.build()
    except Exception as exc:  # raised in order once every channel is done
        return exc


# --- in a worker -----------------------------------------------------------------------------

_adopted: Sequence[ChannelBuild] = ()

# one channel's days, per output: (channel id, output, day, start, end, events or the index of an
# earlier output whose day has the same events (outputs built once and shared, see build_outputs))
_PackedDay = tuple[str, Output, date, datetime, datetime, list[EventFields] | int]
_Packed = list[list[_PackedDay]]


def _adopt(builds: Sequence[ChannelBuild]) -> None:
    global _adopted  # noqa: PLW0603 - a forked worker's inputs, set once when it starts
    _adopted = builds
    gc.disable()  # see _collector_paused; a worker lives for one build


def _build_packed(number: int) -> _Packed:
    return _pack(_adopted[number].build())


def _pack(outputs: list[list[DaySchedule]]) -> _Packed:
    packed: _Packed = []
    for output_number, days in enumerate(outputs):
        packed_days: list[_PackedDay] = []
        for day_number, day in enumerate(days):
            shared = next(
                (n for n in range(output_number) if outputs[n][day_number].events is day.events), None
            )
            events = shared if shared is not None else list(map(event_fields, day.events))
            packed_days.append((day.channel_id, day.output, day.day, day.start, day.end, events))
        packed.append(packed_days)
    return packed


def _unpack(packed: _Packed) -> list[list[DaySchedule]]:
    outputs: list[list[DaySchedule]] = []
    for packed_days in packed:
        days = []
        for day_number, (channel_id, output, day, start, end, events) in enumerate(packed_days):
            made = (
                outputs[events][day_number].events
                if isinstance(events, int)
                else tuple(starmap(new_event, events))
            )
            days.append(
                DaySchedule(channel_id=channel_id, output=output, day=day, start=start, end=end, events=made)
            )
        outputs.append(days)
    return outputs
