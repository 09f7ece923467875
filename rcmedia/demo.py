"""`rcmedia demo`: sample courseware for the channels in playlists/, ingested, scheduled, served.

The sample library is planned from the channel files themselves, so every series a grid names,
every block pool, the filler and the idents have something to air: a few shapes from real life
(16:9, 4:3, portrait, interlaced SD, 29.97 fps, audio-only) spread over the programmes, plus the
house slate.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rcmedia.core.schedule import Channel, Pool
from rcmedia.media.samples import make_clip

SHAPES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("mp4", {"width": 640, "height": 360}),
    ("mov", {"width": 640, "height": 480}),  # 4:3, pillarboxed
    ("mpg", {"width": 720, "height": 576, "interlaced": True, "sar": "64:45"}),  # PAL SD, anamorphic
    ("mp4", {"width": 360, "height": 640}),  # portrait, padded
    ("mkv", {"width": 640, "height": 360, "rate": "30000/1001"}),
    ("m4a", {"video": False}),  # an audio-only lecture gets a title slate
)


@dataclass(frozen=True, kw_only=True, slots=True)
class SampleClip:
    filename: str
    seconds: float
    shape: dict[str, Any]
    metadata: dict[str, Any] = field(default_factory=dict)


def plan_courseware(
    channels: Iterable[Channel], *, seconds: float = 20.0, episodes: int = 2
) -> list[SampleClip]:
    """What to make so that every slot, block, filler pool and ident pool of ``channels`` has media."""
    series: dict[str, None] = {}
    pools: dict[Pool, None] = {}
    fillers: dict[Pool, None] = {}
    idents: dict[Pool, None] = {}
    for channel in channels:
        for slot in channel.grid.slots:
            series[slot.series] = None
        for block in channel.grid.blocks:
            pools[block.pool] = None
        fillers[channel.grid.filler] = None
        if channel.grid.idents is not None:
            idents[channel.grid.idents] = None
    clips: list[SampleClip] = []

    def add(name: str, length: float, **metadata: Any) -> None:
        extension, shape = SHAPES[len(clips) % len(SHAPES)]
        clips.append(
            SampleClip(
                filename=f"sample-{len(clips) + 1:03d}.{extension}",
                seconds=length,
                shape=shape,
                metadata={"title": name, "source": "own", **metadata},
            )
        )

    for name in series:
        for episode in range(1, episodes + 1):
            add(f"{name} 第{episode}集", seconds, series=name, episode=episode)
    wanted = [
        *(
            (pool, f"专题 {number}-{episode}", seconds)
            for number, pool in enumerate(pools, 1)
            for episode in range(1, episodes + 1)
        ),
        *((pool, f"公益宣传 {n}", max(5.0, seconds / 2)) for pool in fillers for n in range(1, 4)),
        *((pool, "台标", 3.0) for pool in idents),
    ]
    for pool, title, wanted_length in wanted:
        metadata, length = _pool_metadata(pool, wanted_length)
        add(title, length, **metadata)
    return clips


def _pool_metadata(pool: Pool, seconds: float) -> tuple[dict[str, Any], float]:
    """Metadata matching every criterion of ``pool``, and a length it accepts."""
    metadata: dict[str, Any] = {}
    if pool.series:
        metadata["series"] = pool.series[0]
    if pool.categories:
        metadata["categories"] = [pool.categories[0]]
    if pool.sources:
        metadata["source"] = pool.sources[0].value
    if pool.max_duration is not None:
        seconds = min(seconds, pool.max_duration)
    return metadata, seconds


def make_courseware(
    folder: Path, clips: Iterable[SampleClip], *, ffmpeg: str
) -> list[tuple[Path, dict[str, Any]]]:
    made = []
    for clip in clips:
        shape = dict(clip.shape)
        if shape.get("video") is False:
            shape.setdefault("audio", "mono")
        path = make_clip(
            folder / clip.filename,
            ffmpeg=ffmpeg,
            duration=clip.seconds,
            label=str(clip.metadata["title"]),
            **shape,
        )
        made.append((path, dict(clip.metadata)))
    return made
