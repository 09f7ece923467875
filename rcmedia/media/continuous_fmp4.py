"""fMP4 segments rewritten onto the channel's one clock: each segment's times are its air time.

Every asset is packaged on its own, its timestamps starting near 0, so at each splice between
assets a player would see time jump back (and, without a discontinuity tag, stall or drop
frames). The origin rewrites each segment it airs so that its video starts at its air time in
microseconds since the Unix epoch: every ``tfdt`` (and the ``sidx`` and version 1 ``emsg`` times)
moves by the same number of seconds, so picture and sound stay as packaged.

The packager interleaves by decode time, so a segment's audio runs about 80 ms ahead of its
pictures: mid-asset segments cover [Vs − 80 ms, Ve − 80 ms). Consecutive segments of one asset
join exactly, but a cut into or out of the middle of an asset would overlap the audio (decode
times going back: "Non-monotonous DTS" in players) or leave a hole. At such a cut the audio is
trimmed to whole AAC frames within half a frame of the pictures, and where the cut-out leaves
it short, filled with frames of silence (:mod:`rcmedia.media.aac`). The MPEG-TS version of the
same rewrite is :mod:`rcmedia.media.continuous`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from fractions import Fraction

from rcmedia.errors import MediaFormatError
from rcmedia.media.aac import silent_frame
from rcmedia.media.fragment import (
    Defaults,
    Fragment,
    Run,
    Sample,
    TrackFragment,
    read_fragment,
    trex_defaults,
    write_fragment,
)
from rcmedia.media.timeshift import _boxes, _first, _fits, _shift_time, track_timescales

_MP4 = "fMP4 segment"
_MP4_INIT = "fMP4 init segment"
_US_PER_SECOND = 1_000_000
_AUDIO_ENTRY_CHANNELS = 16  # SampleEntry's 8 bytes, then AudioSampleEntry's reserved 2 × 32 bits (§12.2.3)


@dataclass(frozen=True, slots=True)
class Fmp4Tracks:
    """What the rewrite needs to know of an asset's tracks, read once from its init segment."""

    timescales: Mapping[int, int]  # track_ID -> media timescale
    video: int | None  # track_ID of the video track ('vide' handler)
    audio: int | None  # track_ID of the audio track ('soun' handler)
    audio_channels: int | None  # channelcount of an 'mp4a' entry: None for any other audio
    defaults: Mapping[int, Defaults] = field(default_factory=dict)  # trex sample defaults

    @classmethod
    def of(cls, init: bytes) -> Fmp4Tracks:
        """The tracks of ``init``; :class:`MediaFormatError` when it is not a well-formed init segment."""
        timescales = track_timescales(init)
        handlers: dict[bytes, int] = {}
        channels = None
        moov = _first(init, 0, len(init), b"moov", _MP4_INIT)
        for kind, _, payload, end in _boxes(init, *moov, _MP4_INIT) if moov else ():
            if kind != b"trak":
                continue
            track_id, handler, entry = _track(init, payload, end)
            handlers.setdefault(handler, track_id)
            if handler == b"soun" and handlers[handler] == track_id and entry is not None:
                kind_at, entry_payload, entry_end = entry
                if init[kind_at : kind_at + 4] == b"mp4a":
                    _fits(init, entry_payload + _AUDIO_ENTRY_CHANNELS + 2, entry_end, "mp4a", _MP4_INIT)
                    at = entry_payload + _AUDIO_ENTRY_CHANNELS
                    channels = int.from_bytes(init[at : at + 2], "big")
        return cls(
            timescales=timescales,
            video=handlers.get(b"vide"),
            audio=handlers.get(b"soun"),
            audio_channels=channels,
            defaults=trex_defaults(init),
        )


