"""Catalog value objects shared by every layer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Output(StrEnum):
    """Where a channel or asset is offered. One transcode serves all three."""

    TV = "tv"
    IPTV = "iptv"
    MOBILE = "mobile"


class Source(StrEnum):
    """Who supplied the courseware."""

    CENTRAL = "central"
    PROVINCIAL = "provincial"
    CITY = "city"
    OWN = "own"


class AssetStatus(StrEnum):
    PENDING = "pending"  # a job is working on it; never served
    PUBLISHED = "published"
    FAILED = "failed"
    WITHDRAWN = "withdrawn"


class JobState(StrEnum):
    QUEUED = "queued"
    PROBING = "probing"
    TRANSCODING = "transcoding"
    VERIFYING = "verifying"
    PUBLISHED = "published"
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        return self in (JobState.PUBLISHED, JobState.FAILED)

    @property
    def running(self) -> bool:
        return self in (JobState.PROBING, JobState.TRANSCODING, JobState.VERIFYING)


@dataclass(frozen=True, kw_only=True, slots=True)
class Rights:
    """The asset may air on ``output`` from ``start`` (inclusive) to ``end`` (exclusive); None is open."""

    output: Output
    start: datetime | None = None
    end: datetime | None = None

    def allows(self, when: datetime) -> bool:
        return (self.start is None or self.start <= when) and (self.end is None or when < self.end)


def all_outputs_rights() -> tuple[Rights, ...]:
    return tuple(Rights(output=o) for o in Output)


@dataclass(frozen=True, kw_only=True, slots=True)
class AssetMetadata:
    """What an editor says about a file (CLI flags, sidecar TOML, upload form)."""

    title: str
    series: str | None = None
    episode: int | None = None
    source: Source = Source.OWN
    language: str = "zh"
    description: str = ""
    categories: tuple[str, ...] = ()
    rights: tuple[Rights, ...] = field(default_factory=all_outputs_rights)
