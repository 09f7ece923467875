"""A movie fragment (ISO/IEC 14496-12 §8.8) read into its samples, and written back.

A rewrite that drops or adds samples must mend everything that points into the fragment: each
trun's sample_count, entries and data_offset, and the sizes of trun, traf, moof and mdat. Reading
the fragment into runs of samples and writing it out whole does all of that in one place. The
boxes are walked with :mod:`rcmedia.media.timeshift`'s reader, the one ISO-BMFF reader for
segments.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from rcmedia.errors import MediaFormatError
from rcmedia.media.timeshift import _boxes, _fits

_MP4 = "fMP4 segment"

# tfhd flags (§8.8.7.1)
_BASE_DATA_OFFSET = 0x000001
_DESCRIPTION_INDEX = 0x000002
_DEFAULT_DURATION = 0x000008
_DEFAULT_SIZE = 0x000010
_DEFAULT_FLAGS = 0x000020
_BASE_IS_MOOF = 0x020000
# trun flags (§8.8.8.1)
_DATA_OFFSET = 0x000001
_FIRST_FLAGS = 0x000004
_DURATIONS = 0x000100
_SIZES = 0x000200
_FLAGS = 0x000400
_OFFSETS = 0x000800


@dataclass(frozen=True, kw_only=True, slots=True)
class Defaults:
    """A track's sample defaults from its ``trex`` (§8.8.3); a tfhd may override each."""

    duration: int = 0
    size: int = 0
    flags: int = 0


@dataclass(frozen=True, kw_only=True, slots=True)
class Sample:
    duration: int
    flags: int
    composition_offset: int
    data: bytes


@dataclass(frozen=True, kw_only=True, slots=True)
class Run:
    """One trun: its version and flags, and its samples with their bytes."""

    version: int
    flags: int
    first_sample_flags: int | None
    samples: tuple[Sample, ...]
    data_start: int  # where its bytes lay in the segment: the new mdat keeps the runs in this order


@dataclass(frozen=True, kw_only=True, slots=True)
class TrackFragment:
    """One traf. ``tfdt_at`` is the byte of the decode time's field in the segment (for a shift in place)."""

    track_id: int
    tfhd: bytes  # the whole box, written back as it is
    tfhd_flags: int
    defaults: Defaults  # what applies to a sample whose trun omits a field (tfhd, else trex)
    decode_time: int
    tfdt_version: int
    tfdt_at: int
    runs: tuple[Run, ...]
    others: tuple[str, ...]  # the kinds of any other child box, which a rebuild cannot mend

    @property
    def samples(self) -> list[Sample]:
        return [sample for run in self.runs for sample in run.samples]


@dataclass(frozen=True, kw_only=True, slots=True)
class Fragment:
    mfhd: bytes  # the whole box: the sequence_number stays
    trafs: tuple[TrackFragment, ...]
    others: tuple[str, ...]


def trex_defaults(init: bytes) -> dict[int, Defaults]:
    """{track_ID: sample defaults} from the ``moov/mvex/trex`` boxes of an init segment."""
    found: dict[int, Defaults] = {}
    for kind, _, payload, end in _boxes(init, 0, len(init), "fMP4 init segment"):
        if kind != b"moov":
            continue
        for mvex_kind, _, mvex, mvex_end in _boxes(init, payload, end, "fMP4 init segment"):
            if mvex_kind != b"mvex":
                continue
            for trex_kind, _, trex, trex_end in _boxes(init, mvex, mvex_end, "fMP4 init segment"):
                if trex_kind == b"trex":
                    _fits(init, trex + 24, trex_end, "trex", "fMP4 init segment")
                    track_id, _, duration, size, flags = _words(init, trex + 4, 5)
                    found[track_id] = Defaults(duration=duration, size=size, flags=flags)
    return found


def read_fragment(data: bytes, moof: int, payload: int, end: int, trex: Mapping[int, Defaults]) -> Fragment:
    """The moof box at ``data[moof:end]`` (payload from ``payload``) with its samples' bytes."""
    mfhd = b""
    trafs: list[TrackFragment] = []
    others: list[str] = []
    for kind, start, child, child_end in _boxes(data, payload, end, _MP4):
        if kind == b"mfhd":
            mfhd = data[start:child_end]
        elif kind == b"traf":
            trafs.append(_read_traf(data, moof, child, child_end, trex))
        else:
            others.append(kind.decode("latin-1"))
    if not mfhd:
        raise MediaFormatError(_MP4, f"the moof at byte {moof} has no mfhd")
    return Fragment(mfhd=mfhd, trafs=tuple(trafs), others=tuple(others))


