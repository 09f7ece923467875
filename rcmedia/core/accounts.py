"""Accounts and what their roles allow: operators edit schedules, editors edit assets, admins both.

An operator may be limited to some channels (``User.channels``; None: every channel). Admins are
never limited, and editors' asset work belongs to no channel.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from rcmedia.core.text import control_problem
from rcmedia.errors import AccountError

MIN_PASSWORD = 8
MAX_PASSWORD = 1024  # argon2 takes any length; a megabyte "password" would only cost us CPU
MAX_NAME = 64
MAX_CHANNELS = 500  # an operator limited to more channels than that is not limited
MAX_LABEL = 100
CHANNEL_ID = re.compile(r"[a-z0-9-]{1,64}")  # what a channel file's id may be (rcmedia.web.app.CHANNEL)


class Role(StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"  # schedule edits
    EDITOR = "editor"  # asset metadata, rights, withdrawal

    def allows(self, needed: Role) -> bool:
        """Whether this role may do what ``needed`` may: admin may do everything."""
        return self is Role.ADMIN or self is needed


@dataclass(frozen=True, kw_only=True, slots=True)
class User:
    id: int
    name: str
    role: Role
    created_at: datetime
    disabled: bool = False
    channels: tuple[str, ...] | None = None  # the channels an operator may edit; None: all
    # moves on every change to the account (optimistic versioning of admins' edits); not part of
    # equality: the same account before and after a password change is still the same account
    version: int = field(default=1, compare=False)

    def may_edit_channel(self, channel_id: str) -> bool:
        """Whether this account's channel limit lets it write ``channel_id`` (admins: always)."""
        return self.role is Role.ADMIN or self.channels is None or channel_id in self.channels


@dataclass(frozen=True, kw_only=True, slots=True)
class TokenInfo:
    """An API token as listed: never its secret, which is shown once when it is made."""

    id: int
    user_name: str
    label: str | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


def check_name(name: str) -> str:
    """The account name as stored (NFC, trimmed); refused when empty, too long or with spaces."""
    cleaned = unicodedata.normalize("NFC", name.strip())
    if not cleaned:
        raise AccountError("the account name must not be empty")
    if len(cleaned) > MAX_NAME:
        raise AccountError(f"account name {cleaned!r} is longer than {MAX_NAME} characters")
    if problem := control_problem(cleaned):
        raise AccountError(f"account name {cleaned!r} {problem}")
    if any(c.isspace() or not c.isprintable() for c in cleaned):
        raise AccountError(f"account name {cleaned!r} must not contain spaces or control characters")
    return cleaned


def check_password(password: str) -> None:
    """Refuse passwords shorter than MIN_PASSWORD characters (or absurdly long ones)."""
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password must have at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"the password must have at most {MAX_PASSWORD} characters")


def check_channels(channels: Iterable[str]) -> tuple[str, ...]:
    """A channel limit as stored: each a channel id, sorted, without repeats."""
    ids = set()
    for channel in channels:
        if not isinstance(channel, str) or not CHANNEL_ID.fullmatch(channel):
            raise AccountError(f"channel {channel!r} is not a channel id (a-z, 0-9 and -, at most 64)")
        ids.add(channel)
    if len(ids) > MAX_CHANNELS:
        raise AccountError(f"an account may be limited to at most {MAX_CHANNELS} channels")
    return tuple(sorted(ids))


def check_label(label: str | None) -> str | None:
    """A token's label as stored (trimmed; empty: none)."""
    if label is None:
        return None
    cleaned = unicodedata.normalize("NFC", label.strip())
    if len(cleaned) > MAX_LABEL:
        raise AccountError(f"a token label has at most {MAX_LABEL} characters")
    if problem := control_problem(cleaned):
        raise AccountError(f"token label {cleaned!r} {problem}")
    return cleaned or None
