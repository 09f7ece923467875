"""What every write endpoint shares: reading the JSON body, and the version a write is based on.

Versioned resources carry an ETag (:func:`etag`); a write may send it back as ``If-Match`` (or the
version in its body), and a stale one is refused. The refusals themselves (400 with the field,
409 with the current version, 422, 503) are the error middleware's (rcmedia.web.errors).
"""

from __future__ import annotations

import json

from aiohttp import hdrs, web

from rcmedia.errors import InvalidFieldError


def etag(resource: str, version: int) -> str:
    """The strong ETag of ``resource`` (``asset/7``, ``rcxf/iptv/2026-03-03``) at ``version``."""
    return f'"{resource}/v{version}"'


def expected_version(request: web.Request, resource: str, given: int | None = None) -> int | None:
    """The version a write of ``resource`` is based on: ``If-Match`` (the ETag of its GET, see
    :func:`etag`) or ``given`` (a ``"version"`` field of the body); None when neither is sent.

    400 when ``If-Match`` is not an ETag of this resource (another asset's, a list of tags), or
    disagrees with ``given``.
    """
    if_match = request.headers.get(hdrs.IF_MATCH)
    if if_match is None or if_match.strip() == "*":
        return given
    tag, prefix = if_match.strip().removeprefix("W/"), f'"{resource}/v'
    digits = tag[len(prefix) : -1] if tag.startswith(prefix) and tag.endswith('"') else ""
    if not (digits.isascii() and digits.isdigit() and len(digits) < 19):
        raise InvalidFieldError("If-Match", f"expected the ETag of {resource} its GET gave, got {if_match!r}")
    if given is not None and given != int(digits):
        raise InvalidFieldError("version", f"{given} disagrees with If-Match {if_match}")
    return int(digits)


async def read_json(request: web.Request) -> object:
    """The parsed body; 400 when it is not JSON (UTF-8, nested less deep than the parser's stack).

    A body over the app's ``client_max_size`` (aiohttp's 1 MiB) is a 413 before it is parsed.
    """
    body = await request.read()
    try:
        return json.loads(body)  # bytes: UTF-8 (or -16/-32) detected as RFC 8259 §8.1 allows
    except ValueError as exc:  # UnicodeDecodeError too
        raise InvalidFieldError("body", f"not valid JSON: {exc}") from None
    except RecursionError:  # [[[[… thousands deep: the C parser gives up on Python's stack limit
        raise InvalidFieldError("body", "not valid JSON: nested too deep") from None
