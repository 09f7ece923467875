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

This module tells the two segment formats apart and turns truncated or corrupt data into a
verification failure; the parsing itself is in :mod:`rcmedia.media.mpegts` (ISO/IEC 13818-1),
:mod:`rcmedia.media.isobmff` (ISO/IEC 14496-12) and :mod:`rcmedia.media.h264` (ITU-T H.264,
ISO/IEC 14496-15), each reading only what these checks need. Pure functions of bytes: no files,
no subprocesses.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction

from rcmedia.errors import VerificationError
from rcmedia.media import h264, isobmff, mpegts


@contextmanager
def _parsing(what: str) -> Iterator[None]:
    """Turn a read past the end of truncated or corrupt data into a verification failure."""
    try:
        yield
    except IndexError as exc:
        raise VerificationError(what, "the data is truncated or malformed") from exc


def ts_first_access_unit_is_idr(data: bytes) -> bool:
    """Whether the first video picture of a TS segment is an IDR.

    ``data`` is the start of the segment; 64 KiB holds the first access unit's slice headers.
    """
    with _parsing("MPEG-TS segment"):
        units = h264.annexb_nal_units(mpegts.first_h264_payload(data))
        return h264.first_vcl_is_idr(units, "MPEG-TS segment")


def fmp4_first_sample_is_idr(init: bytes, segment: bytes) -> bool:
    """Whether the first video sample of a fragmented-MP4 segment is an IDR picture.

    The video track and its NAL length size come from the init segment's avcC; the sample is
    located through the segment's moof/traf/trun, so interleaved audio fragments do not matter.
    """
    with _parsing("fMP4 segment"):
        sample, length_size = isobmff.first_video_sample(init, segment)
        return h264.first_vcl_is_idr(h264.length_prefixed_nal_units(sample, length_size), "fMP4 segment")


def _sps(data: bytes, init: bytes | None) -> bytes:
    source = data if init is None else init
    if mpegts.is_ts(source):
        return h264.first_sps(h264.annexb_nal_units(mpegts.first_h264_payload(source)), "MPEG-TS segment")
    return isobmff.avcc_sps(source)


def h264_codec_string(data: bytes, *, init: bytes | None = None) -> str:
    """The RFC 6381 codec string of the H.264 video, e.g. ``avc1.64001f``.

    Read from the SPS of a TS segment, or from the avcC of an fMP4 init segment: pass the init
    segment as ``init`` (``data``, the media segment, is then not needed) or as ``data``.
    """
    with _parsing("H.264 codec string"):
        return h264.codec_string(_sps(data, init))


def h264_frame_rate(data: bytes, *, init: bytes | None = None) -> Fraction | None:
    """The frame rate the SPS declares in its VUI timing info, or None when it declares none.

    MediaInfo states no frame rate for H.264 in a short TS segment at its default parse speed,
    and at full speed only an estimate from timestamps (25 fps in one-second segments reads as
    25.510), so verification reads the declared rate instead.
    Arguments as for :func:`h264_codec_string`.
    """
    with _parsing("H.264 frame rate"):
        return h264.sps_frame_rate(_sps(data, init))


def aac_codec_string(data: bytes, *, init: bytes | None = None) -> str:
    """The RFC 6381 codec string of the AAC audio: ``mp4a.40.2`` for AAC-LC, ``mp4a.40.5`` for HE-AAC.

    Read from the first ADTS header of a TS segment, or from the esds AudioSpecificConfig of an
    fMP4 init segment (given as ``init`` or as ``data``). ADTS can only say the core profile
    (Main, LC, SSR, LTP), so HE-AAC in TS reads as LC; so does HE-AAC signalled implicitly
    (backward-compatibly) in an esds. Explicit signalling gives 5 or 29.
    """
    source = data if init is None else init
    with _parsing("AAC codec string"):
        if mpegts.is_ts(source):
            object_type = mpegts.first_adts_object_type(source)
        else:
            object_type = isobmff.esds_object_type(source)
    # RFC 6381 §3.3 and ISO/IEC 14496-3 Table 1.17: mp4a.40.2 is AAC-LC, .5 HE-AAC (SBR), .29 HE-AACv2.
    return f"mp4a.40.{object_type}"
