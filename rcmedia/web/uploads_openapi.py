"""The tus upload routes in the OpenAPI document (their headers are the protocol; see uploads.py)."""

from __future__ import annotations

from rcmedia.core import tus
from rcmedia.web.access import JSON_TYPE
from rcmedia.web.documents import Document
from rcmedia.web.uploads import JOB_HEADER, UPLOADS_PATH

_REASONS = {
    "400": "A header is wrong (Upload-Length, Upload-Offset, Upload-Metadata and its asset fields).",
    "401": "No live session: log in with `POST /login` first.",
    "403": "The account is not an editor or admin, or the request came from another site.",
    "404": "No such upload (or another editor's, or terminated).",
    "409": "Upload-Offset is not where the upload stands: HEAD it and resume from there.",
    "410": "The upload expired before it was finished.",
    "412": "Tus-Resumable is missing or not 1.0.0 (Tus-Version says what is spoken).",
    "413": "Upload-Length is over the server's limit, or the body runs past Upload-Length.",
    "415": "Not a media file (by its name), or a PATCH body not sent as application/offset+octet-stream.",
    "423": "Another request is writing to this upload right now.",
    "503": "The catalog is busy with another writer: retry after `Retry-After` seconds.",
}


def _header(name: str, description: str, *, required: bool = False, digits: bool = False) -> Document:
    schema: Document = {"type": "string", "pattern": "^[0-9]{1,19}$"} if digits else {"type": "string"}
    return {"name": name, "in": "header", "required": required, "schema": schema, "description": description}


_RESUMABLE = _header("Tus-Resumable", "The protocol version: 1.0.0.", required=True) | {
    "schema": {"type": "string", "enum": [tus.VERSION]}
}
_ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
}
_SECURITY: list[dict[str, list[str]]] = [{"session": []}, {"bearer": []}]


def _responses(ok: str, description: str, errors: str, **headers: str) -> Document:
    answer: Document = {"description": description}
    if headers:
        answer["headers"] = {
            name: {"description": text, "schema": {"type": "string"}} for name, text in headers.items()
        }
    error: Document = {"content": {JSON_TYPE: {"schema": {"$ref": "#/components/schemas/Error"}}}}
    return {ok: answer, **{status: {"description": _REASONS[status], **error} for status in errors.split()}}


def upload_paths() -> Document:
    """``/api/v1/uploads`` and ``/api/v1/uploads/{id}``: tus 1.0.0 and a JSON view of an upload."""
    offset_body: Document = {
        "required": False,
        "content": {tus.OFFSET_TYPE: {"schema": {"type": "string", "format": "binary"}}},
    }
    return {
        UPLOADS_PATH: {
            "options": {
                "summary": "What tus this server speaks",
                "tags": ["uploads"],
                "operationId": "tus_options",
                "responses": _responses(
                    "204",
                    "Tus-Version, Tus-Extension and Tus-Max-Size",
                    "",
                    **{"Tus-Version": "1.0.0", "Tus-Extension": tus.EXTENSIONS, "Tus-Max-Size": "bytes"},
                ),
            },
            "post": {
                "summary": "Start an upload",
                "description": "tus creation (and creation-with-upload: send the first bytes as the body). "
                "Upload-Metadata carries `filename` and the asset fields: title, series, episode, "
                "source, language, categories (comma-separated), description, and rights (JSON: the "
                'sidecar\'s rights table, e.g. `{"tv": {}, "iptv": {"end": "2026-12-31"}}`; '
                "outputs left out are off). Editor or admin.",
                "tags": ["uploads"],
                "operationId": "tus_create",
                "parameters": [
                    _RESUMABLE,
                    _header("Upload-Length", "The file's size in bytes.", required=True, digits=True),
                    _header("Upload-Metadata", "Comma-separated `key base64value` pairs."),
                ],
                "requestBody": offset_body,
                "security": _SECURITY,
                "responses": _responses(
                    "201",
                    "the upload's address",
                    "400 401 403 412 413 415 503",
                    Location="/api/v1/uploads/{id}",
                    **{"Upload-Expires": "RFC 7231 date", "Upload-Offset": "bytes stored (with a body)"},
                ),
            },
        },
        f"{UPLOADS_PATH}/{{id}}": {
            "get": {
                "summary": "Get an upload",
                "description": "Where the upload stands and, once complete, its ingest job.",
                "tags": ["uploads"],
                "operationId": "get_upload",
                "parameters": [_ID],
                "security": _SECURITY,
                "responses": {
                    "200": {
                        "description": "the upload",
                        "content": {JSON_TYPE: {"schema": {"$ref": "#/components/schemas/Upload"}}},
                    },
                    **{k: v for k, v in _responses("-", "", "401 403 404 410 503").items() if k != "-"},
                },
            },
            "patch": {
                "summary": "Send bytes of an upload",
                "description": "tus PATCH at the current Upload-Offset; the last byte queues the ingest job "
                f"({JOB_HEADER} names it).",
                "tags": ["uploads"],
                "operationId": "tus_patch",
                "parameters": [
                    _ID,
                    _RESUMABLE,
                    _header("Upload-Offset", "Where the upload stands (HEAD).", required=True, digits=True),
                ],
                "requestBody": offset_body | {"required": True},
                "security": _SECURITY,
                "responses": _responses(
                    "204",
                    "bytes stored",
                    "400 401 403 404 409 410 412 413 415 423 503",
                    **{"Upload-Offset": "bytes stored now", JOB_HEADER: "the ingest job (last byte)"},
                ),
            },
            "delete": {
                "summary": "Terminate an upload",
                "description": "tus termination: the partial data is deleted.",
                "tags": ["uploads"],
                "operationId": "tus_terminate",
                "parameters": [_ID, _RESUMABLE],
                "security": _SECURITY,
                "responses": _responses("204", "deleted", "401 403 404 410 412 423 503"),
            },
        },
    }
