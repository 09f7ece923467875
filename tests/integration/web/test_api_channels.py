"""The channels API: the list, a broadcast day's schedule (gapless, counters chained), the as-run log."""

from __future__ import annotations

import csv
import io
import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rcmedia.core.asrun import AsRunEntry
from rcmedia.core.schedule import EventKind
from rcmedia.service.channels import apply_channel_files
from rcmedia.web.asrun import COLUMNS, asrun_csv
from tests.integration.web.published import Client
from tests.integration.web.schedules import NOW, TODAY, TOMORROW, YESTERDAY, FixedClock, OnAir

Document = dict[str, Any]


def utc(text: str) -> datetime:
    assert text.endswith("Z")
    return datetime.fromisoformat(text.removesuffix("Z")).replace(tzinfo=UTC)


async def get_json(client: Client, path: str, status: int = 200) -> Any:
    response = await client.get(path)
    assert response.status == status, await response.text()
    assert response.headers["Content-Type"].startswith("application/json")
    return await response.json()


# --- the list ---------------------------------------------------------------------------------------


async def test_channels_in_number_order_with_their_urls(schedule_client: Client) -> None:
    body = await get_json(schedule_client, "/api/v1/channels")

    assert body["total"] == 2
    rcxf, rcjy = body["items"]
    assert rcxf == {
        "id": "rcxf",
        "xmltv_id": "rcxf.rcmedia",
        "name": "蓉城先锋",
        "number": 1,
        "timezone": "Asia/Shanghai",
        "outputs": ["tv", "iptv", "mobile"],
        "catchup_days": 7,
        "day_start": "06:00",
        "logo": "/static/logos/rcxf.png",
        "group": "成都",
        "description": "",
        "version": 1,
        "urls": {
            "m3u": {o: f"/channels.m3u?output={o}" for o in ("tv", "iptv", "mobile")},
            "epg": {o: f"/epg.xml?output={o}" for o in ("tv", "iptv", "mobile")},
            "live": {o: f"/live/rcxf/{o}/master.m3u8" for o in ("tv", "iptv", "mobile")},
            "schedule": {o: f"/api/v1/channels/rcxf/schedule?output={o}" for o in ("tv", "iptv", "mobile")},
        },
    }
    assert (rcjy["id"], rcjy["timezone"], rcjy["outputs"], rcjy["day_start"]) == (
        "rcjy",
        "Europe/Berlin",
        ["iptv", "mobile"],
        "05:00",
    )
    assert set(rcjy["urls"]["live"]) == {"iptv", "mobile"}
    assert await get_json(schedule_client, "/api/v1/channels/rcjy") == rcjy


async def test_no_channels_yet(client: Client) -> None:
    assert await get_json(client, "/api/v1/channels") == {"items": [], "total": 0}


async def test_a_changed_file_shows_its_new_version(schedule_client: Client, on_air: OnAir) -> None:
    path = on_air.files[0]
    path.write_text(path.read_text(encoding="utf-8").replace('group = "成都"', 'group = "四川"'), "utf-8")
    apply_channel_files(on_air.store, list(on_air.files), now=NOW)

    rcxf = await get_json(schedule_client, "/api/v1/channels/rcxf")
    assert (rcxf["version"], rcxf["group"]) == (2, "四川")


# --- a day's schedule -------------------------------------------------------------------------------


def assert_gapless_and_chained(day: Document) -> None:
    events = day["events"]
    assert events
    assert utc(events[0]["start"]) == utc(day["start"])
    assert utc(events[-1]["end"]) == utc(day["end"])
    for event in events:
        assert utc(event["end"]) - utc(event["start"]) == timedelta(seconds=event["duration"])
    for before, after in itertools.pairwise(events):
        assert after["start"] == before["end"]
        count = before["last_segment"] - before["first_segment"] + 1
        assert after["seq0"] == before["seq0"] + count
        assert after["disc0"] == before["disc0"] + 1


async def test_today_by_default_gapless_with_chained_counters(schedule_client: Client) -> None:
    day = await get_json(schedule_client, "/api/v1/channels/rcxf/schedule")

    assert (day["channel"], day["output"], day["day"], day["version"]) == ("rcxf", "iptv", "2026-03-02", 1)
    assert (day["start"], day["end"]) == ("2026-03-01T22:00:00Z", "2026-03-02T22:00:00Z")  # 06:00 in Shanghai
    assert_gapless_and_chained(day)
    kinds = {e["kind"] for e in day["events"]}
    assert {"programme", "filler", "slate"} <= kinds
    first = day["events"][0]
    assert (first["series"], first["slot_id"], first["kind"]) == ("学习时间", "xxsj-0600", "programme")
    assert first["title"] == f"学习时间 第{first['episode']}集"
    assert set(first) == {
        "start",
        "end",
        "duration",
        "asset_id",
        "title",
        "series",
        "episode",
        "kind",
        "slot_id",
        "premiere",
        "previously_shown",
        "substitution",
        "locked",
        "first_segment",
        "last_segment",
        "seq0",
        "disc0",
    }


