"""Shift every timestamp of a packaged segment by a constant, without re-muxing.

When an asset cannot air, the playout fills its time with the house slate's loop segments, played
as one continuous stream: a stand-in is a stored slate segment whose timestamps are moved to its
place in that stream. The origin does this per request, so it is a byte-level rewrite in place of
the few fields that carry a time, and nothing else:

* MPEG-TS (ISO/IEC 13818-1): the PCR and OPCR of the adaptation field (§2.4.3.4-2.4.3.5), the
  DTS_next_AU of a seamless splice (§2.4.3.5), and the PTS, DTS and ESCR of each PES header
  (§2.4.3.6-2.4.3.7). Only packets that start a PES or carry an adaptation field are looked at;
  those are found with C-level byte slicing, so a 6 s segment costs a few hundred small edits.
* fMP4 media segments (ISO/IEC 14496-12): ``tfdt`` baseMediaDecodeTime of each track fragment
  (§8.8.12), the ``sidx`` earliest_presentation_time (§8.16.3) and the presentation_time of a
  version 1 ``emsg`` (ISO/IEC 23009-1 §5.10.3.3). Sample times in ``trun`` are relative and stay.

Shifts are in 90 kHz ticks, the MPEG-TS system clock base; :func:`shift_us_to_90khz` converts
the microseconds the timeline counts in. In-band SCTE-35 ``pts_adjustment`` is not rewritten: the
house slate carries no cue messages.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from rcmedia.errors import InvalidFieldError, MediaFormatError

TICKS_PER_SECOND = 90_000  # the 90 kHz base of PTS, DTS and the PCR (ISO/IEC 13818-1 §2.4.2.2)
_US_PER_SECOND = 1_000_000
_WRAP = 1 << 33  # PTS, DTS and PCR base are 33-bit counters and wrap

_PACKET = 188
_SYNC = 0x47
_TS = "MPEG-TS segment"
# A byte of 1 where the packet's header byte 1 has payload_unit_start_indicator, or where byte 3's
# adaptation_field_control says an adaptation field is present (§2.4.3.2, Table 2-5).
_UNIT_START = bytes(1 if byte & 0x40 else 0 for byte in range(256))
_HAS_ADAPTATION = bytes(1 if byte & 0x20 else 0 for byte in range(256))
# PIDs 0x0000-0x001F carry PSI and other tables, 0x1FFF null packets (Table 2-3): never a PES.
_FIRST_ELEMENTARY_PID = 0x20
_NULL_PID = 0x1FFF
# stream_id values whose PES packets have no optional header, hence no PTS (§2.4.3.7, Table 2-21).
_NO_PES_HEADER = frozenset({0xBC, 0xBE, 0xBF, 0xF0, 0xF1, 0xF2, 0xF8, 0xFF})
_FIRST_STREAM_ID = 0xBC  # program_stream_map; below it, 00 00 01 xx is not a PES (Table 2-22)

_MP4 = "fMP4 segment"
_MP4_INIT = "fMP4 init segment"


def shift_us_to_90khz(shift_us: int) -> int:
    """``shift_us`` microseconds in 90 kHz ticks; raises unless that is a whole number of ticks.

    A tick is 100/9 µs, so whole frames at 25 fps (40 000 µs = 3 600 ticks) and 50 fps are
    exact; rounding would move a stand-in a little further off every loop.
    """
    ticks, rest = divmod(shift_us * TICKS_PER_SECOND, _US_PER_SECOND)
    if rest:
        raise InvalidFieldError(
            "shift_us", f"{shift_us!r} µs is not a whole number of 90 kHz ticks (a multiple of 100/9 µs)"
        )
    return ticks


# --- MPEG-TS ------------------------------------------------------------------------------------


def shift_ts(data: bytes, shift_90khz: int) -> bytes:
    """``data``, a whole MPEG-TS segment, with every PCR, PTS and DTS moved by ``shift_90khz`` ticks.

    The 33-bit fields wrap modulo 2^33 as the clock itself does; a negative shift moves back.
    Every other byte is copied unchanged. Raises :class:`MediaFormatError` when the data is not
    whole 188-byte packets in sync, or a timestamp cannot be rewritten where it stands.
    """
    marks = _marks(data)
    shift = shift_90khz % _WRAP
    view = memoryview(data)
    # The untouched runs between rewritten packets are joined straight from ``data``: one copy of
    # the segment in all, which is most of the cost (a fresh 3 MB buffer is ~1000 page faults).
    pieces: list[bytes | bytearray | memoryview] = []
    done = 0
    for index in _marked(marks) if shift else ():
        start = index * _PACKET
        packet = bytearray(view[start : start + _PACKET])
        _shift_packet(packet, 0, index, shift)
        pieces += (view[done:start], packet)
        done = start + _PACKET
    if not pieces:
        return bytes(data)
    pieces.append(view[done:])
    return b"".join(pieces)


def shift_ts_in_place(buf: bytearray, shift_90khz: int) -> None:
    """Like :func:`shift_ts`, rewriting ``buf`` itself: no copy when the segment is read into it.

    On an error ``buf`` may be partly rewritten.
    """
    marks = _marks(buf)
    shift = shift_90khz % _WRAP
    for index in _marked(marks) if shift else ():
        _shift_packet(buf, index * _PACKET, index, shift)


def continuity_increments(data: bytes) -> dict[int, int]:
    """Per PID, how many packets of ``data`` (whole MPEG-TS packets) carry a payload: by how much
    each PID's continuity_counter advances over them (it does not on packets without one, §2.4.3.3)."""
    _marks(data)  # the structure
    counts: dict[int, int] = {}
    for high, low, control in zip(data[1::_PACKET], data[2::_PACKET], data[3::_PACKET], strict=True):
        if control & 0x10:
            pid = (high & 0x1F) << 8 | low
            counts[pid] = counts.get(pid, 0) + 1
    return counts


