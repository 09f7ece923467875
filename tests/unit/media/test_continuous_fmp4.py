"""The fMP4 rewrite on hand-built segments: the layouts ffmpeg's packager does not write.

A version 0 tfdt, samples sized by the tfhd's default, two fragments in a segment. The boxes are
built and read back here from ISO/IEC 14496-12 §8.8, independently of the code under test.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from rcmedia.errors import MediaFormatError
from rcmedia.media.aac import silent_frame
from rcmedia.media.continuous_fmp4 import Fmp4Tracks, continuous_fmp4

VIDEO, AUDIO = 1, 2
TRACKS = Fmp4Tracks(timescales={VIDEO: 12800, AUDIO: 48000}, video=VIDEO, audio=AUDIO, audio_channels=2)
VIDEO_START = 100 * 512  # 4.0 s at 12 800
AUDIO_START = 192_000 - 3840  # 80 ms before the pictures, at 48 000
PICTURES = [bytes([0x56, n]) * 50 for n in range(4)]  # 4 frames of 512 ticks: 4.0 s to 4.16 s
SOUND = [bytes([0x41, n]) * 2 for n in range(8)]  # 8 "AAC frames" of 4 bytes, the tfhd's default size
AT_US = 1_764_000_000_000_000


def box(kind: bytes, *parts: bytes) -> bytes:
    payload = b"".join(parts)
    return (8 + len(payload)).to_bytes(4, "big") + kind + payload


def full(kind: bytes, version: int, flags: int, *parts: bytes) -> bytes:
    return box(kind, bytes([version]) + flags.to_bytes(3, "big"), *parts)


def u32(*values: int) -> bytes:
    return b"".join(value.to_bytes(4, "big") for value in values)


def fragment(sequence: int, video_time: int, audio_time: int) -> bytes:
    """moof + mdat: video with explicit durations and sizes, audio on the tfhd's defaults, tfdt v0."""

    def moof(video_offset: int, audio_offset: int) -> bytes:
        video = box(
            b"traf",
            full(b"tfhd", 0, 0x020000, u32(VIDEO)),
            full(b"tfdt", 0, 0, u32(video_time)),
            full(
                b"trun", 0, 0x000301, u32(len(PICTURES), video_offset), *(u32(512, len(p)) for p in PICTURES)
            ),
        )
        audio = box(
            b"traf",
            full(b"tfhd", 0, 0x020018, u32(AUDIO, 1024, len(SOUND[0]))),  # default duration and size
            full(b"tfdt", 0, 0, u32(audio_time)),
            full(b"trun", 0, 0x000001, u32(len(SOUND), audio_offset)),
        )
        return box(b"moof", full(b"mfhd", 0, 0, u32(sequence)), video, audio)

    size = len(moof(0, 0))
    video_bytes = b"".join(PICTURES)
    mdat = box(b"mdat", video_bytes, *SOUND)
    return moof(size + 8, size + 8 + len(video_bytes)) + mdat


SEGMENT = box(b"styp", b"msdh") + fragment(1, VIDEO_START, AUDIO_START)


@dataclass(frozen=True)
class Traf:
    version: int
    time: int
    flags: int  # the trun's
    durations: list[int]
    samples: list[bytes]


def read(segment: bytes) -> dict[int, Traf]:
    """{track_ID: its traf} of the segment's only moof, each sample's bytes found by data_offset."""

    def boxes(start: int, end: int) -> dict[bytes, list[tuple[int, int]]]:
        found: dict[bytes, list[tuple[int, int]]] = {}
        while start < end:
            size = int.from_bytes(segment[start : start + 4], "big")
            found.setdefault(segment[start + 4 : start + 8], []).append((start, start + size))
            start += size
        return found

    top = boxes(0, len(segment))
    ((moof, moof_end),) = top[b"moof"]
    ((mdat, mdat_end),) = top[b"mdat"]
    assert int.from_bytes(segment[mdat : mdat + 4], "big") == mdat_end - mdat == len(segment) - mdat
    trafs = {}
    for start, end in boxes(moof + 8, moof_end)[b"traf"]:
        inner = boxes(start + 8, end)
        tfhd, tfdt, trun = (inner[kind][0][0] + 8 for kind in (b"tfhd", b"tfdt", b"trun"))
        track, *defaults = (
            int.from_bytes(segment[tfhd + 4 * i : tfhd + 4 * i + 4], "big") for i in (1, 2, 3)
        )
        version = segment[tfdt]
        time = int.from_bytes(segment[tfdt + 4 : tfdt + (12 if version else 8)], "big")
        flags = int.from_bytes(segment[trun + 1 : trun + 4], "big")
        count, offset = (int.from_bytes(segment[trun + at : trun + at + 4], "big") for at in (4, 8))
        fields = [flag for flag in (0x100, 0x200, 0x400, 0x800) if flags & flag]
        durations, samples, at, pos = [], [], trun + 12, moof + offset
        for _ in range(count):
            values = {
                flag: int.from_bytes(segment[at + 4 * i : at + 4 * i + 4], "big")
                for i, flag in enumerate(fields)
            }
            at += 4 * len(fields)
            size = values.get(0x200, defaults[1] if track == AUDIO else 0)
            durations.append(values.get(0x100, defaults[0] if track == AUDIO else 0))
            samples.append(segment[pos : pos + size])
            pos += size
        trafs[track] = Traf(version=version, time=time, flags=flags, durations=durations, samples=samples)
    return trafs


