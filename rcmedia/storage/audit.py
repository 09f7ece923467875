"""Auditing the stored packages against the catalog: missing, truncated and orphaned files.

For every published asset, each rendition's playlist, init segment (fMP4) and segments must exist
and hold something; an MPEG-TS segment must be whole 188-byte packets starting with the sync byte
(ISO/IEC 13818-1 §2.4.3.2), else it was cut short. Under ``assets/``, a package folder that no
catalog row refers to is orphaned (a crashed publish, a removed asset), except while its asset is
still being ingested (``pending``: the job publishes the folder before it flips the row).
The origin answers a missing segment with the slate (rcmedia.playout.missing_segments); this is
how an operator finds them before viewers do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from rcmedia.core.assets import Asset
from rcmedia.core.models import AssetStatus
from rcmedia.errors import StorageError, UnsafePathError
from rcmedia.storage.base import Storage

ASSETS = "assets"  # where ingest publishes: assets/{asset id}/{package}
MASTER = "master.m3u8"
RENDITION_PLAYLIST = "index.m3u8"
TS_PACKET = 188
SYNC_BYTE = 0x47


class ProblemKind(StrEnum):
    MISSING = "missing"
    TRUNCATED = "truncated"
    ORPHANED = "orphaned"


@dataclass(frozen=True, kw_only=True, slots=True)
class Problem:
    kind: ProblemKind
    key: str  # the storage key (a file, or an orphaned folder)
    asset_id: int | None
    detail: str


@dataclass(frozen=True, kw_only=True, slots=True)
class AuditReport:
    assets: int  # published assets checked
    files: int  # files looked at
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def count(self, kind: ProblemKind) -> int:
        return sum(1 for p in self.problems if p.kind is kind)

    def as_dict(self) -> dict[str, object]:
        return {
            "assets": self.assets,
            "files": self.files,
            "ok": self.ok,
            "counts": {kind.value: self.count(kind) for kind in ProblemKind},
            "problems": [
                {"kind": p.kind.value, "key": p.key, "asset_id": p.asset_id, "detail": p.detail}
                for p in self.problems
            ],
        }


AssetStates = Callable[[Iterable[int]], Mapping[int, tuple[AssetStatus, str | None]]]


def audit_packages(storage: Storage, published: Sequence[Asset], states: AssetStates) -> AuditReport:
    """Check ``published`` assets' files in ``storage`` and look for orphaned packages.

    ``states`` gives (status, storage prefix) of asset ids, for the folders found under ``assets/``
    (an id the catalog does not know is left out of its answer). Blocking: reads storage.
    """
    problems: list[Problem] = []
    files = 0
    for asset in published:
        prefix = asset.storage_prefix
        if not prefix:
            continue
        files += 1
        problems.extend(_missing(storage, f"{prefix}/{MASTER}", asset.id))
        for rendition in asset.renditions:
            folder = f"{prefix}/{rendition.name}"
            names = [RENDITION_PLAYLIST, *([rendition.init_segment] if rendition.init_segment else [])]
            for name in names:
                files += 1
                problems.extend(_missing(storage, f"{folder}/{name}", asset.id))
            for index, name in enumerate(rendition.segments):
                files += 1
                problems.extend(_segment(storage, f"{folder}/{name}", asset.id, index))
    problems.extend(_orphans(storage, states))
    return AuditReport(assets=len(published), files=files, problems=tuple(problems))


def _missing(storage: Storage, key: str, asset_id: int) -> list[Problem]:
    size, _ = _size_and_head(storage, key)
    if size is None:
        return [Problem(kind=ProblemKind.MISSING, key=key, asset_id=asset_id, detail="not in storage")]
    if size == 0:
        return [Problem(kind=ProblemKind.TRUNCATED, key=key, asset_id=asset_id, detail="empty")]
    return []


def _segment(storage: Storage, key: str, asset_id: int, index: int) -> list[Problem]:
    size, head = _size_and_head(storage, key)
    where = f"segment {index}"
    if size is None:
        return [
            Problem(kind=ProblemKind.MISSING, key=key, asset_id=asset_id, detail=f"{where}: not in storage")
        ]
    why = None
    if size == 0:
        why = "empty"
    elif key.endswith(".ts") and size % TS_PACKET:
        why = f"{size} bytes: not whole {TS_PACKET}-byte packets"
    elif key.endswith(".ts") and head != SYNC_BYTE:
        why = "does not start with the MPEG-TS sync byte"
    if why is None:
        return []
    return [Problem(kind=ProblemKind.TRUNCATED, key=key, asset_id=asset_id, detail=f"{where}: {why}")]


def _size_and_head(storage: Storage, key: str) -> tuple[int | None, int | None]:
    """The file's size and first byte; (None, None) when it is not there or cannot be read."""
    try:
        path = storage.local_path(key)
        if path is not None:
            with path.open("rb") as file:
                first = file.read(1)
                return file.seek(0, 2), first[0] if first else None
        if not storage.exists(key):
            return None, None
        data = storage.read_bytes(key)
    except (OSError, StorageError, UnsafePathError):
        return None, None
    return len(data), data[0] if data else None


def _orphans(storage: Storage, states: AssetStates) -> list[Problem]:
    folders = storage.list_prefixes(ASSETS)
    ids = {int(name) for folder in folders if (name := folder.rsplit("/", 1)[-1]).isdigit()}
    known = states(ids)
    problems = []
    for folder in folders:
        name = folder.rsplit("/", 1)[-1]
        asset_id = int(name) if name.isdigit() else None
        state = known.get(asset_id) if asset_id is not None else None
        if state is None:
            problems.append(
                Problem(kind=ProblemKind.ORPHANED, key=folder, asset_id=asset_id, detail="no catalog row")
            )
            continue
        status, prefix = state
        if status is AssetStatus.PENDING:
            continue  # being ingested: its package may be published before the row flips
        for package in storage.list_prefixes(folder):
            if package != prefix:
                problems.append(
                    Problem(
                        kind=ProblemKind.ORPHANED,
                        key=package,
                        asset_id=asset_id,
                        detail=f"asset {asset_id} ({status.value}) refers to {prefix or 'no package'}",
                    )
                )
    return problems


def sweep_orphans(storage: Storage, states: AssetStates, *, now: datetime, grace: timedelta) -> list[str]:
    """Delete the orphaned packages and folders under ``assets/`` (see :func:`audit_packages`) in
    which nothing changed for ``grace``: what a crashed ingest uploaded or renamed into place and
    no attempt came back for. The grace spares a repackaging, which publishes before it switches
    the row. Returns the keys deleted. Blocking."""
    removed = []
    for problem in _orphans(storage, states):
        changed = storage.modified(problem.key)
        if changed is not None and now - changed >= grace:
            storage.remove(problem.key)
            removed.append(problem.key)
    return removed
