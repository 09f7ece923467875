"""The operator and editor commands as a user runs them: `users`, `schedule edit`, `assets rights|withdraw`."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from rcmedia.catalog.accounts import Accounts
from rcmedia.catalog.db import make_engine, upgrade
from rcmedia.catalog.repository import AssetQuery, Catalog
from rcmedia.catalog.schedules import ScheduleStore
from rcmedia.core.builder import broadcast_day, day_on_air
from rcmedia.core.models import AssetStatus, Output
from rcmedia.service.channels import apply_channel_files, load_channels
from rcmedia.service.schedules import build_all
from rcmedia.storage.local import LocalStorage
from tests.acceptance.test_cli import _env
from tests.integration.web.published import publish_fake_asset
from tests.integration.web.schedules import RCXF, RUNGS


def rcmedia(tmp_path: Path, *args: str, input: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rcmedia", *args],
        cwd=tmp_path,
        env=_env(tmp_path),
        input=input,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _catalog(tmp_path: Path) -> Catalog:
    engine = make_engine(f"sqlite:///{tmp_path / 'var' / 'rcmedia.db'}")
    upgrade(engine)
    return Catalog(engine)


def test_users_add_list_passwd_disable(tmp_path: Path) -> None:
    added = rcmedia(
        tmp_path, "users", "add", "王老师", "--role", "operator", "--password-stdin", input="good-password\n"
    )
    assert added.returncode == 0, added.stderr
    assert "account '王老师' (operator) added" in added.stderr
    editor = rcmedia(
        tmp_path, "users", "add", "ed", "--role", "editor", "--password-stdin", input="ed-password\n"
    )
    assert editor.returncode == 0, editor.stderr

    twice = rcmedia(
        tmp_path, "users", "add", "ed", "--role", "admin", "--password-stdin", input="other-password\n"
    )
    assert twice.returncode == 1
    assert "account 'ed' already exists" in twice.stderr
    short = rcmedia(tmp_path, "users", "add", "al", "--role", "admin", "--password-stdin", input="short\n")
    assert short.returncode == 1
    assert "at least 8 characters" in short.stderr
    bad_role = rcmedia(
        tmp_path, "users", "add", "al", "--role", "root", "--password-stdin", input="long-enough\n"
    )
    assert bad_role.returncode == 2

    listed = rcmedia(tmp_path, "users", "list")
    assert listed.returncode == 0, listed.stderr
    rows = [line for line in listed.stdout.splitlines() if "operator" in line or "editor" in line]
    assert len(rows) == 2
    assert rows[0].split() == [
        "│",
        "ed",
        "│",
        "editor",
        "│",
        *rows[0].split()[5:8],
        "│",
        "enabled",
        "│",
        "all",
        "│",
    ]
    assert rows[1].split()[1:4] == ["王老师", "│", "operator"]

    assert (
        rcmedia(tmp_path, "users", "passwd", "ed", "--password-stdin", input="new-password\n").returncode == 0
    )
    assert rcmedia(tmp_path, "users", "disable", "ed").returncode == 0
    assert "disabled" in rcmedia(tmp_path, "users", "list").stdout
    missing = rcmedia(tmp_path, "users", "disable", "nobody")
    assert (missing.returncode, "account 'nobody' not found" in missing.stderr) == (1, True)

    catalog = _catalog(tmp_path)
    accounts = Accounts(catalog.engine)
    assert accounts.verify("王老师", "good-password") is not None
    assert accounts.verify("ed", "new-password") is None  # disabled
    assert rcmedia(tmp_path, "users", "enable", "ed").returncode == 0
    assert accounts.verify("ed", "new-password") is not None
    catalog.engine.dispose()


def test_users_tokens_channels_and_the_audit_log(tmp_path: Path) -> None:
    added = rcmedia(
        tmp_path,
        *("users", "add", "op", "--role", "operator", "--channel", "rcxf", "--password-stdin"),
        input="op-password\n",
    )
    assert added.returncode == 0, added.stderr
    made = rcmedia(tmp_path, "users", "token", "op", "--label", "nightly")
    assert made.returncode == 0, made.stderr
    secret = made.stdout.strip()
    assert secret.startswith("rcm_")
    assert "will not be shown again" in made.stderr

    catalog = _catalog(tmp_path)
    accounts = Accounts(catalog.engine)
    now = datetime.now(UTC)
    assert accounts.token_user(secret, now=now) is not None
    listed = rcmedia(tmp_path, "users", "tokens", "op")
    assert listed.returncode == 0, listed.stderr
    assert "nightly" in listed.stdout
    assert secret not in listed.stdout
    (token,) = accounts.tokens("op")
    revoked = rcmedia(tmp_path, "users", "revoke-token", str(token.id))
    assert revoked.returncode == 0, revoked.stderr
    assert accounts.token_user(secret, now=now) is None

    assert accounts.get_user("op").channels == ("rcxf",)
    assert rcmedia(tmp_path, "users", "channels", "op", "--all").returncode == 0
    assert accounts.get_user("op").channels is None
    assert rcmedia(tmp_path, "users", "channels", "op").returncode == 2  # --channel or --all

    entries = catalog.audit.entries()
    assert [e.action for e in entries] == ["user.update", "user.revoke_token", "user.token", "user.add"]
    assert all(e.actor.startswith("cli:") for e in entries)
    shown = rcmedia(tmp_path, "audit", "--action", "user.token", "--json")
    assert shown.returncode == 0, shown.stderr
    assert '"action": "user.token"' in shown.stdout
    assert secret not in shown.stdout
    catalog.engine.dispose()


def test_users_add_prompts_twice_for_the_password(tmp_path: Path) -> None:
    done = rcmedia(tmp_path, "users", "add", "op", "--role", "operator", input="pass-word-1\npass-word-1\n")
    assert done.returncode == 0, done.stderr
    mismatch = rcmedia(
        tmp_path, "users", "add", "op2", "--role", "operator", input="pass-word-1\npass-word-2\n" * 3
    )
    assert mismatch.returncode != 0
    assert "op2" not in rcmedia(tmp_path, "users", "list").stdout


@pytest.fixture
def on_air(tmp_path: Path) -> tuple[date, dict[str, int]]:
    """蓉城先锋 applied and built for today and tomorrow by the real clock; returns tomorrow and assets."""
    catalog = _catalog(tmp_path)
    storage = LocalStorage(tmp_path / "var" / "storage")
    library = {
        "slate": (
            "台标 slate",
            "slate",
            (6.0,) * 10 + tuple(round(k * 0.04, 2) for k in range(1, 150)),
            None,
        ),
        "xxsj": ("学习时间 第1集", "学习时间", (6.0,) * 100, 1),
        "hsjy": ("红色记忆 第1集", "红色记忆", (6.0,) * 150, 1),
        "sdkm": ("时代楷模 第1集", "时代楷模", (6.0,) * 100, 1),
        "promo": ("宣传片 A", "宣传片", (6.0,) * 50, None),
    }
    ids = {}
    for seed, (key, (title, series, durations, episode)) in enumerate(library.items()):
        ids[key] = publish_fake_asset(
            catalog,
            storage,
            seed=seed,
            title=title,
            original_filename=f"{key}.mp4",
            series=series,
            episode=episode,
            rungs=RUNGS,
            durations=durations,
        ).asset_id
    channel_file = tmp_path / "rcxf.toml"
    channel_file.write_text(RCXF, encoding="utf-8")
    store = ScheduleStore(catalog.engine)
    now = datetime.now(UTC)
    apply_channel_files(store, [channel_file], now=now)
    build_all(store, first_day=None, days=2, now=now)
    (channel,) = load_channels(store)
    catalog.engine.dispose()
    return day_on_air(channel, now) + timedelta(days=1), ids


def _events(tmp_path: Path, day: date, output: Output) -> list[tuple[datetime, int, bool]]:
    catalog = _catalog(tmp_path)
    store = ScheduleStore(catalog.engine)
    (channel,) = load_channels(store)
    start, end = broadcast_day(channel, day)
    events = [(e.start, e.asset_id, e.locked) for e in store.events("rcxf", output, start=start, end=end)]
    catalog.engine.dispose()
    return events


def test_schedule_edit_applies_or_says_why_not(tmp_path: Path, on_air: tuple[date, dict[str, int]]) -> None:
    tomorrow, ids = on_air
    # the 19:00 slot in Chengdu (UTC+8)
    evening = datetime.combine(tomorrow, datetime.min.time(), tzinfo=UTC) + timedelta(hours=11)
    assert (evening, ids["xxsj"], False) in _events(tmp_path, tomorrow, Output.IPTV)
    base = ("schedule", "edit", "--channel", "rcxf", "--output", "iptv", "--date", str(tomorrow))

    done = rcmedia(tmp_path, *base, "replace", "--at", "19:00", "--asset", str(ids["promo"]))

    assert done.returncode == 0, done.stderr
    assert "replace applied to rcxf/iptv" in done.stderr
    assert "宣传片 A" in done.stdout
    assert (evening, ids["promo"], True) in _events(tmp_path, tomorrow, Output.IPTV)
    assert (evening, ids["xxsj"], False) in _events(tmp_path, tomorrow, Output.TV)

    today = (
        "schedule",
        "edit",
        "--channel",
        "rcxf",
        "--output",
        "iptv",
        "--date",
        str(tomorrow - timedelta(days=1)),
    )
    frozen = rcmedia(tmp_path, *today, "delete", "--at", "06:00")  # the start of the day on air
    assert frozen.returncode == 1
    assert "refused" in frozen.stderr
    assert "inside the freeze horizon" in frozen.stderr

    unbuilt = rcmedia(tmp_path, *base[:-1], str(tomorrow + timedelta(days=5)), "delete", "--at", "19:00")
    assert unbuilt.returncode == 1
    assert "has no schedule" in unbuilt.stderr
    usage = rcmedia(tmp_path, *base, "delete")
    assert usage.returncode == 2
    assert "a delete edit needs --at" in usage.stderr
    unknown = rcmedia(tmp_path, "schedule", "edit", "--channel", "nope", *base[4:], "lock", "--at", "19:00")
    assert unknown.returncode == 1
    assert "channel 'nope' not found" in unknown.stderr

    built = rcmedia(tmp_path, "schedule", "build", "--channel", "rcxf", "--days", "1")
    assert built.returncode == 0, built.stderr
    catalog = _catalog(tmp_path)
    rebuild, edit = catalog.audit.entries()  # refused edits leave nothing
    catalog.engine.dispose()
    assert (edit.action, edit.target) == ("schedule.edit", f"channel/rcxf/iptv/{tomorrow}")
    assert edit.actor.startswith("cli:")
    assert (edit.before["event"]["asset_id"], edit.after["event"]["asset_id"]) == (ids["xxsj"], ids["promo"])
    assert (rebuild.action, rebuild.target) == ("schedule.rebuild", "channel/rcxf")
    assert "iptv" in rebuild.after


def test_assets_rights_and_withdraw(tmp_path: Path, on_air: tuple[date, dict[str, int]]) -> None:
    tomorrow, ids = on_air
    sdkm = str(ids["sdkm"])

    limited = rcmedia(tmp_path, "assets", "rights", sdkm, "--output", "iptv", "--output", "mobile", "--none")
    assert limited.returncode == 0, limited.stderr
    assert f"asset {sdkm} on iptv: not allowed" in limited.stderr
    assert f"asset {sdkm} on tv: open → open" in limited.stderr
    windowed = rcmedia(
        tmp_path,
        "assets",
        "rights",
        sdkm,
        "--output",
        "mobile",
        "--from",
        "2026-01-01",
        "--until",
        "2027-01-01",
    )
    assert windowed.returncode == 0, windowed.stderr
    # dates are read in Asia/Shanghai, as in sidecar files
    assert f"asset {sdkm} on mobile: 2025-12-31 16:00 UTC → 2026-12-31 16:00 UTC" in windowed.stderr
    assert (
        rcmedia(
            tmp_path, "assets", "rights", sdkm, "--output", "tv", "--none", "--from", "2026-01-01"
        ).returncode
        == 2
    )

    base = ("schedule", "edit", "--channel", "rcxf", "--output", "iptv", "--date", str(tomorrow))
    refused = rcmedia(tmp_path, *base, "replace", "--at", "19:00", "--asset", sdkm)
    assert refused.returncode == 1
    assert "has no rights on iptv" in refused.stderr

    withdrawn = rcmedia(tmp_path, "assets", "withdraw", str(ids["promo"]))
    assert withdrawn.returncode == 0, withdrawn.stderr
    listed = rcmedia(tmp_path, "assets", "--search", "宣传片")
    assert "withdrawn" in listed.stdout
    catalog = _catalog(tmp_path)
    assert catalog.get_asset(ids["promo"]).status is AssetStatus.WITHDRAWN
    assert catalog.find_assets(AssetQuery(status=AssetStatus.PUBLISHED)).total == len(ids) - 1
    catalog.engine.dispose()
    missing = rcmedia(tmp_path, "assets", "withdraw", "999")
    assert (missing.returncode, "asset 999 not found" in missing.stderr) == (1, True)


def test_listings_show_control_characters_and_markup_in_stored_text_inertly(tmp_path: Path) -> None:
    """Text stored before input was checked (or by another tool) still never drives the terminal."""
    catalog = _catalog(tmp_path)
    storage = LocalStorage(tmp_path / "var" / "storage")
    hostile = "第1课\x1b[31m红\x07[bold]粗[/bold]"
    publish_fake_asset(
        catalog, storage, seed=7, title=hostile, original_filename="a\x1b]0;pwned\x07.mp4", rungs=RUNGS
    )
    catalog.engine.dispose()

    listed = rcmedia(tmp_path, "assets")

    assert listed.returncode == 0, listed.stderr
    assert "\x1b" not in listed.stdout
    assert "\x07" not in listed.stdout
    assert "\\x1b[31m" in listed.stdout  # shown as an escape: what is stored, visibly
    assert "[bold]粗[/bold]" in listed.stdout  # markup printed as text, not applied


def test_assets_rerate_measures_old_packages_again(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path)
    storage = LocalStorage(tmp_path / "var" / "storage")
    # rated the old way (its one-frame tail's rate); the segments say otherwise
    asset = publish_fake_asset(catalog, storage, seed=3, rungs=RUNGS, durations=(2.0, 2.0, 0.04)).asset_id
    catalog.engine.dispose()

    dry = rcmedia(tmp_path, "assets", "rerate", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert f"asset {asset} 144p: BANDWIDTH" in dry.stderr
    assert "1 asset(s) would change" in dry.stderr

    done = rcmedia(tmp_path, "assets", "rerate")
    assert done.returncode == 0, done.stderr
    assert "1 asset(s) changed" in done.stderr
    again = rcmedia(tmp_path, "assets", "rerate")
    assert "0 asset(s) changed" in again.stderr


def test_assets_repackage_says_what_it_needs(tmp_path: Path) -> None:
    _catalog(tmp_path).engine.dispose()
    nothing = rcmedia(tmp_path, "assets", "repackage")
    assert nothing.returncode == 2
    assert "name the assets to re-package, or give --all" in nothing.stderr
    missing = rcmedia(tmp_path, "assets", "repackage", "99")
    assert missing.returncode == 1
    assert "asset 99 not found" in missing.stderr
    every = rcmedia(tmp_path, "assets", "repackage", "--all")  # an empty catalog: nothing to do
    assert every.returncode == 0, every.stderr
