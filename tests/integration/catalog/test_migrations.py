"""The Alembic migrations, on SQLite and PostgreSQL: idempotent at start-up, at head, matching tables.py."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from rcmedia.catalog.db import alembic_config, upgrade
from rcmedia.catalog.repository import Catalog
from rcmedia.catalog.tables import Base
from rcmedia.core.models import AssetMetadata

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
