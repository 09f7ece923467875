"""API tokens, account changes and the audit log: the same contract on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from rcmedia.catalog.accounts import Accounts
from rcmedia.catalog.repository import Catalog
from rcmedia.catalog.tables import ApiTokenRow
from rcmedia.core.accounts import Role
from rcmedia.errors import AccountConflictError, AccountError, ConflictError, NotFoundError

NOW = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


@pytest.fixture
def accounts(any_catalog: Catalog) -> Accounts:
    return Accounts(
        any_catalog.engine, hasher=PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    )


def test_a_token_is_shown_once_stored_hashed_and_names_its_account(
    accounts: Accounts, any_catalog: Catalog
) -> None:
    user = accounts.add_user("robot", Role.OPERATOR, "robot-password", now=NOW)
    info, secret = accounts.create_token("robot", now=NOW, label=" nightly rebuild ")

    assert secret.startswith("rcm_")
    assert len(secret) >= 46
    assert (info.user_name, info.label, info.created_at, info.last_used_at, info.revoked) == (
        "robot",
        "nightly rebuild",
        NOW,
        None,
        False,
    )
    assert accounts.token_user(secret, now=NOW) == user
    assert accounts.token_user(secret + "x", now=NOW) is None
    assert accounts.token_user("rcm_", now=NOW) is None
    assert accounts.token_user("", now=NOW) is None
    with any_catalog.engine.connect() as connection:
        (stored,) = connection.execute(select(ApiTokenRow.token_hash)).scalars()
    assert stored == hashlib.sha256(secret.encode()).hexdigest()
    assert [t.id for t in accounts.tokens("robot")] == [info.id]
    with pytest.raises(NotFoundError):
        accounts.create_token("nobody", now=NOW)
    with pytest.raises(AccountError, match="at most 100"):
        accounts.create_token("robot", now=NOW, label="x" * 101)


def test_last_use_is_written_at_most_once_a_minute(accounts: Accounts) -> None:
    accounts.add_user("robot", Role.OPERATOR, "robot-password", now=NOW)
    _, secret = accounts.create_token("robot", now=NOW)

    accounts.token_user(secret, now=NOW + MINUTE)
    accounts.token_user(secret, now=NOW + MINUTE + timedelta(seconds=59))
    assert accounts.tokens("robot")[0].last_used_at == NOW + MINUTE
    accounts.token_user(secret, now=NOW + 2 * MINUTE)
    assert accounts.tokens("robot")[0].last_used_at == NOW + 2 * MINUTE


def test_revoked_tokens_and_disabled_accounts_are_refused(accounts: Accounts) -> None:
    accounts.add_user("admin", Role.ADMIN, "admin-password", now=NOW)
    accounts.add_user("robot", Role.EDITOR, "robot-password", now=NOW)
    first, first_secret = accounts.create_token("robot", now=NOW)
    _, second_secret = accounts.create_token("robot", now=NOW)

    revoked = accounts.revoke_token(first.id, now=NOW + MINUTE)
    assert revoked.revoked_at == NOW + MINUTE
    assert accounts.revoke_token(first.id, now=NOW + 2 * MINUTE).revoked_at == NOW + MINUTE  # again: kept
    assert accounts.token_user(first_secret, now=NOW) is None
    assert accounts.token_user(second_secret, now=NOW) is not None
    with pytest.raises(NotFoundError):
        accounts.revoke_token(first.id + 100, now=NOW)
    with pytest.raises(NotFoundError):  # a token of another account than the one named
        accounts.revoke_token(first.id, now=NOW, user_name="admin")

    accounts.set_disabled("robot")
    assert accounts.token_user(second_secret, now=NOW) is None
    accounts.set_disabled("robot", disabled=False)
    assert accounts.token_user(second_secret, now=NOW) is not None


def test_an_operator_may_be_limited_to_channels(accounts: Accounts) -> None:
    op = accounts.add_user("op", Role.OPERATOR, "op-password", now=NOW, channels=["rcxf", "edu", "edu"])
    admin = accounts.add_user("admin", Role.ADMIN, "admin-password", now=NOW, channels=["edu"])
    assert op.channels == ("edu", "rcxf")
    assert accounts.get_user("op").channels == ("edu", "rcxf")
    assert op.may_edit_channel("edu")
    assert not op.may_edit_channel("news")
    assert admin.may_edit_channel("news")  # admins are never limited
    assert accounts.add_user("all", Role.OPERATOR, "all-password", now=NOW).channels is None
    with pytest.raises(AccountError, match="not a channel id"):
        accounts.add_user("bad", Role.OPERATOR, "bad-password", now=NOW, channels=["Edu Channel"])

    before, after = accounts.update_user("op", channels=None, now=NOW, actor="admin")
    assert (before.channels, after.channels) == (("edu", "rcxf"), None)
    assert after.version == before.version + 1


def test_account_changes_are_versioned_and_keep_an_enabled_admin(accounts: Accounts) -> None:
    accounts.add_user("root", Role.ADMIN, "root-password", now=NOW)
    accounts.add_user("ed", Role.EDITOR, "ed-password", now=NOW)
    with pytest.raises(AccountConflictError, match="last enabled admin"):
        accounts.update_user("root", disabled=True)
    with pytest.raises(AccountConflictError, match="last enabled admin"):
        accounts.update_user("root", role=Role.OPERATOR)
    with pytest.raises(AccountConflictError, match="already exists"):
        accounts.add_user("root", Role.ADMIN, "root-password", now=NOW)

    _, promoted = accounts.update_user("ed", role=Role.ADMIN, expected_version=1)
    with pytest.raises(ConflictError) as stale:
        accounts.update_user("ed", role=Role.EDITOR, expected_version=1)
    assert stale.value.current == promoted.version == 2
    _, root = accounts.update_user("root", disabled=True)  # another admin is left now
    assert root.disabled
    assert accounts.get_user("ed").role is Role.ADMIN


def test_account_changes_are_audited_without_secrets(accounts: Accounts, any_catalog: Catalog) -> None:
    accounts.add_user("root", Role.ADMIN, "root-password", now=NOW, actor="cli:ops")
    accounts.add_user("op", Role.OPERATOR, "op-password", now=NOW, actor="root", channels=["edu"])
    accounts.update_user("op", disabled=True, now=NOW + MINUTE, actor="root")
    accounts.set_password("op", "new-op-password", now=NOW + MINUTE, actor="root")
    token, secret = accounts.create_token("op", now=NOW + MINUTE, label="cron", actor="root")
    accounts.revoke_token(token.id, now=NOW + 2 * MINUTE, actor="root")

    entries = any_catalog.audit.entries()
    assert [(e.actor, e.action, e.target) for e in entries] == [
        ("root", "user.revoke_token", "user/op"),
        ("root", "user.token", "user/op"),
        ("root", "user.password", "user/op"),
        ("root", "user.update", "user/op"),
        ("root", "user.add", "user/op"),
        ("cli:ops", "user.add", "user/root"),
    ]
    update = entries[3]
    assert (update.before["disabled"], update.after["disabled"]) == (False, True)
    assert entries[4].after == {
        "name": "op",
        "role": "operator",
        "disabled": False,
        "channels": ["edu"],
        "version": 1,
    }
    assert entries[1].after == {"id": token.id, "user": "op", "label": "cron"}
    logged = repr(entries)
    assert "password" not in logged.replace("user.password", "")
    assert secret not in logged
    assert "argon2" not in logged


def test_audit_entries_filter_and_page_newest_first(any_catalog: Catalog) -> None:
    audit = any_catalog.audit
    for minute in range(5):
        audit.record(
            "ed" if minute % 2 else "op",
            "asset.update" if minute % 2 else "schedule.edit",
            f"asset/{minute}" if minute % 2 else f"channel/edu/iptv/2026-12-0{minute + 1}",
            before={"title": "旧"},
            after={"title": "新", "n": minute},
            now=NOW + minute * MINUTE,
        )
    everything = audit.entries()
    assert [e.after["n"] for e in everything] == [4, 3, 2, 1, 0]
    assert everything[0].at == NOW + 4 * MINUTE
    assert everything[0].before == {"title": "旧"}
    assert [e.after["n"] for e in audit.entries(actor="ed")] == [3, 1]
    assert [e.after["n"] for e in audit.entries(action="schedule.edit")] == [4, 2, 0]
    assert [e.after["n"] for e in audit.entries(since=NOW + 3 * MINUTE)] == [4, 3]
    assert [e.after["n"] for e in audit.entries(target_prefix="channel/edu/")] == [4, 2, 0]
    assert [e.after["n"] for e in audit.entries(target_prefix="asset/%")] == []  # a prefix, not a pattern
    first = audit.entries(limit=2)
    assert [e.after["n"] for e in audit.entries(limit=2, before_id=first[-1].id)] == [2, 1]


def test_applying_channels_records_each_changed_one(any_catalog: Catalog) -> None:
    store = any_catalog.schedules
    store.apply_channels([("edu", "edu.toml", "a"), ("news", "news.toml", "b")], now=NOW, actor="cli:ops")
    store.apply_channels([("edu", "edu.toml", "a2"), ("news", "news.toml", "b")], now=NOW, actor="cli:ops")
    store.apply_channels([("edu", "edu.toml", "a3")], now=NOW)  # no actor: nothing recorded

    entries = any_catalog.audit.entries(action="grid.apply")
    assert [(e.target, e.before, e.after) for e in entries] == [
        (
            "channel/edu",
            {"file": "edu.toml", "version": 1, "text": "a"},
            {"file": "edu.toml", "version": 2, "text": "a2"},
        ),
        ("channel/news", None, {"file": "news.toml", "version": 1, "text": "b"}),
        ("channel/edu", None, {"file": "edu.toml", "version": 1, "text": "a"}),
    ]
