"""What an ingest needs from the outside world, wired once by the entry point."""

from __future__ import annotations

from dataclasses import dataclass

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

    @property
    def limits(self) -> IntakeLimits:
        return IntakeLimits(
            max_bytes=self.settings.max_upload_bytes, max_duration=self.settings.max_duration_seconds
        )

    @property
    def loudness_target(self) -> LoudnessTarget:
        return LoudnessTarget(integrated=self.settings.loudness_target, true_peak=self.settings.true_peak_max)
