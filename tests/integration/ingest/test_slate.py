"""The house slate: segments in steps that reach any length, so the schedule hits any instant to the frame."""

from __future__ import annotations

from pathlib import Path

import pytest

from rcmedia.core.assets import Asset
from rcmedia.core.models import JobState, Source
from rcmedia.core.schedule import ScheduleAsset
from rcmedia.core.slate_stand_in import SlateStandIn
from rcmedia.ingest.context import IngestContext
from rcmedia.ingest.intake import submit_slate
from rcmedia.ingest.runner import JobRunner
from rcmedia.media.timeshift import shift_fmp4, shift_us_to_90khz, track_timescales
from rcmedia.playout.shifted import ShiftedSegments
from tests.integration.ingest.reading import first_frame_is_key, media_playlist
from tests.integration.media.test_timeshift import AUDIO, FRAME, VIDEO, decode_errors, demux, frame_steps

FULL = 50  # the tiny test profiles: 2 s segments at 25 fps


def continuity_errors(stream: bytes) -> list[tuple[int, int, int, int]]:
    """(packet, PID, expected, found) wherever a PID's continuity_counter does not advance by one."""
    errors = []
    last: dict[int, int] = {}
    for at in range(0, len(stream), 188):
        pid = (stream[at + 1] & 0x1F) << 8 | stream[at + 2]
        control, counter = stream[at + 3] >> 4, stream[at + 3] & 0x0F
        if not control & 0x1 or pid == 0x1FFF:
            continue  # no payload: the counter does not advance
        if pid in last and counter != (last[pid] + 1) % 16:
            errors.append((at // 188, pid, (last[pid] + 1) % 16, counter))
        last[pid] = counter
    return errors


def make_slate(ctx: IngestContext, profile: str) -> Asset:
    job_id = submit_slate(ctx, title="蓉城先锋 · 精彩节目马上回来", profile=profile)
    (job,) = JobRunner(ctx).run_jobs([job_id])
    assert job.state is JobState.PUBLISHED, job.failure_reason
    return ctx.catalog.get_asset(job.asset_id)


def test_the_house_slate_reaches_any_length_in_two_pieces(ingest_ctx: IngestContext, ffmpeg: str) -> None:
    asset = make_slate(ingest_ctx, "tiny")
    assert asset.metadata.series == "slate"
    # giant steps of 5 frames, the loop of 56 s (28 segments: whole AAC frames), a piece for every
    # frame count of 1-2 s, baby steps of 1-4 frames: any remainder in at most two pieces, none
    # under a second unless the whole gap is (issue 10)
    expected = (
        [k * 0.04 for k in range(5, 25, 5)]
        + [FULL * 0.04] * 28
        + [k * 0.04 for k in range(25, 50)]
        + [k * 0.04 for k in range(1, 5)]
    )
    root = Path(ingest_ctx.settings.storage) / str(asset.storage_prefix)
    for rendition in asset.renditions:
        assert list(rendition.segment_durations) == [round(d, 6) for d in expected]
        playlist = media_playlist(root / rendition.name / "index.m3u8")
        assert [round(s.duration, 2) for s in playlist.segments] == [round(d, 2) for d in expected]
        frames = {round(d / 0.04) for d in rendition.segment_durations}
        assert all(any(r - big in frames | {0} for big in frames | {0}) for r in range(1, FULL))
        for segment in playlist.segments[-5:]:
            assert first_frame_is_key(ffmpeg, root / rendition.name / segment.uri)


@pytest.mark.parametrize("profile", ["tiny", "tiny_fmp4"])
def test_the_slate_loop_wraps_as_one_stream(
    ingest_ctx: IngestContext, ffmpeg: str, tmp_path: Path, profile: str
) -> None:
    # Played as the playout plays it from a splice on (rcmedia.core.slate_stand_in), two passes of
    # the loop and a little more are one stream: at each wrap neither the video nor the audio
    # repeats or skips any time, as the loop is whole AAC frames and holds neither the encode's
    # priming frame nor its flush. In fMP4 no time may fall below zero either.
    asset = make_slate(ingest_ctx, profile)
    rendition = asset.renditions[-1]
    folder = Path(ingest_ctx.settings.storage) / str(asset.storage_prefix) / rendition.name
    slate = SlateStandIn.of(
        ScheduleAsset(
            id=asset.id,
            title="slate",
            series="slate",
            episode=None,
            source=Source.OWN,
            categories=(),
            segment_us=tuple(round(d * 1_000_000) for d in rendition.segment_durations),
            rights=(),
        )
    )
    assert (slate.loop_start, slate.loop_length) == (4, 28)
    names = [s.uri for s in media_playlist(folder / "index.m3u8").segments]
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-TARGETDURATION:2", "#EXT-X-PLAYLIST-TYPE:VOD"]
    init = folder / "init.mp4"
    if init.exists():
        (tmp_path / init.name).write_bytes(init.read_bytes())
        lines.append(f'#EXT-X-MAP:URI="{init.name}"')
        timescales = track_timescales(init.read_bytes())
    count = 2 * slate.loop_length + 2
    shifted = ShiftedSegments()  # what the origin serves at /shifted/{µs}/{key}
    stream = []
    for k in range(count):
        index, shift_us = slate.stand_in(k, k * slate.loop_us, slate.loop_us, from_start=True)
        data = (folder / names[index]).read_bytes()
        if init.exists():
            data = shift_fmp4(data, shift_us_to_90khz(shift_us), timescales)
        elif shift_us:
            key = f"{asset.storage_prefix}/{rendition.name}/{names[index]}"
            data = shifted.get(ingest_ctx.storage, key, shift_us)
        name = f"{k}{Path(names[index]).suffix}"
        (tmp_path / name).write_bytes(data)
        stream.append(data)
        lines += [f"#EXTINF:{slate.loop_us / 1e6:.6f},", name]
    if not init.exists():  # MPEG-TS: no continuity error where the loop wraps (ETR 290 1.4)
        assert continuity_errors(b"".join(stream)) == []
    playlist = tmp_path / "loop.m3u8"
    playlist.write_text("\n".join([*lines, "#EXT-X-ENDLIST", ""]), encoding="utf-8")

    played = demux(ffmpeg, playlist)
    for stream in (VIDEO, AUDIO):
        assert frame_steps(played, stream) == {round(FRAME[stream] * played.time_bases[stream])}, stream
    assert len(played.of(VIDEO)) == count * FULL
    assert decode_errors(ffmpeg, playlist) == ""
