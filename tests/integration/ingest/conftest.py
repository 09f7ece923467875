from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rcmedia.core.assets import Job
from rcmedia.ingest.context import IngestContext
from rcmedia.ingest.intake import submit
from rcmedia.ingest.runner import JobRunner
from rcmedia.ingest.sidecar import read_sidecar

IngestMany = Callable[..., list[Job]]


@pytest.fixture
def ingest_many(ingest_ctx: IngestContext) -> IngestMany:
    """Queue files and run them to the end, like `rcmedia ingest` does."""

    def run(paths: list[Path], *, profile: str | None = None, **metadata: Any) -> list[Job]:
        ids = [
            submit(ingest_ctx, p, metadata=read_sidecar(p, overrides=metadata), profile=profile)
            for p in paths
        ]
        return JobRunner(ingest_ctx).run_jobs(ids)

    return run
