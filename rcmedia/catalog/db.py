"""Engine creation and schema migrations (Alembic, run programmatically)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session, sessionmaker

from rcmedia.errors import BusyError, CatalogError

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).with_name("migrations")


DEFAULT_BUSY_TIMEOUT = 10.0  # seconds; the `database_busy_timeout_seconds` setting
BUSY_RETRY_AFTER = 2  # seconds a client is told to wait after a busy catalog
_SQLITE_BUSY = frozenset({5, 6})  # SQLITE_BUSY, SQLITE_LOCKED (primary codes: the low byte)
# PostgreSQL SQLSTATEs of a write that lost to another one: lock_not_available (lock_timeout),
# serialization_failure, deadlock_detected. Retrying the whole request is what the manual advises.
_POSTGRES_BUSY = frozenset({"55P03", "40001", "40P01"})


def _sqlite_pragmas(busy_timeout: float) -> Callable[[Any, Any], None]:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # WAL lets the origin read while a worker writes; busy_timeout rides out short write locks.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={round(busy_timeout * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return on_connect


def is_busy(exc: SQLAlchemyError) -> bool:
    """Whether ``exc`` says another writer holds what was needed (worth retrying), not a fault.

    SQLite's "database is locked" after its busy timeout, PostgreSQL's lock timeout, serialization
    failure or deadlock, and a connection pool with no connection free in time.
    """
    if isinstance(exc, PoolTimeoutError):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    orig = exc.orig
    sqlite_code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(sqlite_code, int):
        return sqlite_code & 0xFF in _SQLITE_BUSY
    return getattr(orig, "sqlstate", None) in _POSTGRES_BUSY


class Transactions:
    """Sessions on one engine, each a transaction; database errors become CatalogError.

    A database busy with another writer (see :func:`is_busy`) is a :class:`BusyError`.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @contextmanager
    def __call__(self) -> Iterator[Session]:
        try:
            with self._sessions.begin() as session:
                yield session
        except SQLAlchemyError as exc:
            if is_busy(exc):
                log.warning("catalog busy: %s", exc)
                raise BusyError("the catalog database", retry_after=BUSY_RETRY_AFTER) from exc
            raise CatalogError(f"catalog operation failed: {exc}") from exc


def insert_absent(session: Session, row: type[Any], values: dict[str, Any]) -> bool:
    """Insert ``values`` as a ``row`` unless one with its key is there; whether this one was.

    For a row two writers may both find missing (there is nothing to lock yet): the second's
    insert waits for the first's transaction (PostgreSQL) or write lock (SQLite), then does
    nothing, instead of failing on the key; it can then lock and read the first's.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    key = next(iter(row.__table__.primary_key))
    made = session.execute(insert(row).values(values).on_conflict_do_nothing().returning(key))
    return made.first() is not None  # (psycopg's rowcount of such an insert is -1)


def make_engine(url: str, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> Engine:
    """An engine for ``url``; SQLite files get their folder created and WAL mode.

    ``busy_timeout`` (seconds): how long a statement waits for a lock another connection holds
    (SQLite's busy timeout, PostgreSQL's ``lock_timeout``) before failing with :class:`BusyError`.
    """
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": busy_timeout}
    else:
        kwargs["pool_pre_ping"] = True
        if url.startswith("postgresql"):
            kwargs["connect_args"] = {"options": _postgres_options(url, busy_timeout)}
    try:
        engine = create_engine(url, **kwargs)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise CatalogError(f"cannot use database URL {_redact(url)!r}: {exc}") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas(busy_timeout))
        event.listen(engine, "before_cursor_execute", _sqlite_write_lock_for_update)
    return engine


def _sqlite_write_lock_for_update(
    connection: Any, cursor: Any, _statement: Any, _parameters: Any, context: Any, _many: bool
) -> None:
    """SQLite: a read ``FOR UPDATE`` takes the database's write lock first (``BEGIN IMMEDIATE``).

    SQLite has no FOR UPDATE (SQLAlchemy leaves it out), and sqlite3 opens a transaction only at
    the first write, so a read-check-write (an edit on the version its editor saw) read outside
    any transaction: eight editors on one version all passed the check and all were answered
    success, seven of them overwritten. Locking before the read makes them take turns, as the
    row lock does on PostgreSQL; other writers wait the busy timeout, readers never (WAL).
    """
    compiled = getattr(context, "compiled", None)
    if getattr(getattr(compiled, "statement", None), "_for_update_arg", None) is None:
        return
    dbapi_connection = connection.connection.dbapi_connection
    if not dbapi_connection.in_transaction:
        cursor.execute("BEGIN IMMEDIATE")


def _postgres_options(url: str, busy_timeout: float) -> str:
    """libpq's ``options``: the lock timeout, then any the URL gives (``?options=-csearch_path%3Dx``),
    which connect_args would otherwise replace; given later, the URL's win over ours."""
    ours = f"-c lock_timeout={round(busy_timeout * 1000)}"
    try:
        given = make_url(url).query.get("options")
    except (SQLAlchemyError, ValueError):
        return ours  # create_engine says what is wrong with the URL
    if isinstance(given, tuple):
        given = " ".join(given)
    return f"{ours} {given}" if given else ours


def close_engine(engine: Engine) -> None:
    """Close every connection of ``engine``, those other threads are still using included.

    ``Engine.dispose`` closes the idle connections only: one that a thread returns afterwards
    (an origin's background read, cancelled at shutdown, still runs in its thread) goes back into
    the discarded pool and stays open until the garbage collector happens to free it, with
    psycopg's "connection ... was deleted while still open" in whatever runs then. So from now on
    a connection is closed as it comes back, in this pool and the ones ``dispose`` makes after it.
    """
    close_on_return(engine)
    engine.dispose()


def close_on_return(engine: Engine) -> None:
    """From now on, close each connection of ``engine`` as it is returned, in its pool and those
    ``dispose`` makes after it: for an engine another library disposes of (APScheduler's job
    store), while its own threads may still be using it."""
    event.listen(engine.pool, "checkin", _close_on_checkin)


def _close_on_checkin(_dbapi_connection: Any, record: Any) -> None:
    record.close()


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}"
    return url


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (idempotent; run at every start-up)."""
    try:
        with engine.begin() as connection:
            config = alembic_config(engine)
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    except SQLAlchemyError as exc:
        raise CatalogError(f"cannot migrate the catalog at {_redact(str(engine.url))!r}: {exc}") from exc
