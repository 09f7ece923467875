"""An MPEG-TS segment rewritten to its place in the channel's one continuous stream.

Every asset is packaged on its own, so its timestamps start near 1.4 s and its continuity
counters at 0: played one after another, a channel's clock would jump back at every splice and
its counters restart (ffmpeg: "Packet corrupt", "Non-monotonous DTS"; streamlink: "stream
discontinuity"; VLC resets its clock). The origin serves each aired segment rewritten instead
(issue 10), so that the channel is one stream however its segments were cut:

* **Clock.** Every PTS, DTS and PCR moves by one constant, chosen so that the segment's first
  picture is presented at its air time on the channel clock: 90 kHz ticks since the Unix epoch,
  modulo 2^33 as the clock wraps (:func:`air_ticks`). Consecutive segments of an asset keep their
  exact spacing where air times are whole ticks apart (25 fps frames are 3 600; at 29.97 fps a
  tick may be lost or gained, never more); at a splice the next asset's first picture follows
  the last one's by a frame.
* **Continuity counters.** Each PID's counters run 0…15 in every segment, any number of times:
  a PID whose payload packets are not a multiple of 16 gets more of them, by splitting a packet's
  payload over two (adaptation-field stuffing takes up the room; ISO/IEC 13818-1 §2.4.3.5) or,
  for a table that fits one packet, repeating it. So every segment starts where any segment ends,
  whichever asset, rung or stand-in comes next, with no state to carry from one to the other and
  no ``discontinuity_indicator`` (on the PCR's PID it would announce a new time base: the reset
  this rewrite exists to avoid). It costs up to 15 packets per PID, 7.5 on average.
* **Audio at splices.** The muxer hands each segment the audio from its video's decode time on,
  about 80 ms before its first picture, so segments of one asset join exactly, but a cut into the
  middle of an asset would overlap the audio before it and a cut out of one would leave a hole.
  ``cut_in`` drops the audio frames that start before the first picture (within half a frame);
  ``cut_out`` drops those starting after the last picture and fills what is missing up to it with
  silent frames (:mod:`rcmedia.media.aac`). Only the audio PES packets are rebuilt; pictures are
  never touched.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

from rcmedia.errors import MediaFormatError
from rcmedia.media.aac import SAMPLES_PER_FRAME, silent_frame
from rcmedia.media.timeshift import TICKS_PER_SECOND, shift_ts

log = logging.getLogger(__name__)

PACKET = 188
_SIZE = 184  # payload room of a packet without an adaptation field
_TS = "MPEG-TS segment"
_WRAP = 1 << 33
_FIRST_ELEMENTARY_PID = 0x20
_NULL_PID = 0x1FFF
_VIDEO_IDS = range(0xE0, 0xF0)
_AUDIO_IDS = range(0xC0, 0xE0)
_DEFAULT_FRAME_TICKS = 3600  # 25 fps, when a segment has a single picture
_ADTS_RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350)
_US_PER_SECOND = 1_000_000
_PES_ROOM = 0xFFFF - 8  # a PES packet's bytes after PES_packet_length, less our 8-byte header


def air_ticks(start_us: int) -> int:
    """The channel clock at ``start_us`` (µs since the Unix epoch): 90 kHz ticks, modulo 2^33.

    Rounded to the nearest tick; air times a whole number of 25 fps frames apart are exactly
    3 600 ticks a frame apart, so the segments of one airing stay exactly contiguous.
    """
    return (start_us * TICKS_PER_SECOND + _US_PER_SECOND // 2) // _US_PER_SECOND % _WRAP


def continuous_ts(data: bytes, *, at_ticks: int, cut_in: bool = False, cut_out: bool = False) -> bytes:
    """``data`` (one whole MPEG-TS segment) at its place in the channel's stream (module docstring).

    ``at_ticks``: the channel clock when its first picture is on air (:func:`air_ticks`).
    ``cut_in``/``cut_out``: the segment before/after it in the stream is not its asset's.
    Raises :class:`MediaFormatError` when ``data`` is not whole packets in sync, or a header
    the rewrite needs cannot be read.
    """
    segment = _Segment.read(data)
    if cut_in or cut_out:
        segment.cut_audio(cut_in=cut_in, cut_out=cut_out)
    segment.count_in_sixteens()
    body = segment.bytes_with_counters()
    return shift_ts(body, (at_ticks - segment.video_start) % _WRAP)


# --- reading --------------------------------------------------------------------------------


@dataclass(slots=True)
class _Pes:
    pid: int
    stream_id: int
    pts: int | None
    dts: int | None
    packets: list[int] = field(default_factory=list)  # indices into the segment's packets


@dataclass(slots=True)
class _Segment:
    packets: list[bytes | bytearray | memoryview]
    pids: list[int]
    pes: list[_Pes]
    video_pid: int | None
    audio_pid: int | None
    video_start: int  # the first picture's PTS (the lowest), in 90 kHz ticks
    video_end: int  # the last picture's PTS plus one frame

    @classmethod
    def read(cls, data: bytes) -> _Segment:
        count, rest = divmod(len(data), PACKET)
        if rest or not count:
            raise MediaFormatError(_TS, f"{len(data)} bytes is not a whole number of {PACKET}-byte packets")
        view = memoryview(data)
        if data[::PACKET].count(0x47) != count:
            lost = next(i for i, byte in enumerate(data[::PACKET]) if byte != 0x47)
            raise MediaFormatError(_TS, f"lost sync at packet {lost} (byte {lost * PACKET}): no 0x47 there")
        packets: list[bytes | bytearray | memoryview] = [
            view[i : i + PACKET] for i in range(0, len(data), PACKET)
        ]
        pids = [(high & 0x1F) << 8 | low for high, low in zip(data[1::PACKET], data[2::PACKET], strict=True)]
        pes: list[_Pes] = []
        open_pes: dict[int, _Pes] = {}
        for index, (packet, pid) in enumerate(zip(packets, pids, strict=True)):
            if pid < _FIRST_ELEMENTARY_PID or pid == _NULL_PID or not packet[3] & 0x10:
                continue
            if packet[1] & 0x40:
                start = _payload_start(packet, index)
                header = bytes(packet[start : start + 19])
                if header[:3] != b"\x00\x00\x01":
                    continue  # a table on an elementary-range PID (a PMT): not a PES
                found = _Pes(pid, header[3], *_pes_times(header, index))
                pes.append(found)
                open_pes[pid] = found
            found_pes = open_pes.get(pid)
            if found_pes is not None:
                found_pes.packets.append(index)
        video = [p for p in pes if p.stream_id in _VIDEO_IDS]
        audio = [p for p in pes if p.stream_id in _AUDIO_IDS]
        timed = [p.pts for p in video or audio if p.pts is not None]
        if not timed:
            raise MediaFormatError(_TS, "no picture or sound with a PTS: nothing to place on the clock")
        start = min(timed)
        stamps = sorted(set(timed))
        frame = min((b - a for a, b in itertools.pairwise(stamps)), default=_DEFAULT_FRAME_TICKS)
        return cls(
            packets=packets,
            pids=pids,
            pes=pes,
            video_pid=video[0].pid if video else None,
            audio_pid=audio[0].pid if audio else None,
            video_start=start,
            video_end=max(timed) + frame,
        )

    # --- audio at splices -------------------------------------------------------------------

    def cut_audio(self, *, cut_in: bool, cut_out: bool) -> None:
        """Keep the audio frames that start within half a frame of the pictures' span, and (with
        ``cut_out``) fill the rest of that span with silence; rebuild the audio PES packets."""
        if self.audio_pid is None or self.video_pid is None:
            return
        runs = [p for p in self.pes if p.pid == self.audio_pid and p.pts is not None]  # others stay
        frames = [_frames(self._payload(p), p) for p in runs]
        every = [f for run in frames for f in run]
        if not every:
            return
        half = every[0].ticks // 2
        low = self.video_start - half if cut_in else -(1 << 40)
        high = self.video_end - half if cut_out else 1 << 40
        kept_runs = [[f for f in run if low <= f.pts < high] for run in frames]
        filler = _silence(kept_runs, every, start=self.video_start, end=high) if cut_out else []
        if all(len(k) == len(f) for k, f in zip(kept_runs, frames, strict=True)) and not filler:
            return
        # each run's new PES takes its first packet's place; silence goes at the end
        replaced: dict[int, list[bytes]] = {}
        dropped: set[int] = set()
        for run, kept in zip(runs, kept_runs, strict=True):
            dropped.update(run.packets)
            if kept:
                replaced[run.packets[0]] = _packetised(self.audio_pid, run.stream_id, kept)
        packets: list[bytes | bytearray | memoryview] = []
        pids: list[int] = []
        for index, packet in enumerate(self.packets):
            if index in replaced:
                packets += replaced[index]
                pids += [self.audio_pid] * len(replaced[index])
            elif index not in dropped:
                packets.append(packet)
                pids.append(self.pids[index])
        if filler:
            tail = _packetised(self.audio_pid, runs[0].stream_id, filler)
            packets += tail
            pids += [self.audio_pid] * len(tail)
        self.packets, self.pids = packets, pids

    def _payload(self, pes: _Pes) -> bytes:
        """The PES packet's bytes after its header."""
        joined = b"".join(bytes(self.packets[i][_payload_start(self.packets[i], i) :]) for i in pes.packets)
        return joined[9 + joined[8] :]

    # --- continuity counters ----------------------------------------------------------------

    def count_in_sixteens(self) -> None:
        """Give every PID a multiple of 16 payload packets (module docstring)."""
        counts: dict[int, int] = {}
        for packet, pid in zip(self.packets, self.pids, strict=True):
            if packet[3] & 0x10:
                counts[pid] = counts.get(pid, 0) + 1
        elementary = {p.pid for p in self.pes}
        for pid, count in counts.items():
            missing = -count % 16
            if not missing or pid == _NULL_PID:
                continue
            if pid in elementary:
                self._split(pid, missing)
            else:
                self._repeat_table(pid, missing)

    def _split(self, pid: int, missing: int) -> None:
        """Split the fullest payloads of ``pid`` until it has ``missing`` more packets."""
        pieces: dict[int, list[bytes]] = {}
        # continuation packets first, the fullest first: a unit start keeps its PES header whole
        room = sorted(
            (bool(packet[1] & 0x40), -_payload_size(packet, index), index)
            for index, packet in enumerate(self.packets)
            if self.pids[index] == pid and packet[3] & 0x10
        )
        while missing:
            progress = False
            for _, _, index in room:
                if not missing:
                    break
                parts = pieces.get(index) or [bytes(self.packets[index])]
                widest = max(range(len(parts)), key=lambda k: _splittable(parts[k], index))
                if _splittable(parts[widest], index) < 2:
                    continue
                parts[widest : widest + 1] = _halves(parts[widest], index)
                pieces[index] = parts
                missing -= 1
                progress = True
            if not progress:  # payloads too small to split: this PID's counters jump after the segment
                log.warning("PID %#x: %d packets short of a multiple of 16 cannot be made up", pid, missing)
                break
        self._replace(pieces)

    def _repeat_table(self, pid: int, missing: int) -> None:
        """Repeat a one-packet table section of ``pid`` ``missing`` times, right after itself."""
        mine = [i for i, p in enumerate(self.pids) if p == pid and self.packets[i][3] & 0x10]
        first = mine[0]
        packet = self.packets[first]
        if not packet[1] & 0x40 or (len(mine) > 1 and not self.packets[mine[1]][1] & 0x40):
            return  # a section over several packets: not repeatable packet by packet
        copy = bytes(packet)
        self._replace({first: [copy] * (missing + 1)})

    def _replace(self, pieces: dict[int, list[bytes]]) -> None:
        packets: list[bytes | bytearray | memoryview] = []
        pids: list[int] = []
        for index, packet in enumerate(self.packets):
            parts = pieces.get(index)
            if parts is None:
                packets.append(packet)
                pids.append(self.pids[index])
            else:
                packets += parts
                pids += [self.pids[index]] * len(parts)
        self.packets, self.pids = packets, pids

    def bytes_with_counters(self) -> bytes:
        """The packets, each PID's continuity counters counted from 0 (a packet without payload
        repeats the counter before it, §2.4.3.3)."""
        out = bytearray(b"".join(self.packets))
        counter: dict[int, int] = {}
        flags = out[3::PACKET]
        fixed = bytearray(len(flags))
        for n, (pid, byte) in enumerate(zip(self.pids, flags, strict=True)):
            if pid == _NULL_PID:
                fixed[n] = byte
                continue
            value = counter.get(pid, -1)
            if byte & 0x10:
                value = (value + 1) & 0x0F
                counter[pid] = value
            fixed[n] = (byte & 0xF0) | (value & 0x0F)
        out[3::PACKET] = fixed
        return bytes(out)


