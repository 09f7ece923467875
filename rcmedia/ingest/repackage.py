"""Re-package a published MPEG-TS asset in place of its package, without re-encoding (issue 10).

Packages made before the audio was cut to the pictures start their sound one AAC frame before
the first picture and may end it 100 ms after the last. The fix is in the container only: the
same video packets, cut into the same segments (so schedules built on their durations stay
valid), and the same audio packets re-stamped from the first picture and cut at most one AAC
frame past the last (:func:`rcmedia.media.command.repackage_args`). The copy is verified, published
under a new prefix and the catalog row flipped, as at ingest; the old prefix is left for
``rcmedia storage check`` (players may still be fetching it).

Segment layouts are not changed here: a tail under a second in an old package stays until the
asset is ingested again, since moving a boundary would move every built schedule that airs it.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, replace
from pathlib import Path

from rcmedia.core.assets import Rendition
from rcmedia.core.models import AssetStatus
from rcmedia.core.plan import AAC_FRAME_SAMPLES
from rcmedia.core.verify import average_bandwidth, check_audio_span, peak_bandwidth
from rcmedia.errors import AssetStateError, VerificationError
from rcmedia.ingest.context import IngestContext
from rcmedia.media import mpegts
from rcmedia.media.command import repackage_args
from rcmedia.media.ffmpeg import run_ffmpeg_simple
from rcmedia.media.inspect import inspect_rung, ts_track_span

log = logging.getLogger(__name__)

PTS_CLOCK = 90_000


@dataclass(frozen=True, kw_only=True, slots=True)
class Repackaged:
    asset_id: int
    old_prefix: str
    new_prefix: str
    # per rendition: (audio start − first picture, audio end − last picture) in ms, before and after
    before: dict[str, tuple[float, float]]
    after: dict[str, tuple[float, float]]


def repackage_asset(ctx: IngestContext, asset_id: int) -> Repackaged:
    """Re-mux ``asset_id``'s renditions with exact audio and point the catalog at the copy."""
    asset = ctx.catalog.get_asset(asset_id)
    if asset.status is not AssetStatus.PUBLISHED or asset.storage_prefix is None or asset.duration is None:
        raise AssetStateError(
            f"asset {asset_id!r} is {asset.status.value}, not published: nothing to re-package"
        )
    if asset.segment_type != "mpegts":
        raise AssetStateError(
            f"asset {asset_id!r} is {asset.segment_type}; only MPEG-TS packages are re-packaged"
        )
    old_prefix = asset.storage_prefix
    # the playlists' EXT-X-TARGETDURATION: what BANDWIDTH's runs of segments are measured against
    target_duration = asset.target_duration or ctx.profiles[asset.profile].target_duration
    stage = f"repackage-{asset_id}-{secrets.token_hex(4)}"
    out = ctx.storage.staging_dir(stage)
    try:
        renditions, before, after = [], {}, {}
        for rendition in asset.renditions:
            source = out / "source" / rendition.name
            source.mkdir(parents=True)
            key = f"{old_prefix}/{rendition.name}"
            (source / "index.m3u8").write_bytes(ctx.storage.read_bytes(f"{key}/index.m3u8"))
            for name in rendition.segments:
                (source / name).write_bytes(ctx.storage.read_bytes(f"{key}/{name}"))
            before[rendition.name] = _offsets_ms(source, rendition)
            folder = out / "package" / rendition.name
            folder.mkdir(parents=True)
            _remux(ctx, source, folder, rendition, duration=asset.duration)
            (folder / "index.m3u8").write_bytes((source / "index.m3u8").read_bytes())
            renditions.append(_verified(folder, rendition, target_duration=target_duration))
            after[rendition.name] = _offsets_ms(folder, rendition)
        package = out / "package"
        (package / "master.m3u8").write_bytes(ctx.storage.read_bytes(f"{old_prefix}/master.m3u8"))
        new_prefix = f"{old_prefix.rsplit('/', 1)[0]}/repackaged-{secrets.token_hex(4)}"
        ctx.storage.publish(package, new_prefix)
        try:
            ctx.catalog.replace_package(
                asset_id,
                expected_prefix=old_prefix,
                storage_prefix=new_prefix,
                renditions=renditions,
                now=ctx.clock.now(),
            )
        except BaseException:
            ctx.storage.remove(new_prefix)
            raise
    finally:
        ctx.storage.discard_staging(stage)
    log.info("asset %s re-packaged: %s → %s", asset_id, old_prefix, new_prefix)
    return Repackaged(
        asset_id=asset_id, old_prefix=old_prefix, new_prefix=new_prefix, before=before, after=after
    )


def _remux(ctx: IngestContext, source: Path, folder: Path, rendition: Rendition, *, duration: float) -> None:
    video_start, _ = mpegts.video_pts_range((source / rendition.segments[0]).read_bytes())
    samples = round(duration * 48_000)
    frame = 1 / rendition.frame_rate
    cuts, at = [], 0.0
    for length in rendition.segment_durations[:-1]:
        at += length
        cuts.append(at - frame / 2)
    argv = repackage_args(
        source / "index.m3u8",
        folder,
        ffmpeg_bin=ctx.ffmpeg,
        video_start_ticks=round(video_start * PTS_CLOCK),
        # whole AAC frames from the first picture to at most one frame past the last
        audio_packets=samples // AAC_FRAME_SAMPLES + 1,
        boundaries=cuts,
    )
    run_ffmpeg_simple(argv, timeout=600)


def _verified(folder: Path, rendition: Rendition, *, target_duration: int) -> Rendition:
    """The re-packaged rendition, checked: the same segments and durations, exact audio."""
    measured = inspect_rung(folder, segment_type="mpegts")
    what = f"re-packaged rendition {rendition.name}"
    names = tuple(s.name for s in measured.segments)
    if names != rendition.segments:
        raise VerificationError(what, f"segments {names} are not the package's {rendition.segments}")
    frame = 1 / rendition.frame_rate
    for index, segment in enumerate(measured.segments):
        if not segment.starts_with_idr:
            raise VerificationError(what, f"segment {index} does not start with a keyframe")
    written = sorted(folder.glob("seg_*.ts"))
    if [p.name for p in written] != list(rendition.segments):
        raise VerificationError(what, f"{len(written)} segments written for {len(rendition.segments)}")
    for path, duration in zip(written, rendition.segment_durations, strict=True):
        first, last = mpegts.video_pts_range(path.read_bytes())
        if abs(last + frame - first - duration) > frame / 2:
            raise VerificationError(
                what, f"{path.name} lasts {last + frame - first:.3f} s, not {duration:.3f} s"
            )
    assert measured.span is not None
    check_audio_span(measured.span, sample_rate=measured.audio_rate, what=what)
    return replace(
        rendition,
        bandwidth=peak_bandwidth(measured.segments, target_duration=target_duration),
        average_bandwidth=average_bandwidth(measured.segments),
    )


def _offsets_ms(folder: Path, rendition: Rendition) -> tuple[float, float]:
    """(audio start − first picture, audio end − last picture's end) in ms; VerificationError when
    a segment cannot be read."""
    first, last = folder / rendition.segments[0], folder / rendition.segments[-1]
    span = ts_track_span(first, last, rendition.frame_rate)
    return (
        round((span.audio_start - span.video_start) * 1000, 1),
        round((span.audio_end - span.video_end) * 1000, 1),
    )
