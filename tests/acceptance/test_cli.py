"""The `rcmedia` command as a user runs it: real processes, real files, real ffmpeg."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from rcmedia.config import SETTINGS
from rcmedia.media.ffmpeg import ffmpeg_binary
from rcmedia.media.samples import make_broken, make_clip
from tests.conftest import PROJECT, RESOURCES


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RCMEDIA_")}
    profiles = tmp_path / "profiles"
    profiles.mkdir(exist_ok=True)
    for source in [
        *(PROJECT / "transcode_profiles").glob("*.toml"),
        *(RESOURCES / "profiles").glob("*.toml"),
    ]:
        (profiles / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    env.update(
        RCMEDIA_HOME=str(tmp_path / "var"),
        RCMEDIA_PROFILES_DIR=str(profiles),
        RCMEDIA_HOT_FOLDER=str(tmp_path / "hot"),
        COLUMNS="200",
        **extra,
    )
    return env


def rcmedia(tmp_path: Path, *args: str, timeout: float = 300, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rcmedia", *args],
        cwd=tmp_path,
        env=_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_ingest_reports_each_file_and_exits_non_zero_when_one_failed(tmp_path: Path) -> None:
    ffmpeg = ffmpeg_binary()
    good = make_clip(tmp_path / "党建视讯-01.mp4", ffmpeg=ffmpeg, duration=2.0)
    bad = make_broken(tmp_path / "broken.mp4", "text", ffmpeg=ffmpeg)

    done = rcmedia(tmp_path, "ingest", str(good), str(bad), "--series", "党建视讯", RCMEDIA_PROFILE="tiny")

    assert done.returncode == 1, done.stderr
    assert "✓ 党建视讯-01.mp4: published as asset 1" in done.stderr
    assert re.search(r"✗ broken\.mp4: .*not a media file", done.stderr)
    assert "transcoding" in done.stderr or "published" in done.stderr  # the progress bars were drawn

    listed = rcmedia(tmp_path, "jobs")
    assert listed.returncode == 0
    assert "党建视讯-01.mp4" in listed.stdout
    assert "broken.mp4" in listed.stdout
    assets = rcmedia(tmp_path, "assets", "--search", "党建")
    assert "published" in assets.stdout
    assert "180p 144p" in assets.stdout


def test_ingest_of_good_files_exits_zero(tmp_path: Path) -> None:
    good = make_clip(tmp_path / "a.mp4", ffmpeg=ffmpeg_binary(), duration=1.0)
    done = rcmedia(
        tmp_path, "ingest", str(good), "--title", "第一课", "--episode", "1", RCMEDIA_PROFILE="tiny"
    )
    assert done.returncode == 0, done.stderr


def test_a_bad_setting_stops_start_up_naming_the_key(tmp_path: Path) -> None:
    done = rcmedia(tmp_path, "jobs", RCMEDIA_PORT="eighty")
    assert done.returncode != 0
    assert "'port'" in done.stderr
    assert "expected an integer" in done.stderr
    assert "'eighty'" in done.stderr
    (tmp_path / "rcmedia.toml").write_text('colour = "blue"\n', encoding="utf-8")
    done = rcmedia(tmp_path, "jobs")
    assert done.returncode != 0
    assert "unknown setting 'colour'" in done.stderr


def test_settings_lists_every_setting(tmp_path: Path) -> None:
    done = rcmedia(tmp_path, "settings")
    assert done.returncode == 0
    for setting in SETTINGS:
        assert f"RCMEDIA_{setting.name.upper()}" in done.stdout


def _wait_for(url: str, seconds: float = 60) -> bytes:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback test server
                return bytes(response.read())
        except OSError as exc:
            if time.monotonic() > deadline:
                raise AssertionError(f"{url} did not answer within {seconds:g} s: {exc!r}") from exc
            time.sleep(0.2)


@pytest.mark.slow
def test_serve_picks_up_the_hot_folder_and_serves_the_result(tmp_path: Path, unused_tcp_port: int) -> None:
    ffmpeg = ffmpeg_binary()
    inbox = tmp_path / "hot" / "inbox"
    inbox.mkdir(parents=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "rcmedia", "serve", "--port", str(unused_tcp_port)],
        cwd=tmp_path,
        env=_env(tmp_path, RCMEDIA_PROFILE="tiny", RCMEDIA_HOT_FOLDER_POLL_SECONDS="0.5"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{unused_tcp_port}"
    try:
        assert json.loads(_wait_for(f"{base}/healthz"))["status"] == "ok"
        make_clip(inbox / "drop.mp4", ffmpeg=ffmpeg, duration=2.0)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            items = json.loads(_wait_for(f"{base}/api/v1/assets?status=published"))["items"]
            if items:
                break
            time.sleep(0.5)
        assert [a["original_filename"] for a in items] == ["drop.mp4"]
        master = _wait_for(f"{base}{items[0]['urls']['iptv']}").decode()
        assert "#EXT-X-STREAM-INF" in master
        for _ in range(20):  # settled into done/ on a later poll
            if (tmp_path / "hot" / "done" / "drop.mp4").exists():
                break
            time.sleep(0.5)
        assert (tmp_path / "hot" / "done" / "drop.mp4").exists()
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output


@pytest.mark.slow
def test_demo_makes_courseware_ingests_schedules_serves_and_every_printed_url_answers(
    tmp_path: Path, unused_tcp_port: int
) -> None:
    log = tmp_path / "demo.log"
    base = f"http://127.0.0.1:{unused_tcp_port}"
    with log.open("w", encoding="utf-8") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "rcmedia", "demo", "--port", str(unused_tcp_port), "--seconds", "3"],
            cwd=tmp_path,
            env=_env(tmp_path, RCMEDIA_PLAYLISTS_DIR=str(PROJECT / "playlists"), RCMEDIA_PROFILE="tiny"),
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        deadline = time.monotonic() + 600
        while "Ctrl-C stops the server" not in log.read_text(encoding="utf-8"):
            assert process.poll() is None, log.read_text(encoding="utf-8")
            assert time.monotonic() < deadline, log.read_text(encoding="utf-8")
            time.sleep(0.5)
        printed = log.read_text(encoding="utf-8")
        assert "✗" not in printed, printed
        made = int(re.search(r"making (\d+) sample programmes for 2 channel", printed)[1])  # type: ignore[index]
        assert printed.count("✓") == made + 1, "every sample and the house slate were published"
        assert "applied channel(s): rcjy, rcxf" in printed
        assert re.search(r"rcxf/tv: 2 day\(s\) from \d{4}-\d\d-\d\d", printed)
        urls = re.findall(rf"{re.escape(base)}/\S*", printed)
        for path in (
            "/watch",
            "/watch/rcxf",
            "/live/rcxf/iptv/master.m3u8",
            "/channels.m3u?output=iptv",
            "/epg.xml?output=iptv",
            "/api/v1/channels",
            "/healthz",
        ):
            assert f"{base}{path}" in urls
        assert sum("/watch/vod/" in url for url in urls) == 1, "one example, not every asset"
        assert any(url.startswith(f"{base}/watch/rcxf?utc=") for url in urls), "a replay of what aired"
        for url in urls:
            assert _wait_for(url, seconds=10), url
        master = _wait_for(f"{base}/live/rcxf/iptv/master.m3u8").decode()
        rung = next(line for line in master.splitlines() if line.endswith(".m3u8"))
        playlist = _wait_for(f"{base}/live/rcxf/iptv/{rung}").decode()
        assert "#EXT-X-DISCONTINUITY-SEQUENCE" in playlist
        segment = next(line for line in playlist.splitlines() if line and not line.startswith("#"))
        assert _wait_for(f"{base}{segment}")[:1] == b"G", "an MPEG-TS segment"
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    assert process.returncode == 0, log.read_text(encoding="utf-8")


def test_demo_without_channel_files_says_so(tmp_path: Path) -> None:
    done = rcmedia(tmp_path, "demo", "--no-serve", RCMEDIA_PLAYLISTS_DIR=str(tmp_path / "none"))
    assert done.returncode == 1
    assert "no channel files" in done.stderr
