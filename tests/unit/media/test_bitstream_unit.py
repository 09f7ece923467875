"""The segment checks on hand-built bytes: each TS and MP4 structure the parser must get through."""

from __future__ import annotations

import contextlib
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rcmedia.errors import VerificationError
from rcmedia.media.bitstream import (
    aac_codec_string,
    fmp4_first_sample_is_idr,
    h264_codec_string,
    h264_frame_rate,
    ts_first_access_unit_is_idr,
)

AUD = b"\x09\xf0"
SPS_HIGH_31 = b"\x67\x64\x00\x1f\xac\xd9\x40\x50"
SPS_MAIN_30 = b"\x67\x4d\x40\x1e\x96\x52\x80\xa0"
PPS = b"\x68\xeb\xe3\xcb\x22\xc0"
SEI = b"\x06\x05\x10" + bytes(range(16)) + b"\x80"
IDR = b"\x65\x88\x84\x00\x33\xff"
NON_IDR = b"\x41\x9a\x21\x6c\x42\xff"

VIDEO_PID = 0x100
AUDIO_PID = 0x101
PMT_PID = 0x1000


# --- MPEG-TS builders -------------------------------------------------------------------------


def annexb(*units: bytes, long_start: bool = False) -> bytes:
    start = b"\x00\x00\x00\x01" if long_start else b"\x00\x00\x01"
    return b"".join(start + unit for unit in units)


def ts_packets(pid: int, payload: bytes, *, pcr: bool = False) -> bytes:
    """Split a PES or PSI payload into TS packets; the last one is padded with adaptation stuffing."""
    out = b""
    first = True
    while payload or first:
        adaptation = b"\x10" + bytes(6) if pcr and first else b""  # flags: PCR present, a zero PCR
        room = 184 - (1 + len(adaptation) if adaptation else 0)
        chunk, payload = payload[:room], payload[room:]
        if len(chunk) < 184 or adaptation:
            body_length = 183 - len(chunk)
            flags = adaptation or (b"\x00" if body_length else b"")
            field = bytes([body_length]) + flags + b"\xff" * (body_length - len(flags))
            control = 0x30
        else:
            field, control = b"", 0x10
        header = bytes([0x47, (0x40 if first else 0) | pid >> 8, pid & 0xFF, control])
        packet = header + field + chunk
        assert len(packet) == 188, len(packet)
        out += packet
        first = False
    return out


def psi(table_id: int, body: bytes) -> bytes:
    length = 5 + len(body) + 4  # the fixed fields after section_length, the body, the CRC
    section = bytes([table_id, 0xB0 | length >> 8, length & 0xFF, 0, 1, 0xC1, 0, 0]) + body + bytes(4)
    return b"\x00" + section  # pointer_field


def pat() -> bytes:
    network = b"\x00\x00\xe0\x10"  # programme 0 is the NIT, which must be skipped
    return psi(0x00, network + b"\x00\x01" + bytes([0xE0 | PMT_PID >> 8, PMT_PID & 0xFF]))


def pmt(streams: list[tuple[int, int]]) -> bytes:
    body = bytes([0xE0 | VIDEO_PID >> 8, VIDEO_PID & 0xFF, 0xF0, 0x00])  # PCR PID, no programme info
    for stream_type, pid in streams:
        descriptor = b"\x0a\x04und\x00" if stream_type == 0x0F else b""
        body += bytes([stream_type, 0xE0 | pid >> 8, pid & 0xFF, 0xF0, len(descriptor)]) + descriptor
    return psi(0x02, body)


def pes(stream_id: int, es: bytes) -> bytes:
    pts = b"\x21\x00\x01\x00\x01"
    return b"\x00\x00\x01" + bytes([stream_id]) + b"\x00\x00\x80\x80\x05" + pts + es


def ts_segment(
    video_es: bytes, *, audio_es: bytes | None = None, video_type: int = 0x1B, pcr: bool = True
) -> bytes:
    streams = [(video_type, VIDEO_PID)] + ([(0x0F, AUDIO_PID)] if audio_es is not None else [])
    out = ts_packets(0x11, psi(0x42, b"service"))  # an SDT first, as ffmpeg writes
    out += ts_packets(0, pat()) + ts_packets(PMT_PID, pmt(streams))
    if audio_es is not None:
        out += ts_packets(AUDIO_PID, pes(0xC0, audio_es))
    out += ts_packets(VIDEO_PID, pes(0xE0, video_es), pcr=pcr)
    return out + ts_packets(VIDEO_PID, pes(0xE0, annexb(AUD, NON_IDR)))  # the next picture