def write_fragment(fragment: Fragment) -> bytes:
    """The moof and mdat boxes for ``fragment``: each run's bytes in the mdat in ``data_start`` order."""
    for traf in fragment.trafs:
        if traf.others:
            raise MediaFormatError(
                _MP4,
                f"the fragment of track {traf.track_id} holds {', '.join(traf.others)}: it cannot be rebuilt",
            )
        if traf.tfhd_flags & _BASE_DATA_OFFSET or not traf.tfhd_flags & _BASE_IS_MOOF:
            raise MediaFormatError(
                _MP4,
                f"the fragment of track {traf.track_id} does not count its data from the moof: it cannot be rebuilt",
            )
    if fragment.others:
        raise MediaFormatError(_MP4, f"the moof holds {', '.join(fragment.others)}: it cannot be rebuilt")
    runs = sorted(
        (
            (run.data_start, index, position)
            for index, traf in enumerate(fragment.trafs)
            for position, run in enumerate(traf.runs)
        ),
    )
    payload: list[bytes] = []
    at: dict[tuple[int, int], int] = {}
    done = 0
    for _, index, position in runs:
        at[index, position] = done
        for sample in fragment.trafs[index].runs[position].samples:
            payload.append(sample.data)
            done += len(sample.data)
    moof_size = len(_moof(fragment, {}, 0))
    header = 8 if done + 8 < 1 << 32 else 16
    moof = _moof(fragment, at, moof_size + header)
    size = done + header
    mdat = (
        size.to_bytes(4, "big") + b"mdat"
        if header == 8
        else b"\x00\x00\x00\x01mdat" + size.to_bytes(8, "big")
    )
    return b"".join([moof, mdat, *payload])


def _read_traf(data: bytes, moof: int, start: int, end: int, trex: Mapping[int, Defaults]) -> TrackFragment:
    tfhd = tfdt = None
    truns: list[tuple[int, int]] = []
    others: list[str] = []
    for kind, box, payload, box_end in _boxes(data, start, end, _MP4):
        if kind == b"tfhd":
            tfhd = box, payload, box_end
        elif kind == b"tfdt":
            tfdt = payload, box_end
        elif kind == b"trun":
            truns.append((payload, box_end))
        else:
            others.append(kind.decode("latin-1"))
    if tfhd is None:
        raise MediaFormatError(_MP4, "a traf box has no tfhd")
    box, payload, box_end = tfhd
    _fits(data, payload + 8, box_end, "tfhd")
    flags = int.from_bytes(data[payload + 1 : payload + 4], "big")
    track_id = int.from_bytes(data[payload + 4 : payload + 8], "big")
    if tfdt is None:
        raise MediaFormatError(_MP4, f"the fragment of track {track_id} has no tfdt: its time is implicit")
    defaults, base = _tfhd_defaults(data, payload, box_end, flags, trex.get(track_id, Defaults()), moof)
    version = data[tfdt[0]]
    _fits(data, tfdt[0] + (12 if version == 1 else 8), tfdt[1], "tfdt")
    wide = 8 if version == 1 else 4
    return TrackFragment(
        track_id=track_id,
        tfhd=data[box:box_end],
        tfhd_flags=flags,
        defaults=defaults,
        decode_time=int.from_bytes(data[tfdt[0] + 4 : tfdt[0] + 4 + wide], "big"),
        tfdt_version=version,
        tfdt_at=tfdt[0] + 4,
        runs=tuple(_read_run(data, *trun, defaults, base, track_id) for trun in truns),
        others=tuple(others),
    )


def _tfhd_defaults(
    data: bytes, payload: int, end: int, flags: int, trex: Defaults, moof: int
) -> tuple[Defaults, int]:
    """The sample defaults a tfhd sets over the trex's, and the base its data offsets count from."""
    pos = payload + 8
    base = moof
    if flags & _BASE_DATA_OFFSET:
        _fits(data, pos + 8, end, "tfhd")
        base = int.from_bytes(data[pos : pos + 8], "big")
        pos += 8
    pos += 4 * bool(flags & _DESCRIPTION_INDEX)
    defaults = trex
    for flag, field in ((_DEFAULT_DURATION, "duration"), (_DEFAULT_SIZE, "size"), (_DEFAULT_FLAGS, "flags")):
        if flags & flag:
            _fits(data, pos + 4, end, "tfhd")
            defaults = replace(defaults, **{field: int.from_bytes(data[pos : pos + 4], "big")})
            pos += 4
    return defaults, base


