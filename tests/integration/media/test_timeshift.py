"""Timestamp shifting on what the real ffmpeg packages, read back by ffmpeg itself.

The segments are 1.92 s (48 frames at 25 fps, 90 AAC frames at 48 kHz), so a loop of them ends on
both a video and an audio frame boundary and the shifted repeats can be checked for exact
continuity. ffmpeg reads the segments with ``-copyts -c copy -f framecrc``: every packet's DTS and
PTS exactly as stored, in the stream's time base, with a CRC of its data.
"""

from __future__ import annotations

import itertools
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from rcmedia.media.timeshift import shift_fmp4, shift_ts, shift_ts_in_place, track_timescales

SEGMENT_SECONDS = 1.92
SEGMENT_TICKS = 172_800  # 1.92 s at 90 kHz
MINUTE = 5_400_000
WRAP = 1 << 33
VIDEO, AUDIO = 0, 1
FRAME = {VIDEO: 1 / 25, AUDIO: 1024 / 48000}  # seconds per video frame, per AAC frame


@dataclass(frozen=True, kw_only=True, slots=True)
class Packet:
    stream: int
    dts: int
    pts: int
    crc: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Demuxed:
    time_bases: dict[int, int]  # stream -> ticks per second
    packets: list[Packet]

    def of(self, stream: int) -> list[Packet]:
        return [packet for packet in self.packets if packet.stream == stream]


def run(ffmpeg: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ffmpeg, "-y", "-hide_banner", *args], capture_output=True, text=True, check=True, timeout=300
    )


def demux(ffmpeg: str, source: Path) -> Demuxed:
    """Every packet of ``source`` (a file or a playlist) as stored: no re-timing, no decoding."""
    lines = run(ffmpeg, "-v", "error", "-copyts", "-i", str(source), "-map", "0", "-c", "copy",
                "-f", "framecrc", "-").stdout.splitlines()  # fmt: skip
    time_bases = {
        int(line.split()[1].rstrip(":")): int(line.split("/")[-1])
        for line in lines
        if line.startswith("#tb ")
    }
    packets = []
    for line in lines:
        if not line.startswith("#"):
            stream, dts, pts, _, _, crc = (field.strip() for field in line.split(",")[:6])
            packets.append(Packet(stream=int(stream), dts=int(dts), pts=int(pts), crc=crc))
    return Demuxed(time_bases=time_bases, packets=packets)


