"""MPEG-TS segments on the channel's one clock, on what the project's own ingest publishes.

Two clips go through the real ingest on the ``tiny`` ladder (2 s segments whose audio starts
80 ms before their pictures, but in an asset's first segment), are cut and spliced as a channel
would air them, rewritten, and read back by the bundled ffmpeg as one stream.
"""

from __future__ import annotations

import asyncio
import itertools
import os
from fractions import Fraction
from pathlib import Path

import pytest

from rcmedia.errors import MediaFormatError
from rcmedia.media.continuous import PACKET, air_ticks, continuous_ts
from rcmedia.playout.aired import Aired, AiredFront, AiredSegments
from rcmedia.storage.local import LocalStorage
from tests.integration.media.test_continuous_fmp4 import CHANNEL, ingested, packets, warnings

EPOCH_US = 1_764_000_000_000_000
TICKS = 90_000
FRAME = Fraction(1024, 48_000)
VIDEO, AUDIO = 0, 1


@pytest.fixture(scope="module")
def renditions(ffmpeg: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, list[int]]]:
    """Programmes A and B ingested once for the module: their 180p folders and EXTINFs (µs)."""
    return ingested(ffmpeg, tmp_path_factory.mktemp("continuous_ts"), "tiny")


def channel(renditions: dict[str, tuple[Path, list[int]]], *, rewrite: bool) -> tuple[bytes, list[int]]:
    """The channel's segments one after another (as a player's demuxer meets them), and each
    segment's air time followed by the end of the last."""
    out, starts, at_us = [], [], EPOCH_US
    for airing in CHANNEL:
        folder, durations = renditions[airing.asset]
        data = (folder / f"seg_{airing.segment:05d}.ts").read_bytes()
        if rewrite:
            data = continuous_ts(
                data, at_ticks=air_ticks(at_us), cut_in=airing.cut_in, cut_out=airing.cut_out
            )
        out.append(data)
        starts.append(at_us)
        at_us += durations[airing.segment]
    return b"".join(out), [*starts, at_us]


def continuity_errors(stream: bytes) -> list[str]:
    """Where a PID's continuity_counter does not follow on (ISO/IEC 13818-1 §2.4.3.3)."""
    last: dict[int, int] = {}
    found = []
    for at in range(0, len(stream), PACKET):
        pid = (stream[at + 1] & 0x1F) << 8 | stream[at + 2]
        counter, has_payload = stream[at + 3] & 0x0F, bool(stream[at + 3] & 0x10)
        if pid in last:
            expected = (last[pid] + 1) & 0x0F if has_payload else last[pid]
            if counter != expected:
                found.append(f"packet {at // PACKET} PID {pid:#x}: {counter}, expected {expected}")
        last[pid] = counter
    return found


