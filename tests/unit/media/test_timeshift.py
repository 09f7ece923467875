"""Timestamp shifting on hand-built TS packets and MP4 boxes, with every field value known."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rcmedia.errors import InvalidFieldError, MediaFormatError
from rcmedia.media.timeshift import (
    advance_continuity,
    continuity_increments,
    shift_fmp4,
    shift_ts,
    shift_ts_in_place,
    shift_us_to_90khz,
    track_timescales,
)

WRAP = 1 << 33
MINUTE = 60 * 90_000
VIDEO_PID = 0x100
AUDIO_PID = 0x101
PMT_PID = 0x1000

# --- MPEG-TS builders, written from ISO/IEC 13818-1 independently of the code under test -------


def stamp(prefix: int, value: int, *, markers: int = 1) -> bytes:
    """A 5-byte PTS/DTS field (§2.4.3.7): prefix nibble, 3 + 15 + 15 bits, each with a marker."""
    return bytes(
        [
            prefix << 4 | (value >> 30 & 0x7) << 1 | markers,
            value >> 22 & 0xFF,
            (value >> 15 & 0x7F) << 1 | markers,
            value >> 7 & 0xFF,
            (value & 0x7F) << 1 | markers,
        ]
    )


def read_stamp(field: bytes) -> int:
    return (field[0] >> 1 & 0x7) << 30 | field[1] << 22 | field[2] >> 1 << 15 | field[3] << 7 | field[4] >> 1


def escr(base: int, ext: int) -> bytes:
    """A 6-byte ESCR (§2.4.3.7): 2 reserved bits, base 3 + 15 + 15 bits, 9-bit extension, markers."""
    bits = 0b11 << 46 | (base >> 30 & 0x7) << 43 | 1 << 42 | (base >> 15 & 0x7FFF) << 27 | 1 << 26
    bits |= (base & 0x7FFF) << 11 | 1 << 10 | ext << 1 | 1
    return bits.to_bytes(6, "big")


def read_escr(field: bytes) -> tuple[int, int]:
    bits = int.from_bytes(field, "big")
    base = (bits >> 43 & 0x7) << 30 | (bits >> 27 & 0x7FFF) << 15 | bits >> 11 & 0x7FFF
    return base, bits >> 1 & 0x1FF


def pcr(base: int, ext: int) -> bytes:
    """A 6-byte PCR (§2.4.3.5): 33-bit base, 6 reserved bits (all ones), 9-bit extension."""
    return (base << 15 | 0x3F << 9 | ext).to_bytes(6, "big")


def read_pcr(field: bytes) -> tuple[int, int]:
    bits = int.from_bytes(field, "big")
    return bits >> 15, bits & 0x1FF


def pes(
    stream_id: int = 0xE0, *, pts: int | None = None, dts: int | None = None, escr_field: bytes = b""
) -> bytes:
    """A PES header (§2.4.3.6) with the optional fields asked for, then a few bytes of data."""
    fields = b""
    flags = 0
    if pts is not None:
        fields += stamp(0b0011 if dts is not None else 0b0010, pts)
        flags |= 0x80
    if dts is not None:
        fields += stamp(0b0001, dts)
        flags |= 0x40
    if escr_field:
        fields += escr_field
        flags |= 0x20
    return (
        b"\x00\x00\x01"
        + bytes([stream_id, 0, 0, 0x84, flags, len(fields)])
        + fields
        + b"\x00\x00\x00\x01\x09"
    )


def packet(
    pid: int,
    payload: bytes = b"",
    *,
    start: bool = False,
    adaptation: bytes | None = None,
    scrambled: int = 0,
) -> bytes:
    """One 188-byte packet: an adaptation field (flags byte onwards) as given, then the payload.

    Elementary-stream bytes fill a packet with a payload; stuffing fills an adaptation-only one.
    """
    header = bytes([0x47, (0x40 if start else 0) | pid >> 8, pid & 0xFF])
    control = (0x10 if payload else 0) | (0x20 if adaptation is not None else 0)
    if adaptation is None:
        body = payload
    elif payload:
        body = bytes([len(adaptation)]) + adaptation + payload
    else:
        body = bytes([183]) + adaptation + b"\xff" * (183 - len(adaptation))
    data = header + bytes([scrambled << 6 | control]) + body + b"\xab" * (184 - len(body))
    assert len(data) == 188
    return data


def psi(pid: int, table_id: int, body: bytes) -> bytes:
    section = bytes([table_id, 0xB0, len(body) + 9, 0, 1, 0xC1, 0, 0]) + body + b"\x12\x34\x56\x78"
    return packet(pid, b"\x00" + section + b"\xff" * (183 - len(section)), start=True)


PAT = psi(0, 0x00, b"\x00\x01" + bytes([0xE0 | PMT_PID >> 8, PMT_PID & 0xFF]))
PMT = psi(PMT_PID, 0x02, b"\xe1\x00\xf0\x00\x1b\xe1\x00\xf0\x00\x0f\xe1\x01\xf0\x00")
PCR_ONLY = 0x10  # adaptation field flags byte: PCR_flag


def timed_segment(pts: int, dts: int, clock: int, audio: int) -> bytes:
    """PAT, PMT, a video PES start with PCR, PTS and DTS, its continuation, an audio PES start."""
    return b"".join(
        [
            PAT,
            PMT,
            packet(
                VIDEO_PID,
                pes(pts=pts, dts=dts),
                start=True,
                adaptation=bytes([0x50]) + pcr(clock, 123),  # random_access + PCR
            ),
            packet(VIDEO_PID, pes(pts=pts + 3600, dts=dts + 3600)),  # no unit start: just data
            packet(AUDIO_PID, pes(0xC0, pts=audio), start=True),
            packet(0x1FFF),
        ]
    )


def field_at(data: bytes, packet_index: int, offset: int, size: int) -> bytes:
    start = packet_index * 188 + offset
    return data[start : start + size]


VIDEO_PTS_AT = 4 + 1 + 7 + 9  # header, adaptation_field_length, flags + PCR, PES fixed header
PCR_AT = 6
AUDIO_PTS_AT = 4 + 9


# --- MPEG-TS ------------------------------------------------------------------------------------


def test_shift_moves_pts_dts_and_pcr_of_every_stream() -> None:
    original = timed_segment(pts=900_000, dts=896_400, clock=880_000, audio=901_234)
    shifted = shift_ts(original, MINUTE)

    assert read_stamp(field_at(shifted, 2, VIDEO_PTS_AT, 5)) == 900_000 + MINUTE
    assert read_stamp(field_at(shifted, 2, VIDEO_PTS_AT + 5, 5)) == 896_400 + MINUTE
    assert read_pcr(field_at(shifted, 2, PCR_AT, 6)) == (880_000 + MINUTE, 123)
    assert read_stamp(field_at(shifted, 4, AUDIO_PTS_AT, 5)) == 901_234 + MINUTE
    assert len(shifted) == len(original)


def test_only_the_time_fields_change() -> None:
    original = timed_segment(pts=900_000, dts=896_400, clock=880_000, audio=901_234)
    shifted = shift_ts(original, MINUTE)

    changed = {index for index, (a, b) in enumerate(zip(original, shifted, strict=True)) if a != b}
    video_fields = {2 * 188 + VIDEO_PTS_AT + i for i in range(10)} | {2 * 188 + PCR_AT + i for i in range(6)}
    assert changed <= video_fields | {4 * 188 + AUDIO_PTS_AT + i for i in range(5)}
    for untouched in (0, 1, 3, 5):  # PAT, PMT, PES continuation (whose data looks like a PES), null
        assert field_at(shifted, untouched, 0, 188) == field_at(original, untouched, 0, 188)


def test_prefix_and_marker_bits_are_kept_exactly() -> None:
    # Markers written as 0 (an encoder bug) stay 0: only the 33 time bits are the shift's business.
    field = stamp(0b0010, 1234, markers=0)
    data = packet(VIDEO_PID, b"\x00\x00\x01\xe0\x00\x00\x80\x80\x05" + field, start=True)
    shifted = field_at(shift_ts(data, 5), 0, 13, 5)
    assert shifted == stamp(0b0010, 1239, markers=0)
    assert field_at(shift_ts(packet(VIDEO_PID, pes(pts=1234), start=True), 5), 0, 13, 5) == stamp(
        0b0010, 1239
    )


@pytest.mark.parametrize(
    ("before", "shift", "after"),
    [
        pytest.param(WRAP - 100, 250, 150, id="forward-past-2^33"),
        pytest.param(100, -250, WRAP - 150, id="backward-past-0"),
        pytest.param(WRAP - 1, WRAP, WRAP - 1, id="a-whole-turn"),
        pytest.param(0, 3 * WRAP + 7, 7, id="several-turns"),
    ],
)
def test_times_wrap_modulo_2_33(before: int, shift: int, after: int) -> None:
    shifted = shift_ts(timed_segment(pts=before, dts=before, clock=before, audio=before), shift)
    assert read_stamp(field_at(shifted, 2, VIDEO_PTS_AT, 5)) == after
    assert read_stamp(field_at(shifted, 2, VIDEO_PTS_AT + 5, 5)) == after
    assert read_pcr(field_at(shifted, 2, PCR_AT, 6)) == (after, 123)
    assert read_stamp(field_at(shifted, 4, AUDIO_PTS_AT, 5)) == after


def test_opcr_escr_and_dts_next_au_move_too() -> None:
    splice = bytes([0x01 | 0x02 | 0x04 | 0x08 | 0x10])  # extension, private data, splice, OPCR, PCR
    extension = bytes([6, 0x20 | 0x1F]) + stamp(0b0011, 5_000)  # seamless_splice: splice_type 3
    adaptation = splice + pcr(1_000, 7) + pcr(2_000, 299) + b"\x05" + b"\x02\xaa\xbb" + extension
    data = packet(VIDEO_PID, pes(pts=10, escr_field=escr(3_000, 42)), start=True, adaptation=adaptation)

    shifted = shift_ts(data, 100)

    assert read_pcr(field_at(shifted, 0, 6, 6)) == (1_100, 7)
    assert read_pcr(field_at(shifted, 0, 12, 6)) == (2_100, 299)
    assert field_at(shifted, 0, 24, 5) == stamp(0b0011, 5_100)  # splice_type kept
    pes_at = 4 + 1 + len(adaptation)
    assert read_stamp(field_at(shifted, 0, pes_at + 9, 5)) == 110
    assert field_at(shifted, 0, pes_at + 14, 6) == escr(3_100, 42)
    assert read_escr(field_at(shifted, 0, pes_at + 14, 6)) == (3_100, 42)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(PAT + PMT, id="psi-tables"),
        pytest.param(psi(0x11, 0x42, b"\x00\x01\xff"), id="sdt-on-a-reserved-pid"),
        pytest.param(packet(VIDEO_PID, pes(pts=5)), id="pes-bytes-without-unit-start"),
        pytest.param(packet(0x200, pes(0xBE, pts=5), start=True), id="padding-stream-has-no-header"),
        pytest.param(packet(VIDEO_PID, pes(), start=True), id="pes-without-pts"),
        pytest.param(packet(VIDEO_PID, adaptation=b"\x00"), id="adaptation-without-pcr"),
        pytest.param(packet(VIDEO_PID, b"\xab", adaptation=b""), id="empty-adaptation-field"),
        pytest.param(packet(0x1FFF), id="null-packet"),
    ],
)
def test_packets_without_times_are_copied_byte_for_byte(data: bytes) -> None:
    assert shift_ts(data, MINUTE) == data


def test_zero_shift_is_a_copy_but_still_checks_the_packets() -> None:
    data = timed_segment(pts=1, dts=1, clock=1, audio=1)
    assert shift_ts(data, 0) == data
    assert shift_ts(data, WRAP) == data
    with pytest.raises(MediaFormatError, match="lost sync"):
        shift_ts(data[:188] + b"\x00" + data[189:], 0)


def test_in_place_gives_the_same_bytes() -> None:
    data = timed_segment(pts=900_000, dts=896_400, clock=880_000, audio=901_234)
    buf = bytearray(data)
    shift_ts_in_place(buf, -MINUTE)
    assert buf == shift_ts(data, -MINUTE)


times = st.integers(min_value=0, max_value=WRAP - 1)
shifts = st.integers(min_value=-2 * WRAP, max_value=2 * WRAP)


@given(pts=times, dts=times, clock=times, audio=times, first=shifts, second=shifts)
def test_shifts_compose_and_undo(pts: int, dts: int, clock: int, audio: int, first: int, second: int) -> None:
    data = timed_segment(pts=pts, dts=dts, clock=clock, audio=audio)
    assert shift_ts(shift_ts(data, first), second) == shift_ts(data, first + second)
    assert shift_ts(shift_ts(data, first), -first) == data


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        pytest.param(b"", "not a whole number of 188-byte packets", id="empty"),
        pytest.param(PAT[:100], "100 bytes is not a whole number", id="short"),
        pytest.param(PAT + PMT[:-1], "not a whole number", id="ragged-end"),
        pytest.param(PAT + PMT + b"\x48" + PMT[1:], r"lost sync at packet 2 \(byte 376\)", id="lost-sync"),
        pytest.param(
            b"\x47\x41\x00\x30\xb8" + b"\x00" * 183,  # adaptation field and payload, 184 + 1 bytes of field
            "adaptation_field_length 184 overruns",
            id="adaptation-overrun",
        ),
        pytest.param(
            packet(VIDEO_PID, b"\xab", adaptation=bytes([0x10]) + b"\x00\x00"),
            "the PCR does not fit",
            id="pcr-cut-short",
        ),
        pytest.param(
            packet(VIDEO_PID, b"\x00\x00\x01\xe0\x00\x00\x80\x40\x05" + stamp(1, 9), start=True),
            "PTS_DTS_flags is '01'",
            id="dts-without-pts",
        ),
        pytest.param(
            packet(VIDEO_PID, b"\x00\x00\x01\xe0\x00\x00\x80\xc0\x05" + stamp(3, 9), start=True),
            "the PTS/DTS does not fit",
            id="header-too-short-for-its-flags",
        ),
        pytest.param(
            packet(VIDEO_PID, pes(pts=1)[:12], start=True, adaptation=b"\x00" * 170),
            "the PTS/DTS does not fit",
            id="pts-split-across-packets",
        ),
        pytest.param(
            packet(VIDEO_PID, b"\x00\x00\x01\xe0\x00\x00\x40\x80\x05" + stamp(2, 9), start=True),
            "'10' bits",
            id="mpeg1-style-header",
        ),
        pytest.param(
            packet(VIDEO_PID, b"\x00\x00\x01\xb3" + b"\x00" * 8, start=True),
            "0xb3 is no PES stream_id",
            id="not-a-stream-id",
        ),
        pytest.param(packet(VIDEO_PID, pes(pts=1), start=True, scrambled=2), "scrambled", id="scrambled"),
    ],
)
def test_bad_segments_are_refused(data: bytes, problem: str) -> None:
    with pytest.raises(MediaFormatError, match=problem) as caught:
        shift_ts(data, MINUTE)
    assert isinstance(caught.value, ValueError)
    assert str(caught.value).startswith("MPEG-TS segment: ")


# --- 90 kHz ticks -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("us", "ticks"),
    [
        pytest.param(40_000, 3_600, id="a-frame-at-25fps"),
        pytest.param(20_000, 1_800, id="a-frame-at-50fps"),
        pytest.param(60_000_000, 5_400_000, id="a-minute"),
        pytest.param(-6_000_000, -540_000, id="backwards"),
        pytest.param(0, 0, id="zero"),
        pytest.param(1_000, 90, id="a-millisecond"),
    ],
)
def test_microseconds_to_ticks(us: int, ticks: int) -> None:
    assert shift_us_to_90khz(us) == ticks


@pytest.mark.parametrize("us", [1, 10, 33_367, -5])
def test_microseconds_between_ticks_are_refused(us: int) -> None:
    with pytest.raises(InvalidFieldError, match="not a whole number of 90 kHz ticks"):
        shift_us_to_90khz(us)


# --- fMP4 builders ------------------------------------------------------------------------------


def box(kind: bytes, *children: bytes, large: bool = False) -> bytes:
    body = b"".join(children)
    if large:  # size 1, then a 64-bit largesize
        return (1).to_bytes(4, "big") + kind + (16 + len(body)).to_bytes(8, "big") + body
    return (8 + len(body)).to_bytes(4, "big") + kind + body


def full(kind: bytes, version: int, *fields: bytes) -> bytes:
    return box(kind, bytes([version, 0, 0, 0]), *fields)


def u32(value: int) -> bytes:
    return value.to_bytes(4, "big")


def u64(value: int) -> bytes:
    return value.to_bytes(8, "big")


def trak(track_id: int, timescale: int, version: int) -> bytes:
    times = u64(0) * 2 if version else u32(0) * 2
    duration = u64(0) if version else u32(0)
    tkhd = full(b"tkhd", version, times, u32(track_id), u32(0), duration, b"\x00" * 60)
    mdhd = full(b"mdhd", version, times, u32(timescale), duration, b"\x55\xc4\x00\x00")
    return box(b"trak", tkhd, box(b"mdia", mdhd, box(b"hdlr", b"\x00" * 24)))


INIT = box(b"ftyp", b"iso6") + box(
    b"moov", full(b"mvhd", 0, b"\x00" * 96), trak(1, 12800, 0), trak(2, 48000, 1)
)


def traf(track_id: int, tfdt: bytes | None) -> bytes:
    tfhd = full(b"tfhd", 0, u32(track_id))
    trun = full(b"trun", 0, u32(1), u32(512))
    return box(b"traf", tfhd, *([tfdt] if tfdt else []), trun)


def media_segment(*trafs: bytes, before: bytes = b"") -> bytes:
    moof = box(b"moof", full(b"mfhd", 0, u32(7)), *trafs)
    return box(b"styp", b"msdh") + before + moof + box(b"mdat", b"\x00\x00\x00\x02\x09\xf0" * 4)


def tfdt_time(data: bytes, track_id: int) -> int:
    """baseMediaDecodeTime of ``track_id``'s traf, found by scanning for its tfhd."""
    at = data.index(b"tfhd\x00\x00\x00\x00" + u32(track_id))
    version_at = data.index(b"tfdt", at) + 4
    size = 8 if data[version_at] == 1 else 4
    return int.from_bytes(data[version_at + 4 : version_at + 4 + size], "big")


