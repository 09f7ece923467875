"""The one error tree. Every error a user can see derives from :class:`RcmediaError`.

Each class also inherits the builtin it resembles, so callers that only know Python's tree
(``except ValueError``) still work. Messages name the item involved with ``!r`` and, where
there is one, say what to do.
"""

from __future__ import annotations

from datetime import datetime


class RcmediaError(Exception):
    """Root of every error rcmedia raises on purpose."""


class ConfigError(RcmediaError, ValueError):
    """A setting, profile or other configuration file is invalid."""


class ProfileError(ConfigError):
    """A transcode profile is invalid."""

    def __init__(self, source: str, key: str, problem: str) -> None:
        self.source = source
        self.key = key
        self.problem = problem
        super().__init__(f"transcode profile {source!r}: {key}: {problem}")


class NotFoundError(RcmediaError, LookupError):
    """A named thing (asset, job, profile, rendition) does not exist."""

    def __init__(self, kind: str, ident: object) -> None:
        self.kind = kind
        self.ident = ident
        super().__init__(f"{kind} {ident!r} not found")


class UnsafePathError(RcmediaError, PermissionError):
    """A path from outside would leave the folder it must stay in (or could never name a file there)."""

    def __init__(self, path: str, problem: str = "is outside the allowed folder") -> None:
        self.path = path
        self.problem = problem
        shown = path if len(path) <= 200 else f"{path[:200]}…"  # an attacker's 8 KB path is not echoed
        super().__init__(f"path {shown!r} {problem}")


class MediaError(RcmediaError):
    """Something went wrong with a media file or the tools that handle it."""


class RejectedInputError(MediaError, ValueError):
    """The input file can never be ingested as it is (empty, not media, undecodable, over limits).

    Retrying will not help, so jobs failing with this error are not retried.
    """

    def __init__(self, filename: str, reason: str) -> None:
        self.filename = filename
        self.reason = reason
        super().__init__(f"{filename!r}: {reason}")


class ToolError(MediaError, RuntimeError):
    """An external tool (ffmpeg, MediaInfo) failed or could not be started."""

    def __init__(self, tool: str, problem: str, *, stderr_tail: str = "") -> None:
        self.tool = tool
        self.problem = problem
        self.stderr_tail = stderr_tail
        detail = f"; last output: {stderr_tail.strip()[-600:]}" if stderr_tail.strip() else ""
        super().__init__(f"{tool} {problem}{detail}")


class VerificationError(MediaError):
    """The transcoded ladder does not meet the house contract; nothing is published."""

    def __init__(self, what: str, problem: str) -> None:
        self.what = what
        self.problem = problem
        super().__init__(f"verification failed for {what}: {problem}")


class MediaFormatError(MediaError, ValueError):
    """Media bytes are not what a byte-level rewrite expects (lost TS sync, a box overrunning its parent)."""

    def __init__(self, what: str, problem: str) -> None:
        self.what = what
        self.problem = problem
        super().__init__(f"{what}: {problem}")


class StorageError(RcmediaError, OSError):
    """The storage backend could not read, write or publish."""


class BrokerError(RcmediaError, ConnectionError):
    """The message broker (``broker_url``) did not take or give a job message."""


class CatalogError(RcmediaError):
    """The catalog database refused an operation."""


class BusyError(CatalogError):
    """The catalog (or a lock on what was asked for) is busy: try again after ``retry_after`` seconds.

    Not a fault of the request: the web answers 503 with ``Retry-After``, the CLI says to retry.
    """

    def __init__(self, what: str, *, retry_after: int = 2) -> None:
        self.what = what
        self.retry_after = retry_after
        super().__init__(f"{what} is busy; try again in {retry_after} s")


class ConflictError(RcmediaError):
    """A write was based on a version that is no longer current (optimistic versioning).

    ``current`` is the version now stored, so the client can reload and decide again.
    """

    def __init__(self, what: str, *, expected: object, current: object) -> None:
        self.what = what
        self.expected = expected
        self.current = current
        super().__init__(
            f"{what} changed: your change was based on version {expected!r}, the current version is "
            f"{current!r}; reload and try again"
        )


class ScheduleError(RcmediaError, ValueError):
    """A schedule cannot be built or an edit is refused; the message says why."""


class JobError(RcmediaError):
    """An ingest job is in a state that does not allow the requested operation."""


class InvalidFieldError(RcmediaError, ValueError):
    """A field of a request (JSON body, form, command-line value) is missing or wrong."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


class AccountError(RcmediaError, ValueError):
    """An account cannot be created or changed as asked (name taken, password too short)."""


class AccountConflictError(AccountError):
    """The accounts as they are refuse the change: the name is taken, or no enabled admin would be left."""


class AssetStateError(RcmediaError):
    """An asset is in a state that does not allow the change asked for (withdrawing a pending one)."""


class JobStateError(RcmediaError):
    """A job is in a state that does not allow the action asked for (retrying a running one)."""


class UploadLockedError(RcmediaError, BlockingIOError):
    """Another request is writing to this upload right now (tus: one PATCH at a time)."""

    def __init__(self, upload_id: str) -> None:
        super().__init__(f"upload {upload_id!r} is being written by another request; retry when it ends")


class UploadExpiredError(RcmediaError, LookupError):
    """The upload was not finished before its expiry; its partial data is (being) deleted."""

    def __init__(self, upload_id: str, expires: datetime) -> None:
        super().__init__(f"upload {upload_id!r} expired at {expires.isoformat()}; start a new one")
