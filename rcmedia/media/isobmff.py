"""ISO BMFF (ISO/IEC 14496-12) as far as the segment checks need it: fragmented MP4 for HLS.

From the init segment: the H.264 track's avcC (ISO/IEC 14496-15) and the AAC track's esds
(ISO/IEC 14496-1, 14496-3); from a media segment: the video track's first sample, located through
moof/traf/trun. Reads past the end of the data raise IndexError; callers turn that into a
verification failure.
"""

from __future__ import annotations

from collections.abc import Iterator

from rcmedia.errors import VerificationError


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


def avcc_sps(init: bytes) -> bytes:
    """The first SPS in the avcC of the init segment's H.264 track (ISO/IEC 14496-15 §5.3.3.1)."""
    _, avcc = _avcc(init)
    if not init[avcc + 5] & 0x1F:
        raise VerificationError("fMP4 init segment", "the avcC holds no SPS")
    size = int.from_bytes(init[avcc + 6 : avcc + 8], "big")
    sps = init[avcc + 8 : avcc + 8 + size]
    if len(sps) < max(size, 4):
        raise IndexError("SPS cut short")
    return sps


def first_video_sample(init: bytes, segment: bytes) -> tuple[bytes, int]:
    """The first sample of the H.264 track in ``segment``, and the size of its NAL unit lengths.

    The track and the length size come from the init segment's avcC; the sample is located
    through the segment's moof/traf/trun, so interleaved audio fragments do not matter.
    """
    track_id, avcc = _avcc(init)
    length_size = (init[avcc + 4] & 0x03) + 1
    return _first_sample(segment, track_id, _trex_default_size(init, track_id)), length_size


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


def esds_object_type(init: bytes) -> int:
    """The MPEG-4 audio object type in the AudioSpecificConfig of the AAC track's esds."""
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
