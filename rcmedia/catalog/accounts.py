"""Accounts and login sessions in the catalog database.

Passwords are stored as argon2id hashes (argon2-cffi's defaults), sessions as the SHA-256 of a
random token: the token itself only ever exists in the browser's cookie. API tokens for scripts
(``rcm_`` + 43 random characters) are kept the same way: the secret is shown once, when it is
made. Methods are synchronous (SQLAlchemy sessions, and argon2 is deliberately slow); the web
layer calls them in a thread.

Every change to an account takes an ``actor`` (who asked): its audit entry (rcmedia.catalog.audit)
is written in the change's own transaction. Passwords and hashes never reach the log.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
import unicodedata
from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from rcmedia.catalog.audit import add_entry
from rcmedia.catalog.db import Transactions
from rcmedia.catalog.tables import ApiTokenRow, SessionRow, UserRow
from rcmedia.core.accounts import (
    Role,
    TokenInfo,
    User,
    check_channels,
    check_label,
    check_name,
    check_password,
)
from rcmedia.core.audit import AuditAction, user_target
from rcmedia.errors import AccountConflictError, ConflictError, NotFoundError

TOKEN_BYTES = 32
API_TOKEN_PREFIX = "rcm_"  # noqa: S105 - a marker, not a secret: tells a leaked token apart in a log or a secret scanner
MAX_TOKEN = 256  # longer is no token of ours: refused before hashing
LAST_USED_EVERY = timedelta(minutes=1)  # a token's last use is written at most this often


class Keep(Enum):
    """``update_user``'s "leave this field as it is" (None already means "every channel")."""

    KEEP = "keep"


KEEP = Keep.KEEP