def decode_errors(ffmpeg: str, source: Path) -> str:
    """What ffmpeg reports at error level while decoding every stream of ``source``."""
    done = subprocess.run(
        [ffmpeg, "-hide_banner", "-v", "error", "-i", str(source), "-map", "0", "-f", "null", "-"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    return done.stderr + ("" if done.returncode == 0 else f"exit status {done.returncode}")


def pcr_bases(data: bytes) -> list[int]:
    """The 33-bit base of every PCR in a TS segment (ISO/IEC 13818-1 §2.4.3.5)."""
    found = []
    for start in range(0, len(data), 188):
        packet = data[start : start + 188]
        if packet[3] & 0x20 and packet[4] and packet[5] & 0x10:
            found.append(int.from_bytes(packet[6:12], "big") >> 15)
    return found


def package(ffmpeg: str, out: Path, *, fmp4: bool, seconds: float = 3 * SEGMENT_SECONDS) -> Path:
    """A 320x180 25 fps H.264 + AAC clip packaged as HLS in 1.92 s segments, one GOP each."""
    out.mkdir()
    segment_type = ["-hls_segment_type", "fmp4", "-hls_fmp4_init_filename", "init.mp4"] if fmp4 else []
    run(ffmpeg, "-v", "error",
        "-f", "lavfi", "-i", f"testsrc2=size=320x180:rate=25:duration={seconds}",
        "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
        "-c:v", "libx264", "-preset", "ultrafast", "-g", "48", "-sc_threshold", "0", "-c:a", "aac",
        "-f", "hls", "-hls_time", str(SEGMENT_SECONDS), "-hls_playlist_type", "vod", *segment_type,
        "-hls_segment_filename", str(out / ("s%d.m4s" if fmp4 else "s%d.ts")),
        str(out / "index.m3u8"))  # fmt: skip
    return out


@pytest.fixture(scope="module")
def ts_hls(ffmpeg: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return package(ffmpeg, tmp_path_factory.mktemp("ts") / "hls", fmp4=False)


@pytest.fixture(scope="module")
def fmp4_hls(ffmpeg: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return package(ffmpeg, tmp_path_factory.mktemp("fmp4") / "hls", fmp4=True)


def assert_moved(before: Demuxed, after: Demuxed, seconds: int) -> None:
    """Every packet of ``after`` is the same packet of ``before``, ``seconds`` later."""
    assert after.time_bases == before.time_bases
    assert {packet.stream for packet in before.packets} == {VIDEO, AUDIO}
    assert len(after.packets) == len(before.packets)
    for old, new in zip(before.packets, after.packets, strict=True):
        offset = seconds * before.time_bases[old.stream]
        assert (new.stream, new.dts, new.pts, new.crc) == (
            old.stream,
            old.dts + offset,
            old.pts + offset,
            old.crc,
        )


# --- one segment --------------------------------------------------------------------------------


def test_ts_segment_moves_by_exactly_a_minute(ffmpeg: str, ts_hls: Path, tmp_path: Path) -> None:
    original = (ts_hls / "s1.ts").read_bytes()
    shifted = tmp_path / "shifted.ts"
    shifted.write_bytes(shift_ts(original, MINUTE))

    assert_moved(demux(ffmpeg, ts_hls / "s1.ts"), demux(ffmpeg, shifted), 60)
    assert pcr_bases(shifted.read_bytes()) == [base + MINUTE for base in pcr_bases(original)]
    assert pcr_bases(original)
    assert decode_errors(ffmpeg, shifted) == ""


def test_ts_segment_across_the_33_bit_wrap_still_decodes(ffmpeg: str, ts_hls: Path, tmp_path: Path) -> None:
    original = (ts_hls / "s1.ts").read_bytes()
    first = min(packet.dts for packet in demux(ffmpeg, ts_hls / "s1.ts").packets)
    shift = WRAP - first - SEGMENT_TICKS // 2  # the clock wraps halfway through the segment
    shifted = tmp_path / "wrapped.ts"
    shifted.write_bytes(shift_ts(original, shift))

    bases = pcr_bases(shifted.read_bytes())
    assert bases == [(base + shift) % WRAP for base in pcr_bases(original)]
    assert bases[0] > bases[-1]  # it did wrap
    assert decode_errors(ffmpeg, shifted) == ""
    assert shift_ts(shifted.read_bytes(), -shift) == original


def test_fmp4_segment_moves_by_exactly_a_minute(ffmpeg: str, fmp4_hls: Path, tmp_path: Path) -> None:
    init = (fmp4_hls / "init.mp4").read_bytes()
    segment = (fmp4_hls / "s1.m4s").read_bytes()
    timescales = track_timescales(init)
    original, shifted = tmp_path / "original.mp4", tmp_path / "shifted.mp4"
    original.write_bytes(init + segment)
    shifted.write_bytes(init + shift_fmp4(segment, MINUTE, timescales))

    assert sorted(timescales.values()) == [12800, 48000]  # what ffmpeg picks for 25 fps and 48 kHz
    assert_moved(demux(ffmpeg, original), demux(ffmpeg, shifted), 60)
    assert decode_errors(ffmpeg, shifted) == ""


# --- a slate loop -------------------------------------------------------------------------------


def loop_playlist(hls: Path, folder: Path, loop: list[str], repeats: int) -> Path:
    """The stand-ins for ``repeats`` turns of ``loop``: turn k shifted by k loop durations."""
    suffix = Path(loop[0]).suffix
    init = hls / "init.mp4"
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-TARGETDURATION:2", "#EXT-X-PLAYLIST-TYPE:VOD"]
    if init.exists():
        (folder / "init.mp4").write_bytes(init.read_bytes())
        lines.append('#EXT-X-MAP:URI="init.mp4"')
        timescales = track_timescales(init.read_bytes())
    for turn in range(repeats):
        for name in loop:
            shift = turn * len(loop) * SEGMENT_TICKS
            data = (hls / name).read_bytes()
            stand_in = shift_fmp4(data, shift, timescales) if suffix == ".m4s" else shift_ts(data, shift)
            (folder / f"{turn}-{name}").write_bytes(stand_in)
            lines += [f"#EXTINF:{SEGMENT_SECONDS:.6f},", f"{turn}-{name}"]
    playlist = folder / "loop.m3u8"
    playlist.write_text("\n".join([*lines, "#EXT-X-ENDLIST", ""]), encoding="utf-8")
    return playlist


def frame_steps(demuxed: Demuxed, stream: int) -> set[int]:
    times = [packet.dts for packet in demuxed.of(stream)]
    return {later - earlier for earlier, later in itertools.pairwise(times)}


@pytest.mark.parametrize("fmp4", [False, True], ids=["ts", "fmp4"])
def test_a_loop_of_shifted_segments_plays_as_one_stream(
    ffmpeg: str, ts_hls: Path, fmp4_hls: Path, tmp_path: Path, fmp4: bool
) -> None:
    hls, suffix = (fmp4_hls, ".m4s") if fmp4 else (ts_hls, ".ts")
    playlist = loop_playlist(hls, tmp_path, [f"s1{suffix}", f"s2{suffix}"], repeats=3)

    played = demux(ffmpeg, playlist)

    # Not a frame missing or doubled at a seam: every step is exactly one frame.
    for stream in (VIDEO, AUDIO):
        frame = round(FRAME[stream] * played.time_bases[stream])
        assert frame_steps(played, stream) == {frame}, f"stream {stream}"
        assert len(played.of(stream)) == round(3 * 2 * SEGMENT_SECONDS / FRAME[stream])
    assert decode_errors(ffmpeg, playlist) == ""


def test_a_loop_from_the_first_segment_overlaps_by_the_priming_frame(
    ffmpeg: str, ts_hls: Path, tmp_path: Path
) -> None:
    # The first segment of an encode also holds the AAC encoder's priming frame, one frame before
    # the video starts, so a loop that starts there repeats one audio frame's time at each seam,
    # which ffmpeg's muxer reports when decoding. That is the packaging's doing, not the shift's:
    # the video is still exactly continuous. A slate loop should start after the first segment.
    playlist = loop_playlist(ts_hls, tmp_path, ["s0.ts"], repeats=3)

    played = demux(ffmpeg, playlist)

    assert frame_steps(played, VIDEO) == {3600}
    audio = [packet.dts for packet in played.of(AUDIO)]
    steps = [later - earlier for earlier, later in itertools.pairwise(audio)]
    assert sorted(set(steps)) == [0, 1920]  # monotonic, one frame's time repeated
    assert steps.count(0) == 2  # once per seam
    errors = decode_errors(ffmpeg, playlist).splitlines()
    assert len(errors) == 2
    assert all("non monotonically increasing dts to muxer in stream 1" in line for line in errors)


# --- speed --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_6s_1080p_segment_shifts_in_milliseconds(ffmpeg: str, tmp_path: Path) -> None:
    path = tmp_path / "1080p.ts"
    run(ffmpeg, "-v", "error",
        "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=25:duration=6",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=6",
        "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "4M", "-maxrate", "4M", "-bufsize", "8M",
        "-g", "150", "-c:a", "aac", "-b:a", "128k", "-f", "mpegts", str(path))  # fmt: skip
    data = path.read_bytes()
    assert 2_000_000 < len(data) < 5_000_000

    timings = []
    for _ in range(15):
        started = time.perf_counter()
        shifted = shift_ts(data, MINUTE)
        timings.append(time.perf_counter() - started)
    buf = bytearray(data)
    shift_ts_in_place(buf, MINUTE)

    assert buf == shifted
    # ~5 ms here, mostly the one copy of the segment; a loop over every packet would take 20-40 ms
    # and one over every byte seconds. The margin is for a loaded CI machine.
    assert statistics.median(timings) < 0.05