def continuous_fmp4(data: bytes, tracks: Fmp4Tracks, *, at_us: int, cut_in: bool, cut_out: bool) -> bytes:
    """``data``, one fMP4 media segment, moved so that its video starts at ``at_us`` (µs since the epoch).

    Every track moves by the same time S, rounded to a whole tick of every track's timescale
    (a multiple of 1 / gcd of them): segments of one asset whose ``at_us`` differ by their
    durations move alike and stay exactly contiguous. ``cut_in`` says the stream's previous
    segment is not this asset's previous one: audio samples starting more than half a frame
    before the pictures are dropped. ``cut_out`` says the next one is not this asset's next:
    audio from half a frame before the pictures' end is dropped, and silence appended until
    the audio reaches that point. The video is never touched. Without cuts (or when a cut
    changes no sample) only the time fields change, in place; otherwise the fragment is
    rebuilt. Raises :class:`MediaFormatError` for a malformed segment.
    """
    tops = list(_boxes(data, 0, len(data), _MP4))
    moofs = [(box, payload, end) for kind, box, payload, end in tops if kind == b"moof"]
    if not moofs:
        raise MediaFormatError(_MP4, "no moof box: this is not an fMP4 media segment")
    fragments = [read_fragment(data, *moof, tracks.defaults) for moof in moofs]
    trafs = [traf for fragment in fragments for traf in fragment.trafs]
    shift = _Shift.to_air(trafs, tracks, at_us)
    cut = _recut(fragments[0], tracks, cut_in=cut_in, cut_out=cut_out) if cut_in or cut_out else None
    moved = [
        replace(traf, decode_time=traf.decode_time + shift.ticks(_scale(tracks, traf))) for traf in trafs
    ]
    if any(traf.decode_time < 0 for traf in moved):
        raise MediaFormatError(_MP4, f"moved to {at_us} µs, a tfdt would fall before 0")
    overflow = any(traf.tfdt_version == 0 and traf.decode_time >= 1 << 32 for traf in moved)
    if cut is None and not overflow:
        return _shift_in_place(data, tops, moved, shift)
    return _rebuild(data, tops, fragments, shift, cut, tracks)


@dataclass(frozen=True, slots=True)
class _Shift:
    """A shift of ``units`` / ``per_second`` seconds, where ``per_second`` divides every track's timescale."""

    units: int
    per_second: int

    @classmethod
    def to_air(cls, trafs: list[TrackFragment], tracks: Fmp4Tracks, at_us: int) -> _Shift:
        reference = tracks.video if tracks.video is not None else tracks.audio
        first = next((traf for traf in trafs if traf.track_id == reference), None)
        if first is None:
            raise MediaFormatError(_MP4, f"no fragment of track {reference} (the init's video or audio)")
        per_second = math.gcd(*tracks.timescales.values())
        start = Fraction(first.decode_time, _scale(tracks, first))
        seconds = Fraction(at_us, _US_PER_SECOND) - start
        return cls(units=_nearest(seconds * per_second), per_second=per_second)

    def ticks(self, timescale: int) -> int:
        """The shift in ``timescale``: exact for a track's, else to the nearest tick (an emsg's)."""
        return _nearest(Fraction(self.units * timescale, self.per_second))


def _nearest(value: Fraction) -> int:
    """``value`` rounded half up: the same way whatever the parity (``round`` would round half to even)."""
    return math.floor(value + Fraction(1, 2))


def _scale(tracks: Fmp4Tracks, traf: TrackFragment) -> int:
    scale = tracks.timescales.get(traf.track_id)
    if not scale:
        raise MediaFormatError(
            _MP4,
            f"track {traf.track_id} is not in the init segment (its tracks: {sorted(tracks.timescales)})",
        )
    return scale


def _track(init: bytes, payload: int, end: int) -> tuple[int, bytes, tuple[int, int, int] | None]:
    """(track_ID, handler type, (type offset, payload start, end) of its first sample entry) of a trak."""
    tkhd = _first(init, payload, end, b"tkhd", _MP4_INIT)
    mdia = _first(init, payload, end, b"mdia", _MP4_INIT)
    hdlr = None if mdia is None else _first(init, *mdia, b"hdlr", _MP4_INIT)
    if tkhd is None or hdlr is None or mdia is None:
        raise MediaFormatError(_MP4_INIT, "a trak box lacks its tkhd or mdia/hdlr")
    _fits(init, hdlr[0] + 12, hdlr[1], "hdlr", _MP4_INIT)
    id_at = tkhd[0] + (20 if init[tkhd[0]] == 1 else 12)
    track_id = int.from_bytes(init[id_at : id_at + 4], "big")
    entry = None
    minf = _first(init, *mdia, b"minf", _MP4_INIT)
    stbl = None if minf is None else _first(init, *minf, b"stbl", _MP4_INIT)
    stsd = None if stbl is None else _first(init, *stbl, b"stsd", _MP4_INIT)
    if stsd is not None:
        _fits(init, stsd[0] + 8, stsd[1], "stsd", _MP4_INIT)
        for _, box, entry_payload, entry_end in _boxes(init, stsd[0] + 8, stsd[1], _MP4_INIT):
            entry = (box + 4, entry_payload, entry_end)
            break
    return track_id, init[hdlr[0] + 8 : hdlr[0] + 12], entry


