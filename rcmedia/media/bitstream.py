"""Byte-level checks of finished HLS segments, made before anything is published.

Every segment of every rung must start with an IDR picture: a player switching rungs starts
decoding at a segment boundary, and the playout splices programmes at segment boundaries, so a
segment that opens on a P or B picture shows garbage (or nothing) until the next IDR. The
ffmpeg options that should guarantee this (forced keyframes, closed GOPs) are easy to lose in a
profile edit, so the bytes are checked rather than trusted.

The CODECS attribute of the master playlist must name the real profile and level of each
rendition (RFC 8216bis §4.4.6.2): players refuse or mis-select variants whose CODECS lie, so the
codec strings are read from the segments (the SPS, avcC, ADTS header or esds) instead of being
derived from what was asked of the encoder. The frame rate is read from the SPS for the same reason.

Only what these checks need is parsed: MPEG-TS (ISO/IEC 13818-1) PAT, PMT and PES; ISO BMFF
(ISO/IEC 14496-12) boxes; H.264 Annex B and length-prefixed NAL units (ITU-T H.264 §7.3.1,
ISO/IEC 14496-15). Pure functions of bytes: no files, no subprocesses.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction

from rcmedia.errors import VerificationError

TS_PACKET = 188
_TS_SYNC = 0x47
_STREAM_TYPE_H264 = 0x1B
_STREAM_TYPE_ADTS_AAC = 0x0F
_NAL_SLICE = 1
_NAL_IDR = 5
_NAL_SPS = 7


@contextmanager
def _parsing(what: str) -> Iterator[None]:
    """Turn a read past the end of truncated or corrupt data into a verification failure."""
    try:
        yield
    except IndexError as exc:
        raise VerificationError(what, "the data is truncated or malformed") from exc


# --- H.264 NAL units --------------------------------------------------------------------------


def _annexb_nal_units(stream: bytes) -> Iterator[bytes]:
    """The NAL units of an Annex B byte stream; the 00 00 01 start codes split them.

    Emulation prevention (H.264 §7.4.1) guarantees 00 00 01 never occurs inside a NAL unit.
    Trailing zeros (the next four-byte start code's first byte, trailing_zero_8bits) are stripped.
    """
    start = stream.find(b"\x00\x00\x01")
    while start >= 0:
        begin = start + 3
        end = stream.find(b"\x00\x00\x01", begin)
        unit = stream[begin:] if end < 0 else stream[begin:end]
        yield unit.rstrip(b"\x00")
        start = end


def _length_prefixed_nal_units(sample: bytes, length_size: int) -> Iterator[bytes]:
    """The NAL units of one MP4 sample, each preceded by its length (ISO/IEC 14496-15 §5.3.3)."""
    pos = 0
    while pos + length_size <= len(sample):
        size = int.from_bytes(sample[pos : pos + length_size], "big")
        pos += length_size
        yield sample[pos : pos + size]
        pos += size


def _first_vcl_is_idr(units: Iterator[bytes], what: str) -> bool:
    for unit in units:
        if not unit:
            continue
        nal_type = unit[0] & 0x1F
        if nal_type in (_NAL_SLICE, _NAL_IDR):
            return nal_type == _NAL_IDR
    raise VerificationError(what, "no coded picture (H.264 slice NAL unit) in the first access unit")


def _first_sps(units: Iterator[bytes], what: str) -> bytes:
    for unit in units:
        if len(unit) >= 4 and unit[0] & 0x1F == _NAL_SPS:
            return unit
    raise VerificationError(what, "no H.264 sequence parameter set (SPS) in the first access unit")


class _Bits:
    """Reads an RBSP MSB first, with the Exp-Golomb codes of H.264 §9.1."""

    def __init__(self, rbsp: bytes) -> None:
        self._value = int.from_bytes(rbsp, "big")
        self._left = len(rbsp) * 8

    def u(self, n: int) -> int:
        if n > self._left:
            raise IndexError("read past the end of the RBSP")
        self._left -= n
        return self._value >> self._left & ((1 << n) - 1)

    def ue(self) -> int:
        zeros = 0
        while not self.u(1):
            zeros += 1
        return (1 << zeros) - 1 + self.u(zeros)

    def se(self) -> int:
        code = self.ue()
        return (code + 1) // 2 if code % 2 else -(code // 2)


# profile_idc values whose SPS carries chroma format, bit depths and scaling lists (§7.3.2.1.1).
_HIGH_PROFILES = frozenset({100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135})


def _skip_scaling_list(bits: _Bits, size: int) -> None:
    last = next_scale = 8
    for _ in range(size):
        if next_scale:
            next_scale = (last + bits.se()) % 256
        last = next_scale or last


def _sps_frame_rate(sps: bytes) -> Fraction | None:
    """time_scale / (2 * num_units_in_tick) from the SPS's VUI (§E.2.1), or None if it has none."""
    bits = _Bits(sps[1:].replace(b"\x00\x00\x03", b"\x00\x00"))  # drop emulation prevention
    _skip_to_vui(bits)
    if not bits.u(1):  # vui_parameters_present_flag
        return None
    if bits.u(1) and bits.u(8) == 255:  # aspect_ratio_idc Extended_SAR
        bits.u(32)
    bits.u(bits.u(1))  # overscan_appropriate_flag
    if bits.u(1):  # video_signal_type_present_flag
        bits.u(4)
        bits.u(24 if bits.u(1) else 0)  # colour description
    if bits.u(1):  # chroma_loc_info_present_flag
        bits.ue(), bits.ue()
    if not bits.u(1):  # timing_info_present_flag
        return None
    units, scale = bits.u(32), bits.u(32)
    return Fraction(scale, 2 * units) if units and scale else None


def _skip_to_vui(bits: _Bits) -> None:
    """Read the SPS fields before vui_parameters_present_flag (H.264 §7.3.2.1.1)."""
    profile = bits.u(8)
    bits.u(16), bits.ue()  # constraint flags and level_idc, seq_parameter_set_id
    if profile in _HIGH_PROFILES:
        chroma_format = bits.ue()
        bits.u(1 if chroma_format == 3 else 0)  # separate_colour_plane_flag
        bits.ue(), bits.ue(), bits.u(1)  # bit depths, qpprime_y_zero_transform_bypass_flag
        if bits.u(1):  # seq_scaling_matrix_present_flag
            for i in range(12 if chroma_format == 3 else 8):
                if bits.u(1):
                    _skip_scaling_list(bits, 16 if i < 6 else 64)
    bits.ue()  # log2_max_frame_num_minus4
    poc_type = bits.ue()
    if poc_type == 0:
        bits.ue()
    elif poc_type == 1:
        bits.u(1), bits.se(), bits.se()
        for _ in range(bits.ue()):
            bits.se()
    bits.ue(), bits.u(1), bits.ue(), bits.ue()  # ref frames, gaps, width and height in macroblocks
    bits.u(1 - bits.u(1))  # frame_mbs_only_flag, then mb_adaptive_frame_field_flag if it is 0
    bits.u(1)  # direct_8x8_inference_flag
    if bits.u(1):  # frame_cropping_flag
        bits.ue(), bits.ue(), bits.ue(), bits.ue()


# --- MPEG-TS ----------------------------------------------------------------------------------


def _is_ts(data: bytes) -> bool:
    return len(data) >= TS_PACKET and data[0] == _TS_SYNC


def _ts_packets(data: bytes) -> Iterator[tuple[int, bool, bytes]]:
    """(PID, payload_unit_start, payload) of each whole 188-byte packet; adaptation fields skipped."""
    for offset in range(0, len(data) - TS_PACKET + 1, TS_PACKET):
        packet = data[offset : offset + TS_PACKET]
        if packet[0] != _TS_SYNC:
            raise VerificationError("MPEG-TS segment", f"lost TS sync at byte {offset}")
        pid = (packet[1] & 0x1F) << 8 | packet[2]
        control = packet[3] >> 4 & 0x3
        if not control & 0x1:  # adaptation field only, no payload
            continue
        start = 4 + (1 + packet[4] if control & 0x2 else 0)
        if start < TS_PACKET:
            yield pid, bool(packet[1] & 0x40), packet[start:]


def _psi_section(payload: bytes) -> bytes:
    """The section a PSI packet starts (after its pointer_field), cut to its section_length."""
    section = payload[1 + payload[0] :]
    length = (section[1] & 0x0F) << 8 | section[2]
    return section[: 3 + length - 4]  # without the CRC_32


def _ts_elementary_pid(data: bytes, stream_type: int, kind: str) -> int:
    """The PID of the first stream of ``stream_type`` in the first programme's PMT."""
    pmt_pid: int | None = None
    for pid, unit_start, payload in _ts_packets(data):
        if not unit_start:
            continue
        if pid == 0 and pmt_pid is None:
            pat = _psi_section(payload)
            programs = [pat[i : i + 4] for i in range(8, len(pat) - 3, 4)]
            pmt_pids = [(p[2] & 0x1F) << 8 | p[3] for p in programs if p[0] | p[1]]  # not the NIT
            pmt_pid = pmt_pids[0] if pmt_pids else None
        elif pid == pmt_pid:
            pmt = _psi_section(payload)
            pos = 12 + ((pmt[10] & 0x0F) << 8 | pmt[11])
            while pos + 5 <= len(pmt):
                es_pid = (pmt[pos + 1] & 0x1F) << 8 | pmt[pos + 2]
                if pmt[pos] == stream_type:
                    return es_pid
                pos += 5 + ((pmt[pos + 3] & 0x0F) << 8 | pmt[pos + 4])
            raise VerificationError("MPEG-TS segment", f"the programme has no {kind} stream")
    raise VerificationError("MPEG-TS segment", "no PAT and PMT in the first bytes")


def _ts_first_pes_payload(data: bytes, pid: int) -> bytes:
    """The elementary-stream bytes of the first PES packet on ``pid`` (as far as ``data`` goes)."""
    chunks: list[bytes] = []
    for packet_pid, unit_start, payload in _ts_packets(data):
        if packet_pid != pid or not (chunks or unit_start):
            continue
        if unit_start and chunks:
            break
        chunks.append(payload)
    pes = b"".join(chunks)
    if not pes.startswith(b"\x00\x00\x01") or len(pes) < 9:
        raise VerificationError("MPEG-TS segment", f"no PES packet on PID {pid:#x}")
    return pes[9 + pes[8] :]  # after the fixed header and PES_header_data_length


def _ts_first_video_units(data: bytes) -> Iterator[bytes]:
    if not _is_ts(data):
        raise VerificationError("MPEG-TS segment", "the data does not start with a TS sync byte (0x47)")
    pid = _ts_elementary_pid(data, _STREAM_TYPE_H264, "H.264 video")
    return _annexb_nal_units(_ts_first_pes_payload(data, pid))


def ts_first_access_unit_is_idr(data: bytes) -> bool:
    """Whether the first video picture of a TS segment is an IDR.

    ``data`` is the start of the segment; 64 KiB holds the first access unit's slice headers.
    """
    with _parsing("MPEG-TS segment"):
        return _first_vcl_is_idr(_ts_first_video_units(data), "MPEG-TS segment")


# --- ISO BMFF (fragmented MP4) ----------------------------------------------------------------


def _boxes(data: bytes, start: int = 0, end: int | None = None) -> Iterator[tuple[bytes, int, int, int]]:
    """(type, box start, payload start, box end) of each box in ``data[start:end]``."""
    end = len(data) if end is None else end
    pos = start
    while pos + 8 <= end:
        size = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        header = 8
        if size == 1:
            size = int.from_bytes(data[pos + 8 : pos + 16], "big")
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise VerificationError("MP4 data", f"box {kind!r} at byte {pos} overruns its parent")
        yield kind, pos, pos + header, pos + size
        pos += size


def _child(data: bytes, start: int, end: int, path: tuple[bytes, ...]) -> tuple[int, int] | None:
    """(payload start, end) of the first box along ``path`` below ``data[start:end]``."""
    for kind, _, payload, box_end in _boxes(data, start, end):
        if kind == path[0]:
            return (payload, box_end) if len(path) == 1 else _child(data, payload, box_end, path[1:])
    return None


def _tracks(init: bytes) -> Iterator[tuple[int, bytes, int, int]]:
    """(track_ID, handler type, stsd payload start, end) of each track in the init segment."""
    moov = _child(init, 0, len(init), (b"moov",))
    if moov is None:
        raise VerificationError(
            "media data", "neither an MPEG-TS segment nor an fMP4 init segment (no moov box)"
        )
    for kind, _, payload, end in _boxes(init, *moov):
        tkhd = _child(init, payload, end, (b"tkhd",))
        hdlr = _child(init, payload, end, (b"mdia", b"hdlr"))
        stsd = _child(init, payload, end, (b"mdia", b"minf", b"stbl", b"stsd"))
        if kind != b"trak" or tkhd is None or hdlr is None or stsd is None:
            continue
        id_at = tkhd[0] + (20 if init[tkhd[0]] == 1 else 12)  # after the 32/64-bit times
        yield int.from_bytes(init[id_at : id_at + 4], "big"), init[hdlr[0] + 8 : hdlr[0] + 12], *stsd


# Fixed fields of a sample entry before its child boxes (ISO/IEC 14496-12 §12.1.3, §12.2.3).
_VISUAL_ENTRY_FIELDS = 78
_AUDIO_ENTRY_FIELDS = 28


def _sample_entry_child(init: bytes, handler: bytes, entry_fields: int, child: bytes) -> tuple[int, int]:
    """(track_ID, payload start) of ``child`` (avcC, esds) in the first ``handler`` track's entry."""
    for track_id, track_handler, stsd_start, stsd_end in _tracks(init):
        if track_handler != handler:
            continue
        for _, _, entry, entry_end in _boxes(init, stsd_start + 8, stsd_end):  # after entry_count
            found = _child(init, entry + entry_fields, entry_end, (child,))
            if found is not None:
                return track_id, found[0]
    raise VerificationError("fMP4 init segment", f"no {handler.decode()} track with an {child.decode()} box")


def _avcc(init: bytes) -> tuple[int, int]:
    """(track_ID, payload start of avcC) of the H.264 video track."""
    return _sample_entry_child(init, b"vide", _VISUAL_ENTRY_FIELDS, b"avcC")


def _avcc_sps(init: bytes) -> bytes:
    """The first SPS in the avcC (ISO/IEC 14496-15 §5.3.3.1)."""
    _, avcc = _avcc(init)
    if not init[avcc + 5] & 0x1F:
        raise VerificationError("fMP4 init segment", "the avcC holds no SPS")
    size = int.from_bytes(init[avcc + 6 : avcc + 8], "big")
    sps = init[avcc + 8 : avcc + 8 + size]
    if len(sps) < max(size, 4):
        raise IndexError("SPS cut short")
    return sps


def _trex_default_size(init: bytes, track_id: int) -> int:
    mvex = _child(init, 0, len(init), (b"moov", b"mvex"))
    for kind, _, payload, _ in _boxes(init, *mvex) if mvex else ():
        if kind == b"trex" and int.from_bytes(init[payload + 4 : payload + 8], "big") == track_id:
            return int.from_bytes(init[payload + 16 : payload + 20], "big")
    return 0


def _first_sample(segment: bytes, track_id: int, default_size: int) -> bytes:
    """The bytes of the track's first sample in the segment's first fragment that carries it."""
    for kind, moof_start, moof_payload, moof_end in _boxes(segment):
        if kind != b"moof":
            continue
        trafs = [
            (start, end) for kind, _, start, end in _boxes(segment, moof_payload, moof_end) if kind == b"traf"
        ]
        for index, (traf, traf_end) in enumerate(trafs):
            tfhd = _child(segment, traf, traf_end, (b"tfhd",))
            trun = _child(segment, traf, traf_end, (b"trun",))
            if tfhd is None or trun is None:
                continue
            if int.from_bytes(segment[tfhd[0] + 4 : tfhd[0] + 8], "big") == track_id:
                return _trun_first_sample(
                    segment, moof_start, tfhd[0], trun[0], default_size, first_traf=index == 0
                )
    raise VerificationError("fMP4 segment", f"no fragment of track {track_id}")


def _trun_first_sample(
    segment: bytes, moof_start: int, tfhd: int, trun: int, default_size: int, *, first_traf: bool
) -> bytes:
    tf_flags = int.from_bytes(segment[tfhd + 1 : tfhd + 4], "big")
    if not (first_traf or tf_flags & 0x020001):
        # The base would be where the previous traf's data ends (ISO/IEC 14496-12 §8.8.7.1).
        raise VerificationError("fMP4 segment", "a later traf has neither a base offset nor base-is-moof")
    pos = tfhd + 8
    base = moof_start  # default-base-is-moof (0x020000), which the HLS and CMAF muxers set
    if tf_flags & 0x000001:  # base-data-offset-present
        base = int.from_bytes(segment[pos : pos + 8], "big")
        pos += 8
    pos += 4 * bool(tf_flags & 0x000002) + 4 * bool(tf_flags & 0x000008)
    if tf_flags & 0x000010:  # default-sample-size-present
        default_size = int.from_bytes(segment[pos : pos + 4], "big")

    tr_flags = int.from_bytes(segment[trun + 1 : trun + 4], "big")
    pos = trun + 8  # after version, flags and sample_count
    data_offset = 0
    if tr_flags & 0x000001:  # data-offset-present
        data_offset = int.from_bytes(segment[pos : pos + 4], "big", signed=True)
        pos += 4
    pos += 4 * bool(tr_flags & 0x000004) + 4 * bool(tr_flags & 0x000100)  # first flags, duration
    size = int.from_bytes(segment[pos : pos + 4], "big") if tr_flags & 0x000200 else default_size
    start = base + data_offset
    if size <= 0 or start + size > len(segment):
        raise VerificationError("fMP4 segment", "the first sample lies outside the segment")
    return segment[start : start + size]


def fmp4_first_sample_is_idr(init: bytes, segment: bytes) -> bool:
    """Whether the first video sample of a fragmented-MP4 segment is an IDR picture.

    The video track and its NAL length size come from the init segment's avcC; the sample is
    located through the segment's moof/traf/trun, so interleaved audio fragments do not matter.
    """
    with _parsing("fMP4 segment"):
        track_id, avcc = _avcc(init)
        length_size = (init[avcc + 4] & 0x03) + 1
        sample = _first_sample(segment, track_id, _trex_default_size(init, track_id))
        return _first_vcl_is_idr(_length_prefixed_nal_units(sample, length_size), "fMP4 segment")


# --- Codec strings (RFC 6381) -----------------------------------------------------------------


def _sps(data: bytes, init: bytes | None) -> bytes:
    source = data if init is None else init
    if _is_ts(source):
        return _first_sps(_ts_first_video_units(source), "MPEG-TS segment")
    return _avcc_sps(source)


def h264_codec_string(data: bytes, *, init: bytes | None = None) -> str:
    """The RFC 6381 codec string of the H.264 video, e.g. ``avc1.64001f``.

    Read from the SPS of a TS segment, or from the avcC of an fMP4 init segment: pass the init
    segment as ``init`` (``data``, the media segment, is then not needed) or as ``data``.
    """
    with _parsing("H.264 codec string"):
        sps = _sps(data, init)
        # RFC 6381 §3.3: avc1.PPCCLL, the three bytes after the SPS NAL header in hex.
        return f"avc1.{sps[1]:02x}{sps[2]:02x}{sps[3]:02x}"


def h264_frame_rate(data: bytes, *, init: bytes | None = None) -> Fraction | None:
    """The frame rate the SPS declares in its VUI timing info, or None when it declares none.

    MediaInfo states no frame rate for H.264 in a short TS segment at its default parse speed,
    and at full speed only an estimate from timestamps (25 fps in one-second segments reads as
    25.510), so verification reads the declared rate instead.
    Arguments as for :func:`h264_codec_string`.
    """
    with _parsing("H.264 frame rate"):
        return _sps_frame_rate(_sps(data, init))


def _aac_codec(object_type: int) -> str:
    # RFC 6381 §3.3 and ISO/IEC 14496-3 Table 1.17: mp4a.40.2 is AAC-LC, .5 HE-AAC (SBR), .29 HE-AACv2.
    return f"mp4a.40.{object_type}"


def _descriptor(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, payload start, payload end) of the MPEG-4 descriptor at ``pos`` (ISO/IEC 14496-1 §8.3.3)."""
    tag, pos, length = data[pos], pos + 1, 0
    for _ in range(4):
        byte = data[pos]
        pos += 1
        length = length << 7 | byte & 0x7F
        if not byte & 0x80:
            break
    return tag, pos, pos + length


def _esds_object_type(init: bytes) -> int:
    _, esds = _sample_entry_child(init, b"soun", _AUDIO_ENTRY_FIELDS, b"esds")
    tag, pos, _ = _descriptor(init, esds + 4)  # after version and flags
    if tag != 0x03:
        raise VerificationError("fMP4 init segment", "esds holds no ES_Descriptor")
    flags = init[pos + 2]
    pos += 3 + 2 * bool(flags & 0x80)  # ES_ID, flags, dependsOn_ES_ID
    if flags & 0x40:  # URL_Flag
        pos += 1 + init[pos]
    pos += 2 * bool(flags & 0x20)  # OCR_ES_Id
    tag, pos, _ = _descriptor(init, pos)
    if tag != 0x04 or init[pos] != 0x40:  # DecoderConfigDescriptor for MPEG-4 audio
        raise VerificationError("fMP4 init segment", "the audio track is not MPEG-4 audio (AAC)")
    tag, pos, _ = _descriptor(init, pos + 13)
    if tag != 0x05:
        raise VerificationError("fMP4 init segment", "esds holds no AudioSpecificConfig")
    object_type = init[pos] >> 3
    if object_type == 31:  # escape: six more bits follow
        object_type = 32 + ((init[pos] & 0x07) << 3 | init[pos + 1] >> 5)
    return object_type


def aac_codec_string(data: bytes, *, init: bytes | None = None) -> str:
    """The RFC 6381 codec string of the AAC audio: ``mp4a.40.2`` for AAC-LC, ``mp4a.40.5`` for HE-AAC.

    Read from the first ADTS header of a TS segment, or from the esds AudioSpecificConfig of an
    fMP4 init segment (given as ``init`` or as ``data``). ADTS can only say the core profile
    (Main, LC, SSR, LTP), so HE-AAC in TS reads as LC; so does HE-AAC signalled implicitly
    (backward-compatibly) in an esds. Explicit signalling gives 5 or 29.
    """
    source = data if init is None else init
    with _parsing("AAC codec string"):
        if not _is_ts(source):
            return _aac_codec(_esds_object_type(source))
        pid = _ts_elementary_pid(source, _STREAM_TYPE_ADTS_AAC, "ADTS AAC audio")
        adts = _ts_first_pes_payload(source, pid)
    if len(adts) < 3 or adts[0] != 0xFF or adts[1] & 0xF6 != 0xF0:  # syncword, layer 0
        raise VerificationError("MPEG-TS segment", "the audio PES does not start with an ADTS header")
    return _aac_codec((adts[2] >> 6) + 1)  # ADTS profile is the object type minus one
