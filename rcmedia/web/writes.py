"""What every write endpoint shares: reading the JSON body, and answering refusals clearly.

A bad field is a 400 naming it (``{"error": "episode: must be …", "field": "episode"}``); a change
the current state refuses (an edit inside the freeze horizon, withdrawing a pending asset) is a
409 with the reason. Unknown ids are 404s from the error middleware.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable

from aiohttp import web

from rcmedia.errors import AssetStateError, InvalidFieldError, ScheduleError
from rcmedia.web.json_response import json_response

WriteHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


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
    """Turn field errors into 400 and refusals by the current state into 409, with the reason."""

    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except InvalidFieldError as exc:
            return json_response({"error": str(exc), "field": exc.field}, status=400)
        except (ScheduleError, AssetStateError) as exc:
            return json_response({"error": str(exc)}, status=409)

    return wrapper