# --- fMP4 ---------------------------------------------------------------------------------------


def test_track_timescales_from_version_0_and_1_boxes() -> None:
    assert track_timescales(INIT) == {1: 12800, 2: 48000}


def test_each_track_moves_in_its_own_timescale() -> None:
    segment = media_segment(
        traf(1, full(b"tfdt", 0, u32(25_600))), traf(2, full(b"tfdt", 1, u64(96_000 + (1 << 40))))
    )
    shifted = shift_fmp4(segment, MINUTE, {1: 12800, 2: 48000})

    assert tfdt_time(shifted, 1) == 25_600 + 60 * 12800
    assert tfdt_time(shifted, 2) == 96_000 + (1 << 40) + 60 * 48000
    assert len(shifted) == len(segment)
    assert shifted.endswith(box(b"mdat", b"\x00\x00\x00\x02\x09\xf0" * 4))
    assert shift_fmp4(shifted, -MINUTE, {1: 12800, 2: 48000}) == segment


def test_sidx_and_emsg_times_move_in_their_timescales() -> None:
    sidx_v0 = full(b"sidx", 0, u32(1), u32(1000), u32(2_000), u32(0), b"\x00\x00\x00\x00")
    sidx_v1 = full(b"sidx", 1, u32(2), u32(48000), u64(96_000), u64(0), b"\x00\x00\x00\x00")
    emsg_v1 = full(b"emsg", 1, u32(90000), u64(180_000), u32(1), u32(7), b"urn:x\x00\x00")
    emsg_v0 = full(b"emsg", 0, b"urn:x\x00\x00", u32(90000), u32(33), u32(1), u32(7))
    segment = media_segment(traf(1, full(b"tfdt", 0, u32(0))), before=sidx_v0 + sidx_v1 + emsg_v1 + emsg_v0)

    shifted = shift_fmp4(segment, 90_000, {1: 12800})

    assert shifted.index(sidx_v0[:-12]) == segment.index(sidx_v0)  # up to the time: unchanged
    assert full(b"sidx", 0, u32(1), u32(1000), u32(3_000), u32(0), b"\x00\x00\x00\x00") in shifted
    assert full(b"sidx", 1, u32(2), u32(48000), u64(144_000), u64(0), b"\x00\x00\x00\x00") in shifted
    assert full(b"emsg", 1, u32(90000), u64(270_000), u32(1), u32(7), b"urn:x\x00\x00") in shifted
    assert emsg_v0 in shifted  # a delta from the segment's start: nothing to move