@dataclass(frozen=True, slots=True)
class _Cut:
    """What a cut does to the audio traf: samples dropped at each end, silence appended after."""

    index: int  # of the audio traf in the fragment
    front: int
    back: int
    silence: tuple[Sample, ...]
    start_moved: int  # how far the audio's tfdt moves beyond the shift, in its ticks
    duration: int  # of the audio samples left


def _recut(fragment: Fragment, tracks: Fmp4Tracks, *, cut_in: bool, cut_out: bool) -> _Cut | None:
    """The first fragment's audio trimmed (and filled) to its pictures; None when nothing changes."""
    video = [traf for traf in fragment.trafs if traf.track_id == tracks.video]
    audio = [(index, traf) for index, traf in enumerate(fragment.trafs) if traf.track_id == tracks.audio]
    if not video or not audio:
        return None  # no pictures to align the sound to, or no sound
    if len(audio) > 1:
        raise MediaFormatError(_MP4, f"the fragment holds {len(audio)} trafs of audio track {tracks.audio}")
    index, traf = audio[0]
    durations = [sample.duration for sample in traf.samples]
    if not durations:
        return None
    counts = Counter(durations)
    # The frame: the most common duration (ties to the shorter, so the choice is deterministic).
    frame = min(counts, key=lambda duration: (-counts[duration], duration))
    half = Fraction(frame, 2)
    ratio = Fraction(_scale(tracks, traf), _scale(tracks, video[0]))
    pictures = sum(sample.duration for part in video for sample in part.samples)
    video_start = video[0].decode_time * ratio
    video_end = (video[0].decode_time + pictures) * ratio
    start, end = traf.decode_time, traf.decode_time + sum(durations)
    front = back = 0
    while cut_in and front < len(durations) and start < video_start - half:
        start += durations[front]
        front += 1
    while cut_out and front + back < len(durations) and end - durations[-1 - back] >= video_end - half:
        back += 1
        end -= durations[-back]
    silence: list[Sample] = []
    frame_bytes = silent_frame(tracks.audio_channels) if cut_out and tracks.audio_channels else None
    while frame_bytes is not None and frame > 0 and end < video_end - half:
        flags = traf.samples[-1].flags
        silence.append(Sample(duration=frame, flags=flags, composition_offset=0, data=frame_bytes))
        end += frame
    if not (front or back or silence):
        return None
    return _Cut(
        index=index,
        front=front,
        back=back,
        silence=tuple(silence),
        start_moved=start - traf.decode_time,
        duration=end - start,
    )


def _share(traf: TrackFragment, cut: _Cut) -> tuple[Run, ...]:
    """The traf's runs with the cut applied: the kept samples stay in their runs, silence ends the last."""
    total = len(traf.samples)
    runs = []
    first = 0
    for position, run in enumerate(traf.runs):
        keep = range(max(first, cut.front), min(first + len(run.samples), total - cut.back))
        samples = tuple(run.samples[index - first] for index in keep)
        if position == len(traf.runs) - 1:
            samples += cut.silence
        runs.append(replace(run, samples=samples))
        first += len(run.samples)
    return tuple(runs)


def _shift_in_place(
    data: bytes, tops: list[tuple[bytes, int, int, int]], moved: list[TrackFragment], shift: _Shift
) -> bytes:
    buf = bytearray(data)
    for traf in moved:
        size = 8 if traf.tfdt_version == 1 else 4
        buf[traf.tfdt_at : traf.tfdt_at + size] = traf.decode_time.to_bytes(size, "big")
    _shift_index_boxes(buf, tops, shift, {}, 0)
    return bytes(buf)


