"""`rcmedia demo`: sample courseware for the channels in playlists/, ingested, scheduled, served.

The sample library is planned from the channel files themselves, so that every series a grid
names, every block pool, the filler and the idents have something to air: one episode per series
(every episode policy falls back to the least recently aired episode, so one is enough), a couple
of lectures for the floating blocks, a rotation of short public-service filler and a few idents.
A clip that fits the pools of several channels (the lectures of both afternoon blocks, the filler
of both channels) is made once.

Lengths are short but realistic in their mix (programmes 20-60 s, filler 10-20 s, idents 3-5 s)
and the pictures small (320x180-ish; a few 640x360), so that the default ladder makes only its
low rungs and a first demo takes about two minutes on two cores. The shapes that arrive in
practice are all there: 16:9, 4:3, portrait, 29.97 fps, and once each the costly ones (interlaced
anamorphic PAL SD, an audio-only lecture that gets a title slate).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from rcmedia.catalog.schedules import ScheduleStore
from rcmedia.core.assets import Job
from rcmedia.core.models import Output, Source, all_outputs_rights
from rcmedia.core.schedule import Channel, Event, EventKind, Pool, ScheduleAsset, to_us
from rcmedia.ingest.context import IngestContext
from rcmedia.ingest.intake import submit, submit_slate
from rcmedia.ingest.runner import JobRunner
from rcmedia.ingest.sidecar import read_sidecar
from rcmedia.media.samples import make_clip

Shape = tuple[str, dict[str, Any]]  # file suffix, make_clip keywords
_T = TypeVar("_T")

SHAPES: tuple[Shape, ...] = (
    ("mp4", {"width": 320, "height": 180}),  # 16:9: only the ladder's lowest rung
    ("mov", {"width": 320, "height": 240, "audio_codec": "pcm_s16le"}),  # 4:3 edit master, pillarboxed
    ("mp4", {"width": 640, "height": 360}),  # 16:9: the two lowest rungs
    ("mp4", {"width": 180, "height": 320}),  # portrait, padded
    ("mkv", {"width": 320, "height": 180, "rate": "30000/1001"}),  # 29.97 fps, converted to 25
)
# Made once each (every COSTLY_EVERY-th programme until each is made), and short: deinterlacing
# SD and drawing a slate picture at every rung cost the most.
COSTLY_EVERY = 4
COSTLY_SHAPES: tuple[Shape, ...] = (
    ("mpg", {"width": 720, "height": 576, "interlaced": True, "sar": "64:45"}),  # PAL SD archive
    ("m4a", {"video": False, "audio": "mono"}),  # a recorded lecture: a title slate is drawn
)
COSTLY_SECONDS = 20.0
SMALL_SHAPES: tuple[Shape, ...] = (  # lectures, filler and idents, as playout servers hand them over
    ("ts", {"width": 320, "height": 180, "audio_codec": "mp2"}),
    ("mp4", {"width": 320, "height": 180}),
)

# The house ladder's audio (loudness normalisation, AAC) and x264 cost about 0.2 s of CPU per
# second of even the smallest picture, and the slate another minute: these lengths keep a first
# demo near two minutes on two cores, most programmes short and a few long.
PROGRAMME_SECONDS = (20.0, 30.0, 20.0, 60.0, 25.0, 20.0, 45.0, 20.0)
LECTURE_SECONDS = (45.0, 30.0)  # per group of block pools: two lectures, an ident between them
FILLER_SECONDS = (15.0, 10.0, 20.0, 12.0, 18.0, 10.0)  # one rotation, shared by the channels
IDENT_SECONDS = (3.0, 4.0, 5.0)
DESCRIPTION = "演示用合成节目：测试图案与音调（rcmedia demo）。"
SLATE_TITLE = "精彩节目 马上回来"


@dataclass(frozen=True, kw_only=True, slots=True)
class SampleClip:
    filename: str
    seconds: float
    shape: dict[str, Any]
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def cost(self) -> float:
        """Roughly the CPU seconds of making and ingesting it (the costliest are made first)."""
        per_second = 0.25
        if self.shape.get("interlaced") or self.shape.get("video") is False:
            per_second = 0.8  # deinterlacing SD, or a slate picture drawn at every rung
        elif self.shape.get("width", 0) > 320 and self.shape.get("height", 0) > 320:
            per_second = 0.4  # a second rung
        return 0.6 + per_second * self.seconds


def plan_courseware(channels: Iterable[Channel], *, seconds: float | None = None) -> list[SampleClip]:
    """What to make so that every slot, block, filler pool and ident pool of ``channels`` has media.

    ``seconds``: every clip that long instead of the realistic mix (the tests use a few seconds).
    """
    series: dict[str, None] = {}
    blocks: list[Pool] = []
    fillers: list[Pool] = []
    idents: list[Pool] = []
    for channel in channels:
        for slot in channel.grid.slots:
            series[slot.series] = None
        # a block drawn from series (the overnight reruns) airs those series' episodes
        blocks.extend(block.pool for block in channel.grid.blocks if not block.pool.series)
        fillers.append(channel.grid.filler)
        if channel.grid.idents is not None:
            idents.append(channel.grid.idents)
    clips: list[SampleClip] = []

    def add(shape: Shape, name: str, length: float, **metadata: Any) -> None:
        extension, keywords = shape
        clips.append(
            SampleClip(
                filename=f"sample-{len(clips) + 1:03d}.{extension}",
                seconds=seconds or length,
                shape=keywords,
                metadata={"title": name, "source": Source.OWN.value, "description": DESCRIPTION, **metadata},
            )
        )

    for (shape, length), name in zip(_programme_shapes(), series, strict=False):
        add(shape, f"{name} 第1集", length, series=name, episode=1)
    for number, metadata, length in _pool_clips(blocks, LECTURE_SECONDS):
        add(SMALL_SHAPES[number % 2], f"专题讲座 {number}", length, **metadata)
    for number, metadata, length in _pool_clips(fillers, FILLER_SECONDS):
        add(SMALL_SHAPES[number % 2], f"公益宣传 {number}", length, **metadata)
    for number, metadata, length in _pool_clips(idents, IDENT_SECONDS):
        add(SMALL_SHAPES[number % 2], f"台标 {number}", length, **metadata)
    return clips


def _programme_shapes() -> Iterator[tuple[Shape, float]]:
    """(shape, seconds) of each programme in turn: the cheap shapes, and now and then a costly one."""
    costly = iter(COSTLY_SHAPES)
    for number in itertools.count():
        length = PROGRAMME_SECONDS[number % len(PROGRAMME_SECONDS)]
        shape = next(costly, None) if number % COSTLY_EVERY == COSTLY_EVERY - 1 else None
        if shape is not None:
            yield shape, COSTLY_SECONDS
        else:
            yield SHAPES[number % len(SHAPES)], length


@dataclass(kw_only=True, slots=True)
class _Members:
    """What one set of clips must be to belong to each of several pools."""

    series: tuple[str, ...] | None = None  # None: any
    sources: tuple[Source, ...] | None = None
    categories: list[str] = field(default_factory=list)  # one of each pool's (pools take any of theirs)
    max_duration: float | None = None

    def take(self, pool: Pool) -> bool:
        """Also belong to ``pool``, if that leaves a choice of series and source; say whether it did."""
        series = _both(self.series, pool.series)
        sources = _both(self.sources, pool.sources)
        if series == () or sources == ():
            return False
        self.series, self.sources = series, sources
        if pool.categories and not set(pool.categories) & set(self.categories):
            self.categories.append(pool.categories[0])
        if pool.max_duration is not None:
            self.max_duration = min(pool.max_duration, self.max_duration or pool.max_duration)
        return True

    def metadata(self) -> dict[str, Any]:
        metadata: dict[str, Any] = {}
        if self.series:
            metadata["series"] = self.series[0]
        if self.sources:
            metadata["source"] = self.sources[0].value
        if self.categories:
            metadata["categories"] = list(self.categories)
        return metadata


def _both(chosen: tuple[_T, ...] | None, allowed: tuple[_T, ...]) -> tuple[_T, ...] | None:
    if not allowed:
        return chosen
    if chosen is None:
        return allowed
    return tuple(item for item in chosen if item in allowed)


def _pool_clips(
    pools: Sequence[Pool], lengths: Sequence[float]
) -> Iterator[tuple[int, dict[str, Any], float]]:
    """(number, metadata, seconds) of ``len(lengths)`` clips for each group of pools one clip can serve."""
    groups: list[_Members] = []
    for pool in dict.fromkeys(pools):
        if not any(group.take(pool) for group in groups):
            group = _Members()
            group.take(pool)
            groups.append(group)
    number = 0
    for group in groups:
        for length in lengths:
            number += 1
            limit = group.max_duration
            yield number, group.metadata(), length if limit is None else min(length, limit)


def pool_members(clips: Iterable[SampleClip], pool: Pool) -> list[SampleClip]:
    """The planned clips that ``pool`` would take, by their metadata and length."""
    return [clip for clip in clips if pool.matches(_as_scheduled(clip))]


def _as_scheduled(clip: SampleClip) -> ScheduleAsset:
    metadata = clip.metadata
    return ScheduleAsset(
        id=0,
        title=str(metadata["title"]),
        series=metadata.get("series"),
        episode=metadata.get("episode"),
        source=Source(metadata.get("source", Source.OWN.value)),
        categories=tuple(metadata.get("categories", ())),
        segment_us=(to_us(clip.seconds),),
        rights=all_outputs_rights(),
    )


def make_courseware(
    folder: Path, clips: Iterable[SampleClip], *, ffmpeg: str
) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Make ``clips`` in ``folder``, the costliest to ingest first, yielding each as soon as it is
    written, so that its ingest can start while the next one is made."""
    for clip in sorted(clips, key=lambda c: c.cost, reverse=True):
        path = make_clip(
            folder / clip.filename,
            ffmpeg=ffmpeg,
            duration=clip.seconds,
            label=str(clip.metadata["title"]),
            **clip.shape,
        )
        yield path, dict(clip.metadata)


