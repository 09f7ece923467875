"""Turn rcmedia errors into HTTP answers: JSON under ``/api/``, plain text elsewhere.

``NotFoundError`` and ``UnsafePathError`` are 404 (a traversal attempt learns nothing more than a
missing file would tell it); ``BusyError`` (a lock or the database not had in time) is a 503 with
``Retry-After``; any other ``RcmediaError`` is a logged 500 with a short body.
aiohttp's own HTTP exceptions pass through, re-rendered as JSON for API clients.
"""

from __future__ import annotations

import logging

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

from rcmedia.errors import BusyError, NotFoundError, RcmediaError, UnsafePathError
from rcmedia.web.json_response import json_response

log = logging.getLogger(__name__)

API_PREFIX = "/api/"


def error_response(request: web.Request, status: int, message: str) -> web.Response:
    if request.path.startswith(API_PREFIX):
        return json_response({"error": message}, status=status)
    return web.Response(status=status, text=message + "\n", content_type="text/plain")


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or not request.path.startswith(API_PREFIX):
            raise
        response = error_response(request, exc.status, exc.text or exc.reason)
        if hdrs.ALLOW in exc.headers:  # a 405 must still say what is allowed
            response.headers[hdrs.ALLOW] = exc.headers[hdrs.ALLOW]
        return response
    except (NotFoundError, UnsafePathError) as exc:
        return error_response(request, 404, str(exc))
    except BusyError as exc:
        log.warning("%s %s: %s", request.method, request.path, exc)
        response = error_response(request, 503, str(exc))
        response.headers[hdrs.RETRY_AFTER] = str(exc.retry_after)
        return response
    except RcmediaError as exc:
        log.error("%s %s failed: %s", request.method, request.path, exc, exc_info=exc)
        return error_response(
            request, 500, f"internal error ({type(exc).__name__}); the details are in the server log"
        )
