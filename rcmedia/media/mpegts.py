"""MPEG-TS (ISO/IEC 13818-1) as far as the segment checks need it: packets, PAT and PMT, PES.

From the start of a segment: the bytes of the first PES packet of the H.264 stream, and the
first ADTS header (ISO/IEC 13818-7 §6.2) of the AAC stream. Reads past the end of the data raise
IndexError; callers turn that into a verification failure.
"""

from __future__ import annotations

from collections.abc import Iterator

from rcmedia.errors import VerificationError

TS_PACKET = 188
_TS_SYNC = 0x47
_STREAM_TYPE_H264 = 0x1B
_STREAM_TYPE_ADTS_AAC = 0x0F


def is_ts(data: bytes) -> bool:
    """Whether ``data`` starts like an MPEG-TS stream (a whole packet, opening on the sync byte)."""
    return len(data) >= TS_PACKET and data[0] == _TS_SYNC


def _packets(data: bytes) -> Iterator[tuple[int, bool, bytes]]:
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


def _elementary_pid(data: bytes, stream_type: int, kind: str) -> int:
    """The PID of the first stream of ``stream_type`` in the first programme's PMT."""
    pmt_pid: int | None = None
    for pid, unit_start, payload in _packets(data):
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


def _first_pes_payload(data: bytes, pid: int) -> bytes:
    """The elementary-stream bytes of the first PES packet on ``pid`` (as far as ``data`` goes)."""
    chunks: list[bytes] = []
    for packet_pid, unit_start, payload in _packets(data):
        if packet_pid != pid or not (chunks or unit_start):
            continue
        if unit_start and chunks:
            break
        chunks.append(payload)
    pes = b"".join(chunks)
    if not pes.startswith(b"\x00\x00\x01") or len(pes) < 9:
        raise VerificationError("MPEG-TS segment", f"no PES packet on PID {pid:#x}")
    return pes[9 + pes[8] :]  # after the fixed header and PES_header_data_length


def first_h264_payload(data: bytes) -> bytes:
    """The Annex B bytes of the first PES packet of the H.264 stream: its first access unit."""
    if not is_ts(data):
        raise VerificationError("MPEG-TS segment", "the data does not start with a TS sync byte (0x47)")
    return _first_pes_payload(data, _elementary_pid(data, _STREAM_TYPE_H264, "H.264 video"))


def first_adts_object_type(data: bytes) -> int:
    """The MPEG-4 audio object type the first ADTS header of the AAC stream declares."""
    pid = _elementary_pid(data, _STREAM_TYPE_ADTS_AAC, "ADTS AAC audio")
    adts = _first_pes_payload(data, pid)
    if len(adts) < 3 or adts[0] != 0xFF or adts[1] & 0xF6 != 0xF0:  # syncword, layer 0
        raise VerificationError("MPEG-TS segment", "the audio PES does not start with an ADTS header")
    return (adts[2] >> 6) + 1  # ADTS profile is the object type minus one


_ADTS_RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350)
_PTS_CLOCK = 90_000


def _pes_packets(data: bytes, pid: int) -> Iterator[bytes]:
    """Every whole PES packet on ``pid``: its bytes from the start code on."""
    chunks: list[bytes] = []
    for packet_pid, unit_start, payload in _packets(data):
        if packet_pid != pid:
            continue
        if unit_start:
            if chunks:
                yield b"".join(chunks)
            chunks = [payload]
        elif chunks:
            chunks.append(payload)
    if chunks:
        yield b"".join(chunks)


def _pts(pes: bytes) -> int | None:
    """The PES packet's PTS in 90 kHz ticks (ISO/IEC 13818-1 §2.4.3.7), if it has one."""
    if not pes.startswith(b"\x00\x00\x01") or not pes[7] & 0x80:
        return None
    b = pes[9:14]
    return (b[0] >> 1 & 0x07) << 30 | b[1] << 22 | (b[2] >> 1) << 15 | b[3] << 7 | b[4] >> 1


def _adts_frames(payload: bytes) -> tuple[int, int]:
    """(number of ADTS frames, sampling rate) in a PES payload of whole ADTS frames."""
    count, at, rate = 0, 0, 0
    while at + 7 <= len(payload) and payload[at] == 0xFF and payload[at + 1] & 0xF6 == 0xF0:
        rate = _ADTS_RATES[payload[at + 2] >> 2 & 0x0F]
        blocks = (payload[at + 6] & 0x03) + 1  # raw data blocks of 1024 samples each
        count += blocks
        at += (payload[at + 3] & 0x03) << 11 | payload[at + 4] << 3 | payload[at + 5] >> 5
    return count, rate


def video_pts_range(data: bytes) -> tuple[float, float]:
    """The lowest and highest PTS (seconds) of the H.264 pictures in a TS segment."""
    pid = _elementary_pid(data, _STREAM_TYPE_H264, "H.264 video")
    stamps = [pts for pes in _pes_packets(data, pid) if (pts := _pts(pes)) is not None]
    if not stamps:
        raise VerificationError("MPEG-TS segment", "the video has no presentation timestamps")
    return min(stamps) / _PTS_CLOCK, max(stamps) / _PTS_CLOCK


def audio_span(data: bytes) -> tuple[float, float]:
    """When the AAC audio of a TS segment starts and ends (seconds): its first PES packet's PTS,
    and its last one's plus the 1024-sample frames that packet carries (ISO/IEC 13818-7)."""
    pid = _elementary_pid(data, _STREAM_TYPE_ADTS_AAC, "ADTS AAC audio")
    packets = [(pts, pes) for pes in _pes_packets(data, pid) if (pts := _pts(pes)) is not None]
    if not packets:
        raise VerificationError("MPEG-TS segment", "the audio has no presentation timestamps")
    last_pts, last = packets[-1]
    frames, rate = _adts_frames(last[9 + last[8] :])
    if not rate:
        raise VerificationError("MPEG-TS segment", "the last audio PES does not hold ADTS frames")
    return packets[0][0] / _PTS_CLOCK, last_pts / _PTS_CLOCK + frames * 1024 / rate