# --- packets --------------------------------------------------------------------------------


def _payload_start(packet: bytes | bytearray | memoryview, index: int) -> int:
    if not packet[3] & 0x20:
        return 4
    start = 5 + packet[4]
    if start > PACKET:
        raise MediaFormatError(
            _TS, f"packet {index}: adaptation_field_length {packet[4]} overruns the packet"
        )
    return start


def _payload_size(packet: bytes | bytearray | memoryview, index: int) -> int:
    return PACKET - _payload_start(packet, index) if packet[3] & 0x10 else 0


def _kept_whole(packet: bytes | bytearray | memoryview, index: int) -> int:
    """Payload bytes a split must leave in the first part: a unit start's PES header."""
    if not packet[1] & 0x40:
        return 0
    start = _payload_start(packet, index)
    return 9 + packet[start + 8] if start + 9 <= PACKET else PACKET


def _splittable(packet: bytes | bytearray | memoryview, index: int) -> int:
    """How many payload bytes of ``packet`` a split may share out."""
    return _payload_size(packet, index) - _kept_whole(packet, index)


def _halves(packet: bytes, index: int) -> list[bytes]:
    """``packet`` as two packets sharing its payload: the first keeps its header, adaptation
    field (stuffed longer) and any PES header; the second continues the PES (no unit start)."""
    start = _payload_start(packet, index)
    payload = packet[start:]
    whole = _kept_whole(packet, index)
    cut = whole + (len(payload) - whole) // 2
    head = packet[:4]
    fields = packet[5:start] if packet[3] & 0x20 else b""
    first = _build(head, fields, payload[:cut])
    second = _build(bytes((head[0], head[1] & 0xBF, head[2], head[3])), b"", payload[cut:])
    return [first, second]