async def test_the_day_on_air_in_the_channels_own_zone(schedule_client: Client, clock: FixedClock) -> None:
    # 04:30 UTC: 12:30 in Shanghai, but 05:30 in Berlin, where the day starts at 05:00
    clock.current = datetime(2026, 3, 2, 3, 30, tzinfo=UTC)  # 04:30 in Berlin: still 1 March's day

    rcjy = await get_json(schedule_client, "/api/v1/channels/rcjy/schedule")
    rcxf = await get_json(schedule_client, "/api/v1/channels/rcxf/schedule")

    assert (rcjy["day"], rcjy["start"], rcjy["end"]) == (
        "2026-03-01",
        "2026-03-01T04:00:00Z",
        "2026-03-02T04:00:00Z",
    )
    assert rcxf["day"] == "2026-03-02"


async def test_days_follow_on_from_each_other(schedule_client: Client) -> None:
    days = [
        await get_json(schedule_client, f"/api/v1/channels/rcjy/schedule?output=mobile&date={day}")
        for day in (YESTERDAY, TODAY, TOMORROW)
    ]

    for day in days:
        assert day["output"] == "mobile"
        assert_gapless_and_chained(day)
    for before, after in itertools.pairwise(days):
        assert after["start"] == before["end"]
        last, first = before["events"][-1], after["events"][0]
        assert first["seq0"] == last["seq0"] + last["last_segment"] - last["first_segment"] + 1
        assert first["disc0"] == last["disc0"] + 1


async def test_a_day_not_built_is_empty(schedule_client: Client) -> None:
    day = await get_json(schedule_client, "/api/v1/channels/rcxf/schedule?output=tv&date=2026-04-01")

    assert (day["version"], day["events"]) == (None, [])
    assert day["start"] == "2026-03-31T22:00:00Z"


async def test_substitutions_are_told(schedule_client: Client) -> None:
    iptv = await get_json(schedule_client, "/api/v1/channels/rcxf/schedule?output=iptv")
    tv = await get_json(schedule_client, "/api/v1/channels/rcxf/schedule?output=tv")

    at_ten = "2026-03-02T02:00:00Z"  # 10:00 in Shanghai: 时代楷模 may air on tv only
    (on_iptv,) = [e for e in iptv["events"] if e["start"] == at_ten]
    (on_tv,) = [e for e in tv["events"] if e["start"] == at_ten]
    assert (on_iptv["kind"], on_iptv["substitution"]) == (
        "filler",
        "no episode of '时代楷模' may air on iptv here",
    )
    assert (on_tv["kind"], on_tv["series"], on_tv["substitution"]) == ("programme", "时代楷模", None)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        pytest.param("/api/v1/channels/nope/schedule", "channel 'nope' not found", id="unknown-channel"),
        pytest.param(
            "/api/v1/channels/rcjy/schedule?output=tv", "output 'rcjy/tv' not found", id="not-on-tv"
        ),
        pytest.param("/api/v1/channels/nope", "channel 'nope' not found", id="unknown-channel-document"),
        pytest.param("/api/v1/channels/nope/asrun", "channel 'nope' not found", id="unknown-channel-asrun"),
        pytest.param(
            "/api/v1/channels/rcjy/asrun?output=tv", "output 'rcjy/tv' not found", id="asrun-not-on-tv"
        ),
        pytest.param("/api/v1/channels/RCXF/schedule", "Not Found", id="not-a-channel-id"),
    ],
)
async def test_not_found(schedule_client: Client, path: str, message: str) -> None:
    body = await get_json(schedule_client, path, status=404)

    assert message in body["error"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        pytest.param("?output=radio", "'output': 'radio' is not one of tv, iptv, mobile", id="output"),
        pytest.param("?date=2026-02-30", "'date': expected a date YYYY-MM-DD", id="no-such-day"),
        pytest.param("?date=20260302", "got '20260302'", id="basic-format"),
        pytest.param("?date=yesterday", "got 'yesterday'", id="word"),
        pytest.param("?date=0001-01-01", "from 1970-01-02 to 9998-12-30", id="out-of-range"),
    ],
)
@pytest.mark.parametrize("endpoint", ["schedule", "guide", "asrun"])
async def test_bad_parameters(client: Client, endpoint: str, query: str, message: str) -> None:
    """Checked before the channel is looked up: no channel needs to exist."""
    body = await get_json(client, f"/api/v1/channels/rcxf/{endpoint}{query}", status=400)

    assert message in body["error"]


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
async def test_read_only(client: Client, method: str) -> None:
    response = await client.request(method, "/api/v1/channels/rcxf/schedule")

    assert response.status == 405


