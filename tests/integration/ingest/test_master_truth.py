"""Master playlists of real transcodes say what the segments are, read back independently.

BANDWIDTH by RFC 8216bis §4.4.6.2 (runs of 0.5-1.5 target durations) from the files' sizes;
CODECS as ffmpeg's own bitstream parser (the ``trace_headers`` filter) reads the SPS of the
served segments; a level that H.264 Table A-1 allows for the picture size at 25 fps; RESOLUTION
as ffmpeg decodes the pictures. The live master is checked over two assets of different sizes.
"""

from __future__ import annotations

import math
import re
import subprocess
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import m3u8

from rcmedia.core.models import JobState, Output
from rcmedia.ingest.context import IngestContext
from rcmedia.media.samples import make_clip
from rcmedia.playout.channel_output import live_master, rung_media
from tests.integration.ingest.conftest import IngestMany
from tests.integration.ingest.reading import media_playlist, video_frames

TRACE = ("-bsf:v", "trace_headers", "-f", "null", "-")  # logs every syntax element it parses
# H.264 Table A-1: level_idc → (MaxMBPS macroblocks a second, MaxFS macroblocks a frame)
LEVELS = {
    10: (1_485, 99),
    11: (3_000, 396),
    12: (6_000, 396),
    13: (11_880, 396),
    20: (11_880, 396),
    21: (19_800, 792),
    22: (20_250, 1_620),
    30: (40_500, 1_620),
    31: (108_000, 3_600),
    32: (216_000, 5_120),
    40: (245_760, 8_192),
    41: (245_760, 8_192),
    42: (522_240, 8_704),
    50: (589_824, 22_080),
    51: (983_040, 36_864),
    52: (2_073_600, 36_864),
}


def level_carries(level_idc: int, width: int, height: int, fps: int) -> bool:
    max_mbps, max_fs = LEVELS[level_idc]
    macroblocks = math.ceil(width / 16) * math.ceil(height / 16)
    return macroblocks <= max_fs and macroblocks * fps <= max_mbps


def peak_by_definition(sizes: Sequence[int], durations: Sequence[float], target: int) -> int:
    """The largest rate over every run of 0.5 to 1.5 target durations, read literally."""
    exact = [Fraction(str(d)) for d in durations]
    rates = [
        Fraction(sum(sizes[i:j]) * 8) / sum(exact[i:j])
        for i in range(len(sizes))
        for j in range(i + 1, len(sizes) + 1)
        if Fraction(target, 2) <= sum(exact[i:j]) <= Fraction(target * 3, 2)
    ]
    return math.ceil(max(rates) if rates else Fraction(sum(sizes) * 8) / sum(exact))


