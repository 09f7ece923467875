"""Query parameters: parsed strictly, refused with a 400 that names the parameter and what it accepts.

An empty value (``?q=``) counts as absent, so forms and scripts can always send every field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from enum import StrEnum
from typing import TypeVar

from aiohttp import web

E = TypeVar("E", bound=StrEnum)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# ASCII digits only: int() also takes "1_000", "١٢" and thousands of digits
_INT = re.compile(r"-?[0-9]{1,19}")
# a day whose broadcast day still fits Python's datetimes in every time zone
FIRST_DATE, LAST_DATE = date(1970, 1, 2), date(9998, 12, 30)


def _bad(name: str, problem: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=f"query parameter {name!r}: {problem}")


def text_param(query: Mapping[str, str], name: str) -> str | None:
    value = query.get(name, "").strip()
    return value or None


def int_param(query: Mapping[str, str], name: str, *, default: int, minimum: int, maximum: int) -> int:
    """A whole number in [minimum, maximum]: always bounded, so it fits the database's integers."""
    raw = query.get(name, "").strip()
    if not raw:
        return default
    if _INT.fullmatch(raw) is None or not minimum <= int(raw) <= maximum:
        raise _bad(name, f"expected an integer from {minimum} to {maximum}, got {raw[:40]!r}")
    return int(raw)


def enum_param(query: Mapping[str, str], name: str, kind: type[E]) -> E | None:
    raw = query.get(name, "").strip()
    if not raw:
        return None
    try:
        return kind(raw)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise _bad(name, f"{raw!r} is not one of {allowed}") from None


def date_param(query: Mapping[str, str], name: str) -> date | None:
    """A calendar date written ``YYYY-MM-DD``."""
    raw = query.get(name, "").strip()
    if not raw:
        return None
    wanted = f"expected a date YYYY-MM-DD from {FIRST_DATE} to {LAST_DATE}, got {raw!r}"
    try:
        value = date.fromisoformat(raw) if _DATE.fullmatch(raw) else None
    except ValueError:
        value = None
    if value is None or not FIRST_DATE <= value <= LAST_DATE:
        raise _bad(name, wanted)
    return value