def adts(profile: int) -> bytes:
    return bytes([0xFF, 0xF1, profile << 6 | 3 << 2, 0x80, 0x2E, 0x7F, 0xFC]) + bytes(16)


# --- ISO BMFF builders ------------------------------------------------------------------------


def box(kind: bytes, *children: bytes) -> bytes:
    body = b"".join(children)
    return (8 + len(body)).to_bytes(4, "big") + kind + body


def full_box(kind: bytes, flags: int, *fields: bytes) -> bytes:
    return box(kind, flags.to_bytes(4, "big"), *fields)  # version 0


def u32(value: int) -> bytes:
    return value.to_bytes(4, "big")


def avcc(sps: bytes, length_size: int) -> bytes:
    header = bytes([1, sps[1], sps[2], sps[3], 0xFC | length_size - 1, 0xE1])  # one SPS
    return box(b"avcC", header, len(sps).to_bytes(2, "big"), sps, b"\x01", len(PPS).to_bytes(2, "big"), PPS)


def esds(asc: bytes, object_type_indication: int = 0x40) -> bytes:
    decoder_specific = b"\x05" + bytes([len(asc)]) + asc
    decoder_config = (
        b"\x04"
        + bytes([13 + len(decoder_specific), object_type_indication, 0x15])
        + bytes(11)
        + decoder_specific
    )
    # ES_Descriptor with a four-byte length, as ffmpeg writes it.
    es = b"\x00\x01\x00" + decoder_config + b"\x06\x01\x02"
    return full_box(b"esds", 0, b"\x03\x80\x80\x80" + bytes([len(es)]) + es)


def trak(track_id: int, handler: bytes, entry: bytes) -> bytes:
    tkhd = full_box(b"tkhd", 3, u32(0), u32(0), u32(track_id), bytes(68))
    hdlr = full_box(b"hdlr", 0, u32(0), handler, bytes(12), b"handler\x00")
    stsd = full_box(b"stsd", 0, u32(1), entry)
    stbl = box(b"stbl", stsd)
    return box(b"trak", tkhd, box(b"mdia", hdlr, box(b"minf", stbl)))


def avc1(avcc_box: bytes) -> bytes:
    return box(b"avc1", bytes(78), avcc_box)


def mp4a(esds_box: bytes) -> bytes:
    return box(b"mp4a", bytes(28), esds_box)


def init_segment(
    *,
    length_size: int = 4,
    audio_first: bool = True,
    asc: bytes = b"\x11\x90",
    trex_size: int = 0,
    sps: bytes = SPS_HIGH_31,
) -> bytes:
    video = trak(2 if audio_first else 1, b"vide", avc1(avcc(sps, length_size)))
    audio = trak(1 if audio_first else 2, b"soun", mp4a(esds(asc)))
    trex = [full_box(b"trex", 0, u32(i), u32(1), u32(0), u32(trex_size), u32(0)) for i in (1, 2)]
    traks = [audio, video] if audio_first else [video, audio]
    return box(b"ftyp", b"iso5", u32(512)) + box(
        b"moov", box(b"mvhd", bytes(100)), *traks, box(b"mvex", *trex)
    )


def length_prefixed(units: list[bytes], length_size: int) -> bytes:
    return b"".join(len(unit).to_bytes(length_size, "big") + unit for unit in units)


