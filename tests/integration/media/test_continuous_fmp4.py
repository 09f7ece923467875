"""fMP4 segments on the channel's one clock, on what the project's own ingest publishes.

Two clips (6.4 s at 440 Hz, 7.2 s at 880 Hz) go through the real ingest on the ``tiny_fmp4``
ladder, so the segments are byte for byte what the origin serves: 2 s segments whose audio runs
80 ms ahead of the pictures except in an asset's first segment. The rewritten segments are read
back by the bundled ffmpeg, never by rcmedia's own box reader.
"""

from __future__ import annotations

import itertools
import re
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import pytest

from rcmedia.catalog.db import make_engine, upgrade
from rcmedia.catalog.repository import Catalog
from rcmedia.clock import SystemClock
from rcmedia.core.models import JobState
from rcmedia.errors import MediaFormatError
from rcmedia.ingest.context import IngestContext
from rcmedia.ingest.intake import submit
from rcmedia.ingest.runner import JobRunner
from rcmedia.ingest.sidecar import read_sidecar
from rcmedia.media.continuous_fmp4 import Fmp4Tracks, continuous_fmp4
from rcmedia.media.samples import make_clip
from rcmedia.media.timeshift import shift_fmp4
from rcmedia.profiles import load_profiles
from rcmedia.storage.local import LocalStorage
from tests.conftest import settings_in

EPOCH_US = 1_764_000_000_000_000  # 2025-11-24 16:00 UTC: far from 0, past 2^32 ticks of any timescale
VIDEO, AUDIO = 0, 1
FRAME = Fraction(1024, 48_000)  # one AAC frame, in seconds
TICK = Fraction(1, 3200)  # the shift's rounding step for 12 800 and 48 000
EDIT = Fraction(80, 1000)  # the inits' empty edit: presentation is 80 ms after the decode times
# ffmpeg's HLS demuxer feeds each new EXT-X-MAP into the one mov demuxer it opened, which notes
# the second moov: the playlist's doing, not the segments'.
MOOV_AGAIN = re.compile(
    r"^\[mov,mp4.*\] Found duplicated MOOV Atom\. Skipped it$|^\s+Last message repeated \d+ times$"
)


@dataclass(frozen=True, kw_only=True, slots=True)
class Package:
    """One published rendition: its folder, tracks and each segment's EXTINF in µs."""

    folder: Path
    tracks: Fmp4Tracks
    durations_us: list[int]

    def segment(self, index: int) -> bytes:
        return (self.folder / f"seg_{index:05d}.m4s").read_bytes()


def ingested(ffmpeg: str, home: Path, profile: str) -> dict[str, tuple[Path, list[int]]]:
    """Programmes A (6.4 s at 440 Hz) and B (7.2 s at 880 Hz) through the real ingest on
    ``profile``: their 180p rendition folders and EXTINFs in µs."""
    settings = settings_in(home)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    catalog = Catalog(engine)
    ctx = IngestContext(
        settings=settings.replace(profile=profile),
        catalog=catalog,
        storage=LocalStorage(Path(settings.storage)),
        profiles=load_profiles(settings.profiles_dir),
        ffmpeg=ffmpeg,
        clock=SystemClock(),
    )
    clips = [
        make_clip(home / "a.mp4", ffmpeg=ffmpeg, duration=6.4, tone_hz=440),
        make_clip(home / "b.mp4", ffmpeg=ffmpeg, duration=7.2, tone_hz=880),
    ]
    ids = [submit(ctx, clip, metadata=read_sidecar(clip), profile=profile) for clip in clips]
    found = {}
    for name, job in zip("AB", JobRunner(ctx).run_jobs(ids), strict=True):
        assert job.state is JobState.PUBLISHED, job.failure_reason
        asset = catalog.get_asset(job.asset_id)
        folder = Path(settings.storage) / str(asset.storage_prefix) / "180p"
        playlist = (folder / "index.m3u8").read_text(encoding="utf-8")
        durations = [round(float(extinf) * 1e6) for extinf in re.findall(r"#EXTINF:([\d.]+),", playlist)]
        found[name] = (folder, durations)
    engine.dispose()
    return found


@pytest.fixture(scope="module")
def packages(ffmpeg: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Package]:
    """Programmes A and B ingested once for the module, their 180p renditions."""
    found = {
        name: Package(
            folder=folder,
            tracks=Fmp4Tracks.of((folder / "init.mp4").read_bytes()),
            durations_us=durations,
        )
        for name, (folder, durations) in ingested(
            ffmpeg, tmp_path_factory.mktemp("continuous"), "tiny_fmp4"
        ).items()
    }
    assert [len(found[name].durations_us) for name in "AB"] == [3, 4]
    return found


# --- reading back with ffmpeg -------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class Packet:
    stream: int
    dts: int
    pts: int
    duration: int


