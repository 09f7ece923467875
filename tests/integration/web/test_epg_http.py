"""``GET /epg.xml``: the XMLTV of the channels as built in the catalog, rendered once for many boxes."""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web
from lxml import etree

from rcmedia.core.builder import broadcast_day
from rcmedia.core.models import Output
from rcmedia.core.schedule import EventKind
from rcmedia.core.xmltv import xmltv_time
from rcmedia.errors import ConfigError
from rcmedia.service import guide as epg
from rcmedia.service.channels import load_channels
from rcmedia.service.guide import epg_window
from rcmedia.web import epg_xml
from rcmedia.web.keys import EPG_RENDERS_KEY
from rcmedia.web.shared_render import SharedRenders
from tests.conftest import RESOURCES, require_system
from tests.integration.epg.test_xmltv_validation import XMLTV_SUPPLEMENT
from tests.integration.web.published import CORS_ORIGIN, Client
from tests.integration.web.schedules import NOW, TODAY, TOMORROW, YESTERDAY, FixedClock, OnAir

DTD = etree.DTD(str(RESOURCES / "xmltv.dtd"))


def parse(body: bytes) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.fromstring(body, parser)


def instant(text: str | None) -> datetime:
    assert text is not None
    return datetime.strptime(text, "%Y%m%d%H%M%S %z")


async def fetch(client: Client, query: str = "", **headers: str) -> aiohttp.ClientResponse:
    response = await client.get(f"/epg.xml{query}", headers=headers)
    assert response.status == 200, await response.text()
    return response


def programmes(root: etree._Element, channel: str) -> list[etree._Element]:
    return [p for p in root.iter("programme") if p.get("channel") == channel]


def expected_starts(on_air: OnAir, channel_id: str, output: Output, days: int, now: datetime) -> list[str]:
    """The starts of the channel's programme events in its window, as XMLTV writes them, after the
    programme before the window when its filler runs into the window (the guide folds it in)."""
    channel = next(c for c in load_channels(on_air.store) if c.id == channel_id)
    start, end = epg_window(channel, now, days)
    events = on_air.store.events(channel_id, output, start=start - timedelta(days=1), end=end)
    starts = [e.start for e in events if e.kind is EventKind.PROGRAMME]
    inside = [s for s in starts if s >= start]
    before = [s for s in starts if s < start]
    if before and (not inside or inside[0] > start):
        inside.insert(0, before[-1])
    zone = ZoneInfo(channel.timezone)
    return [xmltv_time(s, zone) for s in inside]


async def test_guide_is_valid_xmltv_with_dotted_channel_ids(schedule_client: Client) -> None:
    response = await fetch(schedule_client)

    assert response.headers["Content-Type"] == "application/xml; charset=utf-8"
    assert response.headers["Cache-Control"] == "public, max-age=300"
    root = parse(await response.read())
    assert DTD.validate(root), DTD.error_log.filter_from_errors()
    ids = [c.get("id") for c in root.iter("channel")]
    assert ids == ["rcjy.rcmedia", "rcxf.rcmedia"]
    assert all("." in (i or "") for i in ids)
    assert {p.get("channel") for p in root.iter("programme")} == set(ids)


async def test_catch_up_days_and_the_days_asked_for(schedule_client: Client, on_air: OnAir) -> None:
    rcxf = next(c for c in load_channels(on_air.store) if c.id == "rcxf")
    rcjy = next(c for c in load_channels(on_air.store) if c.id == "rcjy")

    one_day = parse(await (await fetch(schedule_client, "?output=iptv&days=1")).read())
    two_days = parse(await (await fetch(schedule_client, "?output=iptv&days=2")).read())

    for root, days in ((one_day, 1), (two_days, 2)):
        for channel in (rcxf, rcjy):
            listed = [p.get("start") for p in programmes(root, channel.xmltv_id)]
            assert listed == expected_starts(on_air, channel.id, Output.IPTV, days, NOW)
    # rcxf keeps 7 catch-up days: yesterday (the only one built) is listed from its first slot
    yesterday_start, _ = broadcast_day(rcxf, YESTERDAY)
    _, today_end = broadcast_day(rcxf, TODAY)
    tomorrow_start, tomorrow_end = broadcast_day(rcxf, TOMORROW)
    starts = [instant(p.get("start")) for p in programmes(one_day, "rcxf.rcmedia")]
    assert min(starts) == yesterday_start
    assert max(instant(p.get("stop")) for p in programmes(one_day, "rcxf.rcmedia")) <= today_end
    later = [instant(p.get("start")) for p in programmes(two_days, "rcxf.rcmedia")]
    assert any(tomorrow_start <= s < tomorrow_end for s in later)
    # rcjy has no catch-up: its guide starts with the programme of last night whose filler runs
    # into today's broadcast day (it keeps its real start); nothing else before today
    today_start, _ = broadcast_day(rcjy, TODAY)
    first, second, *_ = programmes(one_day, "rcjy.rcmedia")
    assert instant(first.get("start")) < today_start < instant(first.get("stop"))
    assert instant(second.get("start")) >= today_start


