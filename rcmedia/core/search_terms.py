"""The catalog search's terms: what an asset's text is indexed under and what a query looks for.

Chinese (and Japanese, Korean) text has no spaces between words, so a run of such characters is
indexed as its single characters and every overlapping pair of characters (bigrams): "党建引领"
gives 党 建 引 领 党建 建引 引领. A query of one character looks the character up, a longer run
its bigrams, so a two-character word ("党建", "长征") is found anywhere inside a title. Runs of
other letters and digits (Latin words, numbers) are whole terms. Everything is NFKC-normalised
(full-width "ＰＹＴＨＯＮ" is "PYTHON") and case-folded; punctuation and spaces only separate.

Why not a database's own full-text search: SQLite's FTS5 trigram tokenizer finds nothing for a
two-character pattern, and PostgreSQL's pg_trgm needs an extension; one table of terms with an
index answers the same on both (rcmedia.catalog.search).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

MAX_TERM = 64  # characters kept of a long word, in the index and in a query alike

# Scripts written without spaces between words: Han (with its extensions and compatibility
# ideographs), kana, Hangul and Bopomofo.
_SPACELESS = (
    (0x2E80, 0x2FDF),  # CJK radicals, Kangxi radicals
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3100, 0x312F),  # Bopomofo
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xAC00, 0xD7AF),  # Hangul syllables
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0x20000, 0x3FFFF),  # CJK extensions B and later
)


def _spaceless(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _SPACELESS)


def normalise(text: str) -> str:
    """NFKC, then case-folded: the form both the index and a query are read in."""
    return unicodedata.normalize("NFKC", text).casefold()


def _runs(text: str) -> Iterator[tuple[bool, str]]:
    """(spaceless?, run) for each maximal run of CJK characters or of other letters and digits."""
    kind: bool | None = None
    start = 0
    for i, char in enumerate(text):
        this = True if _spaceless(char) else (False if char.isalnum() else None)
        if this != kind:
            if kind is not None:
                yield kind, text[start:i]
            kind, start = this, i
    if kind is not None:
        yield kind, text[start:]


def index_terms(text: str) -> set[str]:
    """Every term ``text`` is found under: words, and CJK characters with their bigrams."""
    terms: set[str] = set()
    for spaceless, run in _runs(normalise(text)):
        if spaceless:
            terms.update(run)
            terms.update(run[i : i + 2] for i in range(len(run) - 1))
        else:
            terms.add(run[:MAX_TERM])
    return terms


def query_terms(text: str) -> set[str]:
    """The terms an asset must have (all of them) to match the query ``text``.

    Empty when the query has no letter, digit or CJK character (only punctuation or spaces):
    the caller treats that as no search at all.
    """
    terms: set[str] = set()
    for spaceless, run in _runs(normalise(text)):
        if spaceless and len(run) > 1:
            terms.update(run[i : i + 2] for i in range(len(run) - 1))
        else:
            terms.add(run[:MAX_TERM])
    return terms