def advance_continuity(data: bytes, steps: Mapping[int, int]) -> bytes:
    """``data`` with each PID's continuity_counter moved on by ``steps[pid]`` (mod 16).

    A stand-in that repeats the slate's loop plays the same packets again: moved on by what the
    loop's earlier passes counted, its counters continue the stream's, and a receiver sees no
    continuity error where the loop wraps (ETR 290 1.4).
    """
    tables = {
        pid: bytes((b & 0xF0) | ((b + step) & 0x0F) for b in range(256))
        for pid, step in steps.items()
        if step % 16
    }
    if not tables:
        return bytes(data)
    out = bytearray(data)
    pids = [(high & 0x1F) << 8 | low for high, low in zip(out[1::_PACKET], out[2::_PACKET], strict=True)]
    same = bytes(range(256))
    out[3::_PACKET] = bytes(
        tables.get(pid, same)[byte] for pid, byte in zip(pids, out[3::_PACKET], strict=True)
    )
    return bytes(out)


def _marks(data: bytes | bytearray) -> bytes:
    """Check the packet structure; then one byte per packet, 1 where the packet may hold a time.

    Those are the packets that start a PES (or a PSI section) or have an adaptation field;
    the rest are payload continuing a PES. They are picked out with strided slices and
    ``translate``, which run in C, so the Python loop sees a few hundred packets, not 20 000.
    """
    count, rest = divmod(len(data), _PACKET)
    if rest or not count:
        raise MediaFormatError(_TS, f"{len(data)} bytes is not a whole number of {_PACKET}-byte packets")
    syncs = data[::_PACKET]
    if syncs.count(_SYNC) != count:
        lost = next(index for index, byte in enumerate(syncs) if byte != _SYNC)
        raise MediaFormatError(_TS, f"lost sync at packet {lost} (byte {lost * _PACKET}): no 0x47 there")
    wanted = int.from_bytes(data[1::_PACKET].translate(_UNIT_START), "big") | int.from_bytes(
        data[3::_PACKET].translate(_HAS_ADAPTATION), "big"
    )
    return wanted.to_bytes(count, "big")


def _marked(marks: bytes) -> Iterator[int]:
    index = marks.find(1)
    while index >= 0:
        yield index
        index = marks.find(1, index + 1)