def _build(head: bytes | memoryview, fields: bytes | memoryview, payload: bytes | memoryview) -> bytes:
    """A packet of ``payload`` after an adaptation field of ``fields`` (flags first; none:
    stuffing only), stuffed with 0xFF to 188 bytes (§2.4.3.5)."""
    length = _SIZE - 1 - len(payload)  # adaptation_field_length
    if not fields and length < 0:
        return bytes((head[0], head[1], head[2], (head[3] & 0xCF) | 0x10)) + bytes(payload)
    if length < len(fields):
        raise MediaFormatError(_TS, "a payload and its adaptation field do not fit one packet")
    if not fields and length:
        fields = b"\x00"  # adaptation field flags: none
    stuffing = b"\xff" * (length - len(fields))
    return (
        bytes((head[0], head[1], head[2], (head[3] & 0xCF) | 0x30, length))
        + bytes(fields)
        + stuffing
        + bytes(payload)
    )


def _packetised(pid: int, stream_id: int, frames: list[_Frame]) -> list[bytes]:
    """``frames`` as PES packets of whole frames, each under the 64 KiB a PES_packet_length
    counts (only video may leave it 0, §2.4.3.7), in TS packets of ``pid``."""
    out: list[bytes] = []
    run: list[_Frame] = []
    size = 0
    for frame in frames:
        if run and size + len(frame.data) > _PES_ROOM:
            out += _packetise(pid, stream_id, run)
            run, size = [], 0
        run.append(frame)
        size += len(frame.data)
    if run:
        out += _packetise(pid, stream_id, run)
    return out