def media_segment(
    video_sample: bytes,
    *,
    video_id: int = 2,
    audio_first: bool = True,
    sizes_in: str = "trun",
    base_offset: bool = False,
) -> bytes:
    """styp, moof (audio traf, video traf or the other way), mdat; offsets as ffmpeg's muxer writes them."""
    audio_sample = b"\x21\x10\x04" + bytes(40)
    audio_id = 2 if video_id == 1 else 1
    samples = {audio_id: audio_sample, video_id: video_sample}
    order = [audio_id, video_id] if audio_first else [video_id, audio_id]
    styp = box(b"styp", b"msdh", u32(0), b"msdh")

    def moof(offsets: dict[int, int]) -> bytes:
        trafs = []
        for track in order:
            size = len(samples[track])
            tf_flags = 0x020000 | (0x10 if sizes_in == "tfhd" else 0)
            tfhd_fields = [u32(track)]
            if base_offset:
                tf_flags = 0x000001
                tfhd_fields.append(offsets[track].to_bytes(8, "big"))
            if sizes_in == "tfhd":
                tfhd_fields.append(u32(size))
            tr_flags = 0x000001 | (0x000200 if sizes_in == "trun" else 0) | 0x000100
            trun_fields = [u32(1), u32(0 if base_offset else offsets[track]), u32(1024)]
            if sizes_in == "trun":
                trun_fields.append(u32(size))
            trafs.append(
                box(
                    b"traf",
                    full_box(b"tfhd", tf_flags, *tfhd_fields),
                    full_box(b"tfdt", 0, u32(0)),
                    full_box(b"trun", tr_flags, *trun_fields),
                )
            )
        return box(b"moof", full_box(b"mfhd", 0, u32(1)), *trafs)

    draft = moof(dict.fromkeys(samples, 0))
    start = len(draft) + 8  # the mdat payload, counted from moof
    offsets = {}
    for track in order:
        offsets[track] = start + (len(styp) if base_offset else 0)
        start += len(samples[track])
    mdat = box(b"mdat", *(samples[track] for track in order))
    return styp + moof(offsets) + mdat


# --- TS: first access unit --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("units", "expected"),
    [
        pytest.param([AUD, SPS_HIGH_31, PPS, SEI, IDR], True, id="aud-sps-pps-sei-idr"),
        pytest.param([IDR], True, id="bare-idr"),
        pytest.param([AUD, NON_IDR], False, id="p-slice"),
        pytest.param([AUD, SEI, NON_IDR, IDR], False, id="first-vcl-decides"),
    ],
)
def test_ts_first_access_unit(units: list[bytes], expected: bool) -> None:
    assert ts_first_access_unit_is_idr(ts_segment(annexb(*units))) is expected


def test_ts_four_byte_start_codes() -> None:
    segment = ts_segment(annexb(AUD, SPS_HIGH_31, PPS, IDR, long_start=True))
    assert ts_first_access_unit_is_idr(segment) is True


def test_ts_pes_spanning_packets() -> None:
    # A big SEI pushes the slice into the fourth TS packet of the PES.
    big_sei = b"\x06\x05\xff\xff" + bytes(range(1, 256)) * 2 + b"\x80"
    segment = ts_segment(annexb(AUD, SPS_HIGH_31, PPS, big_sei, NON_IDR))
    assert ts_first_access_unit_is_idr(segment) is False
    segment = ts_segment(annexb(AUD, SPS_HIGH_31, PPS, big_sei, IDR), pcr=False)
    assert ts_first_access_unit_is_idr(segment) is True


def test_ts_audio_before_video() -> None:
    segment = ts_segment(annexb(AUD, IDR), audio_es=adts(1))
    assert ts_first_access_unit_is_idr(segment) is True


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"ftypisom" * 100, id="not-ts"),
        pytest.param(ts_segment(annexb(AUD, IDR), video_type=0x02), id="mpeg2-video-only"),
        pytest.param(ts_segment(annexb(AUD, IDR))[:376], id="psi-only"),
        pytest.param(ts_segment(annexb(AUD, SEI)), id="no-slice"),
        pytest.param(b"\x47" + bytes(187) + b"\x46" + bytes(187), id="lost-sync"),
    ],
)
def test_ts_refuses(data: bytes) -> None:
    with pytest.raises(VerificationError):
        ts_first_access_unit_is_idr(data)


@given(cut=st.integers(min_value=0, max_value=1500), at=st.integers(0, 1499), value=st.integers(0, 255))
def test_ts_damage_is_a_verification_error(cut: int, at: int, value: int) -> None:
    """Whatever the damage, the answer is a bool or a VerificationError, never an IndexError."""
    data = bytearray(ts_segment(annexb(AUD, SPS_HIGH_31, PPS, SEI, IDR), audio_es=adts(1)))[:cut]
    if at < len(data):
        data[at] = value
    for check in (ts_first_access_unit_is_idr, h264_codec_string, h264_frame_rate, aac_codec_string):
        with contextlib.suppress(VerificationError):
            check(bytes(data))


# --- fMP4: first sample -----------------------------------------------------------------------


@pytest.mark.parametrize("length_size", [4, 2, 1])
@pytest.mark.parametrize("audio_first", [True, False], ids=["audio-traf-first", "video-traf-first"])
def test_fmp4_first_sample(length_size: int, audio_first: bool) -> None:
    init = init_segment(length_size=length_size, audio_first=audio_first)
    video_id = 2 if audio_first else 1
    idr = length_prefixed([AUD, SEI, IDR], length_size)
    non_idr = length_prefixed([AUD, NON_IDR], length_size)
    assert fmp4_first_sample_is_idr(init, media_segment(idr, video_id=video_id, audio_first=audio_first))
    assert not fmp4_first_sample_is_idr(
        init, media_segment(non_idr, video_id=video_id, audio_first=audio_first)
    )


