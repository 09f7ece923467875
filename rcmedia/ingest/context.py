"""What an ingest needs from the outside world, wired once by the entry point."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from rcmedia.catalog.repository import Catalog
from rcmedia.config import Settings
from rcmedia.core.clock import Clock
from rcmedia.core.plan import LoudnessTarget
from rcmedia.core.probe import IntakeLimits
from rcmedia.core.profile import Profile
from rcmedia.storage.base import Storage


@dataclass(frozen=True, kw_only=True, slots=True)
class IngestContext:
    settings: Settings
    catalog: Catalog
    storage: Storage
    profiles: dict[str, Profile]
    ffmpeg: str
    clock: Clock
    # hands a committed, queued job to whoever runs jobs: nothing in-process (the runners poll
    # the catalog), a broker message with ``executor = "celery"`` (rcmedia.ingest.celery_tasks)
    enqueue: Callable[[int], None] = field(default=lambda _job_id: None, repr=False)

    @property
    def remote_workers(self) -> bool:
        """Jobs run on other machines: their sources must travel through the bucket."""
        return self.settings.executor == "celery" and self.settings.storage.startswith("s3://")

    @property
    def limits(self) -> IntakeLimits:
        return IntakeLimits(
            max_bytes=self.settings.max_upload_bytes, max_duration=self.settings.max_duration_seconds
        )

    @property
    def loudness_target(self) -> LoudnessTarget:
        return LoudnessTarget(integrated=self.settings.loudness_target, true_peak=self.settings.true_peak_max)
