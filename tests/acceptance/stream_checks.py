"""What a client needs of a channel's segments across splices, checked on the downloaded bytes.

Pure Python, independent of rcmedia's own readers (:mod:`rcmedia.media.mpegts`,
:mod:`rcmedia.media.timeshift`) so that a bug there cannot hide itself. Each check returns a list of
problems, empty when the stream is right, so a failing test shows all of them at once.

A continuous stream (one channel clock) must have, across every segment boundary:

* MPEG-TS (ISO/IEC 13818-1 §2.4.3.3): per PID, continuity counters that go on (+1 mod 16 on a
  packet with payload, repeated on one without), PTS strictly increasing per elementary stream,
  DTS never going back, PCR strictly increasing;
* fMP4 (ISO/IEC 14496-12 §8.8.12): per track, a ``tfdt`` after the last sample of the segment
  before;
* at a splice, audio and video that start and end together, to within one AAC frame (1024
  samples): a player that follows the audio clock otherwise drops or repeats pictures there.
"""

from __future__ import annotations

import itertools
import re
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

TS_PACKET = 188
WRAP = 1 << 33  # PTS, DTS and the PCR base are 33-bit counts of a 90 kHz clock
HZ = 90_000
AAC_FRAME_SAMPLES = 1024
VIDEO_FRAME_S = 1 / 25  # the test ladders' frame rate
ADTS_RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350)


# -- MPEG-TS --------------------------------------------------------------------------------------


@dataclass(kw_only=True, slots=True)
class Pes:
    pid: int
    stream_id: int
    pts: int | None
    dts: int | None
    payload: bytearray = field(default_factory=bytearray)


@dataclass(kw_only=True, slots=True)
class TsSegment:
    """The parts of one MPEG-TS segment the checks read."""

    continuity: list[tuple[int, int, bool]]  # (pid, counter, has payload) in packet order
    pcrs: list[int]
    pes: list[Pes]

    def streams(self) -> dict[int, list[Pes]]:
        by_pid: dict[int, list[Pes]] = {}
        for pes in self.pes:
            by_pid.setdefault(pes.pid, []).append(pes)
        return by_pid


def _timestamp(b: bytes, at: int) -> int:
    return (
        ((b[at] >> 1) & 0x07) << 30
        | b[at + 1] << 22
        | (b[at + 2] >> 1) << 15
        | b[at + 3] << 7
        | b[at + 4] >> 1
    )


def read_ts(data: bytes) -> TsSegment:
    """Walk one segment's packets: continuity counters, PCRs and whole PES packets per PID."""
    if len(data) % TS_PACKET:
        raise ValueError(f"{len(data)} bytes is not a whole number of 188-byte packets")
    segment = TsSegment(continuity=[], pcrs=[], pes=[])
    open_pes: dict[int, Pes] = {}
    for at in range(0, len(data), TS_PACKET):
        packet = data[at : at + TS_PACKET]
        if packet[0] != 0x47:
            raise ValueError(f"packet {at // TS_PACKET}: no sync byte")
        pid = (packet[1] & 0x1F) << 8 | packet[2]
        if pid == 0x1FFF:
            continue  # null packets carry no counter that means anything
        start = bool(packet[1] & 0x40)
        control = (packet[3] >> 4) & 0x3
        has_payload = bool(control & 0x1)
        segment.continuity.append((pid, packet[3] & 0x0F, has_payload))
        body = 4
        if control & 0x2:
            length = packet[4]
            if length and packet[5] & 0x10:  # PCR flag
                base = packet[6] << 25 | packet[7] << 17 | packet[8] << 9 | packet[9] << 1 | packet[10] >> 7
                segment.pcrs.append(base)
            body = 5 + length
        if not has_payload or body >= TS_PACKET:
            continue
        payload = packet[body:]
        if start and payload[:3] == b"\x00\x00\x01":
            flags, header_length = payload[7], payload[8]
            pts = _timestamp(payload, 9) if flags & 0x80 else None
            dts = _timestamp(payload, 14) if flags & 0xC0 == 0xC0 else pts
            pes = Pes(pid=pid, stream_id=payload[3], pts=pts, dts=dts)
            pes.payload += payload[9 + header_length :]
            open_pes[pid] = pes
            segment.pes.append(pes)
        elif pid in open_pes and not start:
            open_pes[pid].payload += payload
    return segment


