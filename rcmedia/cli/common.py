"""What every command shares: the console, settings from the context, errors as messages."""

from __future__ import annotations

import functools
import getpass
import logging
import os
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import click
from rich.console import Console

from rcmedia.config import Settings
from rcmedia.core.text import visible
from rcmedia.errors import RcmediaError

log = logging.getLogger("rcmedia")
console = Console(stderr=True)


def settings_of(ctx: click.Context, **overrides: Any) -> Settings:
    settings: Settings = ctx.obj["settings"]
    changes = {k: v for k, v in overrides.items() if v is not None}
    return settings.replace(**changes) if changes else settings


def guard(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn rcmedia errors into a one-line message and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except RcmediaError as exc:
            raise click.ClickException(visible(str(exc))) from exc

    return wrapper


def freeze_of(settings: Settings) -> timedelta:
    return timedelta(seconds=settings.freeze_seconds)


def report_builds(built: dict[str, dict[Any, list[Any]]]) -> None:
    for channel_id, outputs in sorted(built.items()):
        for output, days in outputs.items():
            events = sum(len(d.events) for d in days)
            console.print(
                f"  {channel_id}/{output.value}: {len(days)} day(s) from {days[0].day}, {events} events"
            )


def cli_actor() -> str:
    """Who the audit log names for a change made on the command line: ``cli:<os user>``."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for the uid (a container), no USER/LOGNAME
        user = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
    return f"cli:{user}"