def _packetise(pid: int, stream_id: int, frames: list[_Frame]) -> list[bytes]:
    """One PES packet of ``frames`` (PTS of the first), in TS packets of ``pid``."""
    body = b"".join(f.data for f in frames)
    pts = frames[0].pts % _WRAP
    header = bytes(
        (
            0x80,  # '10', no scrambling, no priority, data_alignment 0, no copyright, copy
            0x80,  # PTS only
            5,
            0x21 | (pts >> 29 & 0x0E),
            pts >> 22 & 0xFF,
            0x01 | (pts >> 14 & 0xFE),
            pts >> 7 & 0xFF,
            0x01 | (pts << 1 & 0xFE),
        )
    )
    length = len(header) + len(body)
    pes = b"\x00\x00\x01" + bytes((stream_id,)) + length.to_bytes(2, "big") + header + body
    out = []
    for at in range(0, len(pes), _SIZE):
        start = 0x40 if at == 0 else 0
        head = bytes((0x47, start | (pid >> 8 & 0x1F), pid & 0xFF, 0x10))
        out.append(_build(head, b"", pes[at : at + _SIZE]))
    return out


def _pes_times(header: bytes, index: int) -> tuple[int | None, int | None]:
    if len(header) < 9 or header[3] in (0xBC, 0xBE, 0xBF, 0xF0, 0xF1, 0xF2, 0xF8, 0xFF):
        return None, None
    flags = header[7] >> 6
    if (flags & 0b10 and len(header) < 14) or (flags == 0b11 and len(header) < 19):
        raise MediaFormatError(_TS, f"packet {index}: the PES header's PTS/DTS do not fit in the packet")
    pts = _time(header[9:14]) if flags & 0b10 else None
    dts = _time(header[14:19]) if flags == 0b11 else pts
    return pts, dts