def adts_frames(payload: bytes) -> tuple[int, int]:
    """(frames, sample rate) of the ADTS frames that make up an audio PES payload."""
    frames, at, rate = 0, 0, 48000
    while at + 7 <= len(payload):
        if payload[at] != 0xFF or payload[at + 1] & 0xF6 != 0xF0:
            raise ValueError(f"no ADTS sync word at byte {at} of an audio PES")
        rate = ADTS_RATES[(payload[at + 2] >> 2) & 0x0F]
        length = (payload[at + 3] & 0x03) << 11 | payload[at + 4] << 3 | payload[at + 5] >> 5
        frames += (payload[at + 6] & 0x03) + 1
        at += length
    return frames, rate


def _is_video(pes: Pes) -> bool:
    return 0xE0 <= pes.stream_id <= 0xEF


def _is_audio(pes: Pes) -> bool:
    return 0xC0 <= pes.stream_id <= 0xDF


def unwrap(value: int, reference: int) -> int:
    """``value`` moved by whole 2^33 wraps to lie within half a wrap of ``reference``."""
    return value + round((reference - value) / WRAP) * WRAP


@dataclass(frozen=True, kw_only=True, slots=True)
class Span:
    """Where a segment's audio and video start and end, in seconds of its own clock."""

    video_start: float
    video_end: float
    audio_start: float
    audio_end: float


def ts_span(segment: TsSegment, *, video_frame_s: float = VIDEO_FRAME_S) -> Span:
    video = [p.pts for p in segment.pes if _is_video(p) and p.pts is not None]
    audio = [p for p in segment.pes if _is_audio(p) and p.pts is not None]
    if not video or not audio:
        raise ValueError("a segment without both audio and video")
    first = video[0]
    video = [unwrap(v, first) for v in video]
    starts = [unwrap(p.pts, first) for p in audio if p.pts is not None]
    frames, rate = adts_frames(bytes(audio[-1].payload))
    return Span(
        video_start=min(video) / HZ,
        video_end=max(video) / HZ + video_frame_s,
        audio_start=starts[0] / HZ,
        audio_end=starts[-1] / HZ + frames * AAC_FRAME_SAMPLES / rate,
    )


def check_ts_continuity(bodies: Sequence[bytes], names: Sequence[str] | None = None) -> list[str]:
    """Problems with counters, PTS, DTS and PCR across the boundaries of ``bodies`` (segments in
    playlist order) and within them; ``names`` (the URIs) label the problems."""
    labels = list(names) if names is not None else [f"segment {n}" for n in range(len(bodies))]
    segments = [read_ts(body) for body in bodies]
    problems: list[str] = []
    counters: dict[int, tuple[int, bool]] = {}
    last_pcr: int | None = None
    last_pts: dict[int, int] = {}  # per PID, the latest PTS so far (unwrapped)
    last_dts: dict[int, int] = {}
    for segment, label in zip(segments, labels, strict=True):
        seen: set[int] = set()
        reported: set[int] = set()
        for pid, counter, has_payload in segment.continuity:
            if pid in counters and pid not in reported:
                previous, _ = counters[pid]
                expected = (previous + 1) % 16 if has_payload else previous
                if counter != expected:
                    where = "in the segment" if pid in seen else "across the boundary"
                    problems.append(
                        f"{label}: PID {pid:#x} continuity counter {counter}, expected {expected} ({where})"
                    )
                    reported.add(pid)  # one per PID and segment: the rest follow from it
            counters[pid] = (counter, has_payload)
            seen.add(pid)
        jumped = False
        for pcr in segment.pcrs:
            value = pcr if last_pcr is None else unwrap(pcr, last_pcr)
            if last_pcr is not None and value <= last_pcr and not jumped:
                problems.append(f"{label}: PCR {value / HZ:.3f} s after {last_pcr / HZ:.3f} s")
                jumped = True  # once per segment; and the next segments are read from here on
            last_pcr = value
        for pid, stream in segment.streams().items():
            stamped = [p for p in stream if p.pts is not None and p.dts is not None]
            if not stamped:
                continue
            reference = last_pts.get(pid, stamped[0].pts or 0)
            pts = [unwrap(p.pts or 0, reference) for p in stamped]
            dts = [unwrap(p.dts or 0, reference) for p in stamped]
            if pid in last_pts and min(pts) <= last_pts[pid]:
                problems.append(
                    f"{label}: PID {pid:#x} first PTS {min(pts) / HZ:.3f} s is not after the "
                    f"previous segment's last {last_pts[pid] / HZ:.3f} s"
                )
            if pid in last_dts and dts[0] < last_dts[pid]:
                problems.append(
                    f"{label}: PID {pid:#x} DTS goes back from {last_dts[pid] / HZ:.3f} s to {dts[0] / HZ:.3f} s"
                )
            for a, b in itertools.pairwise(dts):
                if b < a:
                    problems.append(f"{label}: PID {pid:#x} DTS goes back inside the segment")
                    break
            last_pts[pid], last_dts[pid] = max(pts), dts[-1]
    return problems