async def test_default_days_is_the_schedule_days_setting(schedule_client: Client, on_air: OnAir) -> None:
    default = await (await fetch(schedule_client)).read()
    seven = await (await fetch(schedule_client, "?output=iptv&days=7")).read()

    assert default == seven


async def test_an_output_lists_only_its_channels(schedule_client: Client, on_air: OnAir) -> None:
    root = parse(await (await fetch(schedule_client, "?output=tv&days=2")).read())

    assert DTD.validate(root), DTD.error_log.filter_from_errors()
    assert [c.get("id") for c in root.iter("channel")] == ["rcxf.rcmedia"]
    assert [p.get("start") for p in programmes(root, "rcxf.rcmedia")] == expected_starts(
        on_air, "rcxf", Output.TV, 2, NOW
    )


async def test_gzip_when_accepted(schedule_client: Client) -> None:
    plain = await fetch(schedule_client, "?days=2", **{"Accept-Encoding": "identity"})
    packed = await fetch(schedule_client, "?days=2", **{"Accept-Encoding": "gzip"})

    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip"
    assert packed.headers["Vary"] == "Accept-Encoding"
    assert await packed.read() == await plain.read()  # the client inflated it


async def test_head_sends_the_headers_only(schedule_client: Client) -> None:
    response = await schedule_client.head("/epg.xml?output=mobile")

    assert response.status == 200
    assert response.headers["Content-Type"] == "application/xml; charset=utf-8"
    assert await response.read() == b""


async def test_cors_for_web_players(schedule_client: Client) -> None:
    response = await fetch(schedule_client, Origin="https://elsewhere.example")

    assert response.headers["Access-Control-Allow-Origin"] == CORS_ORIGIN


@pytest.mark.parametrize(
    ("query", "message"),
    [
        pytest.param("?output=radio", "'output': 'radio' is not one of tv, iptv, mobile", id="output"),
        pytest.param("?days=0", "'days': expected an integer from 1 to 14, got '0'", id="days-0"),
        pytest.param("?days=15", "'days': expected an integer from 1 to 14, got '15'", id="days-15"),
        pytest.param("?days=week", "'days': expected an integer from 1 to 14", id="days-text"),
    ],
)
async def test_bad_parameters_are_refused(client: Client, query: str, message: str) -> None:
    response = await client.get(f"/epg.xml{query}")

    assert response.status == 400
    assert message in await response.text()


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
async def test_read_only(client: Client, method: str) -> None:
    response = await client.request(method, "/epg.xml")

    assert response.status == 405


# --- one render for many boxes -------------------------------------------------------------------


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Output, int, datetime]]:
    """Each XMLTV document the origin starts to render: (output, days, now)."""
    started: list[tuple[Output, int, datetime]] = []
    real = epg.xmltv_document

    def counting(store: Any, *, output: Output, days: int, now: datetime, site_url: str) -> Iterator[str]:
        started.append((output, days, now))
        return real(store, output=output, days=days, now=now, site_url=site_url)

    monkeypatch.setattr(epg_xml, "xmltv_document", counting)
    return started


@pytest.fixture
def small_batches(schedule_app: web.Application) -> None:
    """Batches of 1 KiB: the document arrives in many pieces, so requests really stream."""
    schedule_app[EPG_RENDERS_KEY] = SharedRenders(ttl=epg_xml.RENDER_TTL, batch_bytes=1024)


@pytest.mark.usefixtures("small_batches")
async def test_boxes_polling_together_share_one_streamed_render(
    schedule_client: Client, renders: list[tuple[Output, int, datetime]]
) -> None:
    async def poll(encoding: str) -> bytes:
        response = await fetch(schedule_client, "?days=2", **{"Accept-Encoding": encoding})
        assert response.headers.get("Content-Encoding", "identity") == encoding
        return await response.read()

    bodies = await asyncio.gather(*(poll(("gzip", "identity")[n % 2]) for n in range(12)))

    assert renders == [(Output.IPTV, 2, NOW)]
    assert len(set(bodies)) == 1
    assert len(bodies[0]) > 10 * 1024  # many batches: the requests above were streamed
    assert DTD.validate(parse(bodies[0]))
    assert await (await fetch(schedule_client, "?days=2")).read() == bodies[0]  # the finished copy
    assert len(renders) == 1