def test_large_size_boxes_are_walked() -> None:
    moof = box(b"moof", full(b"mfhd", 0, u32(1)), traf(1, full(b"tfdt", 1, u64(10))), large=True)
    shifted = shift_fmp4(box(b"styp", b"msdh") + moof, 3600, {1: 90000})
    assert tfdt_time(shifted, 1) == 3610


@pytest.mark.parametrize(
    ("segment", "timescales", "shift", "problem"),
    [
        pytest.param(
            media_segment(traf(1, full(b"tfdt", 0, u32((1 << 32) - 100)))),
            {1: 90000},
            100,
            "the tfdt time 4294967296 does not fit its 32-bit field",
            id="version-0-overflow",
        ),
        pytest.param(
            media_segment(traf(1, full(b"tfdt", 1, u64(50)))),
            {1: 90000},
            -100,
            "the tfdt time -50 does not fit",
            id="below-zero",
        ),
        pytest.param(
            media_segment(traf(3, full(b"tfdt", 1, u64(0)))),
            {1: 90000, 2: 48000},
            3600,
            r"track 3 is not in the init segment \(its tracks: \[1, 2\]\)",
            id="unknown-track",
        ),
        pytest.param(
            media_segment(traf(1, full(b"tfdt", 1, u64(0)))),
            {1: 1000},
            1,
            "not a whole number of ticks of track 1's timescale 1000",
            id="shift-between-ticks",
        ),
        pytest.param(
            media_segment(traf(1, full(b"tfdt", 1, u64(0)))),
            {1: 0},
            3600,
            "timescale 0",
            id="zero-timescale",
        ),
        pytest.param(media_segment(traf(1, None)), {1: 90000}, 3600, "has no tfdt", id="no-tfdt"),
        pytest.param(INIT, {1: 90000}, 3600, "no moof box", id="an-init-segment"),
        pytest.param(
            box(b"moof", traf(1, full(b"tfdt", 0, b"\x00\x00")))[:-3],
            {1: 90000},
            3600,
            "overruns its parent",
            id="cut-short",
        ),
        pytest.param(
            box(b"moof", traf(1, full(b"tfdt", 0, b"\x00\x00"))),
            {1: 90000},
            3600,
            "the tfdt box is too short",
            id="tfdt-too-short",
        ),
    ],
)
def test_bad_fmp4_segments_are_refused(
    segment: bytes, timescales: dict[int, int], shift: int, problem: str
) -> None:
    with pytest.raises(MediaFormatError, match=problem):
        shift_fmp4(segment, shift, timescales)