def check_meeting(spans: Sequence[Span], splices: Sequence[bool], names: Sequence[str]) -> list[str]:
    """At every splice (``splices[k]``: segment k starts a new piece) the piece before ends and the
    piece after starts with audio and video within one AAC frame of each other."""
    problems = []
    for k, spliced in enumerate(splices):
        if not spliced or k == 0:
            continue
        before, after = spans[k - 1], spans[k]
        tolerance = AAC_FRAME_SAMPLES / 48000 + 1e-6
        if abs(before.audio_end - before.video_end) > tolerance:
            problems.append(
                f"{names[k - 1]}: audio ends {1000 * (before.audio_end - before.video_end):+.1f} ms from the "
                f"video at the splice"
            )
        if abs(after.audio_start - after.video_start) > tolerance:
            problems.append(
                f"{names[k]}: audio starts {1000 * (after.audio_start - after.video_start):+.1f} ms from the "
                f"video at the splice"
            )
    return problems


def check_ts(bodies: Sequence[bytes], splices: Sequence[bool], names: Sequence[str]) -> list[str]:
    """Every MPEG-TS check on segments in playlist order."""
    spans = [ts_span(read_ts(body)) for body in bodies]
    return check_ts_continuity(bodies, names) + check_meeting(spans, splices, names)


# -- fMP4 -----------------------------------------------------------------------------------------


def boxes(data: bytes, start: int = 0, end: int | None = None) -> Iterator[tuple[bytes, int, int]]:
    """(type, body start, box end) of the boxes in ``data[start:end]``."""
    end = len(data) if end is None else end
    at = start
    while at + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, at)
        header = 8
        if size == 1:
            (size,) = struct.unpack_from(">Q", data, at + 8)
            header = 16
        elif size == 0:
            size = end - at
        if size < header or at + size > end:
            raise ValueError(f"box {kind!r} at byte {at} runs past its parent")
        yield kind, at + header, at + size
        at += size


def _child(data: bytes, start: int, end: int, *path: bytes) -> tuple[int, int] | None:
    for kind, body, stop in boxes(data, start, end):
        if kind == path[0]:
            return (body, stop) if len(path) == 1 else _child(data, body, stop, *path[1:])
    return None


@dataclass(frozen=True, kw_only=True, slots=True)
class Track:
    handler: bytes  # b"vide" or b"soun"
    timescale: int
    default_duration: int  # trex
    media_time: int  # the edit list's first media time: what presentation time 0 is