def test_the_hand_built_segment_reads_back() -> None:
    trafs = read(SEGMENT)
    assert trafs[VIDEO] == Traf(
        version=0, time=VIDEO_START, flags=0x301, durations=[512] * 4, samples=PICTURES
    )
    assert trafs[AUDIO] == Traf(version=0, time=AUDIO_START, flags=0x001, durations=[1024] * 8, samples=SOUND)


def test_a_version_0_tfdt_past_32_bits_becomes_version_1() -> None:
    moved = read(continuous_fmp4(SEGMENT, TRACKS, at_us=AT_US, cut_in=False, cut_out=False))

    shift_s = AT_US // 1_000_000 - 4  # a whole number of seconds: exact in both timescales
    assert moved[VIDEO] == Traf(
        version=1, time=VIDEO_START + shift_s * 12800, flags=0x301, durations=[512] * 4, samples=PICTURES
    )
    assert moved[AUDIO] == Traf(
        version=1, time=AUDIO_START + shift_s * 48000, flags=0x001, durations=[1024] * 8, samples=SOUND
    )


def test_a_version_0_tfdt_that_fits_stays_in_place() -> None:
    moved = continuous_fmp4(SEGMENT, TRACKS, at_us=60_000_000, cut_in=False, cut_out=False)

    assert len(moved) == len(SEGMENT)
    assert read(moved)[VIDEO].time == 60 * 12800
    assert read(moved)[AUDIO].time == AUDIO_START + 56 * 48000


def test_cuts_trim_to_the_pictures_and_silence_gets_explicit_sizes() -> None:
    moved = read(continuous_fmp4(SEGMENT, TRACKS, at_us=AT_US, cut_in=True, cut_out=True))

    shift = (AT_US // 1_000_000 - 4) * 48000
    # Pictures 192 000-199 680 at 48 kHz; half a frame is 512. The four frames starting before
    # 191 488 go; three of silence take the sound from 196 352 to 199 424, past 199 168.
    assert moved[AUDIO].time == AUDIO_START + 4 * 1024 + shift
    silence = silent_frame(2)
    assert silence is not None
    assert len(silence) != len(SOUND[0])  # so the trun must now carry each size
    assert moved[AUDIO].flags == 0x201
    assert moved[AUDIO].samples == [*SOUND[4:], silence, silence, silence]
    assert moved[AUDIO].durations == [1024] * 7
    assert moved[VIDEO].samples == PICTURES


def test_without_aac_silence_for_the_layout_the_cut_only_trims() -> None:
    six = Fmp4Tracks(timescales=TRACKS.timescales, video=VIDEO, audio=AUDIO, audio_channels=6)
    moved = read(continuous_fmp4(SEGMENT, six, at_us=AT_US, cut_in=True, cut_out=True))

    assert moved[AUDIO].samples == SOUND[4:]
    assert moved[AUDIO].flags == 0x001  # still the defaults: nothing of another size was added


def test_two_fragments_shift_but_cannot_be_cut() -> None:
    segment = SEGMENT + fragment(2, VIDEO_START + 4 * 512, AUDIO_START + 8 * 1024)

    moved = continuous_fmp4(segment, TRACKS, at_us=60_000_000, cut_in=False, cut_out=False)
    assert len(moved) == len(segment)
    with pytest.raises(MediaFormatError, match="one moof"):
        continuous_fmp4(segment, TRACKS, at_us=60_000_000, cut_in=True, cut_out=False)


def test_a_sample_past_the_end_of_the_segment_is_refused() -> None:
    mdat = SEGMENT.index(b"mdat") - 4
    size = int.from_bytes(SEGMENT[mdat : mdat + 4], "big")
    short = SEGMENT[:mdat] + (size - 3).to_bytes(4, "big") + SEGMENT[mdat + 4 : -3]

    with pytest.raises(MediaFormatError, match="sample 7 of a trun of track 2 lies outside the segment"):
        continuous_fmp4(short, TRACKS, at_us=60_000_000, cut_in=False, cut_out=False)
