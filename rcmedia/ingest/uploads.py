"""The staging folder of tus uploads: partial files that become ingest jobs once complete.

``HOME/work/uploads/`` holds per upload ``{id}.part`` (the bytes so far: its size is the offset),
``{id}.json`` (length, metadata, owner, expiry, the job once there is one; replaced atomically)
and ``{id}.lock``. Every path is built from the server's random id, never from anything a client
sent. Several ``serve --workers N`` processes share the folder, so whoever changes an upload
(appends, finishes, deletes, sweeps) holds ``fcntl.flock`` on its lock file; a second writer gets
:class:`UploadLockedError` at once rather than waiting behind a slow client. The lock goes with
the process, so a crashed worker never leaves an upload stuck.

A finished upload moves into the hot folder's ``processing/`` (as ``{id}--{id}.ext``, so the hot
folder's settle moves it to ``done/`` or ``failed/`` with its job) and is queued with
:func:`rcmedia.ingest.intake.submit`. Nothing else makes a job, so an interrupted or abandoned
upload never becomes an asset.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from rcmedia.core import tus
from rcmedia.core.containers import media_suffix
from rcmedia.errors import NotFoundError, UploadExpiredError, UploadLockedError
from rcmedia.ingest.context import IngestContext
from rcmedia.ingest.hotfolder import SEPARATOR, Folders
from rcmedia.ingest.intake import submit

ID_PATTERN = r"[A-Za-z0-9_-]{24}"
_ID = re.compile(ID_PATTERN)


@dataclass(frozen=True, kw_only=True, slots=True)
class Upload:
    id: str
    length: int
    offset: int
    metadata: dict[str, str]  # the Upload-Metadata pairs, decoded
    owner: str
    expires: datetime
    job_id: int | None = None

    @property
    def complete(self) -> bool:
        return self.offset == self.length


class UploadStaging:
    """The uploads under ``root``; ``expiry`` after creation an unfinished one is deleted."""

    def __init__(self, root: Path, *, expiry: timedelta) -> None:
        self.root = root
        self.expiry = expiry
        root.mkdir(parents=True, exist_ok=True)

    def _path(self, upload_id: str, ext: str) -> Path:
        if not _ID.fullmatch(upload_id):  # the route allows only this, but the path must never trust it
            raise NotFoundError("upload", upload_id)
        return self.root / f"{upload_id}{ext}"

    def create(self, *, length: int, metadata: dict[str, str], owner: str, now: datetime) -> Upload:
        """A new empty upload (its sidecar last: an upload without one does not exist)."""
        upload_id = secrets.token_urlsafe(18)  # 24 URL-safe characters, 144 random bits
        self._path(upload_id, ".part").touch(exist_ok=False)
        upload = Upload(
            id=upload_id, length=length, offset=0, metadata=metadata, owner=owner, expires=now + self.expiry
        )
        self._write_sidecar(upload)
        return upload

    def get(self, upload_id: str, *, now: datetime) -> Upload:
        """The upload as stored now (404 unknown, 410 expired)."""
        sidecar = self._path(upload_id, ".json")
        try:
            data = json.loads(sidecar.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise NotFoundError("upload", upload_id) from None
        expires = datetime.fromisoformat(data["expires"])
        job_id = data.get("job_id")
        if expires <= now and job_id is None:
            raise UploadExpiredError(upload_id, expires)
        if job_id is not None:
            offset = data["length"]  # the bytes now live in the ingest spool
        else:
            try:
                offset = self._path(upload_id, ".part").stat().st_size
            except FileNotFoundError:
                raise NotFoundError("upload", upload_id) from None
        return Upload(
            id=upload_id,
            length=data["length"],
            offset=offset,
            metadata=data["metadata"],
            owner=data["owner"],
            expires=expires,
            job_id=job_id,
        )

    @contextlib.contextmanager
    def locked(self, upload_id: str, *, now: datetime) -> Iterator[Upload]:
        """Hold the upload's lock (or :class:`UploadLockedError`) and yield it as stored now."""
        self.get(upload_id, now=now)  # 404/410 before a lock file is made for nothing
        with self._flock(upload_id):
            # deleted between our look and the lock: whoever deleted it also removed the lock file
            yield self.get(upload_id, now=now)

    def open_part(self, upload: Upload) -> BinaryIO:
        """The part file open for appending; hand it back to :meth:`close_part` however the body ends.

        Call inside :meth:`locked`. The offset is the part file's size, so a client that drops
        the connection resumes after the last byte that reached the disk.
        """
        return self._path(upload.id, ".part").open("ab")

    @staticmethod
    def close_part(part: BinaryIO) -> None:
        """Flush what was written to the disk, then close: the offset HEAD gives is kept."""
        try:
            part.flush()
            os.fsync(part.fileno())
        finally:
            part.close()

    def truncate(self, upload: Upload, offset: int) -> None:
        """Cut the part file back to ``offset`` (a body that ran past ``Upload-Length``)."""
        os.truncate(self._path(upload.id, ".part"), offset)

    def finish(self, upload: Upload, ctx: IngestContext, spool: Path) -> Upload:
        """Move a complete upload into ``spool`` (the hot folder root) and queue its ingest job.

        Call inside :meth:`locked`; the metadata was validated when the upload was created.
        """
        filename = tus.upload_filename(upload.metadata)
        suffix = media_suffix(filename) or ""
        processing = Folders.under(spool).processing
        moved = processing / f"{upload.id}{SEPARATOR}{upload.id}{suffix}"
        part = self._path(upload.id, ".part")
        shutil.move(part, moved)
        try:
            job_id = submit(
                ctx, moved, metadata=tus.asset_metadata(upload.metadata), original_filename=filename
            )
        except BaseException:
            # no job (a busy catalog, say): the bytes go back, and the last PATCH can be retried
            shutil.move(moved, part)
            raise
        done = Upload(
            id=upload.id,
            length=upload.length,
            offset=upload.length,
            metadata=upload.metadata,
            owner=upload.owner,
            expires=upload.expires,
            job_id=job_id,
        )
        self._write_sidecar(done)
        return done

    def delete(self, upload_id: str, *, now: datetime) -> None:
        """Terminate an upload: its partial data and records go (its job, if any, stays)."""
        with self.locked(upload_id, now=now):
            self._remove(upload_id)

    def sweep(self, *, now: datetime) -> list[str]:
        """Delete the uploads past their expiry (finished ones too: their job has the file).

        Uploads being written are left for the next sweep. Returns the ids deleted.
        """
        deleted = []
        for sidecar in sorted(self.root.glob("*.json")):
            upload_id = sidecar.stem
            try:
                data = json.loads(sidecar.read_text(encoding="utf-8"))
                if datetime.fromisoformat(data["expires"]) > now:
                    continue
                with self._flock(upload_id):
                    self._remove(upload_id)
            except (FileNotFoundError, UploadLockedError):
                continue  # gone meanwhile, or being written: the next sweep looks again
            deleted.append(upload_id)
        return deleted

    @contextlib.contextmanager
    def _flock(self, upload_id: str) -> Iterator[None]:
        fd = os.open(self._path(upload_id, ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise UploadLockedError(upload_id) from None
            yield
        finally:
            os.close(fd)

    def _remove(self, upload_id: str) -> None:
        # the sidecar first: from then on the upload does not exist for any process
        for ext in (".json", ".part", ".lock"):
            self._path(upload_id, ext).unlink(missing_ok=True)

    def _write_sidecar(self, upload: Upload) -> None:
        data = {
            "length": upload.length,
            "metadata": upload.metadata,
            "owner": upload.owner,
            "expires": upload.expires.isoformat(),
            "job_id": upload.job_id,
        }
        target = self._path(upload.id, ".json")
        temporary = target.with_name(f".{target.name}.tmp")
        with temporary.open("w", encoding="utf-8") as file:
            json.dump(data, file, ensure_ascii=False)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