def ingest_samples(
    ictx: IngestContext,
    clips: Sequence[SampleClip],
    folder: Path,
    *,
    runner: JobRunner,
    on_queued: Callable[[int, str], None] = lambda job_id, name: None,
) -> list[Job]:
    """Make ``clips`` in ``folder`` and ingest them with the house slate; returns the finished jobs.

    The slate goes first, then each clip as soon as it is written, ``runner.slots`` at a time:
    making the next clip overlaps the ingest of the ones before it.
    """
    runs: list[Future[list[Job]]] = []
    with ThreadPoolExecutor(runner.slots, thread_name_prefix="demo-ingest") as pool:
        slate = submit_slate(ictx, title=SLATE_TITLE)
        on_queued(slate, "(house slate)")
        runs.append(pool.submit(runner.run_jobs, [slate]))
        for path, metadata in make_courseware(folder, clips, ffmpeg=ictx.ffmpeg):
            job_id = submit(
                ictx, path, metadata=read_sidecar(path, overrides=metadata), original_filename=path.name
            )
            on_queued(job_id, path.name)
            runs.append(pool.submit(runner.run_jobs, [job_id]))
    return [job for run in runs for job in run.result()]


def on_air(store: ScheduleStore, channel: Channel, output: Output, now: datetime) -> str:
    """What airs at ``now`` and the next programme, on the channel's clock, and how much of the
    next hour the slate fills: the sample library lasts minutes, the grid's day does not."""
    zone = ZoneInfo(channel.timezone)
    hour = now + timedelta(hours=1)
    events = store.events(channel.id, output, start=now, end=hour)
    if not events:
        return "nothing scheduled: the slate loop plays"
    current = events[0]
    text = f"{current.title} ({current.kind.value}) since {current.start.astimezone(zone):%H:%M:%S}"
    coming = store.events(
        channel.id, output, start=current.end, end=now + timedelta(days=1), kinds=[EventKind.PROGRAMME]
    )
    if coming:
        text += f"; next programme {coming[0].start.astimezone(zone):%H:%M} {coming[0].title}"
    slate = sum(
        (min(e.end, hour) - max(e.start, now)).total_seconds() for e in events if e.kind is EventKind.SLATE
    )
    return f"{text}; the slate fills {slate / 36:.0f}% of the next hour"


def last_programme(store: ScheduleStore, channel: Channel, output: Output, now: datetime) -> Event | None:
    """The latest programme that has ended by ``now`` within the catch-up days: one to replay."""
    start = now - timedelta(days=max(channel.catchup_days, 1))
    ended = [
        e
        for e in store.events(channel.id, output, start=start, end=now, kinds=[EventKind.PROGRAMME])
        if e.end <= now
    ]
    return ended[-1] if ended else None