def _shift_packet(buf: bytearray, start: int, index: int, shift: int) -> None:
    """Rewrite the times in the packet at ``buf[start:start + 188]``, packet ``index`` of the segment."""
    end = start + _PACKET
    flags, control = buf[start + 1], buf[start + 3]
    payload = start + 4
    if control & 0x20:  # adaptation_field_control: an adaptation field precedes any payload
        length = buf[payload]
        payload += 1 + length
        if payload > end:
            raise _packet_error(index, f"adaptation_field_length {length} overruns the packet")
        if length:
            _shift_adaptation_field(buf, start + 5, payload, shift, index)
    if not (flags & 0x40 and control & 0x10):  # no payload_unit_start, or no payload
        return
    pid = (flags & 0x1F) << 8 | buf[start + 2]
    if pid < _FIRST_ELEMENTARY_PID or pid == _NULL_PID:
        return
    if control & 0xC0:  # transport_scrambling_control; tables go in the clear, so this is a PES
        raise _packet_error(index, f"PID {pid:#x} is scrambled: its PES header cannot be rewritten")
    if buf[payload : payload + 3] == b"\x00\x00\x01":
        # A section on a PID the PAT names (a PMT) starts with pointer_field and table_id, so
        # 00 00 01 would be a PAT section (table_id 0), which only PID 0 carries (§2.4.4.3).
        _shift_pes_header(buf, payload, end, shift, index)


def _shift_adaptation_field(buf: bytearray, at: int, end: int, shift: int, index: int) -> None:
    """Rewrite the clock fields of the adaptation field whose flags byte is at ``at`` (§2.4.3.5)."""
    flags = buf[at]
    pos = at + 1
    if flags & 0x10:  # PCR_flag
        _need(pos + 6, end, index, "the PCR")
        _shift_pcr(buf, pos, shift)
        pos += 6
    if flags & 0x08:  # OPCR_flag: the same clock, as the original stream carried it
        _need(pos + 6, end, index, "the OPCR")
        _shift_pcr(buf, pos, shift)
        pos += 6
    if not flags & 0x01:  # no adaptation_field_extension, the only place left with a time
        return
    pos += bool(flags & 0x04)  # splice_countdown
    if flags & 0x02:  # transport_private_data
        _need(pos + 1, end, index, "transport_private_data_length")
        pos += 1 + buf[pos]
    _need(pos + 2, end, index, "the adaptation field extension")
    extension_end = pos + 1 + buf[pos]
    extension_flags = buf[pos + 1]
    if extension_flags & 0x20:  # seamless_splice_flag: splice_type and DTS_next_AU
        pos += 2 + 2 * bool(extension_flags & 0x80) + 3 * bool(extension_flags & 0x40)  # ltw, rate
        _need(pos + 5, min(end, extension_end), index, "DTS_next_AU")
        _shift_marked(buf, pos, 5, 1, shift)


def _shift_pes_header(buf: bytearray, pes: int, end: int, shift: int, index: int) -> None:
    """Rewrite PTS, DTS and ESCR of the PES header that starts at ``pes`` (§2.4.3.6-2.4.3.7)."""
    _need(pes + 9, end, index, "the PES header")
    stream_id = buf[pes + 3]
    if stream_id < _FIRST_STREAM_ID:
        raise _packet_error(index, f"the payload starts 00 00 01 but {stream_id:#04x} is no PES stream_id")
    if stream_id in _NO_PES_HEADER:
        return
    if buf[pes + 6] & 0xC0 != 0x80:
        raise _packet_error(index, "the PES header does not start with the '10' bits")
    flags = buf[pes + 7]
    pts_dts = flags >> 6
    if pts_dts == 0b01:
        raise _packet_error(index, "PTS_DTS_flags is '01', which ISO/IEC 13818-1 forbids")
    header_end = min(end, pes + 9 + buf[pes + 8])
    pos = pes + 9
    for _ in range(pts_dts.bit_count()):  # '10': PTS; '11': PTS then DTS
        _need(pos + 5, header_end, index, "the PTS/DTS")
        _shift_marked(buf, pos, 5, 1, shift)
        pos += 5
    if flags & 0x20:  # ESCR_flag
        _need(pos + 6, header_end, index, "the ESCR")
        _shift_marked(buf, pos, 6, 11, shift)


def _shift_marked(buf: bytearray, at: int, size: int, low: int, shift: int) -> None:
    """Add ``shift`` to the 33-bit time at ``buf[at:at + size]``, split 3/15/15 between marker bits.

    PTS, DTS and DTS_next_AU (5 bytes, ``low`` = 1) and the ESCR base (6 bytes, ``low`` = 11) are
    laid out alike: bits [14..0] from bit ``low``, [29..15] 16 bits higher, [32..30] 16 higher
    again, each followed by a marker bit. The prefix, marker and extension bits are kept as found.
    """
    value = int.from_bytes(buf[at : at + size], "big")
    time = (value >> low & 0x7FFF) | (value >> (low + 1) & 0x3FFF8000) | (value >> (low + 2) & 0x1C0000000)
    time = (time + shift) % _WRAP
    kept = value & ~(0x7FFF << low | 0x7FFF << (low + 16) | 0x7 << (low + 32))
    value = (
        kept | (time & 0x7FFF) << low | (time & 0x3FFF8000) << (low + 1) | (time & 0x1C0000000) << (low + 2)
    )
    buf[at : at + size] = value.to_bytes(size, "big")


