"""Accounts and login sessions in the catalog database.

Passwords are stored as argon2id hashes (argon2-cffi's defaults), sessions as the SHA-256 of a
random token: the token itself only ever exists in the browser's cookie. Methods are synchronous
(SQLAlchemy sessions, and argon2 is deliberately slow); the web layer calls them in a thread.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
import unicodedata
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select, update
from sqlalchemy.engine import Engine

from rcmedia.catalog.db import Transactions
from rcmedia.catalog.tables import SessionRow, UserRow
from rcmedia.core.accounts import Role, User, check_name, check_password
from rcmedia.errors import AccountError, NotFoundError

TOKEN_BYTES = 32


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
        id=row.id, name=row.name, role=Role(row.role), created_at=row.created_at, disabled=row.disabled
    )


class Accounts:
    """Users, their password hashes and their login sessions."""

    def __init__(self, engine: Engine, *, hasher: PasswordHasher | None = None) -> None:
        self._session = Transactions(engine)
        self._hasher = hasher or PasswordHasher()

    # --- users -----------------------------------------------------------------------------

    def add_user(self, name: str, role: Role, password: str, *, now: datetime) -> User:
        """A new enabled account; AccountError when the name is taken or the password too short."""
        name = check_name(name)
        check_password(password)
        hashed = self._hasher.hash(password)
        with self._session() as session:
            if session.scalar(select(UserRow.id).where(UserRow.name == name)) is not None:
                raise AccountError(f"account {name!r} already exists")
            row = UserRow(name=name, role=role.value, password_hash=hashed, created_at=now, disabled=False)
            session.add(row)
            session.flush()
            return _user(row)

    def users(self) -> list[User]:
        with self._session() as session:
            return [_user(row) for row in session.scalars(select(UserRow).order_by(UserRow.name))]

    def get_user(self, name: str) -> User:
        with self._session() as session:
            row = session.scalar(select(UserRow).where(UserRow.name == _stored_name(name)))
            if row is None:
                raise NotFoundError("account", name)
            return _user(row)

    def set_password(self, name: str, password: str) -> None:
        """Change the password and end every session of the account (a stolen cookie stops working)."""
        check_password(password)
        hashed = self._hasher.hash(password)
        with self._session() as session:
            row = session.scalar(select(UserRow).where(UserRow.name == _stored_name(name)))
            if row is None:
                raise NotFoundError("account", name)
            row.password_hash = hashed
            session.execute(delete(SessionRow).where(SessionRow.user_id == row.id))

    def set_disabled(self, name: str, disabled: bool = True) -> None:
        """Disable (and log out everywhere) or enable an account."""
        with self._session() as session:
            row = session.scalar(select(UserRow).where(UserRow.name == _stored_name(name)))
            if row is None:
                raise NotFoundError("account", name)
            row.disabled = disabled
            if disabled:
                session.execute(delete(SessionRow).where(SessionRow.user_id == row.id))

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
