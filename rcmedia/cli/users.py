"""`rcmedia users`: accounts for the operator and editor actions."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
from rich.console import Console
from rich.table import Table

from rcmedia.bootstrap import open_catalog
from rcmedia.catalog.accounts import Accounts
from rcmedia.cli.common import console, guard, settings_of
from rcmedia.clock import SystemClock
from rcmedia.config import Settings
from rcmedia.core.accounts import Role, check_password
from rcmedia.terminal import shown


@click.group()
def users() -> None:
    """Accounts for the operator and editor actions (web API and pages)."""


@contextmanager
def _accounts(settings: Settings) -> Iterator[Accounts]:
    with open_catalog(settings) as catalog:
        yield catalog.accounts


def _new_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    check_password(password)
    return password


PASSWORD_STDIN = click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of standard input."
)


@users.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@PASSWORD_STDIN
@click.pass_context
@guard
def users_add(ctx: click.Context, name: str, role: str, password_stdin: bool) -> None:
    """Add an account: admin (everything), operator (schedule edits) or editor (assets)."""
    password = _new_password(password_stdin)
    with _accounts(settings_of(ctx)) as accounts:
        user = accounts.add_user(name, Role(role), password, now=SystemClock().now())
    console.print(f"[green]✓[/] account {shown(repr(user.name))} ({user.role.value}) added")


@users.command("list")
@click.pass_context
@guard
def users_list(ctx: click.Context) -> None:
    """List the accounts."""
    with _accounts(settings_of(ctx)) as accounts:
        table = Table("name", "role", "created", "state")
        for user in accounts.users():
            table.add_row(
                shown(user.name),
                user.role.value,
                f"{user.created_at:%Y-%m-%d %H:%M} UTC",
                "disabled" if user.disabled else "enabled",
            )
    Console().print(table)


@users.command("passwd")
@click.argument("name")
@PASSWORD_STDIN
@click.pass_context
@guard
def users_passwd(ctx: click.Context, name: str, password_stdin: bool) -> None:
    """Set an account's password (it is logged out everywhere)."""
    password = _new_password(password_stdin)
    with _accounts(settings_of(ctx)) as accounts:
        accounts.set_password(name, password)
    console.print(f"[green]✓[/] password of {shown(repr(name))} changed")


@users.command("disable")
@click.argument("name")
@click.pass_context
@guard
def users_disable(ctx: click.Context, name: str) -> None:
    """Disable an account (it is logged out everywhere and can no longer log in)."""
    _set_disabled(ctx, name, disabled=True)


@users.command("enable")
@click.argument("name")
@click.pass_context
@guard
def users_enable(ctx: click.Context, name: str) -> None:
    """Enable a disabled account again."""
    _set_disabled(ctx, name, disabled=False)


def _set_disabled(ctx: click.Context, name: str, *, disabled: bool) -> None:
    with _accounts(settings_of(ctx)) as accounts:
        accounts.set_disabled(name, disabled=disabled)
    console.print(f"[green]✓[/] account {shown(repr(name))} {'disabled' if disabled else 'enabled'}")
