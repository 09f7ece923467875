"""A realistic EPG against the real validators: lxml with the XMLTV DTD, tv_validate_file, xmllint.

Two channels (one in Asia/Shanghai, one in Europe/Berlin over the October daylight-saving change),
yesterday (catch-up) and today, with idents and filler between programmes, premieres, a series
launch, reruns, episode numbers, categories, descriptions and text that needs escaping.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from lxml import etree

from rcmedia.core.guide import guide_entries
from rcmedia.core.models import Output
from rcmedia.core.schedule import Channel, Event, EventKind
from rcmedia.core.xmltv import ProgrammeInfo, Translation, render_xmltv
from tests.conftest import RESOURCES, require_system

DTD_FILE = RESOURCES / "xmltv.dtd"
XMLTV_SUPPLEMENT = "/usr/share/xmltv"  # where Debian's xmltv-util keeps xmltv.dtd for tv_validate_file
MINUTE = 60_000_000

CHANNELS = (
    Channel(
        id="rcxf",
        xmltv_id="rcxf.rcmedia",
        name="融创学府",
        number=1,
        timezone="Asia/Shanghai",
        outputs=(Output.TV, Output.IPTV),
        logo="/static/logos/rcxf.png",
        group="教育",
    ),
    Channel(
        id="rcou",
        xmltv_id="rcou.rcmedia",
        name="融创海外 & 欧洲",
        number=2,
        timezone="Europe/Berlin",
        outputs=(Output.IPTV,),
        group="海外",
    ),
)


@dataclass(frozen=True)
class Series:
    name: str
    first_asset: int
    minutes: int
    info: ProgrammeInfo


SERIES = (
    Series(
        "党建视讯",
        100,
        30,
        ProgrammeInfo(description="本期聚焦基层党建工作。", categories=("党建", "时政"), first_run=False),
    ),
    Series(
        "新视野",
        200,
        45,
        ProgrammeInfo(
            description="科学前沿 <新> 发现 & 解读\n第二段。",
            categories=("科普",),
            translations=(Translation(lang="en", title="New Horizons", description="Science & discovery."),),
        ),
    ),
    Series("理论1+1", 300, 25, ProgrammeInfo(description="“理论”面对面。", categories=("理论", "讲座"))),
)
IDENT, FILLER = 1, 2


def broadcast_days(channel: Channel, first: date, days: int) -> list[Event]:
    """From 06:00 local on ``first``, ``days`` days without a gap: series in rotation, an ident
    after each programme, filler up to the next quarter hour. An episode's first airing is its
    premiere; later ones are reruns that say when it was first shown."""
    zone = ZoneInfo(channel.timezone)
    start = datetime.combine(first, time(6), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(first + timedelta(days=days), time(6), tzinfo=zone).astimezone(UTC)
    premiered: dict[int, datetime] = {}
    events: list[Event] = []
    at = start
    slot = 0
    while at < end:
        series = SERIES[slot % len(SERIES)]
        episode = slot // len(SERIES) % 4 + 1  # episodes 1..4 of each series, over and over
        asset = series.first_asset + episode
        shown = premiered.get(asset)
        duration = series.minutes * MINUTE + 40_000 * (slot % 3)  # whole frames, not whole seconds
        events.append(
            Event(
                start=at,
                duration_us=duration,
                asset_id=asset,
                first_segment=0,
                last_segment=duration // 6_000_000,
                kind=EventKind.PROGRAMME,
                title=f"{series.name} 第{episode}集",
                series=series.name,
                episode=episode,
                premiere=shown is None,
                previously_shown=shown,
            )
        )
        premiered.setdefault(asset, at)
        at = events[-1].end
        local = (at + timedelta(seconds=20)).astimezone(zone)
        to_quarter = (15 - local.minute % 15) * 60 - local.second  # filler up to the next quarter hour
        for kind, asset_id, seconds, title in (
            (EventKind.IDENT, IDENT, 20, "台标"),
            (EventKind.FILLER, FILLER, to_quarter, "宣传片"),
        ):
            events.append(
                Event(
                    start=at,
                    duration_us=seconds * 1_000_000,
                    asset_id=asset_id,
                    first_segment=0,
                    last_segment=0,
                    kind=kind,
                    title=title,
                )
            )
            at = events[-1].end
        slot += 1
    return events


@pytest.fixture(scope="module")
def epg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Yesterday (catch-up) and today, over Berlin's 2026-10-25 change from CEST to CET."""
    guides = {
        channel.id: guide_entries(channel, broadcast_days(channel, date(2026, 10, 24), 2))
        for channel in CHANNELS
    }
    extra = {series.first_asset + episode: series.info for series in SERIES for episode in range(1, 5)}
    path = tmp_path_factory.mktemp("epg") / "epg.xml"
    with path.open("w", encoding="utf-8") as file:
        for chunk in render_xmltv(
            CHANNELS,
            guides,
            extra=extra,
            generator="rcmedia/0.1",
            generator_url="https://tv.example.cn/",
            site_url="https://tv.example.cn",
        ):
            file.write(chunk)
    return path


