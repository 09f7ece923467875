"""What the JSON API says about assets and jobs. Times are ISO 8601 in UTC.

A job's ``source_path`` is a path on the server's disks and is never shown.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from rcmedia.catalog.repository import Page
from rcmedia.core.assets import Asset, Job, Rendition
from rcmedia.core.models import AssetStatus, Output, Rights

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


def asset_etag(asset: Asset) -> str:
    """The ETag of an asset document: its version, which every change moves."""
    return f'"asset/{asset.id}/v{asset.version}"'


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
