"""The catalog's engines: URL options kept, and closing one closes the connections threads still use."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from typing import Any

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from rcmedia.catalog.db import close_engine, make_engine
from rcmedia.catalog.repository import Catalog
from tests.conftest import POSTGRES_URL, database_url, port_open, require_system


def is_closed(dbapi_connection: Any) -> bool:
    if isinstance(dbapi_connection, psycopg.Connection):
        return bool(dbapi_connection.closed)
    try:
        dbapi_connection.execute("SELECT 1")
    except sqlite3.ProgrammingError:  # "Cannot operate on a closed database."
        return True
    return False


def closed_after(shut: Callable[[Engine], None], url: str) -> bool:
    """Whether the connection a thread was reading on while ``shut(engine)`` ran is closed after."""
    engine = make_engine(url)
    reading, shut_done = threading.Event(), threading.Event()
    used: list[Any] = []

    def read() -> None:  # an origin's background read, cancelled at shutdown but still in its thread
        with engine.connect() as connection:
            used.append(connection.connection.dbapi_connection)
            reading.set()
            shut_done.wait(10)
            connection.execute(text("SELECT 1"))

    thread = threading.Thread(target=read)
    thread.start()
    assert reading.wait(10)
    closer = threading.Thread(target=shut, args=(engine,))
    closer.start()
    shut_done.set()  # the read ends while the engine is being closed
    thread.join()
    closer.join()
    closed = is_closed(used[0])
    if not closed:
        used[0].close()
    engine.dispose()
    return closed


def test_closing_an_engine_closes_the_connections_still_in_use(any_catalog: Catalog) -> None:
    # Engine.dispose() alone leaves the thread's connection open, in a pool nothing refers to: the
    # garbage collector frees it at some later moment, and psycopg warns there ("connection ...
    # was deleted while still open"), in whatever test happens to run (issue 12's random warning)
    url = database_url(any_catalog)
    assert not closed_after(lambda engine: engine.dispose(), url)
    assert closed_after(close_engine, url)


def test_a_postgresql_urls_options_are_kept_beside_the_lock_timeout() -> None:
    require_system("PostgreSQL at 127.0.0.1:5432", port_open("127.0.0.1", 5432), "start it")
    url = make_url(POSTGRES_URL).update_query_dict({"options": "-cstatement_timeout=4321"})
    engine = make_engine(url.render_as_string(hide_password=False), busy_timeout=3)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SHOW statement_timeout")).scalar_one() == "4321ms"
            assert connection.execute(text("SHOW lock_timeout")).scalar_one() == "3s"
    finally:
        close_engine(engine)