@pytest.mark.parametrize(
    ("sizes_in", "base_offset"),
    [
        pytest.param("tfhd", False, id="default-sample-size-in-tfhd"),
        pytest.param("trex", False, id="default-sample-size-in-trex"),
        pytest.param("trun", True, id="base-data-offset"),
    ],
)
def test_fmp4_other_layouts(sizes_in: str, base_offset: bool) -> None:
    sample = length_prefixed([AUD, IDR], 4)
    init = init_segment(trex_size=len(sample) if sizes_in == "trex" else 0)
    segment = media_segment(sample, sizes_in=sizes_in, base_offset=base_offset)
    assert fmp4_first_sample_is_idr(init, segment) is True


def test_fmp4_video_in_a_later_moof() -> None:
    # A segment of two fragments whose first moof carries audio only.
    init = init_segment()
    audio_moof = box(
        b"moof",
        full_box(b"mfhd", 0, u32(1)),
        box(b"traf", full_box(b"tfhd", 0x020000, u32(1)), full_box(b"trun", 0x201, u32(1), u32(0), u32(4))),
    )
    segment = media_segment(length_prefixed([IDR], 4))
    assert fmp4_first_sample_is_idr(init, audio_moof + box(b"mdat", bytes(4)) + segment) is True


@pytest.mark.parametrize(
    ("init", "segment"),
    [
        pytest.param(b"", b"", id="empty"),
        pytest.param(init_segment(), b"", id="no-moof"),
        pytest.param(box(b"ftyp", b"iso5"), media_segment(IDR), id="no-moov"),
        pytest.param(init_segment(), media_segment(IDR, video_id=3), id="no-video-traf"),
        pytest.param(init_segment(), media_segment(length_prefixed([AUD], 4)), id="no-slice"),
        pytest.param(init_segment(), media_segment(IDR)[:-4], id="sample-cut-short"),
        pytest.param(init_segment(), b"\x00\x00\x00\x30moof" + bytes(8), id="box-overruns"),
    ],
)
def test_fmp4_refuses(init: bytes, segment: bytes) -> None:
    with pytest.raises(VerificationError):
        fmp4_first_sample_is_idr(init, segment)


@given(cut=st.integers(min_value=0, max_value=800), at=st.integers(0, 799), value=st.integers(0, 255))
def test_fmp4_damage_is_a_verification_error(cut: int, at: int, value: int) -> None:
    init = init_segment()
    data = bytearray(init + media_segment(length_prefixed([AUD, SEI, IDR], 4)))
    if at < len(data):
        data[at] = value
    damaged_init, segment = bytes(data[: len(init)]), bytes(data[len(init) :])
    for check in (
        lambda: fmp4_first_sample_is_idr(damaged_init[:cut], segment),
        lambda: fmp4_first_sample_is_idr(damaged_init, segment[:cut]),
        lambda: h264_codec_string(segment, init=damaged_init[:cut]),
        lambda: h264_frame_rate(segment, init=damaged_init[:cut]),
        lambda: aac_codec_string(segment, init=damaged_init[:cut]),
    ):
        with contextlib.suppress(VerificationError):
            check()


# --- Codec strings ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sps", "expected"),
    [
        pytest.param(SPS_HIGH_31, "avc1.64001f", id="high-3.1"),
        pytest.param(SPS_MAIN_30, "avc1.4d401e", id="main-3.0"),
        pytest.param(b"\x67\x42\xc0\x0d\x8c", "avc1.42c00d", id="constrained-baseline-1.3"),
    ],
)
def test_h264_codec_string_from_ts(sps: bytes, expected: str) -> None:
    assert h264_codec_string(ts_segment(annexb(AUD, sps, PPS, IDR))) == expected


def test_h264_codec_string_needs_an_sps() -> None:
    with pytest.raises(VerificationError, match="SPS"):
        h264_codec_string(ts_segment(annexb(AUD, PPS, IDR)))


