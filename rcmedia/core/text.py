"""Text from people and files: which characters it may hold, and how to show it on a terminal.

Titles, series, categories and names end up on operators' terminals (``rcmedia assets``), in
XMLTV, M3U and pages. A control character in them is never meant: ESC starts a terminal escape
sequence (``ESC[31m`` turns an operator's terminal red, others retitle the window or worse), BEL
rings, NUL cuts C strings short, and CR or LF in a one-line field splits an M3U ``#EXTINF`` or a log
line in two. So they are refused where text comes in (:func:`control_problem`), kept out of
names taken from files (:func:`without_controls`), and made visible where text goes out to a
terminal (:func:`visible`).

Refused: Unicode's control characters (category Cc: C0, DEL and C1), the bidirectional
overrides and isolates that reorder what a terminal or page shows (the "Trojan Source" trick,
CVE-2021-42574), and the line and paragraph separators U+2028/U+2029. A multi-line field
(a description) keeps line feeds and tabs; CR LF is read as a line feed.
"""

from __future__ import annotations

import unicodedata

# U+202A–U+202E embeddings and overrides, U+2066–U+2069 isolates
BIDI_CONTROLS = frozenset(map(chr, (*range(0x202A, 0x202F), *range(0x2066, 0x206A))))
LINE_SEPARATORS = frozenset({"\u2028", "\u2029"})
MULTILINE_ALLOWED = frozenset({"\n", "\t"})
_NAMES = {
    "\x00": "NUL",
    "\x07": "BEL",
    "\x08": "BS",
    "\t": "TAB",
    "\n": "LF",
    "\r": "CR",
    "\x1b": "ESC",
    "\x7f": "DEL",
    "\x9b": "CSI",
}


def is_control(char: str, *, multiline: bool = False) -> bool:
    """Whether ``char`` may not appear in a field (a multi-line one keeps LF and TAB)."""
    if multiline and char in MULTILINE_ALLOWED:
        return False
    return unicodedata.category(char) == "Cc" or char in BIDI_CONTROLS or char in LINE_SEPARATORS


def _described(char: str) -> str:
    name = _NAMES.get(char) or unicodedata.name(char, "")
    return f"U+{ord(char):04X}" + (f" {name}" if name else "")


def normalize_newlines(text: str) -> str:
    """CR LF (and a lone CR) as LF: how a browser's text area and Windows editors end lines."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def control_problem(text: str, *, multiline: bool = False) -> str | None:
    """What is wrong with ``text`` (the first control character and where), or None when it is fine.

    Callers wrap it in their own error, naming the field (``InvalidFieldError``) or the file and
    key (``ConfigError``). A multi-line field should go through :func:`normalize_newlines` first.
    """
    for index, char in enumerate(text):
        if is_control(char, multiline=multiline):
            allowed = "only line breaks and tabs are allowed" if multiline else "it must be one line of text"
            return f"contains a control character ({_described(char)}) at character {index + 1}; {allowed}"
    return None


def without_controls(text: str, replacement: str = "_") -> str:
    """``text`` with every control character replaced: for names taken from files, never refused."""
    return "".join(replacement if is_control(char) else char for char in text)


def visible(text: str) -> str:
    """``text`` safe to write to a terminal: control characters shown as escapes (``\\x1b``,
    ``\\n``, ``\\u202e``), so what an operator sees is what is stored, and nothing is executed."""
    out = []
    for char in text:
        if not is_control(char):
            out.append(char)
        elif char in "\n\t\r":
            out.append({"\n": "\\n", "\t": "\\t", "\r": "\\r"}[char])
        elif ord(char) <= 0xFF:
            out.append(f"\\x{ord(char):02x}")
        else:
            out.append(f"\\u{ord(char):04x}")
    return "".join(out)
