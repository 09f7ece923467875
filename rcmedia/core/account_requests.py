"""The bodies of the account admin API (``/api/v1/users``), parsed into values or refused by field."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rcmedia.core.accounts import (
    MAX_CHANNELS,
    MAX_LABEL,
    MAX_NAME,
    MAX_PASSWORD,
    Role,
    check_channels,
    check_label,
)
from rcmedia.core.changes import json_object, parse_version
from rcmedia.errors import AccountError, InvalidFieldError

NEW_USER_FIELDS = frozenset({"name", "role", "password", "channels"})
USER_CHANGE_FIELDS = frozenset({"role", "disabled", "channels", "version"})


@dataclass(frozen=True, kw_only=True, slots=True)
class NewUser:
    name: str
    role: Role
    password: str = ""  # checked by the accounts (its length); never logged
    channels: tuple[str, ...] | None = None

    def __repr__(self) -> str:  # the password must not reach a log through a repr
        return f"NewUser(name={self.name!r}, role={self.role.value!r}, channels={self.channels!r})"


@dataclass(frozen=True, kw_only=True, slots=True)
class UserChange:
    role: Role | None = None
    disabled: bool | None = None
    set_channels: bool = False  # whether ``channels`` was given (null: every channel)
    channels: tuple[str, ...] | None = None
    version: int | None = None


def _string(body: Mapping[str, Any], field: str, limit: int) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value:
        raise InvalidFieldError(field, "missing (a non-empty text)")
    if len(value) > limit:
        raise InvalidFieldError(field, f"longer than {limit} characters")
    return value


def _role(value: object) -> Role:
    try:
        return Role(value if isinstance(value, str) else "")
    except ValueError:
        raise InvalidFieldError(
            "role", f"{value!r} is not one of {', '.join(r.value for r in Role)}"
        ) from None


def _channels(value: object) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > MAX_CHANNELS:
        raise InvalidFieldError("channels", f"expected a list of at most {MAX_CHANNELS} channel ids, or null")
    try:
        return check_channels(value)
    except AccountError as exc:
        raise InvalidFieldError("channels", str(exc)) from None


def parse_new_user(data: object) -> NewUser:
    """``{name, role, password, channels?}``; ``channels`` null or absent: every channel."""
    body = json_object(data, NEW_USER_FIELDS)
    return NewUser(
        name=_string(body, "name", MAX_NAME),
        role=_role(body.get("role")),
        password=_string(body, "password", MAX_PASSWORD),
        channels=_channels(body.get("channels")),
    )


def parse_user_change(data: object) -> UserChange:
    """``{role?, disabled?, channels?, version?}``, at least one of the first three."""
    body = json_object(data, USER_CHANGE_FIELDS)
    if not body.keys() & {"role", "disabled", "channels"}:
        raise InvalidFieldError("body", "nothing to change: send role, disabled or channels")
    disabled = body.get("disabled")
    if disabled is not None and not isinstance(disabled, bool):
        raise InvalidFieldError("disabled", f"expected true or false, got {disabled!r}")
    return UserChange(
        role=_role(body["role"]) if body.get("role") is not None else None,
        disabled=disabled,
        set_channels="channels" in body,
        channels=_channels(body.get("channels")),
        version=parse_version(body["version"]) if body.get("version") is not None else None,
    )


def parse_password(data: object) -> str:
    """``{password}``."""
    body = json_object(data, frozenset({"password"}))
    return _string(body, "password", MAX_PASSWORD)


def parse_token_request(data: object) -> str | None:
    """``{label?}``: the label of a new token."""
    body = json_object(data, frozenset({"label"}))
    label = body.get("label")
    if label is None:
        return None
    if not isinstance(label, str) or len(label) > MAX_LABEL:
        raise InvalidFieldError("label", f"expected a text of at most {MAX_LABEL} characters")
    try:
        return check_label(label)
    except AccountError as exc:
        raise InvalidFieldError("label", str(exc)) from None
