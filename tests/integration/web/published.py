"""Assets published the way an ingest job publishes them, without ffmpeg: segments are random bytes.

``publish_fake_asset`` goes through the same steps as a job (create, claim, stage, publish the package,
flip the catalog row) and returns every file it wrote, so that tests compare what the origin serves
against what was stored.
"""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from aiohttp import web
from aiohttp.test_utils import TestClient

from rcmedia.catalog.repository import Catalog
from rcmedia.core.assets import Rendition
from rcmedia.core.models import AssetMetadata, Rights, Source, all_outputs_rights
from rcmedia.storage.local import LocalStorage

NOW = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
CORS_ORIGIN = "https://watch.example.edu"
CODECS = "avc1.64001e,mp4a.40.2"
DURATIONS = (2.0, 2.0, 1.52)
# Measured facts a real ingest would have found, per rung of the "tiny" test profile (and a 540p).
RUNG_FACTS: dict[str, dict[str, int]] = {
    "540p": {"width": 960, "height": 540, "bandwidth": 1_300_000, "average_bandwidth": 1_050_000},
    "360p": {"width": 640, "height": 360, "bandwidth": 520_000, "average_bandwidth": 431_000},
    "180p": {"width": 320, "height": 180, "bandwidth": 263_000, "average_bandwidth": 214_000},
    "144p": {"width": 256, "height": 144, "bandwidth": 161_000, "average_bandwidth": 128_000},
}

Client = TestClient[web.Request, web.Application]
AiohttpClient = Callable[..., Awaitable[Client]]


@dataclass(frozen=True, kw_only=True, slots=True)
class Published:
    asset_id: int
    job_id: int
    prefix: str
    files: dict[str, bytes]  # storage key -> the bytes written there


class PublishAsset(Protocol):
    def __call__(
        self,
        *,
        title: str = ...,
        original_filename: str = ...,
        series: str | None = ...,
        episode: int | None = ...,
        source: Source = ...,
        rungs: tuple[str, ...] = ...,
        profile: str = ...,
        durations: tuple[float, ...] = ...,
        rights: tuple[Rights, ...] | None = ...,
    ) -> Published: ...


def source_path_of(original_filename: str) -> str:
    return f"/srv/private-inbox/{original_filename}"


def create_pending(
    catalog: Catalog, *, title: str, original_filename: str, **metadata: Any
) -> tuple[int, int]:
    return catalog.create_ingest(
        AssetMetadata(title=title, **metadata),
        original_filename=original_filename,
        source_path=source_path_of(original_filename),
        profile="tiny",
        max_attempts=3,
        now=NOW,
    )


def publish_fake_asset(
    catalog: Catalog,
    storage: LocalStorage,
    *,
    seed: int,
    title: str = "Lecture",
    original_filename: str = "lecture.mp4",
    series: str | None = None,
    episode: int | None = None,
    source: Source = Source.OWN,
    rungs: tuple[str, ...] = ("360p", "180p", "144p"),
    profile: str = "tiny",
    durations: tuple[float, ...] = DURATIONS,
    rights: tuple[Rights, ...] | None = None,
) -> Published:
    fmp4 = profile == "tiny_fmp4"
    asset_id, job_id = catalog.create_ingest(
        AssetMetadata(
            title=title,
            series=series,
            episode=episode,
            source=source,
            rights=all_outputs_rights() if rights is None else rights,
        ),
        original_filename=original_filename,
        source_path=source_path_of(original_filename),
        profile=profile,
        max_attempts=3,
        now=NOW,
    )
    job = catalog.claim_job(worker="test-worker", lease_seconds=60, now=NOW, job_id=job_id)
    assert job is not None
    rng = random.Random(seed)
    prefix = f"assets/{asset_id}/{uuid.uuid4().hex}"
    staging = storage.staging_dir(f"job-{job_id}")
    files: dict[str, bytes] = {}
    renditions = []
    for name in rungs:
        folder = staging / name
        folder.mkdir()
        names = tuple(f"seg_{i:05d}.{'m4s' if fmp4 else 'ts'}" for i in range(len(durations)))
        contents = {segment: rng.randbytes(2000 + 700 * (i % 3)) for i, segment in enumerate(names)}
        if fmp4:
            contents["init.mp4"] = rng.randbytes(600)
        for file, data in contents.items():
            (folder / file).write_bytes(data)
            files[f"{prefix}/{name}/{file}"] = data
        renditions.append(
            Rendition(
                name=name,
                codecs=CODECS,
                frame_rate=25.0,
                segments=names,
                segment_durations=durations,
                init_segment="init.mp4" if fmp4 else None,
                **RUNG_FACTS[name],
            )
        )
    (staging / "master.m3u8").write_text("#EXTM3U\n")  # every real package has one
    storage.publish(staging, prefix)
    assert job.worker == "test-worker"
    catalog.publish(
        job_id=job_id,
        worker=job.worker,
        storage_prefix=prefix,
        duration=sum(durations),
        segment_type="fmp4" if fmp4 else "mpegts",
        target_duration=math.ceil(max(durations)),
        renditions=renditions,
        now=NOW,
    )
    return Published(asset_id=asset_id, job_id=job_id, prefix=prefix, files=files)
