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

from aiohttp import web

from rcmedia.errors import AssetStateError, ConflictError, InvalidFieldError, ScheduleError
from rcmedia.web.json_response import json_response

WriteHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def read_json(request: web.Request) -> object:
    """The parsed body; 400 when it is not JSON."""
    text = await request.text()
    try:
        return json.loads(text)
    except ValueError as exc:
        raise InvalidFieldError("body", f"not valid JSON: {exc}") from None


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
