"""The systemd units in deploy/: what they must say for the origin to hold its connections."""

from __future__ import annotations

from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


@pytest.mark.parametrize("unit", sorted(p.name for p in DEPLOY.glob("*.service")))
def test_every_unit_raises_the_open_files_limit(unit: str) -> None:
    # systemd's default is a soft limit of 1024: 2,000 idle connections ran the origin out (issue 9)
    lines = (DEPLOY / unit).read_text(encoding="utf-8").splitlines()
    assert "LimitNOFILE=65536" in lines, unit