def test_a_channel_of_cut_segments_plays_as_one_clean_stream(
    ffmpeg: str, renditions: dict[str, tuple[Path, list[int]]], tmp_path: Path
) -> None:
    stream, starts = channel(renditions, rewrite=True)
    source = tmp_path / "channel.ts"
    source.write_bytes(stream)

    assert continuity_errors(stream) == []
    assert warnings(ffmpeg, source, "-c", "copy", "-f", "mpegts", "-y", str(tmp_path / "copy.ts")) == []
    assert warnings(ffmpeg, source, "-f", "null", "-") == []  # decodes, silence frames included
    rates, played = packets(ffmpeg, source)
    video = [p for p in played if p.stream == VIDEO]
    audio = [p for p in played if p.stream == AUDIO]
    for kind in (video, audio):
        assert all(earlier.dts < later.dts for earlier, later in itertools.pairwise(kind))
    # every picture, one after another, the first at the first air time and the last ending at the end
    shown = sorted(p.pts for p in video)
    assert shown[0] == air_ticks(starts[0])
    assert rates[VIDEO] == TICKS
    assert all(later - earlier == TICKS // 25 for earlier, later in itertools.pairwise(shown))
    assert shown[-1] + TICKS // 25 == air_ticks(starts[-1])
    # the sound: no overlap and no hole of a frame anywhere, splices included, and it spans the pictures
    for earlier, later in itertools.pairwise(audio):
        hole = Fraction(later.pts - earlier.pts - earlier.duration, rates[AUDIO])
        assert -FRAME < hole < FRAME, (earlier, later)
    assert abs(Fraction(audio[0].pts - shown[0], TICKS)) <= FRAME / 2
    assert abs(Fraction(audio[-1].pts + audio[-1].duration - shown[-1] - TICKS // 25, TICKS)) <= FRAME


def test_the_same_segments_spliced_as_stored_are_what_players_complained_of(
    ffmpeg: str, renditions: dict[str, tuple[Path, list[int]]], tmp_path: Path
) -> None:
    stream, _ = channel(renditions, rewrite=False)
    source = tmp_path / "channel.ts"
    source.write_bytes(stream)

    assert continuity_errors(stream)
    complaints = warnings(ffmpeg, source, "-c", "copy", "-f", "mpegts", "-y", str(tmp_path / "copy.ts"))
    assert any("Packet corrupt" in line or "onotonic" in line for line in complaints), complaints


def test_each_segment_counts_its_packets_in_sixteens_and_keeps_its_pictures(
    renditions: dict[str, tuple[Path, list[int]]],
) -> None:
    folder, _ = renditions["B"]
    for path in sorted(folder.glob("seg_*.ts")):
        stored = path.read_bytes()
        for cut_in, cut_out in itertools.product((False, True), repeat=2):
            aired = continuous_ts(stored, at_ticks=(1 << 33) - 1_000, cut_in=cut_in, cut_out=cut_out)
            counters: dict[int, list[int]] = {}
            for at in range(0, len(aired), PACKET):
                if aired[at + 3] & 0x10:
                    pid = (aired[at + 1] & 0x1F) << 8 | aired[at + 2]
                    counters.setdefault(pid, []).append(aired[at + 3] & 0x0F)
            for pid, seen in counters.items():
                assert seen == [n % 16 for n in range(len(seen))], (path.name, pid)
                assert len(seen) % 16 == 0
            assert video_payload(aired) == video_payload(stored), path.name  # split, never changed
            assert len(aired) - len(stored) <= 5 * 15 * PACKET + 64 * PACKET


def video_payload(stream: bytes) -> bytes:
    """The bytes the video PID carries, PES headers and all, less adaptation fields."""
    out = []
    for at in range(0, len(stream), PACKET):
        pid = (stream[at + 1] & 0x1F) << 8 | stream[at + 2]
        if pid == 0x100 and stream[at + 3] & 0x10:
            start = at + 5 + stream[at + 4] if stream[at + 3] & 0x20 else at + 4
            data = bytearray(stream[start : at + PACKET])
            if stream[at + 1] & 0x40 and data[7] & 0x80:  # PTS/DTS differ by the shift: blank them
                data[9 : 9 + data[8]] = bytes(data[8])
            out.append(bytes(data))
    return b"".join(out)


def test_the_channel_clock_wraps_with_the_33_bit_counters() -> None:
    assert air_ticks(0) == 0
    assert air_ticks(40_000) == 3_600  # a 25 fps frame
    assert air_ticks(11) == 1
    assert air_ticks(5) == 0
    wrap_us = 95_443_717_689  # 2^33 ticks after the epoch, to the µs (26 h 30 min 43.7 s)
    assert air_ticks(wrap_us - 40_000) == (1 << 33) - 3_600
    assert air_ticks(wrap_us) == 0
    assert air_ticks(wrap_us + 40_000) == 3_600
    assert 0 <= air_ticks(EPOCH_US) < 1 << 33


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda d: d[:-1], "whole number"),
        (lambda d: b"", "whole number"),
        (lambda d: d[:188] + b"\x00" + d[189:], "lost sync"),
        (lambda d: bytes(188), "lost sync"),
    ],
)
def test_what_is_no_segment_is_refused_with_the_reason(
    renditions: dict[str, tuple[Path, list[int]]], damage: object, reason: str
) -> None:
    folder, _ = renditions["A"]
    stored = (folder / "seg_00001.ts").read_bytes()
    with pytest.raises(MediaFormatError, match=reason):
        continuous_ts(damage(stored), at_ticks=0)  # type: ignore[operator]


# --- kept once per airing (rcmedia.playout.aired) -------------------------------------------------


def stored_at(renditions: dict[str, tuple[Path, list[int]]]) -> tuple[LocalStorage, str]:
    folder, _ = renditions["A"]
    root = folder.parents[3]  # …/storage/assets/{id}/{prefix}/180p
    return LocalStorage(root), str((folder / "seg_00001.ts").relative_to(root))


def get(aired: AiredSegments, key: str, start_us: int, cut: str) -> Aired:
    """What the origin's front does, less its threads: the kept segment, else made."""
    return aired.kept(key, start_us, cut) or aired.make(key, start_us, cut)


