"""The systemd units in deploy/: their own working directory (issue 9, item 9) and enough open
files for the origin's connections (item 2)."""

from __future__ import annotations

import configparser
from pathlib import Path

import pytest

from rcmedia import defaults
from rcmedia.config import load_settings
from tests.conftest import PROJECT

UNITS = sorted((PROJECT / "deploy").glob("*.service"))


def unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(path, encoding="utf-8")
    return parser


def environment(path: Path) -> dict[str, str]:
    lines = [
        line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("Environment=")
    ]
    return dict(line.removeprefix("Environment=").split("=", 1) for line in lines)


@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem) for p in UNITS])
def test_a_unit_runs_in_its_own_folder_on_the_settings_rcmedia_init_wrote(path: Path, tmp_path: Path) -> None:
    service = unit(path)["Service"]
    env = environment(path)
    assert service["WorkingDirectory"] == env["RCMEDIA_HOME"], "the unit works in its own state folder"
    assert service["ExecStart"].startswith("/opt/rcmedia/.venv/bin/rcmedia ")

    # the unit's folders, moved under tmp_path: `rcmedia init /etc/rcmedia`, then start in HOME
    def here(path: str) -> str:
        return str(tmp_path / path.lstrip("/"))

    etc = Path(here(env["RCMEDIA_CONFIG"])).parent
    defaults.write_site(etc)
    home = Path(here(env["RCMEDIA_HOME"]))
    home.mkdir(parents=True)
    settings = load_settings(
        environ={**env, "RCMEDIA_CONFIG": here(env["RCMEDIA_CONFIG"]), "RCMEDIA_HOME": str(home)}, cwd=home
    )
    assert settings.profiles_dir == etc / "transcode_profiles"
    assert settings.playlists_dir == etc / "playlists"
    assert (settings.profiles_dir / "default.toml").is_file()

    # and with no settings file at all, the packaged files: nothing is looked for in the folder
    bare = load_settings(environ={"RCMEDIA_HOME": str(home)}, cwd=home)
    assert bare.profiles_dir == defaults.PROFILES


def test_there_are_units() -> None:
    assert [p.stem for p in UNITS] == [
        "rcmedia-scheduler",
        "rcmedia-serve",
        "rcmedia-storage-sweep",
        "rcmedia-worker",
    ]
    # the sweep's service runs on its timer
    assert (PROJECT / "deploy" / "rcmedia-storage-sweep.timer").is_file()


@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem) for p in UNITS])
def test_every_unit_raises_the_open_files_limit(path: Path) -> None:
    # systemd's default is a soft limit of 1024: 2,000 idle connections ran the origin out (issue 9)
    assert unit(path)["Service"]["LimitNOFILE"] == "65536"
