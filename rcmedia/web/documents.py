"""What the JSON API says about assets and jobs. Times are ISO 8601 in UTC.

A job's ``source_path`` is a path on the server's disks and is never shown.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

from rcmedia.catalog.repository import Page
from rcmedia.core.assets import Asset, Job, Rendition
from rcmedia.core.models import AssetStatus, JobState, Output, Rights, Source

T = TypeVar("T")
Document = dict[str, Any]


def iso_utc(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:  # the catalog stores UTC; a naive value can only be UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def vod_urls(asset_id: int) -> dict[str, str]:
    return {output.value: f"/vod/{asset_id}/master.m3u8?output={output.value}" for output in Output}


def _rights(rights: Rights) -> Document:
    return {"output": rights.output.value, "start": iso_utc(rights.start), "end": iso_utc(rights.end)}


def _rendition(rendition: Rendition) -> Document:
    return {
        "name": rendition.name,
        "width": rendition.width,
        "height": rendition.height,
        "bandwidth": rendition.bandwidth,
        "average_bandwidth": rendition.average_bandwidth,
        "codecs": rendition.codecs,
        "frame_rate": rendition.frame_rate,
        "segment_count": rendition.segment_count,
    }


def asset_document(asset: Asset) -> Document:
    """An asset; ``urls`` (one master playlist per output) is null until it is published."""
    metadata = asset.metadata
    published = asset.status is AssetStatus.PUBLISHED
    return {
        "id": asset.id,
        "title": metadata.title,
        "series": metadata.series,
        "episode": metadata.episode,
        "source": metadata.source.value,
        "language": metadata.language,
        "description": metadata.description,
        "categories": list(metadata.categories),
        "duration": asset.duration,
        "original_filename": asset.original_filename,
        "profile": asset.profile,
        "status": asset.status.value,
        "created_at": iso_utc(asset.created_at),
        "published_at": iso_utc(asset.published_at),
        "version": asset.version,
        "rights": [_rights(r) for r in metadata.rights],
        "renditions": [_rendition(r) for r in asset.renditions],
        "urls": vod_urls(asset.id) if published else None,
    }


def asset_resource(asset_id: int) -> str:
    """What an asset's ETag names (rcmedia.web.writes.etag)."""
    return f"asset/{asset_id}"


def job_document(job: Job) -> Document:
    return {
        "id": job.id,
        "asset_id": job.asset_id,
        "original_filename": job.original_filename,
        "profile": job.profile,
        "state": job.state.value,
        "attempts": job.attempts,
        "max_attempts": job.max_attempts,
        "progress": job.progress,
        "speed": job.speed,
        "failure_reason": job.failure_reason,
        "created_at": iso_utc(job.created_at),
        "updated_at": iso_utc(job.updated_at),
        "started_at": iso_utc(job.started_at),
        "finished_at": iso_utc(job.finished_at),
    }


def page_document(page: Page[T], item: Callable[[T], Document]) -> Document:
    return {
        "items": [item(i) for i in page.items],
        "total": page.total,
        "limit": page.limit,
        "offset": page.offset,
    }


# --- JSON Schemas of the documents above (OpenAPI 3.1 is JSON Schema 2020-12; rcmedia.web.openapi) ---


def nullable(schema: Document) -> Document:
    """``schema`` or null (JSON Schema 2020-12 spells it as a type list, OpenAPI 3.1 too)."""
    return {**schema, "type": [schema["type"], "null"]}


def enum_of(kind: type[StrEnum]) -> Document:
    return {"type": "string", "enum": [member.value for member in kind]}


def closed(properties: Document, *, description: str = "") -> Document:
    """An object with exactly ``properties``, all present (the documents always write every key)."""
    schema: Document = {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }
    if description:
        schema["description"] = description
    return schema


INSTANT: Document = {"type": "string", "format": "date-time", "description": "ISO 8601 in UTC (…Z)"}
ID: Document = {"type": "integer", "minimum": 1}

RIGHTS_SCHEMA = closed(
    {"output": enum_of(Output), "start": nullable(INSTANT), "end": nullable(INSTANT)},
    description="A window in which the asset may air on an output; null ends are open.",
)
RENDITION_SCHEMA = closed(
    {
        "name": {"type": "string"},
        "width": {"type": "integer"},
        "height": {"type": "integer"},
        "bandwidth": {"type": "integer", "description": "peak bit/s (EXT-X-STREAM-INF BANDWIDTH)"},
        "average_bandwidth": {"type": "integer"},
        "codecs": {"type": "string", "description": "RFC 6381"},
        "frame_rate": {"type": "number"},
        "segment_count": {"type": "integer"},
    }
)
ASSET_SCHEMA = closed(
    {
        "id": ID,
        "title": {"type": "string"},
        "series": nullable({"type": "string"}),
        "episode": nullable({"type": "integer"}),
        "source": enum_of(Source),
        "language": {"type": "string"},
        "description": {"type": "string"},
        "categories": {"type": "array", "items": {"type": "string"}},
        "duration": nullable({"type": "number", "description": "seconds"}),
        "original_filename": {"type": "string"},
        "profile": {"type": "string"},
        "status": enum_of(AssetStatus),
        "created_at": INSTANT,
        "published_at": nullable(INSTANT),
        "version": {
            "type": "integer",
            "description": "moves with every change: send it back with a change (or the ETag as If-Match)",
        },
        "rights": {"type": "array", "items": RIGHTS_SCHEMA},
        "renditions": {"type": "array", "items": RENDITION_SCHEMA},
        "urls": {
            "type": ["object", "null"],
            "description": "output → VOD master playlist path; null until published",
            "additionalProperties": {"type": "string"},
        },
    },
    description="An asset; `urls` is null until it is published.",
)
JOB_SCHEMA = closed(
    {
        "id": ID,
        "asset_id": ID,
        "original_filename": {"type": "string"},
        "profile": {"type": "string"},
        "state": enum_of(JobState),
        "attempts": {"type": "integer", "minimum": 0},
        "max_attempts": {"type": "integer", "minimum": 1},
        "progress": {"type": "number", "minimum": 0, "maximum": 1},
        "speed": nullable({"type": "number", "description": "× real time"}),
        "failure_reason": nullable({"type": "string"}),
        "created_at": INSTANT,
        "updated_at": INSTANT,
        "started_at": nullable(INSTANT),
        "finished_at": nullable(INSTANT),
    },
    description="An ingest job (its source path on the server is never shown).",
)


def page_schema(item: Document) -> Document:
    return closed(
        {
            "items": {"type": "array", "items": item},
            "total": {"type": "integer", "minimum": 0},
            "limit": {"type": "integer", "minimum": 1},
            "offset": {"type": "integer", "minimum": 0},
        }
    )
