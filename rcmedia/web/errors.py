"""Turn errors into HTTP answers: JSON under ``/api/``, plain text elsewhere, always with the reason.

* ``InvalidFieldError`` (a bad field or URL part) is a 400 naming the field;
* ``NotFoundError`` and ``UnsafePathError`` are 404 (a traversal attempt learns nothing more than
  a missing file would tell it);
* ``ConflictError`` (a write based on a stale version) is a 409, as is ``AccountConflictError``
  (a name taken, the last enabled admin); another ``AccountError`` is a 400;
* ``UploadLockedError`` (a tus upload another request is writing) is a 423, and
  ``UploadExpiredError`` (a tus upload past its expiry) a 410;
* ``BusyError`` (the catalog is locked by another writer) is a 503 with ``Retry-After``: not the
  request's fault, and worth retrying;
* any other ``RcmediaError``, and any exception nobody expected, is a logged 500 with a short body.
  Bad input must never get this far: it is refused where it is parsed. An ``OSError`` (the client
  went away, or a streamed answer was cut after its headers) is left to aiohttp, which knows whether
  anything was sent.

aiohttp's own HTTP exceptions pass through, re-rendered as JSON for API clients.
"""

from __future__ import annotations

import logging

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

from rcmedia.errors import (
    AccountConflictError,
    AccountError,
    AssetStateError,
    BusyError,
    ConflictError,
    InvalidFieldError,
    JobStateError,
    NotFoundError,
    RcmediaError,
    ScheduleError,
    UnsafePathError,
    UploadExpiredError,
    UploadLockedError,
)
from rcmedia.web.json_response import json_response
from rcmedia.web.recurring_log import RecurringLog

log = logging.getLogger(__name__)
_busy_log = RecurringLog(log)

API_PREFIX = "/api/"


def error_response(
    request: web.Request,
    status: int,
    message: str,
    *,
    headers: dict[str, str] | None = None,
    **details: object,
) -> web.Response:
    """``{"error": message, **details}`` for API clients, the message as plain text for the rest."""
    if request.path.startswith(API_PREFIX):
        return json_response({"error": message, **details}, status=status, headers=headers)
    return web.Response(status=status, text=message + "\n", content_type="text/plain", headers=headers)


def rcmedia_error_response(request: web.Request, exc: RcmediaError) -> web.Response:
    """The answer to an error raised on purpose: the reason, with the status that says whose fault."""
    details: dict[str, object] = {}
    headers: dict[str, str] = {}
    if isinstance(exc, InvalidFieldError):
        status, details["field"] = 400, exc.field
    elif isinstance(exc, NotFoundError | UnsafePathError):
        status = 404
    elif isinstance(exc, ConflictError):
        status, details["current_version"] = 409, exc.current
    elif isinstance(exc, UploadLockedError):
        status = 423
    elif isinstance(exc, UploadExpiredError):
        status = 410
    elif isinstance(exc, AccountConflictError):
        status = 409  # the name is taken, or no enabled admin would be left
    elif isinstance(exc, AccountError):
        status = 400  # a bad name, password, label or channel list
    elif isinstance(exc, AssetStateError | JobStateError):
        status = 409  # withdrawing a pending asset, retrying a running job: its state refuses it
    elif isinstance(exc, ScheduleError):
        status = 422  # the schedule refuses the edit (freeze horizon, fixed slot, no rights)
    elif isinstance(exc, BusyError):
        # a lock or a bounded queue is full: the request was fine, and worth retrying; a flood of
        # them is logged once a minute, not once each
        _busy_log.warning(exc.what, "%s %s: %s", request.method, request.path, exc)
        status, details["retry_after"] = 503, exc.retry_after
        headers[hdrs.RETRY_AFTER] = str(exc.retry_after)
        headers[hdrs.CACHE_CONTROL] = "no-store"  # an edge cache must not keep "busy" for others
    else:
        log.error("%s %s failed: %s", request.method, request.path, exc, exc_info=exc)
        return internal_error(request, exc)
    return error_response(request, status, str(exc), headers=headers, **details)


def internal_error(request: web.Request, exc: BaseException) -> web.Response:
    return error_response(
        request, 500, f"internal error ({type(exc).__name__}); the details are in the server log"
    )


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or not request.path.startswith(API_PREFIX):
            raise
        response = error_response(request, exc.status, exc.text or exc.reason)
        # a 405 must still say what is allowed, a 401 how to authenticate, a tus 412 which
        # protocol versions are
        for header in (hdrs.ALLOW, hdrs.RETRY_AFTER, hdrs.WWW_AUTHENTICATE, "Tus-Version"):
            if header in exc.headers:
                response.headers[header] = exc.headers[header]
        return response
    except RcmediaError as exc:  # before OSError: UnsafePathError and StorageError are OSErrors too
        return rcmedia_error_response(request, exc)
    except OSError:
        # The client went away, or a streamed answer failed after its headers were sent (handlers
        # raise ConnectionAbortedError then, as rcmedia.web.epg_xml does): no answer can be given
        # now, and aiohttp closes the connection (or logs and sends its own 500 if nothing was sent).
        raise
    except Exception as exc:
        # a bug: logged with its traceback, answered like any other server fault
        log.exception("%s %s failed unexpectedly", request.method, request.path)
        return internal_error(request, exc)