@pytest.mark.parametrize("as_data", [False, True], ids=["init-keyword", "init-as-data"])
def test_h264_codec_string_from_init(as_data: bool) -> None:
    init = init_segment(sps=SPS_MAIN_30)
    segment = media_segment(length_prefixed([IDR], 4))
    found = h264_codec_string(init) if as_data else h264_codec_string(segment, init=init)
    assert found == "avc1.4d401e"


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        pytest.param(1, "mp4a.40.2", id="lc"),
        pytest.param(0, "mp4a.40.1", id="main"),
        pytest.param(3, "mp4a.40.4", id="ltp"),
    ],
)
def test_aac_codec_string_from_adts(profile: int, expected: str) -> None:
    assert aac_codec_string(ts_segment(annexb(AUD, IDR), audio_es=adts(profile))) == expected


def test_aac_codec_string_refuses_ts_without_adts() -> None:
    with pytest.raises(VerificationError, match="ADTS AAC"):
        aac_codec_string(ts_segment(annexb(AUD, IDR)))
    with pytest.raises(VerificationError, match="ADTS header"):
        aac_codec_string(ts_segment(annexb(AUD, IDR), audio_es=b"\x00" * 20))


@pytest.mark.parametrize(
    ("asc", "expected"),
    [
        pytest.param(b"\x11\x90", "mp4a.40.2", id="lc-48k-stereo"),
        pytest.param(b"\x2b\x92\x08\x00", "mp4a.40.5", id="he-aac-explicit"),
        pytest.param(b"\xeb\x09\x88\x00", "mp4a.40.29", id="he-aac-v2-explicit"),
        pytest.param(b"\xf8\x23\x10", "mp4a.40.33", id="escaped-object-type"),
    ],
)
def test_aac_codec_string_from_esds(asc: bytes, expected: str) -> None:
    init = init_segment(asc=asc)
    assert aac_codec_string(b"", init=init) == expected
    assert aac_codec_string(init) == expected


def test_aac_codec_string_refuses_mp3_in_mp4() -> None:
    init = init_segment().replace(esds(b"\x11\x90"), esds(b"\x11\x90", object_type_indication=0x6B))
    with pytest.raises(VerificationError, match="not MPEG-4 audio"):
        aac_codec_string(init)


# --- Frame rate from the SPS ------------------------------------------------------------------

# SPSs as ffmpeg's libx264 and libopenh264 write them (320x180 unless said otherwise).
REAL_SPS = [
    pytest.param("6764000cacd941419f9f011000000300100000030320f1429960", 25, id="x264-high-25"),
    pytest.param(
        "674d400deca0a0cfcf808800001f480007530078a14cb0", Fraction(30000, 1001), id="x264-main-29.97"
    ),
    pytest.param("6742c00cda05067e7c0440000003004000000c83c50aa8", 25, id="x264-baseline-25"),
    pytest.param("6742c028da01e0089f97011000000300100000030320f1832a", 25, id="x264-1080p-cropped"),
    pytest.param("67640015acd941433f260220000003002000000643e28532c0", 25, id="x264-interlaced-25"),
    pytest.param("67640015acd941419f9f0110000003001000000640f162d960", 50, id="x264-50-sar-16:11"),
    pytest.param("6742c0148c68141979f0101e1108d4", None, id="openh264-no-vui"),
]


@pytest.mark.parametrize(("sps_hex", "expected"), REAL_SPS)
def test_h264_frame_rate_of_real_sps(sps_hex: str, expected: Fraction | None) -> None:
    sps = bytes.fromhex(sps_hex)
    assert h264_frame_rate(ts_segment(annexb(AUD, sps, PPS, IDR))) == expected
    assert h264_frame_rate(b"", init=init_segment(sps=sps)) == expected


class BitWriter:
    def __init__(self) -> None:
        self.bits: list[int] = []

    def u(self, n: int, value: int) -> BitWriter:
        self.bits += [value >> (n - 1 - i) & 1 for i in range(n)]
        return self

    def ue(self, value: int) -> BitWriter:
        code = value + 1
        return self.u(code.bit_length() - 1, 0).u(code.bit_length(), code)

    def se(self, value: int) -> BitWriter:
        return self.ue(2 * value - 1 if value > 0 else -2 * value)

    def nal(self, header: int) -> bytes:
        bits = [*self.bits, 1]  # rbsp_stop_one_bit
        bits += [0] * (-len(bits) % 8)
        rbsp = bytes(int("".join(map(str, bits[i : i + 8])), 2) for i in range(0, len(bits), 8))
        out = bytearray([header])
        for byte in rbsp:  # emulation prevention (H.264 §7.4.1)
            if out[-2:] == b"\x00\x00" and byte <= 3:
                out.append(3)
            out.append(byte)
        return bytes(out)


