"""The account admin API (admins only): accounts, their passwords, channel limits and API tokens.

``GET/POST /api/v1/users``, ``PATCH /api/v1/users/{name}`` (role, disabled, channels; may name the
account's ``version``, or send the ETag of its listing as ``If-Match``: a stale one is a 409),
``POST /api/v1/users/{name}/password``, ``GET/POST /api/v1/users/{name}/tokens`` and
``DELETE /api/v1/users/{name}/tokens/{id}``. A new token's secret is in the answer to its POST and
nowhere else, ever. A change that would leave no enabled admin is a 409 with the reason.
Disabling an account ends its sessions, and its tokens stop working.

Every change is in the audit log, written by :class:`rcmedia.catalog.accounts.Accounts` in the
change's own transaction; passwords and secrets never are.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import hdrs, web

from rcmedia.catalog.accounts import KEEP
from rcmedia.core.account_requests import (
    parse_new_user,
    parse_password,
    parse_token_request,
    parse_user_change,
)
from rcmedia.core.accounts import Role, TokenInfo, User
from rcmedia.web.access import ACCOUNTS_KEY, require_role
from rcmedia.web.documents import ID, INSTANT, Document, closed, enum_of, iso_utc, nullable
from rcmedia.web.json_response import json_response
from rcmedia.web.keys import CLOCK_KEY
from rcmedia.web.writes import etag, expected_version, read_json

log = logging.getLogger(__name__)

NO_STORE = {hdrs.CACHE_CONTROL: "no-store"}


def user_resource(name: str) -> str:
    return f"user/{name}"


def user_document(user: User) -> Document:
    return {
        "name": user.name,
        "role": user.role.value,
        "disabled": user.disabled,
        "channels": list(user.channels) if user.channels is not None else None,
        "created_at": iso_utc(user.created_at),
        "version": user.version,
    }


def token_document(token: TokenInfo) -> Document:
    return {
        "id": token.id,
        "user": token.user_name,
        "label": token.label,
        "created_at": iso_utc(token.created_at),
        "last_used_at": iso_utc(token.last_used_at),
        "revoked_at": iso_utc(token.revoked_at),
    }


USER_SCHEMA = closed(
    {
        "name": {"type": "string"},
        "role": enum_of(Role),
        "disabled": {"type": "boolean"},
        "channels": {
            "type": ["array", "null"],
            "items": {"type": "string"},
            "description": "the channels an operator may change; null: every channel",
        },
        "created_at": INSTANT,
        "version": {"type": "integer", "minimum": 1, "description": "for If-Match or a PATCH's version"},
    }
)
TOKEN_SCHEMA = closed(
    {
        "id": ID,
        "user": {"type": "string"},
        "label": nullable({"type": "string"}),
        "created_at": INSTANT,
        "last_used_at": nullable(INSTANT),
        "revoked_at": nullable(INSTANT),
    }
)
NEW_TOKEN_SCHEMA = closed(
    {
        **TOKEN_SCHEMA["properties"],
        "secret": {"type": "string", "description": "send as `Authorization: Bearer …`; shown only here"},
    }
)


def _user_answer(user: User, *, status: int = 200) -> web.Response:
    response = json_response(user_document(user), status=status, headers=NO_STORE)
    response.headers[hdrs.ETAG] = etag(user_resource(user.name), user.version)
    return response


def _name(request: web.Request) -> str:
    return request.match_info["name"]


async def list_users(request: web.Request) -> web.Response:
    await require_role(request, Role.ADMIN)
    users = await asyncio.to_thread(request.app[ACCOUNTS_KEY].users)
    return json_response({"items": [user_document(u) for u in users]}, headers=NO_STORE)


async def add_user(request: web.Request) -> web.Response:
    admin = await require_role(request, Role.ADMIN)
    new = parse_new_user(await read_json(request))
    user = await asyncio.to_thread(
        request.app[ACCOUNTS_KEY].add_user,
        new.name,
        new.role,
        new.password,
        now=request.app[CLOCK_KEY].now(),
        channels=new.channels,
        actor=admin.name,
    )
    log.info("account %r (%s) added by %r", user.name, user.role.value, admin.name)
    return _user_answer(user, status=201)


async def update_user(request: web.Request) -> web.Response:
    admin = await require_role(request, Role.ADMIN)
    change = parse_user_change(await read_json(request))
    expected = expected_version(request, user_resource(_name(request)), change.version)
    _, user = await asyncio.to_thread(
        request.app[ACCOUNTS_KEY].update_user,
        _name(request),
        role=change.role,
        disabled=change.disabled,
        channels=change.channels if change.set_channels else KEEP,
        expected_version=expected,
        now=request.app[CLOCK_KEY].now(),
        actor=admin.name,
    )
    log.info("account %r changed by %r", user.name, admin.name)
    return _user_answer(user)


async def reset_password(request: web.Request) -> web.Response:
    admin = await require_role(request, Role.ADMIN)
    password = parse_password(await read_json(request))
    accounts, name = request.app[ACCOUNTS_KEY], _name(request)
    await asyncio.to_thread(
        accounts.set_password, name, password, now=request.app[CLOCK_KEY].now(), actor=admin.name
    )
    log.info("password of %r reset by %r", name, admin.name)
    return _user_answer(await asyncio.to_thread(accounts.get_user, name))


async def list_tokens(request: web.Request) -> web.Response:
    await require_role(request, Role.ADMIN)
    tokens = await asyncio.to_thread(request.app[ACCOUNTS_KEY].tokens, _name(request))
    return json_response({"items": [token_document(t) for t in tokens]}, headers=NO_STORE)


async def create_token(request: web.Request) -> web.Response:
    admin = await require_role(request, Role.ADMIN)
    label = parse_token_request(await read_json(request))
    info, secret = await asyncio.to_thread(
        request.app[ACCOUNTS_KEY].create_token,
        _name(request),
        now=request.app[CLOCK_KEY].now(),
        label=label,
        actor=admin.name,
    )
    log.info("API token %d of %r made by %r", info.id, info.user_name, admin.name)
    return json_response({**token_document(info), "secret": secret}, status=201, headers=NO_STORE)


async def revoke_token(request: web.Request) -> web.Response:
    admin = await require_role(request, Role.ADMIN)
    info = await asyncio.to_thread(
        request.app[ACCOUNTS_KEY].revoke_token,
        int(request.match_info["id"]),
        now=request.app[CLOCK_KEY].now(),
        user_name=_name(request),
        actor=admin.name,
    )
    log.info("API token %d of %r revoked by %r", info.id, info.user_name, admin.name)
    return json_response(token_document(info), headers=NO_STORE)
