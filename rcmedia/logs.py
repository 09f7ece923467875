"""Logging set-up for the entry points: readable lines on stderr that do not break progress bars."""

from __future__ import annotations

import logging

from rich.console import Console
from rich.logging import RichHandler


def configure_logging(level: str, console: Console | None = None) -> None:
    handler = RichHandler(console=console or Console(stderr=True), show_path=False, rich_tracebacks=False)
    logging.basicConfig(
        level=level, format="%(name)s: %(message)s", datefmt="[%X]", handlers=[handler], force=True
    )
    for noisy in ("apscheduler", "aiohttp.access", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
