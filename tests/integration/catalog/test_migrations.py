"""The Alembic migrations, on SQLite and PostgreSQL: from empty and from every earlier revision (with
rows in every table) to head, data kept; idempotent at start-up; head matching tables.py."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import column, insert, inspect, select, table, text
from sqlalchemy.engine import Engine

from rcmedia.catalog.db import MIGRATIONS, alembic_config, upgrade
from rcmedia.catalog.repository import AssetQuery, Catalog
from rcmedia.catalog.search import term_rows
from rcmedia.catalog.tables import Base
from rcmedia.core.models import AssetMetadata, Output

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def ingest(catalog: Catalog, title: str) -> tuple[int, int]:
    return catalog.create_ingest(
        AssetMetadata(title=title),
        original_filename=f"{title}.mxf",
        source_path=f"/srv/ingest/{title}.mxf",
        profile="default",
        max_attempts=3,
        now=NOW,
    )


def _current_revision(catalog: Catalog) -> str | None:
    with catalog.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def test_the_catalog_is_at_head(any_catalog: Catalog) -> None:
    head = ScriptDirectory.from_config(alembic_config(any_catalog.engine)).get_current_head()
    assert head is not None
    assert _current_revision(any_catalog) == head


def test_upgrade_again_is_a_no_op_that_keeps_the_data(any_catalog: Catalog) -> None:
    asset_id, job_id = ingest(any_catalog, "第1课")
    before = _current_revision(any_catalog)

    upgrade(any_catalog.engine)  # every start-up runs it
    upgrade(any_catalog.engine)

    assert _current_revision(any_catalog) == before
    assert any_catalog.get_asset(asset_id).metadata.title == "第1课"
    assert any_catalog.get_job(job_id).created_at == NOW
    assert ingest(any_catalog, "第2课")[0] == asset_id + 1  # the schema still takes writes


def test_the_migrated_schema_matches_the_table_definitions(any_catalog: Catalog) -> None:
    # tables.py says "change them only together with a new Alembic revision": this is the check.
    with any_catalog.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_0006_keeps_accounts_and_adds_tokens_and_the_audit_log(any_catalog: Catalog) -> None:
    # an account made before 0006: every channel, version 1, and it can get a token afterwards
    config = alembic_config(any_catalog.engine)
    with any_catalog.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0005")
        connection.execute(
            text(
                "INSERT INTO users (name, role, password_hash, created_at, disabled) "
                "VALUES ('old', 'operator', 'x', :at, false)"
            ),
            {"at": NOW},
        )
    upgrade(any_catalog.engine)

    user = any_catalog.accounts.get_user("old")
    assert (user.channels, user.version) == (None, 1)
    _, secret = any_catalog.accounts.create_token("old", now=NOW)
    assert any_catalog.accounts.token_user(secret, now=NOW) == user
    assert any_catalog.audit.record("cli:ops", "user.token", "user/old", now=NOW).id >= 1


# --- from every earlier revision, with data in it, to head ------------------------------------------

DAY = date(2026, 11, 27)
# Rows of every table, by the revision that made it (a later revision's new columns under its
# own key). Written with the revision's schema, then upgraded to head: every row must be there
# unchanged, and the schema must be head's exactly.
ROWS: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "0001": [
        (
            "assets",
            {
                "id": 1,
                "title": "第1课：党的建设",
                "series": "党建基础",
                "episode": 1,
                "source": "central",
                "language": "zh",
                "description": "长征精神代代相传",
                "categories": ["党史", "专题讲座"],
                "original_filename": "lesson01.mxf",
                "profile": "default",
                "status": "published",
                "duration": 12.0,
                "storage_prefix": "assets/1/a1b2",
                "segment_type": "ts",
                "target_duration": 6,
                "created_at": NOW,
                "updated_at": NOW,
                "published_at": NOW,
            },
        ),
        ("asset_rights", {"id": 1, "asset_id": 1, "output": "tv", "starts_at": NOW, "ends_at": None}),
        (
            "renditions",
            {
                "id": 1,
                "asset_id": 1,
                "name": "144p",
                "width": 256,
                "height": 144,
                "bandwidth": 200_000,
                "average_bandwidth": 150_000,
                "codecs": "avc1.64001f,mp4a.40.2",
                "frame_rate": 25.0,
                "segment_count": 2,
                "segments": ["144p/0.ts", "144p/1.ts"],
                "segment_durations": [6.0, 6.0],
                "init_segment": None,
            },
        ),
        (
            "ingest_jobs",
            {
                "id": 1,
                "asset_id": 1,
                "source_path": "/srv/ingest/lesson01.mxf",
                "original_filename": "lesson01.mxf",
                "profile": "default",
                "state": "published",
                "attempts": 1,
                "max_attempts": 3,
                "progress": 1.0,
                "speed": 2.5,
                "failure_reason": None,
                "worker": None,
                "lease_until": None,
                "created_at": NOW,
                "updated_at": NOW,
                "started_at": NOW,
                "finished_at": NOW,
            },
        ),
    ],
    "0002": [
        (
            "channels",
            {
                "id": "rcxf",
                "filename": "rcxf.toml",
                "source": "[channel]\nid = 'rcxf'\n",
                "version": 2,
                "applied_at": NOW,
            },
        ),
        (
            "schedule_days",
            {
                "id": 1,
                "channel_id": "rcxf",
                "output": "iptv",
                "day": DAY,
                "starts_at": NOW,
                "ends_at": NOW + timedelta(days=1),
                "version": 3,
                "built_at": NOW,
            },
        ),
        (
            "epg_events",
            {
                "id": 1,
                "day_id": 1,
                "channel_id": "rcxf",
                "output": "iptv",
                "starts_at": NOW,
                "duration_us": 12_000_000,
                "asset_id": 1,
                "first_segment": 0,
                "last_segment": 1,
                "kind": "programme",
                "title": "第1课：党的建设",
                "series": "党建基础",
                "episode": 1,
                "slot_id": "djjc-0800",
                "premiere": True,
                "previously_shown": None,
                "substitution": None,
                "locked": True,
                "seq0": 4_321,
                "disc0": 17,
            },
        ),
    ],
    "0003": [
        (
            "users",
            {
                "id": 1,
                "name": "ed",
                "role": "operator",
                "password_hash": "$argon2id$x",
                "created_at": NOW,
                "disabled": False,
            },
        ),
        (
            "sessions",
            {"token_hash": "a" * 64, "user_id": 1, "created_at": NOW, "expires_at": NOW + timedelta(hours=8)},
        ),
    ],
    "0004": [
        (
            "asrun_entries",
            {
                "id": 1,
                "channel_id": "rcxf",
                "output": "iptv",
                "scheduled_start": NOW,
                "actual_start": NOW,
                "duration_us": 12_000_000,
                "asset_id": 1,
                "title": "第1课：党的建设",
                "kind": "programme",
                "substitution": None,
                "closed_at": NOW + timedelta(minutes=1),
            },
        ),
        ("asrun_marks", {"channel_id": "rcxf", "output": "iptv", "closed_until": NOW + timedelta(minutes=1)}),
    ],
    "0005": [
        (
            "segment_stand_ins",
            {
                "storage_key": "assets/1/a1b2/144p/1.ts",
                "asset_id": 1,
                "rendition": "144p",
                "segment_index": 1,
                "first_at": NOW,
            },
        ),
    ],
    "0006": [
        (
            "users",
            {
                "id": 2,
                "name": "li",
                "role": "operator",
                "password_hash": "$argon2id$y",
                "created_at": NOW,
                "disabled": True,
                "channels": ["rcxf"],
                "version": 4,
            },
        ),
        (
            "api_tokens",
            {
                "id": 1,
                "user_id": 2,
                "token_hash": "b" * 64,
                "label": "cron",
                "created_at": NOW,
                "last_used_at": None,
                "revoked_at": None,
            },
        ),
        (
            "audit_log",
            {
                "id": 1,
                "at": NOW,
                "actor": "ed",
                "action": "asset.update",
                "target": "asset/1",
                "before": {"title": "旧"},
                "after": {"title": "第1课：党的建设"},
            },
        ),
    ],
    "0007": [
        # the columns 0007 made ("best" came in 0009 and is filled in by it)
        ("asset_terms", {name: row[name] for name in ("term", "asset_id", "field")})
        for row in term_rows(
            1,
            {
                "title": "第1课：党的建设",
                "series": "党建基础",
                "description": "长征精神代代相传",
                "original_filename": "lesson01.mxf",
            },
        )
    ],
}


# made from other tables' rows: a later revision may rebuild them (the search index, when its
# tokenizer changes); checked by what they are for (the search finds the asset) instead
DERIVED = frozenset({"asset_terms"})


def _revisions() -> list[str]:
    """Every revision, oldest first."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return [
        script.revision for script in reversed(list(ScriptDirectory.from_config(config).walk_revisions()))
    ]