def token_hash(token: str) -> str:
    """What the sessions table keys a token by."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@functools.cache
def _dummy_hash(time_cost: int, memory_cost: int, parallelism: int) -> str:
    # A hash with the same cost as real ones: an unknown name takes as long to refuse as a wrong
    # password, so response times do not tell which names exist.
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)
    return hasher.hash(secrets.token_urlsafe(16))


def _stored_name(name: str) -> str:
    """A name as typed, in the form add_user stored it (trimmed, NFC)."""
    return unicodedata.normalize("NFC", name.strip())


def _user(row: UserRow) -> User:
    return User(
        id=row.id,
        name=row.name,
        role=Role(row.role),
        created_at=row.created_at,
        disabled=row.disabled,
        channels=tuple(row.channels) if row.channels is not None else None,
        version=row.version,
    )


def account_document(user: User) -> dict[str, Any]:
    """An account as the audit log keeps it (no password, no hash)."""
    return {
        "name": user.name,
        "role": user.role.value,
        "disabled": user.disabled,
        "channels": list(user.channels) if user.channels is not None else None,
        "version": user.version,
    }


def _token(row: ApiTokenRow, user_name: str) -> TokenInfo:
    return TokenInfo(
        id=row.id,
        user_name=user_name,
        label=row.label,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


def _token_record(token: TokenInfo) -> dict[str, Any]:
    """A token as the audit log keeps it (never the secret)."""
    return {"id": token.id, "user": token.user_name, "label": token.label}


def _locked_user(session: Session, name: str) -> UserRow:
    row = session.scalar(select(UserRow).where(UserRow.name == _stored_name(name)).with_for_update())
    if row is None:
        raise NotFoundError("account", name)
    return row


def _enabled_admins(session: Session) -> list[UserRow]:
    # locked: two admins demoting each other at once must not both see the other one still there
    return list(
        session.scalars(
            select(UserRow)
            .where(UserRow.role == Role.ADMIN.value, UserRow.disabled.is_(False))
            .order_by(UserRow.id)
            .with_for_update()
        )
    )


class Accounts:
    """Users, their password hashes and their login sessions."""

    def __init__(self, engine: Engine, *, hasher: PasswordHasher | None = None) -> None:
        self._session = Transactions(engine)
        self._hasher = hasher or PasswordHasher()

    # --- users -----------------------------------------------------------------------------

    def add_user(
        self,
        name: str,
        role: Role,
        password: str,
        *,
        now: datetime,
        channels: Iterable[str] | None = None,
        actor: str | None = None,
    ) -> User:
        """A new enabled account (limited to ``channels`` if given); AccountError when the name is
        taken (AccountConflictError) or the password too short."""
        name = check_name(name)
        limit = check_channels(channels) if channels is not None else None
        check_password(password)
        hashed = self._hasher.hash(password)
        with self._session() as session:
            if session.scalar(select(UserRow.id).where(UserRow.name == name)) is not None:
                raise AccountConflictError(f"account {name!r} already exists")
            row = UserRow(
                name=name,
                role=role.value,
                password_hash=hashed,
                created_at=now,
                disabled=False,
                channels=list(limit) if limit is not None else None,
                version=1,
            )
            session.add(row)
            session.flush()
            user = _user(row)
            if actor is not None:
                add_entry(
                    session,
                    actor,
                    AuditAction.USER_ADD,
                    user_target(name),
                    before=None,
                    after=account_document(user),
                    now=now,
                )
            return user

    def users(self) -> list[User]:
        with self._session() as session:
            return [_user(row) for row in session.scalars(select(UserRow).order_by(UserRow.name))]

    def get_user(self, name: str) -> User:
        with self._session() as session:
            row = session.scalar(select(UserRow).where(UserRow.name == _stored_name(name)))
            if row is None:
                raise NotFoundError("account", name)
            return _user(row)

    def set_password(
        self, name: str, password: str, *, now: datetime | None = None, actor: str | None = None
    ) -> None:
        """Change the password and end every session of the account (a stolen cookie stops working).

        Its API tokens keep working: a script's token is revoked on its own (``revoke_token``).
        """
        check_password(password)
        hashed = self._hasher.hash(password)
        with self._session() as session:
            row = _locked_user(session, name)
            row.password_hash = hashed
            row.version += 1
            session.execute(delete(SessionRow).where(SessionRow.user_id == row.id))
            if actor is not None and now is not None:
                add_entry(
                    session,
                    actor,
                    AuditAction.USER_PASSWORD,
                    user_target(row.name),
                    before=None,
                    after=None,
                    now=now,
                )

    def set_disabled(
        self, name: str, disabled: bool = True, *, now: datetime | None = None, actor: str | None = None
    ) -> None:
        """Disable (logged out everywhere, its tokens refused) or enable an account."""
        self.update_user(name, disabled=disabled, now=now, actor=actor)

    def update_user(
        self,
        name: str,
        *,
        role: Role | None = None,
        disabled: bool | None = None,
        channels: Iterable[str] | Keep | None = KEEP,
        expected_version: int | None = None,
        now: datetime | None = None,
        actor: str | None = None,
    ) -> tuple[User, User]:
        """Change an account's role, state or channel limit; returns it (before, after).

        One transaction, under the row's lock. ``expected_version``: the account's version the
        change was made on (a stale one is a ConflictError, nothing changed). A change that would
        leave no enabled admin is refused (AccountConflictError): nobody could manage accounts on
        the web then. Disabling ends the account's sessions; its API tokens stop working with it.
        """
        limit = channels if channels is None or isinstance(channels, Keep) else check_channels(channels)
        with self._session() as session:
            admins = _enabled_admins(session)
            row = _locked_user(session, name)
            if expected_version is not None and row.version != expected_version:
                raise ConflictError(f"account {row.name!r}", expected=expected_version, current=row.version)
            before = _user(row)
            if role is not None:
                row.role = role.value
            if disabled is not None:
                row.disabled = disabled
            if not isinstance(limit, Keep):
                row.channels = list(limit) if limit is not None else None
            after = _user(row)
            if after == before:
                return before, after
            was_admin = before.role is Role.ADMIN and not before.disabled
            is_admin = after.role is Role.ADMIN and not after.disabled
            if was_admin and not is_admin and all(a.id == row.id for a in admins):
                raise AccountConflictError(
                    f"account {row.name!r} is the last enabled admin; make another account admin first"
                )
            row.version += 1
            if after.disabled and not before.disabled:
                session.execute(delete(SessionRow).where(SessionRow.user_id == row.id))
            session.flush()
            after = _user(row)
            if actor is not None and now is not None:
                add_entry(
                    session,
                    actor,
                    AuditAction.USER_UPDATE,
                    user_target(row.name),
                    before=account_document(before),
                    after=account_document(after),
                    now=now,
                )
            return before, after

    def verify(self, name: str, password: str) -> User | None:
        """The enabled account ``name`` if ``password`` is its password, else None.

        Unknown names and disabled accounts cost one argon2 verification too, like a wrong password.
        """
        with self._session() as session:
            row = session.scalar(select(UserRow).where(UserRow.name == _stored_name(name)))
            stored = row.password_hash if row is not None else None
            user = _user(row) if row is not None else None
        hasher = self._hasher
        try:
            hasher.verify(
                stored or _dummy_hash(hasher.time_cost, hasher.memory_cost, hasher.parallelism), password
            )
        except (VerificationError, InvalidHashError):
            return None
        if user is None or stored is None or user.disabled:
            return None
        if hasher.check_needs_rehash(stored):  # the cost parameters were raised since it was set
            with self._session() as session:
                session.execute(
                    update(UserRow)
                    .where(UserRow.id == user.id, UserRow.password_hash == stored)
                    .values(password_hash=hasher.hash(password))
                )
        return user

    # --- sessions --------------------------------------------------------------------------

    def create_session(self, user: User, *, now: datetime, lifetime: timedelta) -> str:
        """A new session for ``user``; returns the token for the cookie (stored only as its hash).

        Expired sessions are removed on the way, so the table holds only live ones.
        """
        token = secrets.token_urlsafe(TOKEN_BYTES)
        with self._session() as session:
            session.execute(delete(SessionRow).where(SessionRow.expires_at <= now))
            session.add(
                SessionRow(
                    token_hash=token_hash(token), user_id=user.id, created_at=now, expires_at=now + lifetime
                )
            )
        return token

    def session_user(self, token: str, *, now: datetime) -> User | None:
        """The enabled account a live session token belongs to, or None."""
        if not token or len(token) > 256:
            return None
        with self._session() as session:
            row = session.scalar(
                select(UserRow)
                .join(SessionRow, SessionRow.user_id == UserRow.id)
                .where(
                    SessionRow.token_hash == token_hash(token),
                    SessionRow.expires_at > now,
                    UserRow.disabled.is_(False),
                )
            )
            return _user(row) if row is not None else None

    def end_session(self, token: str) -> None:
        """Log a session out (nothing happens for an unknown token)."""
        with self._session() as session:
            session.execute(delete(SessionRow).where(SessionRow.token_hash == token_hash(token)))

    # --- API tokens ------------------------------------------------------------------------

    def create_token(
        self, user_name: str, *, now: datetime, label: str | None = None, actor: str | None = None
    ) -> tuple[TokenInfo, str]:
        """A new API token for the account: its listing and the secret, which is stored only hashed."""
        label = check_label(label)
        secret = API_TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
        with self._session() as session:
            user = _locked_user(session, user_name)
            row = ApiTokenRow(user_id=user.id, token_hash=token_hash(secret), label=label, created_at=now)
            session.add(row)
            session.flush()
            info = _token(row, user.name)
            if actor is not None:
                add_entry(
                    session,
                    actor,
                    AuditAction.USER_TOKEN,
                    user_target(user.name),
                    before=None,
                    after=_token_record(info),
                    now=now,
                )
            return info, secret

    def tokens(self, user_name: str) -> list[TokenInfo]:
        """The account's tokens, revoked ones included, oldest first."""
        with self._session() as session:
            user = session.scalar(select(UserRow).where(UserRow.name == _stored_name(user_name)))
            if user is None:
                raise NotFoundError("account", user_name)
            rows = session.scalars(
                select(ApiTokenRow).where(ApiTokenRow.user_id == user.id).order_by(ApiTokenRow.id)
            )
            return [_token(row, user.name) for row in rows]

    def revoke_token(
        self, token_id: int, *, now: datetime, user_name: str | None = None, actor: str | None = None
    ) -> TokenInfo:
        """Revoke a token (again: nothing changes). NotFoundError for an unknown id, or one of
        another account than ``user_name`` when that is given."""
        with self._session() as session:
            found = session.execute(
                select(ApiTokenRow, UserRow.name)
                .join(UserRow, UserRow.id == ApiTokenRow.user_id)
                .where(ApiTokenRow.id == token_id)
                .with_for_update()
            ).one_or_none()
            if found is None or (user_name is not None and found[1] != _stored_name(user_name)):
                raise NotFoundError("token", token_id)
            row, owner = found
            if row.revoked_at is None:
                row.revoked_at = now
                if actor is not None:
                    add_entry(
                        session,
                        actor,
                        AuditAction.USER_REVOKE_TOKEN,
                        user_target(owner),
                        before=_token_record(_token(row, owner)),
                        after=None,
                        now=now,
                    )
            return _token(row, owner)

    def token_user(self, secret: str, *, now: datetime) -> User | None:
        """The enabled account an unrevoked token belongs to, or None.

        Its last use is written at most once a minute: not a write on every request of a script.
        """
        if not secret.startswith(API_TOKEN_PREFIX) or len(secret) > MAX_TOKEN:
            return None
        with self._session() as session:
            found = session.execute(
                select(UserRow, ApiTokenRow.id, ApiTokenRow.last_used_at)
                .join(ApiTokenRow, ApiTokenRow.user_id == UserRow.id)
                .where(
                    ApiTokenRow.token_hash == token_hash(secret),
                    ApiTokenRow.revoked_at.is_(None),
                    UserRow.disabled.is_(False),
                )
            ).one_or_none()
            if found is None:
                return None
            row, token_id, last_used = found
            if last_used is None or now - last_used >= LAST_USED_EVERY:
                session.execute(
                    update(ApiTokenRow).where(ApiTokenRow.id == token_id).values(last_used_at=now)
                )
            return _user(row)