def test_each_airing_is_rewritten_once_and_kept_in_its_file(
    renditions: dict[str, tuple[Path, list[int]]], tmp_path: Path
) -> None:
    storage, key = stored_at(renditions)
    aired = AiredSegments(storage, tmp_path / "aired", disk_bytes=1 << 30)
    first = get(aired, key, EPOCH_US, "in")
    again = get(aired, key, EPOCH_US, "in")
    other = get(aired, key, EPOCH_US + 6_000_000, "in")

    assert first == again
    assert other.etag != first.etag
    assert aired.rewrites == 2
    assert first.data == continuous_ts(storage.read_bytes(key), at_ticks=air_ticks(EPOCH_US), cut_in=True)
    path = aired.path(key, EPOCH_US, "in")
    assert path is not None
    assert path.read_bytes() == first.data
    assert first.etag == f'"{path.stem}"'
    # another process (a second AiredSegments on the same folder) finds it kept
    assert AiredSegments(storage, tmp_path / "aired", disk_bytes=1 << 30).kept(key, EPOCH_US, "in") == first


def test_without_a_folder_to_keep_them_airings_are_kept_in_memory(
    renditions: dict[str, tuple[Path, list[int]]], tmp_path: Path
) -> None:
    storage, key = stored_at(renditions)
    blocked = tmp_path / "file"
    blocked.write_text("a file where the cache folder should be")
    for folder in (None, blocked / "aired"):  # none configured; one that cannot be made
        aired = AiredSegments(storage, folder, disk_bytes=1 << 30)
        first = get(aired, key, EPOCH_US, "join")
        assert get(aired, key, EPOCH_US, "join") == first
        assert aired.rewrites == 1


def test_the_folder_is_swept_oldest_first_to_below_its_bound(
    renditions: dict[str, tuple[Path, list[int]]], tmp_path: Path
) -> None:
    storage, key = stored_at(renditions)
    size = len(get(AiredSegments(storage, None, disk_bytes=0), key, EPOCH_US, "join").data)
    aired = AiredSegments(storage, tmp_path / "aired", disk_bytes=int(size * 4.5))
    paths = []
    for n in range(8):
        get(aired, key, EPOCH_US + n * 6_000_000, "join")
        path = aired.path(key, EPOCH_US + n * 6_000_000, "join")
        assert path is not None
        os.utime(path, (1_000_000 + n, 1_000_000 + n))  # in airing order, a second apart
        paths.append(path)
        aired.sweep()
    kept = [path.exists() for path in paths]
    assert sum(kept) * size <= size * 4.5 * 0.8 + size
    assert kept == sorted(kept)  # the oldest went first
    assert kept[-1]


def test_a_cut_the_audio_cannot_take_still_moves_the_segment_onto_the_clock(
    renditions: dict[str, tuple[Path, list[int]]], tmp_path: Path
) -> None:
    storage, key = stored_at(renditions)
    stored = storage.read_bytes(key)
    audio_pid = 0x101
    broken = bytearray(stored)
    for at in range(0, len(broken), PACKET):  # the first audio PES no longer holds ADTS frames
        if (broken[at + 1] & 0x1F) << 8 | broken[at + 2] == audio_pid and broken[at + 1] & 0x40:
            start = at + 4 + (1 + broken[at + 4] if broken[at + 3] & 0x20 else 0)
            payload = start + 9 + broken[start + 8]
            broken[payload : payload + 2] = b"\x00\x00"
            break
    with pytest.raises(MediaFormatError, match="ADTS"):
        continuous_ts(bytes(broken), at_ticks=0, cut_in=True)
    aired = AiredSegments(storage, None, disk_bytes=0)
    moved = aired.rewrite(bytes(broken), key, EPOCH_US, "inout")
    assert moved == continuous_ts(bytes(broken), at_ticks=air_ticks(EPOCH_US))


async def test_viewers_asking_for_a_new_segment_at_once_share_one_rewrite(
    renditions: dict[str, tuple[Path, list[int]]], tmp_path: Path
) -> None:
    storage, key = stored_at(renditions)
    front = AiredFront(AiredSegments(storage, tmp_path / "aired", disk_bytes=1 << 30))
    try:
        found = await asyncio.gather(*(front.get(key, EPOCH_US, "join") for _ in range(20)))
    finally:
        front.close()
    assert len({(f.data, f.etag) for f in found}) == 1
    assert front.segments.rewrites == 1
