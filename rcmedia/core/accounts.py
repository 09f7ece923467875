"""Accounts and what their roles allow: operators edit schedules, editors edit assets, admins both."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from rcmedia.core.text import control_problem
from rcmedia.errors import AccountError

MIN_PASSWORD = 8
MAX_PASSWORD = 1024  # argon2 takes any length; a megabyte "password" would only cost us CPU
MAX_NAME = 64


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