def _time(b: bytes) -> int:
    return (b[0] >> 1 & 0x07) << 30 | b[1] << 22 | (b[2] >> 1) << 15 | b[3] << 7 | b[4] >> 1


# --- ADTS -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Frame:
    pts: int
    ticks: int  # its duration in 90 kHz ticks
    channels: int
    data: bytes  # the whole ADTS frame, header included


def _frames(payload: bytes, pes: _Pes) -> list[_Frame]:
    """The ADTS frames of an audio PES payload, each with its PTS (the PES's PTS is its first's)."""
    if pes.pts is None:
        return []
    frames = []
    at = 0
    for frame in _adts_frames(payload):
        rate = _ADTS_RATES[frame[2] >> 2 & 0x0F] if (frame[2] >> 2 & 0x0F) < len(_ADTS_RATES) else 0
        if not rate:
            raise MediaFormatError(_TS, "an ADTS frame has a reserved sampling_frequency_index")
        blocks = (frame[6] & 0x03) + 1
        duration = blocks * SAMPLES_PER_FRAME
        channels = (frame[2] & 0x01) << 2 | frame[3] >> 6
        frames.append(
            _Frame(
                pts=pes.pts + at * TICKS_PER_SECOND // rate,
                ticks=duration * TICKS_PER_SECOND // rate,
                channels=channels,
                data=frame,
            )
        )
        at += duration
    return frames


def _adts_frames(payload: bytes) -> Iterator[bytes]:
    at = 0
    while at < len(payload):
        if at + 7 > len(payload) or payload[at] != 0xFF or payload[at + 1] & 0xF6 != 0xF0:
            raise MediaFormatError(_TS, f"the audio PES does not hold whole ADTS frames (byte {at})")
        length = (payload[at + 3] & 0x03) << 11 | payload[at + 4] << 3 | payload[at + 5] >> 5
        if length < 7 or at + length > len(payload):
            raise MediaFormatError(_TS, f"an ADTS frame of {length} bytes overruns its PES (byte {at})")
        yield payload[at : at + length]
        at += length


def _silence(kept_runs: list[list[_Frame]], every: list[_Frame], *, start: int, end: int) -> list[_Frame]:
    """Silent frames from the end of the kept audio (or ``start``) to ``end``, in the layout of
    the segment's audio; none for a layout without a silent frame (:func:`silent_frame`)."""
    kept = [f for run in kept_runs for f in run]
    template = (kept or every)[-1]
    silent = silent_frame(template.channels)
    if silent is None:
        return []
    frame = _adts(template.data, silent)
    at = kept[-1].pts + kept[-1].ticks if kept else start
    filler = []
    while at < end:
        filler.append(_Frame(pts=at, ticks=template.ticks, channels=template.channels, data=frame))
        at += template.ticks
    return filler


def _adts(template: bytes, raw: bytes) -> bytes:
    """An ADTS frame of ``raw`` (one raw_data_block), with ``template``'s header, no CRC."""
    length = 7 + len(raw)
    header = bytearray(template[:7])
    header[1] |= 0x01  # protection_absent: no CRC
    header[3] = (header[3] & 0xFC) | (length >> 11 & 0x03)
    header[4] = length >> 3 & 0xFF
    header[5] = (length & 0x07) << 5 | 0x1F  # and buffer fullness 0x7FF (variable rate)
    header[6] = 0xFC  # buffer fullness continued, one raw data block
    return bytes(header) + raw
