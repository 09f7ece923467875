"""Sidecar metadata: ``NAME.toml`` next to ``NAME.mp4`` (format in ingest/README.md)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from rcmedia.core.metadata import metadata_from_mapping
from rcmedia.core.models import AssetMetadata
from rcmedia.core.text import control_problem
from rcmedia.errors import ConfigError, InvalidFieldError


def sidecar_path(media: Path) -> Path:
    return media.with_suffix(".toml")


def read_sidecar(media: Path, *, overrides: dict[str, Any] | None = None) -> AssetMetadata:
    """The metadata of ``media``: its sidecar if present, then ``overrides`` (e.g. CLI flags).

    An override with a control character is refused naming the flag (``--title``), not the sidecar.
    """
    for key, value in (overrides or {}).items():
        if isinstance(value, str) and (problem := control_problem(value)):
            raise InvalidFieldError(f"--{key}", problem)
    sidecar = sidecar_path(media)
    data: dict[str, Any] = {}
    if sidecar.is_file():
        try:
            data = tomllib.loads(sidecar.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{sidecar.name}: {exc}") from exc
    data.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return metadata_from_mapping(data, where=sidecar.name, default_title=media.stem)
