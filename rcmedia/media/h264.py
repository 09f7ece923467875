"""H.264 NAL units and the sequence parameter set: what the segment checks read of the video.

NAL units come either as an Annex B byte stream (MPEG-TS) or length-prefixed (MP4 samples,
ISO/IEC 14496-15); the SPS is parsed as far as the VUI timing info (ITU-T H.264 §7.3.2.1.1, §E.2.1).
Reads past the end of the data raise IndexError; callers turn that into a verification failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction

from rcmedia.errors import VerificationError

_NAL_SLICE = 1
_NAL_IDR = 5
_NAL_SPS = 7


def annexb_nal_units(stream: bytes) -> Iterator[bytes]:
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


def length_prefixed_nal_units(sample: bytes, length_size: int) -> Iterator[bytes]:
    """The NAL units of one MP4 sample, each preceded by its length (ISO/IEC 14496-15 §5.3.3)."""
    pos = 0
    while pos + length_size <= len(sample):
        size = int.from_bytes(sample[pos : pos + length_size], "big")
        pos += length_size
        yield sample[pos : pos + size]
        pos += size


def first_vcl_is_idr(units: Iterator[bytes], what: str) -> bool:
    """Whether the first coded slice among ``units`` belongs to an IDR picture."""
    for unit in units:
        if not unit:
            continue
        nal_type = unit[0] & 0x1F
        if nal_type in (_NAL_SLICE, _NAL_IDR):
            return nal_type == _NAL_IDR
    raise VerificationError(what, "no coded picture (H.264 slice NAL unit) in the first access unit")


def first_sps(units: Iterator[bytes], what: str) -> bytes:
    """The first sequence parameter set NAL unit among ``units``."""
    for unit in units:
        if len(unit) >= 4 and unit[0] & 0x1F == _NAL_SPS:
            return unit
    raise VerificationError(what, "no H.264 sequence parameter set (SPS) in the first access unit")


def codec_string(sps: bytes) -> str:
    """The RFC 6381 codec string the SPS declares, e.g. ``avc1.64001f``."""
    # RFC 6381 §3.3: avc1.PPCCLL, the three bytes after the SPS NAL header in hex.
    return f"avc1.{sps[1]:02x}{sps[2]:02x}{sps[3]:02x}"


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


def sps_frame_rate(sps: bytes) -> Fraction | None:
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
