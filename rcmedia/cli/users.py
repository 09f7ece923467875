"""`rcmedia users`: accounts for the operator and editor actions, and API tokens for scripts.

Every change is in the audit log, by ``cli:<os user>``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import click
from rich.console import Console
from rich.table import Table

from rcmedia.bootstrap import open_catalog
from rcmedia.catalog.accounts import Accounts
from rcmedia.cli.common import cli_actor, console, guard, settings_of
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


CHANNEL = click.option(
    "--channel",
    "channels",
    multiple=True,
    help="Limit an operator to this channel (repeat for more; default: every channel).",
)


def _channels_shown(channels: tuple[str, ...] | None) -> str:
    return "all" if channels is None else ",".join(channels) or "none"


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment is not None else "-"


@users.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@CHANNEL
@PASSWORD_STDIN
@click.pass_context
@guard
def users_add(
    ctx: click.Context, name: str, role: str, channels: tuple[str, ...], password_stdin: bool
) -> None:
    """Add an account: admin (everything), operator (schedule edits) or editor (assets)."""
    password = _new_password(password_stdin)
    with _accounts(settings_of(ctx)) as accounts:
        user = accounts.add_user(
            name,
            Role(role),
            password,
            now=SystemClock().now(),
            channels=channels or None,
            actor=cli_actor(),
        )
    console.print(f"[green]✓[/] account {shown(repr(user.name))} ({user.role.value}) added")


@users.command("channels")
@click.argument("name")
@CHANNEL
@click.option("--all", "every", is_flag=True, help="Lift the limit: every channel.")
@click.pass_context
@guard
def users_channels(ctx: click.Context, name: str, channels: tuple[str, ...], every: bool) -> None:
    """Limit an operator to some channels (--channel, repeated), or lift the limit (--all)."""
    if every == bool(channels):
        raise click.UsageError("give --channel (one or more) or --all")
    with _accounts(settings_of(ctx)) as accounts:
        _, user = accounts.update_user(
            name, channels=None if every else channels, now=SystemClock().now(), actor=cli_actor()
        )
    console.print(f"[green]✓[/] {shown(repr(user.name))} may change: {shown(_channels_shown(user.channels))}")


@users.command("token")
@click.argument("name")
@click.option("--label", help="What the token is for (shown in `users tokens`).")
@click.pass_context
@guard
def users_token(ctx: click.Context, name: str, label: str | None) -> None:
    """Make an API token for NAME (send it as `Authorization: Bearer …`); it is shown once."""
    with _accounts(settings_of(ctx)) as accounts:
        info, secret = accounts.create_token(name, now=SystemClock().now(), label=label, actor=cli_actor())
    click.echo(secret)  # alone on standard output, for a script to capture
    console.print(
        f"[green]✓[/] API token {info.id} for {shown(repr(info.user_name))} made; "
        "copy it now: it will not be shown again"
    )


@users.command("tokens")
@click.argument("name")
@click.pass_context
@guard
def users_tokens(ctx: click.Context, name: str) -> None:
    """List NAME's API tokens (never their secrets)."""
    with _accounts(settings_of(ctx)) as accounts:
        table = Table("id", "label", "created", "last used", "revoked")
        for token in accounts.tokens(name):
            table.add_row(
                str(token.id),
                shown(token.label or "-"),
                _when(token.created_at),
                _when(token.last_used_at),
                _when(token.revoked_at),
            )
    Console().print(table)


@users.command("revoke-token")
@click.argument("token_id", metavar="ID", type=click.IntRange(min=1))
@click.pass_context
@guard
def users_revoke_token(ctx: click.Context, token_id: int) -> None:
    """Revoke an API token (its id is in `users tokens NAME`); scripts using it get 401 from now on."""
    with _accounts(settings_of(ctx)) as accounts:
        info = accounts.revoke_token(token_id, now=SystemClock().now(), actor=cli_actor())
    console.print(f"[green]✓[/] API token {info.id} of {shown(repr(info.user_name))} revoked")


@users.command("list")
@click.pass_context
@guard
def users_list(ctx: click.Context) -> None:
    """List the accounts."""
    with _accounts(settings_of(ctx)) as accounts:
        table = Table("name", "role", "created", "state", "channels")
        for user in accounts.users():
            table.add_row(
                shown(user.name),
                user.role.value,
                f"{user.created_at:%Y-%m-%d %H:%M} UTC",
                "disabled" if user.disabled else "enabled",
                shown(_channels_shown(user.channels)),
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
        accounts.set_password(name, password, now=SystemClock().now(), actor=cli_actor())
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
        accounts.set_disabled(name, disabled=disabled, now=SystemClock().now(), actor=cli_actor())
    console.print(f"[green]✓[/] account {shown(repr(name))} {'disabled' if disabled else 'enabled'}")
