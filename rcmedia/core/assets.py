"""Read models of the catalog: what the origin, the API and the scheduler see of assets and jobs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from rcmedia.core.models import AssetMetadata, AssetStatus, JobState

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, kw_only=True, slots=True)
class Rendition:
    """One published rung of an asset, with the measured facts its master playlist advertises."""

    name: str
    width: int
    height: int
    bandwidth: int  # peak segment bit rate, bit/s (EXT-X-STREAM-INF BANDWIDTH)
    average_bandwidth: int  # bit/s (AVERAGE-BANDWIDTH)
    codecs: str  # RFC 6381, e.g. "avc1.64001f,mp4a.40.2"
    frame_rate: float
    segments: tuple[str, ...]  # file names relative to the rendition folder
    segment_durations: tuple[float, ...]
    init_segment: str | None = None  # fMP4 only (EXT-X-MAP)

    @property
    def segment_count(self) -> int:
        return len(self.segments)


@dataclass(frozen=True, kw_only=True, slots=True)
class Asset:
    id: int
    metadata: AssetMetadata
    original_filename: str
    profile: str
    status: AssetStatus
    duration: float | None
    storage_prefix: str | None  # where its renditions live, once published
    segment_type: str | None
    target_duration: int | None
    renditions: tuple[Rendition, ...]
    created_at: datetime
    published_at: datetime | None
    updated_at: datetime  # moves with every change: the asset's version

    @property
    def version(self) -> int:
        """What an editor's change names to say which state it was made on (``If-Match``)."""
        return (self.updated_at - EPOCH) // timedelta(microseconds=1)

    def rendition(self, name: str) -> Rendition | None:
        return next((r for r in self.renditions if r.name == name), None)


@dataclass(frozen=True, kw_only=True, slots=True)
class Job:
    id: int
    asset_id: int
    source_path: str
    original_filename: str
    profile: str
    state: JobState
    attempts: int
    max_attempts: int
    progress: float  # 0..1 of the transcode
    speed: float | None  # × real time, from ffmpeg's progress
    failure_reason: str | None
    worker: str | None  # who holds the job while it runs
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