def read_init(init: bytes) -> dict[int, Track]:
    """Tracks of an init segment by id."""
    moov = _child(init, 0, len(init), b"moov")
    if moov is None:
        raise ValueError("an init segment without moov")
    defaults: dict[int, int] = {}
    mvex = _child(init, *moov, b"mvex")
    if mvex is not None:
        for kind, body, _ in boxes(init, *mvex):
            if kind == b"trex":
                track_id, _index, duration = struct.unpack_from(">III", init, body + 4)
                defaults[track_id] = duration
    tracks = {}
    for kind, body, stop in boxes(init, *moov):
        if kind != b"trak":
            continue
        tkhd = _child(init, body, stop, b"tkhd")
        mdhd = _child(init, body, stop, b"mdia", b"mdhd")
        hdlr = _child(init, body, stop, b"mdia", b"hdlr")
        if tkhd is None or mdhd is None or hdlr is None:
            raise ValueError("a trak without tkhd, mdhd or hdlr")
        version = init[tkhd[0]]
        track_id = struct.unpack_from(">I", init, tkhd[0] + (20 if version else 12))[0]
        version = init[mdhd[0]]
        timescale = struct.unpack_from(">I", init, mdhd[0] + (20 if version else 12))[0]
        media_time = 0
        elst = _child(init, body, stop, b"edts", b"elst")
        if elst is not None:
            version = init[elst[0]]
            for n in range(struct.unpack_from(">I", init, elst[0] + 4)[0]):
                at = elst[0] + 8 + n * (20 if version else 12)
                value = struct.unpack_from(">q" if version else ">i", init, at + (8 if version else 4))[0]
                if value >= 0:
                    media_time = value
                    break
        tracks[track_id] = Track(
            handler=init[hdlr[0] + 8 : hdlr[0] + 12],
            timescale=timescale,
            default_duration=defaults.get(track_id, 0),
            media_time=media_time,
        )
    return tracks


@dataclass(frozen=True, kw_only=True, slots=True)
class Run:
    """One track's samples in one segment, in its timescale."""

    decode_start: int  # tfdt
    decode_end: int  # tfdt + the samples' durations
    last_decode: int  # the last sample's decode time
    presentation_start: int
    presentation_end: int


def read_fragments(segment: bytes, tracks: dict[int, Track]) -> dict[int, Run]:
    """Per track id, the decode and presentation range of the segment's samples (all its moofs)."""
    found: dict[int, list[tuple[int, int, int, int, int]]] = {}
    for kind, body, stop in boxes(segment):
        if kind != b"moof":
            continue
        for traf_kind, traf, traf_end in boxes(segment, body, stop):
            if traf_kind != b"traf":
                continue
            tfhd = _child(segment, traf, traf_end, b"tfhd")
            tfdt = _child(segment, traf, traf_end, b"tfdt")
            if tfhd is None or tfdt is None:
                raise ValueError("a traf without tfhd or tfdt")
            flags = int.from_bytes(segment[tfhd[0] + 1 : tfhd[0] + 4], "big")
            track_id = struct.unpack_from(">I", segment, tfhd[0] + 4)[0]
            at = tfhd[0] + 8 + (8 if flags & 0x1 else 0) + (4 if flags & 0x2 else 0)
            default = tracks[track_id].default_duration
            if flags & 0x8:
                default = struct.unpack_from(">I", segment, at)[0]
            version = segment[tfdt[0]]
            decode = struct.unpack_from(">Q" if version else ">I", segment, tfdt[0] + 4)[0]
            start, pts_lo, pts_hi, last_decode = decode, None, None, decode
            for run_kind, run, _ in boxes(segment, traf, traf_end):
                if run_kind != b"trun":
                    continue
                version = segment[run]
                run_flags = int.from_bytes(segment[run + 1 : run + 4], "big")
                count = struct.unpack_from(">I", segment, run + 4)[0]
                at = run + 8 + (4 if run_flags & 0x1 else 0) + (4 if run_flags & 0x4 else 0)
                for _ in range(count):
                    duration, offset = default, 0
                    if run_flags & 0x100:
                        duration = struct.unpack_from(">I", segment, at)[0]
                        at += 4
                    at += 4 if run_flags & 0x200 else 0
                    at += 4 if run_flags & 0x400 else 0
                    if run_flags & 0x800:
                        offset = struct.unpack_from(">i" if version else ">I", segment, at)[0]
                        at += 4
                    pts = decode + offset
                    pts_lo = pts if pts_lo is None else min(pts_lo, pts)
                    pts_hi = pts + duration if pts_hi is None else max(pts_hi, pts + duration)
                    last_decode = decode
                    decode += duration
            found.setdefault(track_id, []).append(
                (start, decode, pts_lo or start, pts_hi or decode, last_decode)
            )
    return {
        track: Run(
            decode_start=runs[0][0],
            decode_end=runs[-1][1],
            last_decode=runs[-1][4],
            presentation_start=min(r[2] for r in runs),
            presentation_end=max(r[3] for r in runs),
        )
        for track, runs in found.items()
    }


