"""rcmedia installed from its wheel, run in a folder of its own (issue 9, item 9).

A new user's ``pip install`` and ``rcmedia serve`` or ``rcmedia ingest`` in any folder failed:
the transcode profile folder was looked for in the working directory. The wheel now ships the
house profile and the demo channel files and uses them when no folder is configured; ``rcmedia
init`` writes editable copies. Here the package is the one built into a real wheel, unpacked
outside the repository, and every command runs in an empty folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest

from rcmedia.media.ffmpeg import ffmpeg_binary
from rcmedia.media.samples import make_clip
from tests.conftest import PROJECT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built with pip and unpacked: what ``pip install`` puts in site-packages."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(PROJECT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = out.glob("rcmedia-*.whl")
    site = out / "site-packages"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    return site


def run(site: Path, cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rcmedia", *args],
        cwd=cwd,
        env=_env(site, cwd, **env),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _env(site: Path, cwd: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RCMEDIA_")}
    env.update(PYTHONPATH=str(site), RCMEDIA_HOME=str(cwd / "var"), COLUMNS="200", **extra)
    return env


def test_the_wheel_runs_from_its_own_files(installed: Path, tmp_path: Path) -> None:
    where = subprocess.run(
        [sys.executable, "-c", "import rcmedia.defaults as d; print(d.PROFILES); print(d.PLAYLISTS)"],
        cwd=tmp_path,
        env=_env(installed, tmp_path),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert [Path(p) for p in where] == [
        installed / "rcmedia" / "defaults" / "transcode_profiles",
        installed / "rcmedia" / "defaults" / "playlists",
    ]
    assert (installed / "rcmedia" / "defaults" / "transcode_profiles" / "default.toml").is_file()


def test_ingest_in_an_empty_folder_uses_the_packaged_house_profile(installed: Path, tmp_path: Path) -> None:
    somewhere = tmp_path / "anywhere"
    somewhere.mkdir()
    clip = make_clip(tmp_path / "一课.mp4", ffmpeg=ffmpeg_binary(), duration=2.0)

    done = run(installed, somewhere, "ingest", str(clip), "--title", "一课")

    assert done.returncode == 0, done.stderr
    assert "published as asset" in done.stderr
    assert not (somewhere / "transcode_profiles").exists()


def test_init_writes_editable_files_that_are_then_used(installed: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    made = run(installed, tmp_path, "init", str(site))
    assert made.returncode == 0, made.stderr
    assert sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()) == [
        "playlists/README.md",
        "playlists/rcjy.toml",
        "playlists/rcxf.toml",
        "rcmedia.toml",
        "transcode_profiles/default.toml",
    ]
    again = run(installed, tmp_path, "init", str(site))
    assert again.returncode == 1
    assert "not overwriting" in again.stderr

    # an edited copy is what runs: from the folder itself, and from anywhere with RCMEDIA_CONFIG
    profile = site / "transcode_profiles" / "default.toml"
    profile.write_text(profile.read_text(encoding="utf-8").replace("veryfast", "faster"), encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for cwd, env in ((site, {}), (elsewhere, {"RCMEDIA_CONFIG": str(site / "rcmedia.toml")})):
        shown = subprocess.run(
            [
                sys.executable,
                "-c",
                "from rcmedia.config import load_settings as l; s = l(); print(s.profiles_dir)",
            ],
            cwd=cwd,
            env=_env(installed, cwd, **env),
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert Path(shown) == site / "transcode_profiles"


def test_serve_in_an_empty_folder_answers(installed: Path, tmp_path: Path, unused_tcp_port: int) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "rcmedia", "serve", "--port", str(unused_tcp_port), "--no-scheduler"],
        cwd=tmp_path,
        env=_env(installed, tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.communicate()[0]
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{unused_tcp_port}/healthz", timeout=2
                ) as answer:
                    assert json.loads(answer.read())["status"] == "ok"
                    break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, "serve did not answer within 60 s"
                time.sleep(0.3)
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    assert "does not exist" not in output, output
