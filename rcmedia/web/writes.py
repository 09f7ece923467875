"""What every write endpoint shares: reading the JSON body, and answering refusals clearly.

A bad field is a 400 naming it (``{"error": "episode: must be …", "field": "episode"}``); a write
based on a version that is no longer current is a 409 naming the current version
(``{"error": …, "current_version": 7}``), as is a change the asset's state refuses (withdrawing a
pending asset); a schedule edit the schedule refuses (inside the freeze horizon, into a fixed
slot, an asset without rights) is a 422 with the reason. Unknown ids are 404s, a busy catalog a
503 with ``Retry-After``, from the error middleware.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable

from aiohttp import hdrs, web

from rcmedia.errors import AssetStateError, ConflictError, InvalidFieldError, ScheduleError
from rcmedia.web.json_response import json_response

WriteHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def version_of_etag(tag: str) -> int | None:
    """The version an ETag of ours names (``"…/v12"``), or None when it names none."""
    tag = tag.strip().removeprefix("W/")
    if not (len(tag) > 2 and tag[0] == tag[-1] == '"'):
        return None
    _, _, version = tag[1:-1].rpartition("/v")
    return int(version) if version.isdigit() and len(version) < 19 else None


def expected_version(request: web.Request, given: int | None = None) -> int | None:
    """The version a write is based on: ``If-Match`` (an ETag of the thing's GET) or ``given``
    (a ``"version"`` field of the body); None when neither is sent (write on whatever is current).

    400 when ``If-Match`` names no version of ours, or disagrees with ``given``.
    """
    if_match = request.headers.get(hdrs.IF_MATCH)
    if if_match is None or if_match.strip() == "*":
        return given
    tagged = version_of_etag(if_match)
    if tagged is None:
        raise InvalidFieldError("If-Match", f"expected an ETag this server gave, got {if_match!r}")
    if given is not None and given != tagged:
        raise InvalidFieldError("version", f"{given} disagrees with If-Match {if_match}")
    return tagged


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


def answers_refusals(handler: WriteHandler) -> WriteHandler:
    """Field errors are 400, stale versions and asset states 409, refused schedule edits 422."""

    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except InvalidFieldError as exc:
            return json_response({"error": str(exc), "field": exc.field}, status=400)
        except ConflictError as exc:
            return json_response({"error": str(exc), "current_version": exc.current}, status=409)
        except AssetStateError as exc:
            return json_response({"error": str(exc)}, status=409)
        except ScheduleError as exc:
            return json_response({"error": str(exc)}, status=422)

    return wrapper