def sps_profile_and_level(ffmpeg: str, segment: Path) -> tuple[int, int]:
    """profile_idc and level_idc of the segment's SPS, as ffmpeg's bitstream tracer reads them."""
    done = subprocess.run(
        [ffmpeg, "-hide_banner", "-i", str(segment), "-map", "0:v:0", "-c", "copy", *TRACE],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    profile = re.search(r"\bprofile_idc\s+[01]+ = (\d+)", done.stderr)
    level = re.search(r"\blevel_idc\s+[01]+ = (\d+)", done.stderr)
    assert profile, done.stderr[-2000:]
    assert level, done.stderr[-2000:]
    return int(profile[1]), int(level[1])


def avc1_profile_and_level(codecs: str) -> tuple[int, int]:
    video = codecs.split(",", maxsplit=1)[0]
    assert video.startswith("avc1."), codecs
    return int(video[5:7], 16), int(video[9:11], 16)


def test_vod_and_live_masters_describe_the_served_segments(
    tmp_path: Path, ingest_ctx: IngestContext, ingest_many: IngestMany, ffmpeg: str
) -> None:
    sources = [
        make_clip(tmp_path / "wide.mp4", ffmpeg=ffmpeg, duration=4.0, width=640, height=360),
        make_clip(tmp_path / "small.mp4", ffmpeg=ffmpeg, duration=4.0, width=320, height=180),
    ]
    jobs = ingest_many(sources)
    assert all(j.state is JobState.PUBLISHED for j in jobs), [j.failure_reason for j in jobs]
    assets = [ingest_ctx.catalog.get_asset(j.asset_id) for j in jobs]
    assert [sorted(r.name for r in a.renditions) for a in assets] == [
        ["144p", "180p", "360p"],
        ["144p", "180p"],
    ]
    storage_root = Path(ingest_ctx.settings.storage)

    # what each rendition really is: SPS profile/level, picture size, rates by definition
    truth = {}
    for asset in assets:
        for rendition in asset.renditions:
            folder = storage_root / str(asset.storage_prefix) / rendition.name
            playlist = media_playlist(folder / "index.m3u8")
            first = folder / playlist.segments[0].uri
            picture = video_frames(ffmpeg, first)[0]
            sizes = [(folder / s.uri).stat().st_size for s in playlist.segments]
            durations = [float(s.duration) for s in playlist.segments]
            truth[asset.id, rendition.name] = {
                "sps": sps_profile_and_level(ffmpeg, first),
                "resolution": (picture.width, picture.height),
                "bandwidth": peak_by_definition(sizes, durations, int(playlist.target_duration)),
                "average": math.ceil(Fraction(sum(sizes) * 8) / sum(Fraction(str(d)) for d in durations)),
            }

    # the VOD master (the package's, and the origin's: both from these catalog rows)
    for asset in assets:
        root = storage_root / str(asset.storage_prefix)
        package = {
            p.uri.split("/")[0]: p.stream_info
            for p in m3u8.loads((root / "master.m3u8").read_text()).playlists
        }
        for rendition in asset.renditions:
            real = truth[asset.id, rendition.name]
            info = package[rendition.name]
            assert avc1_profile_and_level(info.codecs) == real["sps"]
            assert info.resolution == real["resolution"]
            assert (info.bandwidth, info.average_bandwidth) == (real["bandwidth"], real["average"])
            assert (rendition.bandwidth, rendition.average_bandwidth) == (real["bandwidth"], real["average"])
            assert level_carries(real["sps"][1], *real["resolution"], fps=25)

    # the live master over both: each rung as large and as high a level as the largest it plays
    profile = ingest_ctx.profiles["tiny"]
    rungs = tuple(profile.outputs[Output.IPTV])
    media = [rung_media(a, profile, rungs) for a in assets]
    listed = {p.uri: p.stream_info for p in m3u8.loads(live_master(profile, rungs, media)).playlists}
    assert list(listed) == ["360p.m3u8", "180p.m3u8", "144p.m3u8"]
    for name in rungs:
        served = [truth[a.id, m[name].rendition.name] for a, m in zip(assets, media, strict=True)]
        info = listed[f"{name}.m3u8"]
        largest = max((s["resolution"] for s in served), key=lambda size: size[0] * size[1])
        assert info.resolution == largest
        assert avc1_profile_and_level(info.codecs) == (
            max(s["sps"][0] for s in served),
            max(s["sps"][1] for s in served),
        )
        assert level_carries(avc1_profile_and_level(info.codecs)[1], *largest, fps=25)
        assert info.bandwidth == max(s["bandwidth"] for s in served)
        assert info.average_bandwidth == max(s["average"] for s in served)

    # the small asset alone has no 360p: that rung would play its 180p files, so it is left out
    # (the old master listed it as 640x360 over 320x180 pictures)
    alone = [rung_media(assets[1], profile, rungs)]
    listed = {p.uri: p.stream_info for p in m3u8.loads(live_master(profile, rungs, alone)).playlists}
    assert list(listed) == ["180p.m3u8", "144p.m3u8"]
    for name in ("180p", "144p"):
        real = truth[assets[1].id, name]
        info = listed[f"{name}.m3u8"]
        assert info.resolution == real["resolution"]
        assert avc1_profile_and_level(info.codecs) == real["sps"]
        assert (info.bandwidth, info.average_bandwidth) == (real["bandwidth"], real["average"])