def write_scaling_lists(w: BitWriter, count: int) -> None:
    for i in range(count):
        w.u(1, i % 2)  # every other list present
        if i % 2:
            w.se(3).se(3).se(3).se(-(8 + 3 * 3))  # three steps up, then next_scale 0 ends the list


def write_vui(
    w: BitWriter, *, extended_sar: bool, colour: bool, chroma_loc: bool, timing: tuple[int, int] | None
) -> None:
    w.u(1, 1).u(8, 255 if extended_sar else 1)
    if extended_sar:
        w.u(16, 64).u(16, 45)
    w.u(1, 1).u(1, 0)  # overscan
    w.u(1, int(colour))
    if colour:
        w.u(3, 5).u(1, 0).u(1, 1).u(8, 1).u(8, 1).u(8, 1)
    w.u(1, int(chroma_loc))
    if chroma_loc:
        w.ue(1).ue(1)
    w.u(1, int(timing is not None))
    if timing is not None:
        w.u(32, timing[0]).u(32, timing[1]).u(1, 1)
    w.u(1, 0).u(1, 0).u(1, 0).u(1, 0)  # no HRD, pic_struct, bitstream restriction


def build_sps(
    *,
    profile: int = 100,
    chroma_format: int = 1,
    scaling: bool = False,
    poc_type: int = 0,
    frame_mbs_only: bool = True,
    crop: bool = False,
    vui: bool = True,
    **vui_fields: Any,
) -> bytes:
    """An SPS from its fields (H.264 §7.3.2.1.1), 1920x1088 in macroblocks."""
    w = BitWriter().u(8, profile).u(8, 0).u(8, 40).ue(0)
    if profile in (100, 244):
        w.ue(chroma_format).u(1 if chroma_format == 3 else 0, 0).ue(0).ue(0).u(1, 0).u(1, int(scaling))
        if scaling:
            write_scaling_lists(w, 12 if chroma_format == 3 else 8)
    w.ue(0).ue(poc_type)
    if poc_type == 0:
        w.ue(2)
    elif poc_type == 1:
        w.u(1, 0).se(-1).se(2).ue(3).se(1).se(-2).se(5)
    w.ue(4).u(1, 0).ue(119).ue(67).u(1, int(frame_mbs_only))
    w.u(0 if frame_mbs_only else 1, 1).u(1, 1).u(1, int(crop))
    if crop:
        w.ue(0).ue(0).ue(0).ue(4)
    w.u(1, int(vui))
    if vui:
        write_vui(
            w,
            **({"extended_sar": False, "colour": False, "chroma_loc": False, "timing": (1, 50)} | vui_fields),
        )
    return w.nal(0x67)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param({}, 25, id="plain"),
        pytest.param({"timing": (1001, 60000)}, Fraction(30000, 1001), id="29.97"),
        pytest.param({"scaling": True}, 25, id="scaling-lists"),
        pytest.param({"profile": 244, "chroma_format": 3, "scaling": True}, 25, id="4:4:4-twelve-lists"),
        pytest.param({"profile": 77}, 25, id="main-no-chroma-fields"),
        pytest.param({"poc_type": 1}, 25, id="poc-type-1"),
        pytest.param({"poc_type": 2}, 25, id="poc-type-2"),
        pytest.param({"frame_mbs_only": False}, 25, id="field-coding"),
        pytest.param({"crop": True}, 25, id="cropped"),
        pytest.param({"extended_sar": True, "colour": True, "chroma_loc": True}, 25, id="full-vui"),
        pytest.param({"timing": (1, 100)}, 50, id="50"),
        pytest.param({"vui": False}, None, id="no-vui"),
        pytest.param({"timing": None}, None, id="vui-without-timing"),
        pytest.param({"timing": (0, 50)}, None, id="zero-tick"),
    ],
)
def test_h264_frame_rate_fields(fields: dict[str, Any], expected: Fraction | None) -> None:
    sps = build_sps(**fields)
    assert h264_frame_rate(ts_segment(annexb(AUD, sps, PPS, IDR))) == expected


def test_h264_frame_rate_of_a_cut_sps() -> None:
    sps = build_sps(extended_sar=True)
    with pytest.raises(VerificationError, match="truncated or malformed"):
        h264_frame_rate(ts_segment(annexb(AUD, sps[:12], PPS, IDR)))
