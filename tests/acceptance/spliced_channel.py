"""拼接频道 ("pin"): a channel that splices every few seconds, programme to programme, programme to
slate and slate to programme, for the tests of what a client sees across splices.

Three programmes of lengths that are not whole 2 s segments (2.8 s, 4.2 s and 5.6 s, so each ends
on a short segment whose audio is cut inside an AAC frame) fill one-minute blocks around the
clock; what is left of each minute, less than the shortest programme, is house slate, in pieces
taken from the middle of the slate asset (:mod:`rcmedia.core.slate_pieces`). The lengths are
multiples of 1.4 s, which 60 s is not: no minute is filled exactly, every minute ends in slate.
About fifteen splices a minute, two or three of them into or out of slate.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from rcmedia.catalog.repository import Catalog
from rcmedia.catalog.schedules import ScheduleStore
from rcmedia.core.models import AssetMetadata
from rcmedia.ingest.context import IngestContext
from rcmedia.ingest.intake import submit, submit_slate
from rcmedia.media.samples import make_clip
from rcmedia.service.channels import apply_channel_files
from rcmedia.service.schedules import build_all
from tests.acceptance.conftest import ingest

CHANNEL = "pin"
SERIES = "拼接"
# (seconds, tone): lengths that end on a part-segment and inside an AAC frame (1024 samples)
PROGRAMMES = ((2.8, 330), (4.2, 550), (5.6, 770))

_HEADER = f"""\
slate_series = "slate"

[channel]
id = "{CHANNEL}"
name = "拼接频道"
number = 7
timezone = "UTC"
outputs = ["iptv"]
catchup_days = 1
day_start = "00:00"

[filler]
series = ["{SERIES}"]
"""


def spliced_channel_file() -> str:
    """The channel file: a one-minute block of the programmes at every minute of the day, so that
    each minute ends with the slate filling what no programme is short enough for."""
    blocks = []
    for minute in range(24 * 60):
        end = (minute + 1) % (24 * 60)
        blocks.append(
            f'\n[[block]]\nid = "m{minute:04d}"\nstart = "{minute // 60:02d}:{minute % 60:02d}"\n'
            f'end = "{end // 60:02d}:{end % 60:02d}"\nseries = ["{SERIES}"]\n'
        )
    return _HEADER + "".join(blocks)


def put_spliced_channel_on_air(
    ctx: IngestContext, catalog: Catalog, folder: Path, now: datetime
) -> list[int]:
    """Ingest the slate and the programmes on ``ctx``'s profile, apply the channel and build two
    days from ``now``; the programmes' asset ids."""
    jobs = [submit_slate(ctx, title="拼接频道 · 马上回来")]
    for n, (seconds, tone) in enumerate(PROGRAMMES, start=1):
        path = make_clip(
            folder / f"pin-{n}.mp4",
            ffmpeg=ctx.ffmpeg,
            duration=seconds,
            label=f"拼接 {n} ({seconds} s)",
            tone_hz=tone,
        )
        jobs.append(
            submit(ctx, path, metadata=AssetMetadata(title=f"拼接 第{n}集", series=SERIES, episode=n))
        )
    _slate, *programmes = ingest(ctx, jobs)
    channel_file = folder / "playlists" / f"{CHANNEL}.toml"
    channel_file.parent.mkdir(exist_ok=True)
    channel_file.write_text(spliced_channel_file(), encoding="utf-8")
    store = ScheduleStore(catalog.engine)
    apply_channel_files(store, [channel_file], now=now)
    build_all(store, first_day=None, days=2, now=now)
    return programmes
