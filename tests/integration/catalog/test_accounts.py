"""Accounts and sessions, the same contract on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from rcmedia.catalog.accounts import Accounts
from rcmedia.catalog.repository import Catalog
from rcmedia.catalog.tables import SessionRow, UserRow
from rcmedia.core.accounts import Role
from rcmedia.errors import AccountError, NotFoundError

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


class CountingHasher(PasswordHasher):
    """Real argon2 at a test cost, counting verifications."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8 * 1024, parallelism=1)
        self.verified = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:  # type: ignore[override]
        self.verified += 1
        return super().verify(hash, password)


@pytest.fixture
def hasher() -> CountingHasher:
    return CountingHasher()


@pytest.fixture
def accounts(any_catalog: Catalog, hasher: CountingHasher) -> Accounts:
    return Accounts(any_catalog.engine, hasher=hasher)


def test_a_user_logs_in_with_the_right_password_only(accounts: Accounts, any_catalog: Catalog) -> None:
    added = accounts.add_user(" 王老师 ", Role.OPERATOR, "正确的密码 correct", now=NOW)

    assert (added.name, added.role, added.created_at, added.disabled) == ("王老师", Role.OPERATOR, NOW, False)
    assert accounts.verify("王老师", "正确的密码 correct") == added
    assert accounts.verify("王老师", "正确的密码 wrong") is None
    assert accounts.verify("王老师", "") is None
    with any_catalog.engine.connect() as connection:
        stored = connection.execute(select(UserRow.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$")
    assert "correct" not in stored


def test_an_unknown_name_costs_a_verification_like_a_wrong_password(
    accounts: Accounts, hasher: CountingHasher
) -> None:
    accounts.add_user("alice", Role.EDITOR, "alice-password", now=NOW)
    before = hasher.verified
    assert accounts.verify("mallory", "alice-password") is None
    assert hasher.verified == before + 1
    assert accounts.verify("alice", "not-her-password") is None
    assert hasher.verified == before + 2


def test_names_are_unique_and_passwords_long_enough(accounts: Accounts) -> None:
    accounts.add_user("alice", Role.EDITOR, "alice-password", now=NOW)
    with pytest.raises(AccountError, match="'alice' already exists"):
        accounts.add_user("alice", Role.ADMIN, "another-password", now=NOW)
    with pytest.raises(AccountError, match="at least 8"):
        accounts.add_user("bob", Role.EDITOR, "short", now=NOW)
    with pytest.raises(AccountError, match="spaces"):
        accounts.add_user("bob smith", Role.EDITOR, "long-enough", now=NOW)
    assert [(u.name, u.role) for u in accounts.users()] == [("alice", Role.EDITOR)]


def test_sessions_are_stored_as_hashes_and_expire(accounts: Accounts, any_catalog: Catalog) -> None:
    user = accounts.add_user("op", Role.OPERATOR, "op-password", now=NOW)
    token = accounts.create_session(user, now=NOW, lifetime=HOUR)

    assert len(token) >= 40
    assert accounts.session_user(token, now=NOW + HOUR - timedelta(seconds=1)) == user
    assert accounts.session_user(token, now=NOW + HOUR) is None
    assert accounts.session_user(token + "x", now=NOW) is None
    assert accounts.session_user("", now=NOW) is None
    with any_catalog.engine.connect() as connection:
        (stored,) = connection.execute(select(SessionRow.token_hash)).scalars()
    assert stored == hashlib.sha256(token.encode()).hexdigest()
    assert token not in stored


def test_expired_sessions_are_cleared_when_new_ones_start(accounts: Accounts, any_catalog: Catalog) -> None:
    user = accounts.add_user("op", Role.OPERATOR, "op-password", now=NOW)
    old = accounts.create_session(user, now=NOW, lifetime=HOUR)
    new = accounts.create_session(user, now=NOW + 2 * HOUR, lifetime=HOUR)
    with any_catalog.engine.connect() as connection:
        stored = set(connection.execute(select(SessionRow.token_hash)).scalars())
    assert stored == {hashlib.sha256(new.encode()).hexdigest()}
    assert accounts.session_user(old, now=NOW) is None


def test_logout_ends_one_session(accounts: Accounts) -> None:
    user = accounts.add_user("op", Role.OPERATOR, "op-password", now=NOW)
    laptop = accounts.create_session(user, now=NOW, lifetime=HOUR)
    phone = accounts.create_session(user, now=NOW, lifetime=HOUR)
    accounts.end_session(laptop)
    accounts.end_session("never-issued")
    assert accounts.session_user(laptop, now=NOW) is None
    assert accounts.session_user(phone, now=NOW) == user


def test_a_new_password_logs_out_everywhere(accounts: Accounts) -> None:
    user = accounts.add_user("op", Role.OPERATOR, "old-password", now=NOW)
    token = accounts.create_session(user, now=NOW, lifetime=HOUR)
    accounts.set_password("op", "new-password")
    assert accounts.session_user(token, now=NOW) is None
    assert accounts.verify("op", "old-password") is None
    assert accounts.verify("op", "new-password") == user
    with pytest.raises(AccountError):
        accounts.set_password("op", "short")
    with pytest.raises(NotFoundError):
        accounts.set_password("nobody", "long-enough")


def test_a_disabled_account_cannot_log_in_until_enabled(accounts: Accounts) -> None:
    user = accounts.add_user("ed", Role.EDITOR, "ed-password", now=NOW)
    token = accounts.create_session(user, now=NOW, lifetime=HOUR)
    accounts.set_disabled("ed")
    assert accounts.session_user(token, now=NOW) is None
    assert accounts.verify("ed", "ed-password") is None
    assert accounts.get_user("ed").disabled
    accounts.set_disabled("ed", disabled=False)
    assert accounts.verify("ed", "ed-password") == user
    with pytest.raises(NotFoundError):
        accounts.set_disabled("nobody")


def test_hashes_made_at_a_lower_cost_are_upgraded_at_login(any_catalog: Catalog, accounts: Accounts) -> None:
    accounts.add_user("op", Role.OPERATOR, "op-password", now=NOW)
    stronger = PasswordHasher(time_cost=2, memory_cost=8 * 1024, parallelism=1)
    upgraded = Accounts(any_catalog.engine, hasher=stronger)

    assert upgraded.verify("op", "op-password") is not None

    with any_catalog.engine.connect() as connection:
        stored = connection.execute(select(UserRow.password_hash)).scalar_one()
    assert ",t=2," in stored
    assert upgraded.verify("op", "op-password") is not None