async def test_render_again_when_the_schedule_changes(
    schedule_client: Client, renders: list[tuple[Output, int, datetime]], on_air: OnAir, clock: FixedClock
) -> None:
    await fetch(schedule_client, "?days=2")
    await fetch(schedule_client, "?days=2")
    await fetch(schedule_client, "?days=3")  # another document
    assert len(renders) == 2

    on_air.rebuild(first_day=TOMORROW, days=1, now=NOW)  # a new version of a built day
    await fetch(schedule_client, "?days=2")
    assert len(renders) == 3

    clock.current = NOW + timedelta(minutes=10)  # same windows, same days: the copy holds
    await fetch(schedule_client, "?days=2")
    assert len(renders) == 3

    clock.current = NOW + timedelta(days=1)  # the windows moved on by a broadcast day
    root = parse(await (await fetch(schedule_client, "?days=2")).read())
    assert len(renders) == 4
    rcxf = next(c for c in load_channels(on_air.store) if c.id == "rcxf")
    yesterday_start, _ = broadcast_day(rcxf, YESTERDAY)
    assert min(instant(p.get("start")) for p in programmes(root, "rcxf.rcmedia")) == yesterday_start


async def test_a_failure_before_the_first_byte_is_a_500_and_not_kept(
    schedule_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(store: Any, **_: Any) -> Iterator[str]:
        raise ConfigError("channel 'rcxf': xmltv_id 'rcxf' is not a valid XMLTV id")

    monkeypatch.setattr(epg_xml, "xmltv_document", broken)
    response = await schedule_client.get("/epg.xml")
    assert response.status == 500
    assert "ConfigError" in await response.text()

    monkeypatch.undo()
    assert (await fetch(schedule_client)).status == 200  # the failure was not cached


@pytest.mark.usefixtures("small_batches")
async def test_a_failure_after_the_first_byte_cuts_the_body(
    schedule_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def half(store: Any, **_: Any) -> Iterator[str]:
        def chunks() -> Iterator[str]:
            yield '<?xml version="1.0" encoding="UTF-8"?>\n<tv>' + " " * 4096
            raise RuntimeError("the database went away")

        return chunks()

    monkeypatch.setattr(epg_xml, "xmltv_document", half)
    response = await schedule_client.get("/epg.xml", headers={"Accept-Encoding": "identity"})
    assert response.status == 200
    with pytest.raises(aiohttp.ClientPayloadError):
        await response.read()  # never a short document that looks whole


# --- gapless ---------------------------------------------------------------------------------------


async def test_the_guide_is_gapless_per_channel(schedule_client: Client, on_air: OnAir) -> None:
    """From the start of the catch-up days to the end of the built days, every second is listed
    once: filler, idents and slate fold into the programme before them (the guide used to list
    programmes only, with hours of nothing between them)."""
    root = parse(await (await fetch(schedule_client, "?output=iptv&days=7")).read())
    for channel in load_channels(on_air.store):
        start, end = epg_window(channel, NOW, 7)
        events = on_air.store.events(channel.id, Output.IPTV, start=start, end=end)
        listed = programmes(root, channel.xmltv_id)
        times = [(instant(p.get("start")), instant(p.get("stop"))) for p in listed]
        assert all(a < b for a, b in times)
        assert all(stop == following for (_, stop), (following, _) in itertools.pairwise(times))
        assert times[0][0] <= max(start, events[0].start)
        assert times[-1][1] == events[-1].end.replace(microsecond=0)
        # programme starts stay exact (to the second XMLTV writes)
        zone = ZoneInfo(channel.timezone)
        starts = {p.get("start") for p in listed}
        assert {xmltv_time(e.start, zone) for e in events if e.kind is EventKind.PROGRAMME} <= starts


async def test_the_served_guide_passes_tv_validate_file(schedule_client: Client, tmp_path: Path) -> None:
    tool = shutil.which("tv_validate_file")
    require_system("tv_validate_file", tool is not None, "apt-get install xmltv-util")
    assert tool is not None
    path = tmp_path / "epg.xml"
    path.write_bytes(await (await fetch(schedule_client, "?output=iptv&days=3")).read())
    result = await asyncio.to_thread(
        subprocess.run,
        [tool, str(path)],
        env={**os.environ, "XMLTV_SUPPLEMENT": XMLTV_SUPPLEMENT},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Validated ok" in result.stdout