def fmp4_span(init: bytes, segment: bytes) -> Span:
    tracks = read_init(init)
    runs = read_fragments(segment, tracks)
    spans = {}
    for track_id, run in runs.items():
        track = tracks[track_id]
        spans[track.handler] = (
            (run.presentation_start - track.media_time) / track.timescale,
            (run.presentation_end - track.media_time) / track.timescale,
        )
    if b"vide" not in spans or b"soun" not in spans:
        raise ValueError(f"a segment without both audio and video: {sorted(spans)}")
    return Span(
        video_start=spans[b"vide"][0],
        video_end=spans[b"vide"][1],
        audio_start=spans[b"soun"][0],
        audio_end=spans[b"soun"][1],
    )


def check_fmp4(
    pairs: Sequence[tuple[bytes, bytes]], splices: Sequence[bool], names: Sequence[str]
) -> list[str]:
    """Every fMP4 check on (init, segment) pairs in playlist order: per track, each ``tfdt`` after
    the previous segment's last sample's (decode times strictly increasing; at a splice the sound
    may overlap by less than that sample, as whole AAC frames must), and audio and video meeting
    at splices."""
    problems: list[str] = []
    last: dict[bytes, tuple[int, int]] = {}  # handler: (last sample's decode time, timescale)
    for (init, segment), name in zip(pairs, names, strict=True):
        tracks = read_init(init)
        for track_id, run in read_fragments(segment, tracks).items():
            track = tracks[track_id]
            previous = last.get(track.handler)
            if previous is not None:
                at, scale = previous
                if run.decode_start * scale <= at * track.timescale:
                    problems.append(
                        f"{name}: {track.handler.decode()} tfdt {run.decode_start / track.timescale:.3f} s is "
                        f"not after the previous segment's last sample {at / scale:.3f} s"
                    )
            last[track.handler] = (run.last_decode, track.timescale)
    spans = [fmp4_span(init, segment) for init, segment in pairs]
    return problems + check_meeting(spans, splices, names)


# -- playlists and logs ---------------------------------------------------------------------------

ASSET_IN_URI = re.compile(r"/assets/(\d+)/")


def asset_of(uri: str) -> int | None:
    found = ASSET_IN_URI.search(uri)
    return int(found.group(1)) if found else None


def splice_marks(uris: Sequence[str], discontinuities: Sequence[bool]) -> list[bool]:
    """Per segment, whether it starts a new piece: another asset than the segment before, or an
    ``EXT-X-DISCONTINUITY`` before it (a slate piece after another piece of the slate)."""
    marks = []
    for k, uri in enumerate(uris):
        marks.append(k > 0 and (discontinuities[k] or asset_of(uri) != asset_of(uris[k - 1])))
    return marks


# What ffmpeg says when timestamps or counters jump (libavformat/mpegts.c, demux.c, mux.c)
FFMPEG_COMPLAINT = re.compile(
    r"non[- ]monoton|Packet corrupt|corrupt input packet|Continuity check failed|"
    r"timestamp discontinuity|^\[(?:warning|error|fatal|panic)\]|\[(?:warning|error|fatal|panic)\]",
    re.IGNORECASE,
)


def ffmpeg_complaints(log: str) -> list[str]:
    """Lines of an ffmpeg log (run with ``-loglevel level+info``) that complain."""
    return [line for line in log.splitlines() if FFMPEG_COMPLAINT.search(line)]