def _shift_pcr(buf: bytearray, at: int, shift: int) -> None:
    # PCR = base × 300 + extension in 27 MHz (§2.4.2.2): adding shift × 300 moves only the 33-bit
    # base, modulo 2^33; the 6 reserved bits and the 9-bit extension stay as they are.
    value = int.from_bytes(buf[at : at + 6], "big")
    base = ((value >> 15) + shift) % _WRAP
    buf[at : at + 6] = (base << 15 | value & 0x7FFF).to_bytes(6, "big")


def _need(stop: int, limit: int, index: int, field: str) -> None:
    if stop > limit:
        raise _packet_error(index, f"{field} does not fit in its header within the packet")


def _packet_error(index: int, problem: str) -> MediaFormatError:
    return MediaFormatError(_TS, f"packet {index} (byte {index * _PACKET}): {problem}")


# --- fragmented MP4 -----------------------------------------------------------------------------


def track_timescales(init: bytes) -> dict[int, int]:
    """{track_ID: media timescale} of each track of an fMP4 init segment (``tkhd``, ``mdhd``)."""
    moov = _first(init, 0, len(init), b"moov", _MP4_INIT)
    if moov is None:
        raise MediaFormatError(_MP4_INIT, "no moov box: this is not an fMP4 init segment")
    found: dict[int, int] = {}
    for kind, _, payload, end in _boxes(init, *moov, _MP4_INIT):
        if kind != b"trak":
            continue
        tkhd = _first(init, payload, end, b"tkhd", _MP4_INIT)
        mdia = _first(init, payload, end, b"mdia", _MP4_INIT)
        mdhd = None if mdia is None else _first(init, *mdia, b"mdhd", _MP4_INIT)
        if tkhd is None or mdhd is None:
            raise MediaFormatError(_MP4_INIT, "a trak box lacks its tkhd or mdia/mdhd")
        # Both boxes open with version and flags, then 32- or 64-bit creation and modification
        # times (§8.3.2, §8.4.2): the field after them sits 8 bytes further in version 1.
        id_at = tkhd[0] + (20 if init[tkhd[0]] == 1 else 12)
        scale_at = mdhd[0] + (20 if init[mdhd[0]] == 1 else 12)
        _fits(init, scale_at + 4, mdhd[1], "mdhd", _MP4_INIT)
        _fits(init, id_at + 4, tkhd[1], "tkhd", _MP4_INIT)
        found[int.from_bytes(init[id_at : id_at + 4], "big")] = int.from_bytes(
            init[scale_at : scale_at + 4], "big"
        )
    if not found:
        raise MediaFormatError(_MP4_INIT, "the moov box holds no track")
    return found


def shift_fmp4(data: bytes, shift_90khz: int, timescales: Mapping[int, int]) -> bytes:
    """``data``, an fMP4 media segment, with its decode times moved by ``shift_90khz`` ticks.

    Each ``moof/traf/tfdt`` moves by the shift in its track's timescale (``timescales``, from
    :func:`track_timescales` of the init segment); ``sidx`` and version 1 ``emsg`` times move in
    their own timescales. Raises :class:`MediaFormatError` when the shift is not a whole number of
    ticks of a timescale, a time would leave its field (below 0, or past 2^32 in a version 0
    box), or the boxes are malformed.
    """
    buf = bytearray(data)
    fragments = 0
    for kind, _, payload, end in _boxes(buf, 0, len(buf), _MP4):
        if kind == b"moof":
            fragments += 1
            for traf_kind, _, traf, traf_end in _boxes(buf, payload, end, _MP4):
                if traf_kind == b"traf":
                    _shift_traf(buf, traf, traf_end, shift_90khz, timescales)
        elif kind == b"sidx":  # version, flags, reference_ID, timescale, earliest_presentation_time
            _fits(buf, payload + 12, end, "sidx")
            scale = int.from_bytes(buf[payload + 8 : payload + 12], "big")
            ticks = _ticks(shift_90khz, scale, "the sidx")
            _shift_time(buf, payload + 12, end, ticks, "sidx", wide=buf[payload] == 1)
        elif kind == b"emsg" and buf[payload] == 1:  # version 1 carries an absolute time
            _fits(buf, payload + 8, end, "emsg")
            scale = int.from_bytes(buf[payload + 4 : payload + 8], "big")
            ticks = _ticks(shift_90khz, scale, "the emsg")
            _shift_time(buf, payload + 8, end, ticks, "emsg", wide=True)
    if not fragments:
        raise MediaFormatError(_MP4, "no moof box: this is not an fMP4 media segment")
    return bytes(buf)


