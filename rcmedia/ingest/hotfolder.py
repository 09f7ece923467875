"""The hot folder: files dropped into ``inbox/`` are ingested, then moved to ``done/`` or ``failed/``.

A file is taken only once its size and modification time have stood still between two scans
(so a copy in progress is never ingested half-written). ``NAME.toml`` next to ``NAME.ext`` gives
its metadata (ingest/README.md). A file whose sidecar is invalid goes straight to ``failed/``
with ``NAME.ext.error.txt`` saying why; so does a failed job, with its failure reason.
"""

from __future__ import annotations

import logging
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from rcmedia.core.models import JobState
from rcmedia.errors import ConfigError, RcmediaError
from rcmedia.ingest.context import IngestContext
from rcmedia.ingest.intake import submit
from rcmedia.ingest.sidecar import read_sidecar
from rcmedia.ingest.sources import source_reference

log = logging.getLogger(__name__)

SEPARATOR = "--"  # processing/<token>--<original name>


@dataclass(frozen=True, kw_only=True, slots=True)
class Folders:
    inbox: Path
    processing: Path
    done: Path
    failed: Path

    @classmethod
    def under(cls, root: Path) -> Folders:
        folders = cls(
            inbox=root / "inbox", processing=root / "processing", done=root / "done", failed=root / "failed"
        )
        for folder in (folders.inbox, folders.processing, folders.done, folders.failed):
            folder.mkdir(parents=True, exist_ok=True)
        return folders


def _unique(target: Path) -> Path:
    if not target.exists():
        return target
    stem, suffix = target.stem, target.suffix
    return target.with_name(f"{stem}.{uuid.uuid4().hex[:6]}{suffix}")


class HotFolder:
    """Scans the inbox and settles finished jobs. Call :meth:`scan` periodically (``serve`` does)."""

    def __init__(self, ctx: IngestContext, root: Path) -> None:
        self.ctx = ctx
        self.folders = Folders.under(root.resolve())
        self._seen: dict[Path, tuple[int, float]] = {}

    def scan(self) -> list[int]:
        """Queue every settled file in the inbox; returns the new job ids."""
        jobs = []
        current = {}
        for path in sorted(self.folders.inbox.iterdir()):
            if not path.is_file() or path.name.startswith(".") or path.suffix.lower() == ".toml":
                continue
            stat = path.stat()
            signature = (stat.st_size, stat.st_mtime)
            current[path] = signature
            if self._seen.get(path) != signature:
                continue  # new or still growing: look again next scan
            job_id = self._take(path)
            if job_id is not None:
                jobs.append(job_id)
            current.pop(path, None)
        self._seen = current
        self.settle()
        return jobs

    def _take(self, path: Path) -> int | None:
        sidecar = path.with_suffix(".toml")
        try:
            metadata = read_sidecar(path)
        except ConfigError as exc:
            log.warning("hot folder: %r refused: %s", path.name, exc)  # %r: names may hold ESC
            self._move_failed(path, sidecar, str(exc))
            return None
        token = uuid.uuid4().hex[:8]
        moved = self.folders.processing / f"{token}{SEPARATOR}{path.name}"
        shutil.move(path, moved)
        if sidecar.exists():
            shutil.move(sidecar, moved.with_name(f"{moved.name}.toml"))
        try:
            job_id = submit(self.ctx, moved, metadata=metadata, original_filename=path.name)
        except RcmediaError as exc:
            self._move_failed(moved, moved.with_name(f"{moved.name}.toml"), str(exc), name=path.name)
            return None
        log.info("hot folder: %r queued as job %s", path.name, job_id)
        return job_id

    def settle(self) -> None:
        """Move the files of finished jobs out of ``processing/``."""
        files = [p for p in self.folders.processing.iterdir() if p.is_file() and p.suffix != ".toml"]
        if not files:
            return
        references = {path: source_reference(self.ctx, path) for path in files}
        jobs = self.ctx.catalog.jobs_by_source_path(list(references.values()))
        for path in files:
            job = jobs.get(references[path])
            if job is None or not job.state.finished:
                continue
            original = path.name.split(SEPARATOR, 1)[-1]
            sidecar = path.with_name(f"{path.name}.toml")
            if job.state is JobState.PUBLISHED:
                target = _unique(self.folders.done / original)
                shutil.move(path, target)
                if sidecar.exists():
                    shutil.move(sidecar, target.with_suffix(".toml"))
            else:
                self._move_failed(path, sidecar, job.failure_reason or "failed", name=original)

    def _move_failed(self, path: Path, sidecar: Path, reason: str, *, name: str | None = None) -> None:
        target = _unique(self.folders.failed / (name or path.name))
        shutil.move(path, target)
        if sidecar.exists():
            shutil.move(sidecar, target.with_suffix(".toml"))
        target.with_name(f"{target.name}.error.txt").write_text(reason + "\n", encoding="utf-8")