def ffmpeg_run(ffmpeg: str, *args: str) -> subprocess.CompletedProcess[str]:
    """ffmpeg at warning level; a playlist input may name .m4s segments and .mp4 inits."""
    if any(arg.endswith(".m3u8") for arg in args):
        args = ("-allowed_extensions", "ALL", *args)
    return subprocess.run(
        [ffmpeg, "-hide_banner", "-nostats", "-loglevel", "warning", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def packets(ffmpeg: str, source: Path) -> tuple[dict[int, int], list[Packet]]:
    """({stream: ticks per second}, every packet of ``source`` with its DTS, PTS and duration as ffmpeg
    reads them: the tfdt's decode times, through the init's edit list."""
    done = ffmpeg_run(ffmpeg, "-copyts", "-i", str(source), "-map", "0", "-c", "copy", "-f", "framecrc", "-")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    rates = {
        int(line.split()[1].rstrip(":")): int(line.split("/")[-1])
        for line in lines
        if line.startswith("#tb ")
    }
    found = []
    for line in lines:
        if not line.startswith("#"):
            stream, dts, pts, duration = (int(field) for field in line.split(",")[:4])
            found.append(Packet(stream=stream, dts=dts, pts=pts, duration=duration))
    return rates, found


def warnings(ffmpeg: str, playlist: Path, *output: str) -> list[str]:
    done = ffmpeg_run(ffmpeg, "-i", str(playlist), "-map", "0", *output)
    assert done.returncode == 0, done.stderr
    return [line for line in done.stderr.splitlines() if not MOOV_AGAIN.match(line)]


@dataclass(frozen=True, kw_only=True, slots=True)
class Span:
    """Where a segment's pictures and sound start and end, in seconds."""

    video: tuple[Fraction, Fraction]
    audio: tuple[Fraction, Fraction]


def span(ffmpeg: str, folder: Path, package: Package, segment: bytes) -> Span:
    """When ``segment`` presents its pictures and its sound, read by ffmpeg with its asset's init.

    Presentation times, through the init's edit lists: both tracks start with an 80 ms empty
    edit, and the video's also takes off the B-frames' 80 ms composition delay. So the sound
    and the pictures compare directly; both sit 80 ms after the tfdt's decode times.
    """
    path = folder / "one.mp4"
    path.write_bytes((package.folder / "init.mp4").read_bytes() + segment)
    rates, found = packets(ffmpeg, path)

    def of(stream: int) -> tuple[Fraction, Fraction]:
        mine = [packet for packet in found if packet.stream == stream]
        return (
            Fraction(min(packet.pts for packet in mine), rates[stream]),
            Fraction(max(packet.pts + packet.duration for packet in mine), rates[stream]),
        )

    return Span(video=of(VIDEO), audio=of(AUDIO))


# --- a channel -----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class Airing:
    asset: str
    segment: int
    cut_in: bool
    cut_out: bool


# A to the middle, B from the middle to its end, A again from its second segment: a cut out of
# a segment whose audio runs 80 ms early, into one that does, out of an asset's last segment
# (audio 16 ms late) and into a mid-asset one.
CHANNEL = [
    Airing(asset="A", segment=0, cut_in=False, cut_out=False),
    Airing(asset="A", segment=1, cut_in=False, cut_out=True),
    Airing(asset="B", segment=2, cut_in=True, cut_out=False),
    Airing(asset="B", segment=3, cut_in=False, cut_out=True),
    Airing(asset="A", segment=1, cut_in=True, cut_out=False),
    Airing(asset="A", segment=2, cut_in=False, cut_out=False),
]


def write_channel(
    packages: dict[str, Package], folder: Path, *, cuts: bool = True
) -> tuple[Path, list[int], list[bytes]]:
    """The channel as an HLS media playlist without discontinuity tags; each segment's air time
    (and the end of the last), and each rewritten segment."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-TARGETDURATION:3", "#EXT-X-PLAYLIST-TYPE:VOD"]
    at_us, starts, segments, previous = EPOCH_US, [], [], ""
    for index, airing in enumerate(CHANNEL):
        package = packages[airing.asset]
        if airing.asset != previous:
            (folder / f"init-{index}.mp4").write_bytes((package.folder / "init.mp4").read_bytes())
            lines.append(f'#EXT-X-MAP:URI="init-{index}.mp4"')
            previous = airing.asset
        data = continuous_fmp4(
            package.segment(airing.segment),
            package.tracks,
            at_us=at_us,
            cut_in=cuts and airing.cut_in,
            cut_out=cuts and airing.cut_out,
        )
        (folder / f"{index}.m4s").write_bytes(data)
        segments.append(data)
        duration = package.durations_us[airing.segment]
        lines += [f"#EXTINF:{duration / 1e6:.6f},", f"{index}.m4s"]
        starts.append(at_us)
        at_us += duration
    playlist = folder / "channel.m3u8"
    playlist.write_text("\n".join([*lines, "#EXT-X-ENDLIST", ""]), encoding="utf-8")
    return playlist, [*starts, at_us], segments


def test_a_channel_of_cut_segments_plays_as_one_clean_stream(
    ffmpeg: str, packages: dict[str, Package], tmp_path: Path
) -> None:
    playlist, starts, segments = write_channel(packages, tmp_path)

    assert warnings(ffmpeg, playlist, "-c", "copy", "-f", "mpegts", "-y", str(tmp_path / "out.ts")) == []
    assert warnings(ffmpeg, playlist, "-f", "null", "-") == []  # decodes, silence frames included
    rates, played = packets(ffmpeg, playlist)
    video = [packet for packet in played if packet.stream == VIDEO]
    audio = [packet for packet in played if packet.stream == AUDIO]
    for stream in (video, audio):
        assert all(earlier.dts < later.dts for earlier, later in itertools.pairwise(stream))
    # Video: every picture, one after another from the first air time to the last.
    assert Fraction(video[0].dts, rates[VIDEO]) == Fraction(starts[0], 1_000_000)
    assert all(later.dts == earlier.dts + earlier.duration for earlier, later in itertools.pairwise(video))
    assert Fraction(video[-1].dts + video[-1].duration, rates[VIDEO]) == Fraction(starts[-1], 1_000_000)
    # Audio: no overlap and no hole of a frame anywhere, splices included.
    for earlier, later in itertools.pairwise(audio):
        hole = Fraction(later.dts - earlier.dts - earlier.duration, rates[AUDIO])
        assert -FRAME < hole < FRAME, (earlier, later)
    # Each cut: the sound on both sides meets the pictures' cut within half a frame.
    spans = [
        span(ffmpeg, tmp_path, packages[airing.asset], segment)
        for airing, segment in zip(CHANNEL, segments, strict=True)
    ]
    for index, (airing, this) in enumerate(zip(CHANNEL, spans, strict=True)):
        start, end = (Fraction(at_us, 1_000_000) + EDIT for at_us in starts[index : index + 2])
        assert abs(this.video[0] - start) <= TICK / 2, index
        if airing.cut_in:
            assert abs(this.audio[0] - start) <= FRAME / 2 + TICK, index
        if airing.cut_out:
            assert abs(this.audio[1] - end) <= FRAME / 2 + TICK, index
    for earlier, later in itertools.pairwise(spans):
        assert -FRAME < later.audio[0] - earlier.audio[1] < FRAME


def test_without_the_cuts_the_same_channel_goes_back_in_time(
    ffmpeg: str, packages: dict[str, Package], tmp_path: Path
) -> None:
    # The case the cuts exist for: this is what a player would get from a pure shift.
    playlist, _, _ = write_channel(packages, tmp_path, cuts=False)

    assert any(
        "Non-monotonic DTS" in line
        for line in warnings(ffmpeg, playlist, "-c", "copy", "-f", "mpegts", "-y", str(tmp_path / "out.ts"))
    )


# --- one segment ---------------------------------------------------------------------------------


def test_without_cuts_only_the_times_change_exactly_as_a_shift(packages: dict[str, Package]) -> None:
    for package in packages.values():
        for index, _ in enumerate(package.durations_us):
            data = package.segment(index)
            start_us = sum(package.durations_us[:index])  # each asset's video starts at 0
            moved = continuous_fmp4(
                data, package.tracks, at_us=EPOCH_US + start_us, cut_in=False, cut_out=False
            )
            assert len(moved) == len(data)
            assert moved != data
            assert moved == shift_fmp4(data, EPOCH_US * 90_000 // 1_000_000, package.tracks.timescales)


def test_segments_of_one_asset_stay_exactly_contiguous(
    ffmpeg: str, packages: dict[str, Package], tmp_path: Path
) -> None:
    # An air time off the 1/3200 s grid: every segment rounds alike, so no tick is lost between them.
    package = packages["B"]
    at_us = EPOCH_US + 123
    spans = []
    for index, duration in enumerate(package.durations_us):
        moved = continuous_fmp4(
            package.segment(index), package.tracks, at_us=at_us, cut_in=False, cut_out=False
        )
        spans.append(span(ffmpeg, tmp_path, package, moved))
        at_us += duration
    assert abs(spans[0].video[0] - Fraction(EPOCH_US + 123, 1_000_000) - EDIT) <= TICK / 2
    for earlier, later in itertools.pairwise(spans):
        assert earlier.video[1] == later.video[0]
        assert earlier.audio[1] == later.audio[0]


@pytest.mark.parametrize(
    ("asset", "segment"),
    [
        pytest.param("A", 0, id="first-segment"),
        pytest.param("A", 1, id="mid-asset"),
        pytest.param("A", 2, id="last-segment"),
        pytest.param("B", 3, id="short-last-segment"),
    ],
)
@pytest.mark.parametrize(
    ("cut_in", "cut_out"),
    [
        pytest.param(True, False, id="cut-in"),
        pytest.param(False, True, id="cut-out"),
        pytest.param(True, True, id="both"),
    ],
)
def test_a_cut_brings_the_audio_within_half_a_frame_of_the_pictures(
    ffmpeg: str,
    packages: dict[str, Package],
    tmp_path: Path,
    asset: str,
    segment: int,
    cut_in: bool,
    cut_out: bool,
) -> None:
    package = packages[asset]
    at_us = EPOCH_US + 7_000_000
    moved = continuous_fmp4(
        package.segment(segment), package.tracks, at_us=at_us, cut_in=cut_in, cut_out=cut_out
    )
    original = span(ffmpeg, tmp_path, package, package.segment(segment))
    shifted = span(ffmpeg, tmp_path, package, moved)

    start = Fraction(at_us, 1_000_000) + EDIT
    assert shifted.video == (start, start + original.video[1] - original.video[0])
    if cut_in:
        assert abs(shifted.audio[0] - shifted.video[0]) <= FRAME / 2
    else:
        assert shifted.audio[0] - shifted.video[0] == original.audio[0] - original.video[0]
    if cut_out:
        assert abs(shifted.audio[1] - shifted.video[1]) <= FRAME / 2
    else:
        assert shifted.audio[1] - shifted.video[1] == original.audio[1] - original.video[1]
    assert ffmpeg_run(ffmpeg, "-i", str(tmp_path / "one.mp4"), "-map", "0", "-f", "null", "-").stderr == ""


# --- malformed input -----------------------------------------------------------------------------


def renamed(data: bytes, kind: bytes, new: bytes) -> bytes:
    """``data`` with the first box of type ``kind`` retyped (so a reader no longer finds it)."""
    at = data.index(kind)
    return data[:at] + new + data[at + 4 :]


def trun_without_data_offset(data: bytes) -> bytes:
    at = data.index(b"trun") + 4  # version, then 24 flag bits: data-offset-present is the lowest
    return data[: at + 3] + bytes([data[at + 3] & 0xFE]) + data[at + 4 :]


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        pytest.param(lambda data: data[:-1000], "overruns its parent", id="cut-short"),
        pytest.param(lambda data: renamed(data, b"moof", b"free"), "no moof box", id="no-moof"),
        pytest.param(lambda data: renamed(data, b"tfdt", b"free"), "has no tfdt", id="no-tfdt"),
        pytest.param(lambda data: renamed(data, b"tfhd", b"free"), "has no tfhd", id="no-tfhd"),
        pytest.param(trun_without_data_offset, "no data_offset", id="trun-without-data-offset"),
        pytest.param(lambda data: b"not an mp4 segment at all", "overruns its parent", id="not-mp4"),
    ],
)
@pytest.mark.parametrize("cuts", [False, True], ids=["shift", "cut"])
def test_a_malformed_segment_is_a_media_format_error(
    packages: dict[str, Package], damage: object, reason: str, cuts: bool
) -> None:
    package = packages["A"]
    data = damage(package.segment(1))  # type: ignore[operator]
    with pytest.raises(MediaFormatError, match=reason):
        continuous_fmp4(data, package.tracks, at_us=EPOCH_US, cut_in=cuts, cut_out=cuts)


def test_a_segment_of_a_track_the_init_does_not_have_is_refused(packages: dict[str, Package]) -> None:
    b_tracks = Fmp4Tracks(timescales={7: 12800}, video=7, audio=None, audio_channels=None)
    with pytest.raises(MediaFormatError, match="no fragment of track 7"):
        continuous_fmp4(packages["A"].segment(1), b_tracks, at_us=EPOCH_US, cut_in=False, cut_out=False)


def test_tracks_of_an_init_segment(packages: dict[str, Package]) -> None:
    tracks = packages["A"].tracks
    assert (tracks.video, tracks.audio, tracks.audio_channels) == (1, 2, 2)
    assert dict(tracks.timescales) == {1: 12800, 2: 48000}


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        pytest.param(lambda data: renamed(data, b"moov", b"free"), "no moov box", id="no-moov"),
        pytest.param(lambda data: data[:200], "overruns its parent", id="cut-short"),
        pytest.param(lambda data: renamed(data, b"hdlr", b"free"), "hdlr", id="no-hdlr"),
    ],
)
def test_a_malformed_init_is_a_media_format_error(
    packages: dict[str, Package], damage: object, reason: str
) -> None:
    init = (packages["A"].folder / "init.mp4").read_bytes()
    with pytest.raises(MediaFormatError, match=reason):
        Fmp4Tracks.of(damage(init))  # type: ignore[operator]