def _shift_index_boxes(
    buf: bytearray,
    tops: list[tuple[bytes, int, int, int]],
    shift: _Shift,
    audio: Mapping[int, tuple[int, _Cut]],
    grown: int,
) -> None:
    """Move each sidx and version 1 emsg in ``buf`` (laid out as ``tops``) by ``shift``.

    ``audio`` maps the track_ID whose samples a cut changed to (its timescale, the cut): its sidx
    moves with its start and takes its new duration. A sidx of one reference covers the fragment,
    which is now ``grown`` bytes longer.
    """
    for kind, _, payload, end in tops:
        if kind == b"sidx":  # version, flags, reference_ID, timescale, earliest_presentation_time, ...
            _fits(buf, payload + 12, end, "sidx")
            track_id, scale = (int.from_bytes(buf[payload + at : payload + at + 4], "big") for at in (4, 8))
            wide = buf[payload] == 1
            ticks = shift.ticks(scale)
            duration = None
            if track_id in audio:
                track_scale, cut = audio[track_id]
                # The packager's sidx may not equal the tfdt (ffmpeg's audio one is 80 ms on):
                # it moves as the audio's start does, so players that time by it see no jump.
                ticks += _nearest(Fraction(cut.start_moved * scale, track_scale))
                duration = _nearest(Fraction(cut.duration * scale, track_scale))
            _shift_time(buf, payload + 12, end, ticks, "sidx", wide=wide)
            if duration is not None or grown:
                _mend_sidx(buf, payload + (32 if wide else 24), end, grown, duration)
        elif kind == b"emsg" and buf[payload] == 1:  # version 1 carries an absolute time
            _fits(buf, payload + 8, end, "emsg")
            scale = int.from_bytes(buf[payload + 4 : payload + 8], "big")
            _shift_time(buf, payload + 8, end, shift.ticks(scale), "emsg", wide=True)


def _mend_sidx(buf: bytearray, at: int, end: int, grown: int, duration: int | None) -> None:
    """Its one reference's referenced_size grows by ``grown``; its subsegment_duration becomes ``duration``."""
    _fits(buf, at + 12, end, "sidx")
    count = int.from_bytes(buf[at - 2 : at], "big")  # reserved(16), reference_count(16)
    if count != 1:
        raise MediaFormatError(_MP4, f"a sidx with {count} references cannot follow a rebuilt fragment")
    word = int.from_bytes(buf[at : at + 4], "big")
    buf[at : at + 4] = (word & 0x80000000 | (word & 0x7FFFFFFF) + grown).to_bytes(4, "big")
    if duration is not None:
        buf[at + 4 : at + 8] = duration.to_bytes(4, "big")


def _rebuild(
    data: bytes,
    tops: list[tuple[bytes, int, int, int]],
    fragments: list[Fragment],
    shift: _Shift,
    cut: _Cut | None,
    tracks: Fmp4Tracks,
) -> bytes:
    """The segment with its one moof and mdat written anew, and the sidx and emsg boxes mended."""
    kinds = [kind for kind, *_ in tops]
    moofs = [index for index, kind in enumerate(kinds) if kind == b"moof"]
    if len(moofs) != 1 or kinds[moofs[0] + 1 : moofs[0] + 2] != [b"mdat"] or kinds.count(b"mdat") != 1:
        raise MediaFormatError(_MP4, "only a segment of one moof and its mdat right after can be rebuilt")
    (fragment,) = fragments
    trafs = list(fragment.trafs)
    audio: dict[int, tuple[int, _Cut]] = {}
    if cut is not None:
        traf = trafs[cut.index]
        trafs[cut.index] = replace(
            traf, decode_time=traf.decode_time + cut.start_moved, runs=_share(traf, cut)
        )
        audio[traf.track_id] = (_scale(tracks, traf), cut)
    trafs = [
        replace(traf, decode_time=traf.decode_time + shift.ticks(_scale(tracks, traf))) for traf in trafs
    ]
    rebuilt = write_fragment(replace(fragment, trafs=tuple(trafs)))
    moof_at, mdat_end = tops[moofs[0]][1], tops[moofs[0] + 1][3]
    out = bytearray(data[:moof_at] + rebuilt + data[mdat_end:])
    grown = len(rebuilt) - (mdat_end - moof_at)
    _shift_index_boxes(out, list(_boxes(out, 0, len(out), _MP4)), shift, audio, grown)
    return bytes(out)
