"""RFC 6381 codec strings of a variant that plays several encodings one after another (pure).

A live rung plays many assets; its CODECS must name a profile and level that every one of them
fits (RFC 8216bis §4.4.6.2: "every format present in any Media Segment"). For H.264 that is
``avc1.PPCCLL`` (RFC 6381 §3.3: profile_idc, the constraint flags, level_idc, in hex, as the
SPS declares them): the highest profile_idc, the highest level_idc, and only the constraint flags
that all of them set. Comparing the strings whole would rank Main 4.0 (``4d4028``) below High
3.0 (``64001e``) and advertise a level too low for the Main programme.
"""

from __future__ import annotations

from collections.abc import Iterable


def covering_codecs(codecs: Iterable[str]) -> str:
    """One CODECS value that covers every ``codecs`` value given (each comma-separated, RFC 6381).

    avc1 entries are merged as described above; any other entry is kept once, in the order first
    seen. Raises ValueError when nothing is given.
    """
    values = list(codecs)
    if not values:
        raise ValueError("no codecs to cover")
    avc: list[tuple[int, int, int]] = []
    others: list[str] = []
    for value in values:
        for entry in (part.strip() for part in value.split(",")):
            parsed = _avc1(entry)
            if parsed is not None:
                avc.append(parsed)
            elif entry and entry not in others:
                others.append(entry)
    merged = []
    if avc:
        profile = max(p for p, _, _ in avc)
        flags = 0xFF
        for _, constraints, _ in avc:
            flags &= constraints
        level = max(level for _, _, level in avc)
        merged.append(f"avc1.{profile:02x}{flags:02x}{level:02x}")
    return ",".join(merged + others)


def _avc1(entry: str) -> tuple[int, int, int] | None:
    kind, _, hexits = entry.partition(".")
    if kind != "avc1" or len(hexits) != 6:
        return None
    try:
        raw = bytes.fromhex(hexits)
    except ValueError:
        return None
    return raw[0], raw[1], raw[2]
