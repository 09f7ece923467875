"""``GET /api/v1/channels/{channel}/guide``: a broadcast day of the gapless guide, as JSON."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rcmedia.service.channels import apply_channel_files
from tests.integration.web.published import Client
from tests.integration.web.schedules import NOW, TODAY, TOMORROW, YESTERDAY, OnAir

Document = dict[str, Any]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.removesuffix("Z")).replace(tzinfo=UTC)


async def get_json(client: Client, path: str, status: int = 200) -> Any:
    response = await client.get(path)
    assert response.status == status, await response.text()
    return await response.json()


def assert_gapless(guide: Document) -> None:
    entries = guide["entries"]
    assert entries
    assert all(utc(e["start"]) < utc(e["stop"]) for e in entries)
    assert all(a["stop"] == b["start"] for a, b in itertools.pairwise(entries))
    assert utc(entries[0]["start"]) <= utc(guide["start"]) < utc(entries[0]["stop"])
    assert utc(entries[-1]["stop"]) >= utc(guide["end"])


async def test_today_by_default_every_programme_and_no_gap(schedule_client: Client) -> None:
    """The guide used to be the programmes alone: on this channel a few hours of a day."""
    guide = await get_json(schedule_client, "/api/v1/channels/rcxf/guide")
    day = await get_json(schedule_client, "/api/v1/channels/rcxf/schedule")

    assert (guide["channel"], guide["output"], guide["day"], guide["version"]) == (
        "rcxf",
        "iptv",
        "2026-03-02",
        1,
    )
    assert (guide["start"], guide["end"]) == (day["start"], day["end"])
    assert (guide["interlude_title"], guide["guide_filler"]) == ("精彩节目", "fold")
    assert_gapless(guide)
    programmes = [e for e in day["events"] if e["kind"] == "programme"]
    listed = [e for e in guide["entries"] if e["kind"] == "programme"]
    assert [(e["start"], e["asset_id"]) for e in listed] == [(p["start"], p["asset_id"]) for p in programmes]
    # the real length of each programme stays; its entry runs on to the next programme
    assert [e["content_duration"] for e in listed] == [p["duration"] for p in programmes]
    assert any(utc(e["stop"]) > utc(e["start"]) + timedelta(seconds=e["content_duration"]) for e in listed)
    first = listed[0]
    assert set(first) == {
        "start",
        "stop",
        "title",
        "kind",
        "series",
        "episode",
        "asset_id",
        "content_duration",
    }
    assert (first["series"], first["title"]) == ("学习时间", f"学习时间 第{first['episode']}集")


async def test_days_meet_without_a_gap(schedule_client: Client) -> None:
    days = [
        await get_json(schedule_client, f"/api/v1/channels/rcjy/guide?output=mobile&date={day}")
        for day in (YESTERDAY, TODAY, TOMORROW)
    ]
    for day in days:
        assert_gapless(day)
    # an entry spanning a day's end is the same entry on the next day, with its real start
    for before, after in itertools.pairwise(days):
        last, first = before["entries"][-1], after["entries"][0]
        assert last == first if last["stop"] > after["start"] else last["stop"] == first["start"]


async def test_the_first_hours_with_no_programme_before_them_are_an_interlude(
    schedule_client: Client,
) -> None:
    """rcjy's first built day begins at 05:00 with filler; its first programme is at 08:00."""
    guide = await get_json(schedule_client, f"/api/v1/channels/rcjy/guide?date={YESTERDAY}")

    first, second = guide["entries"][:2]
    assert (first["kind"], first["title"], first["asset_id"], first["series"]) == (
        "interlude",
        "精彩节目",
        None,
        None,
    )
    assert first["start"] == guide["start"]
    assert first["content_duration"] == (utc(first["stop"]) - utc(first["start"])).total_seconds()
    assert second["kind"] == "programme"


async def test_list_mode_and_the_interlude_title_come_from_the_channel_file(
    schedule_client: Client, on_air: OnAir
) -> None:
    path = on_air.files[0]
    text = path.read_text(encoding="utf-8").replace(
        'group = "成都"', 'group = "成都"\ninterlude_title = "稍后回来"\nguide_filler = "list"', 1
    )
    path.write_text(text, encoding="utf-8")
    apply_channel_files(on_air.store, list(on_air.files), now=NOW)

    guide = await get_json(schedule_client, "/api/v1/channels/rcxf/guide")

    assert (guide["interlude_title"], guide["guide_filler"]) == ("稍后回来", "list")
    assert_gapless(guide)
    interludes = [e for e in guide["entries"] if e["kind"] == "interlude"]
    assert interludes
    assert {e["title"] for e in interludes} == {"稍后回来"}
    for entry in guide["entries"]:
        if entry["kind"] == "programme":  # no filler folded in: each programme stops at its own end
            assert utc(entry["stop"]) - utc(entry["start"]) == timedelta(seconds=entry["content_duration"])
    assert all(
        a["kind"] != b["kind"] or a["kind"] == "programme" for a, b in itertools.pairwise(guide["entries"])
    )


async def test_a_day_not_built_is_empty(schedule_client: Client) -> None:
    guide = await get_json(schedule_client, "/api/v1/channels/rcxf/guide?output=tv&date=2026-04-01")

    assert (guide["version"], guide["entries"]) == (None, [])


@pytest.mark.parametrize(
    ("path", "message"),
    [
        pytest.param("/api/v1/channels/nope/guide", "channel 'nope' not found", id="unknown-channel"),
        pytest.param("/api/v1/channels/rcjy/guide?output=tv", "output 'rcjy/tv' not found", id="not-on-tv"),
    ],
)
async def test_not_found(schedule_client: Client, path: str, message: str) -> None:
    body = await get_json(schedule_client, path, status=404)

    assert message in body["error"]