def parse(path: Path) -> etree._ElementTree:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.parse(str(path), parser)


def instant(text: str) -> datetime:
    return datetime.strptime(text, "%Y%m%d%H%M%S %z")


def test_rendered_epg_has_what_a_guide_needs(epg: Path) -> None:
    root = parse(epg).getroot()
    assert [c.get("id") for c in root.iter("channel")] == ["rcou.rcmedia", "rcxf.rcmedia"]
    programmes = root.findall("programme")
    assert {p.get("channel") for p in programmes} == {"rcou.rcmedia", "rcxf.rcmedia"}
    titles = {p.findtext("title") for p in programmes}
    assert titles == {"党建视讯", "新视野", "理论1+1"}  # no ident, filler or slate
    assert any(p.find("premiere") is not None for p in programmes)
    assert any(p.find("previously-shown") is not None for p in programmes)
    # a series launch: the first airing of episode 1 of the own productions, once per channel;
    # 党建视讯 is acquired (aired elsewhere before): its first episode is a premiere, not new
    new = [(p.get("channel"), p.findtext("sub-title")) for p in programmes if p.find("new") is not None]
    assert sorted(new) == [
        ("rcou.rcmedia", "新视野 第1集"),
        ("rcou.rcmedia", "理论1+1 第1集"),
        ("rcxf.rcmedia", "新视野 第1集"),
        ("rcxf.rcmedia", "理论1+1 第1集"),
    ]
    for channel in ("rcou.rcmedia", "rcxf.rcmedia"):
        listed = [p for p in programmes if p.get("channel") == channel]
        times = [(instant(p.get("start", "")), instant(p.get("stop", ""))) for p in listed]
        assert all(start < stop for start, stop in times)
        # gapless: the idents and filler fold into the programme before them
        assert all(stop == next_start for (_, stop), (next_start, _) in itertools.pairwise(times))
    starts = {p.get("start", "")[-5:] for p in programmes if p.get("channel") == "rcou.rcmedia"}
    assert starts == {"+0200", "+0100"}  # both sides of the change
    assert {p.get("start", "")[-5:] for p in programmes if p.get("channel") == "rcxf.rcmedia"} == {"+0800"}
    assert {e.text for e in root.iter("episode-num") if e.get("system") == "xmltv_ns"} == {
        ".0.",
        ".1.",
        ".2.",
        ".3.",
    }


def test_valid_against_the_dtd_with_lxml(epg: Path) -> None:
    dtd = etree.DTD(str(DTD_FILE))
    document = parse(epg)
    assert dtd.validate(document), dtd.error_log.filter_from_errors()


def test_lxml_dtd_check_catches_a_wrong_element_order(epg: Path) -> None:
    """The check above is worth something: a title moved to the end of a programme is refused."""
    dtd = etree.DTD(str(DTD_FILE))
    document = parse(epg)
    programme = document.getroot().find("programme")
    assert programme is not None
    programme.append(programme[0])
    assert not dtd.validate(document)
    assert "programme" in str(dtd.error_log.filter_from_errors())


def test_tv_validate_file(epg: Path) -> None:
    tool = shutil.which("tv_validate_file")
    require_system("tv_validate_file", tool is not None, "apt-get install xmltv-util")
    assert tool is not None
    result = subprocess.run(
        [tool, str(epg)],
        env={**os.environ, "XMLTV_SUPPLEMENT": XMLTV_SUPPLEMENT},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Validated ok" in result.stdout


def test_xmllint_dtdvalid(epg: Path) -> None:
    tool = shutil.which("xmllint")
    require_system("xmllint", tool is not None, "apt-get install libxml2-utils")
    assert tool is not None
    result = subprocess.run(
        [tool, "--noout", "--nonet", "--dtdvalid", str(DTD_FILE), str(epg)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