def _read_run(data: bytes, payload: int, end: int, defaults: Defaults, base: int, track_id: int) -> Run:
    _fits(data, payload + 8, end, "trun")
    version = data[payload]
    flags = int.from_bytes(data[payload + 1 : payload + 4], "big")
    count = int.from_bytes(data[payload + 4 : payload + 8], "big")
    if not flags & _DATA_OFFSET:
        raise MediaFormatError(
            _MP4, f"a trun of track {track_id} has no data_offset: its data cannot be found"
        )
    _fits(data, payload + 12, end, "trun")
    pos = base + int.from_bytes(data[payload + 8 : payload + 12], "big", signed=True)
    at = payload + 12
    first_flags = None
    if flags & _FIRST_FLAGS:
        _fits(data, at + 4, end, "trun")
        first_flags = int.from_bytes(data[at : at + 4], "big")
        at += 4
    fields = [flag for flag in (_DURATIONS, _SIZES, _FLAGS, _OFFSETS) if flags & flag]
    _fits(data, at + 4 * len(fields) * count, end, "trun")
    samples = []
    data_start = pos
    for index in range(count):
        values = dict(zip(fields, _words(data, at, len(fields)), strict=True))
        at += 4 * len(fields)
        size = values.get(_SIZES, defaults.size)
        if pos < 0 or pos + size > len(data):
            raise MediaFormatError(
                _MP4, f"sample {index} of a trun of track {track_id} lies outside the segment"
            )
        offset = values.get(_OFFSETS, 0)
        if version and offset >= 1 << 31:  # signed in a version 1 trun
            offset -= 1 << 32
        flags_here = first_flags if index == 0 and first_flags is not None else defaults.flags
        samples.append(
            Sample(
                duration=values.get(_DURATIONS, defaults.duration),
                flags=values.get(_FLAGS, flags_here),
                composition_offset=offset,
                data=data[pos : pos + size],
            )
        )
        pos += size
    return Run(
        version=version,
        flags=flags,
        first_sample_flags=first_flags,
        samples=tuple(samples),
        data_start=data_start,
    )


def _moof(fragment: Fragment, at: Mapping[tuple[int, int], int], data_base: int) -> bytes:
    trafs = []
    for index, traf in enumerate(fragment.trafs):
        wide = traf.tfdt_version == 1 or traf.decode_time >= 1 << 32
        time = traf.decode_time.to_bytes(8 if wide else 4, "big")
        parts = [traf.tfhd, _box(b"tfdt", bytes([wide, 0, 0, 0]) + time)]
        parts += [
            _trun(run, traf.defaults, data_base + at.get((index, position), 0))
            for position, run in enumerate(traf.runs)
        ]
        trafs.append(_box(b"traf", b"".join(parts)))
    return _box(b"moof", fragment.mfhd + b"".join(trafs))


def _trun(run: Run, defaults: Defaults, data_offset: int) -> bytes:
    """A trun for ``run``: a per-sample field is written when the run had it or a default no longer fits."""
    samples = run.samples
    flags = run.flags
    if any(sample.duration != defaults.duration for sample in samples):
        flags |= _DURATIONS
    if any(len(sample.data) != defaults.size for sample in samples):
        flags |= _SIZES
    body = [bytes([run.version]) + flags.to_bytes(3, "big"), len(samples).to_bytes(4, "big")]
    body.append(data_offset.to_bytes(4, "big", signed=True))
    if run.first_sample_flags is not None:
        body.append(run.first_sample_flags.to_bytes(4, "big"))
    for sample in samples:
        values = {
            _DURATIONS: sample.duration,
            _SIZES: len(sample.data),
            _FLAGS: sample.flags,
            _OFFSETS: sample.composition_offset % (1 << 32),
        }
        body += [
            values[flag].to_bytes(4, "big") for flag in (_DURATIONS, _SIZES, _FLAGS, _OFFSETS) if flags & flag
        ]
    return _box(b"trun", b"".join(body))


def _box(kind: bytes, payload: bytes) -> bytes:
    return (8 + len(payload)).to_bytes(4, "big") + kind + payload


def _words(data: bytes, at: int, count: int) -> Iterable[int]:
    return (int.from_bytes(data[at + 4 * i : at + 4 * i + 4], "big") for i in range(count))