# --- the as-run log ---------------------------------------------------------------------------------


async def test_asrun_lists_what_started_before_now(schedule_client: Client) -> None:
    day = await get_json(schedule_client, "/api/v1/channels/rcxf/schedule?output=iptv")
    log = await get_json(schedule_client, "/api/v1/channels/rcxf/asrun?output=iptv")

    aired = [e for e in day["events"] if utc(e["start"]) < NOW]
    assert (log["channel"], log["output"], log["day"], log["until"]) == (
        "rcxf",
        "iptv",
        "2026-03-02",
        "2026-03-02T04:30:00Z",
    )
    assert [r["scheduled_start"] for r in log["rows"]] == [e["start"] for e in aired]
    assert len(aired) < len(day["events"])
    last = log["rows"][-1]
    assert (
        utc(last["scheduled_start"])
        < NOW
        <= utc(last["scheduled_start"]) + timedelta(seconds=last["duration"])
    )  # the event on air now is the last row
    for row, event in zip(log["rows"], aired, strict=True):
        assert row == {
            "scheduled_start": event["start"],
            "actual_start": event["start"],
            "duration": event["duration"],
            "asset_id": event["asset_id"],
            "title": event["title"],
            "kind": event["kind"],
            "substitution": event["substitution"],
        }
    reasons = [r["substitution"] for r in log["rows"] if r["substitution"]]
    assert reasons == ["no episode of '时代楷模' may air on iptv here"]


async def test_asrun_of_a_past_day_is_all_of_it_and_the_future_nothing(schedule_client: Client) -> None:
    yesterday = await get_json(schedule_client, f"/api/v1/channels/rcxf/schedule?date={YESTERDAY}")
    past = await get_json(schedule_client, f"/api/v1/channels/rcxf/asrun?date={YESTERDAY}")
    future = await get_json(schedule_client, f"/api/v1/channels/rcxf/asrun?date={TOMORROW}")

    assert len(past["rows"]) == len(yesterday["events"])
    assert past["until"] == past["end"]
    assert future["rows"] == []
    assert future["until"] == future["start"]


async def test_asrun_csv_download(schedule_client: Client) -> None:
    log = await get_json(schedule_client, "/api/v1/channels/rcxf/asrun?output=mobile")

    response = await schedule_client.get("/api/v1/channels/rcxf/asrun?output=mobile&format=csv")

    assert response.status == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        response.headers["Content-Disposition"] == 'attachment; filename="asrun-rcxf-mobile-2026-03-02.csv"'
    )
    raw = await response.read()
    assert raw.startswith(b"\xef\xbb\xbf")  # so that a spreadsheet reads the titles as UTF-8
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert rows[0] == [
        "scheduled_start",
        "actual_start",
        "duration",
        "asset_id",
        "title",
        "kind",
        "substitution",
    ]
    assert len(rows) == 1 + len(log["rows"])
    for line, row in zip(rows[1:], log["rows"], strict=True):
        assert line == [
            row["scheduled_start"],
            row["actual_start"],
            f"{row['duration']:.3f}",
            str(row["asset_id"]),
            row["title"],
            row["kind"],
            row["substitution"] or "",
        ]
        assert utc(line[0]) < NOW
    assert any(line[6] == "no episode of '时代楷模' may air on mobile here" for line in rows[1:])


async def test_asrun_format_must_be_known(schedule_client: Client) -> None:
    body = await get_json(schedule_client, "/api/v1/channels/rcxf/asrun?format=xls", status=400)

    assert "'format': 'xls' is not one of json, csv" in body["error"]


def test_asrun_csv_cells_never_run_as_formulas() -> None:
    start = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    rows = [
        AsRunEntry(
            scheduled_start=start,
            actual_start=start,
            duration_us=1_800_040_000,
            asset_id=7,
            title=title,
            kind=EventKind.PROGRAMME,
            substitution=substitution,
        )
        for title, substitution in (('=HYPERLINK("http://x")', "@SUM(A1)"), ("理论1+1, 第2集", None))
    ]

    lines = list(csv.reader(io.StringIO(asrun_csv(rows).removeprefix("\ufeff"), newline="")))

    assert lines[0] == list(COLUMNS)
    assert lines[1][2:] == ["1800.040", "7", '\'=HYPERLINK("http://x")', "programme", "'@SUM(A1)"]
    assert lines[2][4:] == ["理论1+1, 第2集", "programme", ""]
