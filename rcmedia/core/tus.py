"""The tus 1.0.0 resumable-upload protocol's headers, parsed and rendered without I/O.

https://tus.io/protocols/resumable-upload (core protocol; creation, termination, expiration).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from email.utils import format_datetime
from typing import Any

from rcmedia.core.containers import media_suffix
from rcmedia.core.metadata import metadata_from_mapping
from rcmedia.core.models import AssetMetadata
from rcmedia.errors import ConfigError, InvalidFieldError

VERSION = "1.0.0"
EXTENSIONS = "creation,creation-with-upload,termination,expiration"
OFFSET_TYPE = "application/offset+octet-stream"  # §PATCH: the only body type a PATCH may carry

# Keys that tus clients add on their own (tus-js-client and Uppy: filetype, name, type,
# relativePath); taken and ignored, so that any client works unmodified.
CLIENT_KEYS = frozenset({"filename", "filetype", "name", "type", "relativePath"})
ASSET_KEYS = frozenset(
    {"title", "series", "episode", "source", "language", "categories", "description", "rights"}
)
MAX_METADATA = 16 * 1024  # characters of Upload-Metadata: titles and a description, not a file
_KEY = re.compile(r"[!-~]+")  # §Upload-Metadata: no spaces, no commas (checked apart), ASCII
_DIGITS = re.compile(r"[0-9]{1,19}")


def parse_size(header: str, value: str | None) -> int:
    """A non-negative integer header (``Upload-Length``, ``Upload-Offset``); 400 naming it."""
    if value is None:
        raise InvalidFieldError(header, "is required")
    if not _DIGITS.fullmatch(value.strip()):
        raise InvalidFieldError(header, f"must be a non-negative whole number of bytes, got {value!r}")
    return int(value)


def parse_metadata(header: str | None) -> dict[str, str]:
    """``Upload-Metadata``: comma-separated ``key base64value`` pairs (the value may be absent).

    Keys are unique; values must be strict base64 of UTF-8 text.
    """
    if header is None or not header.strip():
        return {}
    if len(header) > MAX_METADATA:
        raise InvalidFieldError("Upload-Metadata", f"is longer than {MAX_METADATA} characters")
    pairs: dict[str, str] = {}
    for item in header.split(","):
        parts = item.strip().split(" ")
        key = parts[0]
        if not _KEY.fullmatch(key) or len(parts) > 2:
            raise InvalidFieldError("Upload-Metadata", f"{item.strip()!r} is not 'key base64value'")
        if key in pairs:
            raise InvalidFieldError("Upload-Metadata", f"key {key!r} is given twice")
        try:
            raw = base64.b64decode(parts[1], validate=True) if len(parts) == 2 else b""
            pairs[key] = raw.decode("utf-8")
        except (binascii.Error, ValueError):
            raise InvalidFieldError(
                "Upload-Metadata", f"the value of {key!r} is not base64 of UTF-8 text"
            ) from None
    return pairs


def render_metadata(pairs: Mapping[str, str]) -> str:
    """``Upload-Metadata`` from decoded pairs (what HEAD gives back)."""
    return ",".join(
        f"{key} {base64.b64encode(value.encode('utf-8')).decode('ascii')}".rstrip() if value else key
        for key, value in pairs.items()
    )


def upload_filename(pairs: Mapping[str, str]) -> str:
    """The file's name (``filename``, else Uppy's ``name``); 400 without one."""
    name = (pairs.get("filename") or pairs.get("name") or "").strip()
    if not name:
        raise InvalidFieldError(
            "Upload-Metadata", "filename is required (the file's name, with its extension)"
        )
    return name


def is_media_name(filename: str) -> bool:
    """Whether ``filename`` names a container rcmedia takes (else 415, before anything is stored)."""
    return media_suffix(filename) is not None


def asset_metadata(pairs: Mapping[str, str]) -> AssetMetadata:
    """The asset fields of ``Upload-Metadata``, validated like a hot folder sidecar.

    Every value is text on the wire: ``episode`` is a whole number, ``categories`` comma-separated.
    """
    unknown = sorted(set(pairs) - CLIENT_KEYS - ASSET_KEYS)
    if unknown:
        allowed = ", ".join(sorted(ASSET_KEYS | {"filename"}))
        raise InvalidFieldError("Upload-Metadata", f"unknown key {unknown[0]!r} (allowed: {allowed})")
    data: dict[str, object] = {key: value for key, value in pairs.items() if key in ASSET_KEYS}
    if "episode" in pairs:
        episode = pairs["episode"].strip()
        if not _DIGITS.fullmatch(episode):
            raise InvalidFieldError("Upload-Metadata", f"episode must be a whole number ≥ 0, got {episode!r}")
        data["episode"] = int(episode)
    if "categories" in pairs:
        data["categories"] = [c.strip() for c in pairs["categories"].split(",") if c.strip()]
    if "rights" in pairs:
        data["rights"] = _rights(pairs["rights"])
    filename = upload_filename(pairs)
    try:
        return metadata_from_mapping(data, where="Upload-Metadata", default_title=_stem(filename))
    except ConfigError as exc:
        raise InvalidFieldError("Upload-Metadata", str(exc).removeprefix("Upload-Metadata: ")) from None


def _rights(text: str) -> dict[str, Any]:
    """``rights``: the sidecar's rights table as JSON, its instants as ISO 8601 text.

    ``{"tv": {"start": "2026-05-01", "end": "2026-06-01T00:00:00+08:00"}, "mobile": {"enabled":
    false}}``: an output left out may not show the asset, as in a sidecar; a date or a date-time
    without an offset is read in the sidecar's zone (:func:`metadata_from_mapping`).
    """
    try:
        table = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: "[[[[…" nested past Python's stack
        raise InvalidFieldError(
            "Upload-Metadata", f"rights must be a JSON object, got {text[:80]!r}"
        ) from None
    if not isinstance(table, dict) or not all(isinstance(window, dict) for window in table.values()):
        raise InvalidFieldError(
            "Upload-Metadata",
            'rights must be a JSON object of outputs, e.g. {"tv": {}, "iptv": {"end": "2026-12-31"}}',
        )
    for output, window in table.items():
        for key in ("start", "end"):
            if key in window:
                window[key] = _instant(window[key], f"rights.{output}.{key}")
    return table


def _instant(value: object, where: str) -> date | datetime:
    """An ISO 8601 date or date-time, as a sidecar's TOML would give it."""
    if isinstance(value, str):
        try:
            return date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidFieldError(
        "Upload-Metadata", f"{where} must be an ISO 8601 date or date-time, got {value!r}"
    )


def _stem(filename: str) -> str:
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[0] if "." in base else base


def http_date(when: datetime) -> str:
    """``Upload-Expires``: an RFC 7231 (IMF-fixdate) date."""
    return format_datetime(when.astimezone(UTC), usegmt=True)