def _shift_traf(
    buf: bytearray, start: int, end: int, shift_90khz: int, timescales: Mapping[int, int]
) -> None:
    tfhd = _first(buf, start, end, b"tfhd", _MP4)
    tfdt = _first(buf, start, end, b"tfdt", _MP4)
    if tfhd is None:
        raise MediaFormatError(_MP4, "a traf box has no tfhd")
    _fits(buf, tfhd[0] + 8, tfhd[1], "tfhd")
    track_id = int.from_bytes(buf[tfhd[0] + 4 : tfhd[0] + 8], "big")
    if tfdt is None:
        raise MediaFormatError(_MP4, f"the fragment of track {track_id} has no tfdt: its time is implicit")
    scale = timescales.get(track_id)
    if scale is None:
        raise MediaFormatError(
            _MP4, f"track {track_id} is not in the init segment (its tracks: {sorted(timescales)})"
        )
    ticks = _ticks(shift_90khz, scale, f"track {track_id}")
    _shift_time(buf, tfdt[0] + 4, tfdt[1], ticks, "tfdt", wide=buf[tfdt[0]] == 1)


def _ticks(shift_90khz: int, timescale: int, owner: str) -> int:
    if timescale <= 0:
        raise MediaFormatError(_MP4, f"{owner} has timescale {timescale}: no time can be expressed in it")
    ticks, rest = divmod(shift_90khz * timescale, TICKS_PER_SECOND)
    if rest:
        raise MediaFormatError(
            _MP4,
            f"a shift of {shift_90khz} ticks at 90 kHz is not a whole number of ticks of {owner}'s "
            f"timescale {timescale}",
        )
    return ticks


def _shift_time(buf: bytearray, at: int, end: int, ticks: int, box: str, *, wide: bool) -> None:
    """Add ``ticks`` to the time at ``at``: 64-bit when ``wide`` (a version 1 box), else 32-bit."""
    size = 8 if wide else 4
    _fits(buf, at + size, end, box)
    time = int.from_bytes(buf[at : at + size], "big") + ticks
    if not 0 <= time < 1 << (8 * size):
        raise MediaFormatError(
            _MP4, f"shifted by {ticks} ticks, the {box} time {time} does not fit its {8 * size}-bit field"
        )
    buf[at : at + size] = time.to_bytes(size, "big")


def _boxes(data: bytes | bytearray, start: int, end: int, what: str) -> Iterator[tuple[bytes, int, int, int]]:
    """(type, box start, payload start, box end) of each box in ``data[start:end]`` (§4.2)."""
    pos = start
    while pos + 8 <= end:
        size = int.from_bytes(data[pos : pos + 4], "big")
        kind = bytes(data[pos + 4 : pos + 8])
        header = 8
        if size == 1:
            _fits(data, pos + 16, end, kind.decode("latin-1"), what)
            size = int.from_bytes(data[pos + 8 : pos + 16], "big")
            header = 16
        elif size == 0:  # the box runs to the end of its parent
            size = end - pos
        if size < header or pos + size > end:
            raise MediaFormatError(what, f"box {kind!r} at byte {pos} overruns its parent")
        yield kind, pos, pos + header, pos + size
        pos += size


def _first(data: bytes | bytearray, start: int, end: int, kind: bytes, what: str) -> tuple[int, int] | None:
    """(payload start, end) of the first ``kind`` box directly inside ``data[start:end]``."""
    for found, _, payload, box_end in _boxes(data, start, end, what):
        if found == kind:
            return payload, box_end
    return None


def _fits(data: bytes | bytearray, stop: int, end: int, box: str, what: str = _MP4) -> None:
    if stop > end:
        raise MediaFormatError(what, f"the {box} box is too short for its fields")