def _migrate(engine: Engine, revision: str, *, down: bool = False) -> None:
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def _table(engine: Engine, name: str, columns: Iterable[str]) -> Any:
    """``name`` with ``columns`` typed as tables.py types them (UTC datetimes, JSON)."""
    model = Base.metadata.tables[name]
    return table(name, *(column(c, model.c[c].type) for c in columns))


def _rows_up_to(revision: str) -> list[tuple[str, dict[str, Any]]]:
    upto = _revisions()[: _revisions().index(revision) + 1]
    return [row for made, rows in ROWS.items() if made in upto for row in rows]


@pytest.mark.parametrize("revision", _revisions()[:-1])
def test_every_earlier_revision_upgrades_to_head_keeping_its_data(
    any_catalog: Catalog, revision: str
) -> None:
    written_tables = {name for rows in ROWS.values() for name, _ in rows}
    assert written_tables == set(Base.metadata.tables), "give a new table rows in ROWS"
    engine = any_catalog.engine
    _migrate(engine, "base", down=True)  # every downgrade, down to an empty database
    with engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
    _migrate(engine, revision)
    written = _rows_up_to(revision)
    with engine.begin() as connection:
        for name, row in written:
            connection.execute(insert(_table(engine, name, row)), row)
        if engine.dialect.name == "postgresql":  # as if the rows had been written by the catalog
            for name in {name for name, row in written if isinstance(row.get("id"), int)}:
                connection.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), max(id)) FROM {name}")
                )

    upgrade(engine)  # what `rcmedia db upgrade` and every start-up run

    assert _current_revision(any_catalog) == _revisions()[-1]
    with engine.connect() as connection:
        for name, row in written:
            if name in DERIVED:
                continue
            stored = _table(engine, name, row)
            key = [stored.c[c.name] == row[c.name] for c in Base.metadata.tables[name].primary_key]
            found = connection.execute(select(*stored.c).where(*key)).mappings().all()
            assert [dict(r) for r in found] == [row], (name, row)
        differences = compare_metadata(
            MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata
        )
    assert differences == []
    # and the catalog works on what was kept: reads through it, and takes writes
    asset = any_catalog.get_asset(1)
    assert (asset.metadata.title, [r.name for r in asset.renditions]) == ("第1课：党的建设", ["144p"])
    assert [a.id for a in any_catalog.find_assets(AssetQuery(text="长征")).items] == [1]
    assert any_catalog.get_job(1).speed == 2.5
    assert ingest(any_catalog, "第2课")[0] == 2
    made = _revisions().index
    if made(revision) >= made("0002"):
        assert any_catalog.schedules.built_days("rcxf", Output.IPTV) == {DAY: 3}
    if made(revision) >= made("0003"):
        user = any_catalog.accounts.get_user("ed")
        assert (user.role.value, user.channels, user.version) == ("operator", None, 1)