@pytest.mark.parametrize(
    ("init", "problem"),
    [
        pytest.param(box(b"ftyp", b"iso6"), "no moov box", id="no-moov"),
        pytest.param(box(b"moov", full(b"mvhd", 0, b"\x00" * 96)), "holds no track", id="no-track"),
        pytest.param(
            box(b"moov", box(b"trak", full(b"tkhd", 0, u32(0)))), "lacks its tkhd or mdia/mdhd", id="no-mdhd"
        ),
        pytest.param(
            box(b"moov", box(b"trak", full(b"tkhd", 0, u32(0) * 3), box(b"mdia", full(b"mdhd", 0, u32(0))))),
            "the mdhd box is too short",
            id="short-mdhd",
        ),
    ],
)
def test_bad_init_segments_are_refused(init: bytes, problem: str) -> None:
    with pytest.raises(MediaFormatError, match=problem) as caught:
        track_timescales(init)
    assert str(caught.value).startswith("fMP4 init segment: ")


# --- continuity counters --------------------------------------------------------------------------


def counted(pid: int, counter: int, *, payload: bool = True) -> bytes:
    data = bytearray(packet(pid, b"\x01" if payload else b"", adaptation=None if payload else b"\x00"))
    data[3] |= counter
    return bytes(data)


def test_continuity_increments_count_only_packets_with_a_payload() -> None:
    segment = b"".join(
        [
            counted(VIDEO_PID, 0),
            counted(VIDEO_PID, 1),
            counted(VIDEO_PID, 1, payload=False),
            counted(AUDIO_PID, 7),
        ]
    )
    assert continuity_increments(segment) == {VIDEO_PID: 2, AUDIO_PID: 1}


def test_advance_continuity_moves_each_pids_counter_on_modulo_16_and_nothing_else() -> None:
    segment = b"".join([counted(VIDEO_PID, 14), counted(VIDEO_PID, 15), counted(AUDIO_PID, 3), counted(0, 9)])
    moved = advance_continuity(segment, {VIDEO_PID: 3, AUDIO_PID: 32})

    assert [moved[at + 3] & 0x0F for at in range(0, len(moved), 188)] == [1, 2, 3, 9]
    assert [moved[at + 3] & 0xF0 for at in range(0, len(moved), 188)] == [
        segment[at + 3] & 0xF0 for at in range(0, len(segment), 188)
    ]
    assert bytes(
        b for at in range(0, len(moved), 188) for b in moved[at : at + 3] + moved[at + 4 : at + 188]
    ) == bytes(
        b for at in range(0, len(segment), 188) for b in segment[at : at + 3] + segment[at + 4 : at + 188]
    )
    assert advance_continuity(segment, {}) == segment
