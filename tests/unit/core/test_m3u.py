"""The IPTV channel list: Kodi IPTV Simple / TiviMate attributes, order, absolute URLs, safe values."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from rcmedia.core.guide import guide_entries
from rcmedia.core.m3u import clean, render_channel_list
from rcmedia.core.models import Output
from rcmedia.core.schedule import Channel, Event, EventKind
from rcmedia.core.xmltv import render_xmltv
from rcmedia.errors import ConfigError

BASE = "https://tv.example.cn"
EPG = "https://tv.example.cn/epg.xml?output=iptv&days=7"
ATTRIBUTE = re.compile(r'([a-z-]+)="([^"]*)"')


def channel(**changes: object) -> Channel:
    base = Channel(
        id="rcxf",
        xmltv_id="rcxf.rcmedia",
        name="融创学府",
        number=1,
        timezone="Asia/Shanghai",
        outputs=(Output.TV, Output.IPTV),
        logo="https://tv.example.cn/logos/rcxf.png",
        group="教育",
        catchup_days=7,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def render(channels: list[Channel], output: Output = Output.IPTV, base_url: str = BASE) -> list[str]:
    text = render_channel_list(channels, output=output, base_url=base_url, epg_url=EPG)
    assert text.endswith("\n")
    return text.splitlines()


def entry(line: str) -> tuple[dict[str, str], str]:
    """An ``#EXTINF`` line as its attributes and the display name, the way the players split it."""
    assert line.startswith("#EXTINF:-1 ")
    head, name = line.rsplit(",", 1)
    attributes = dict(ATTRIBUTE.findall(head))
    # nothing but well-formed key="value" pairs between the duration and the name
    assert ATTRIBUTE.sub("", head.removeprefix("#EXTINF:-1 ")).strip() == ""
    return attributes, name


def test_whole_list_for_one_channel() -> None:
    assert render([channel()]) == [
        f'#EXTM3U x-tvg-url="{EPG}" url-tvg="{EPG}"',
        '#EXTINF:-1 tvg-id="rcxf.rcmedia" tvg-name="融创学府" tvg-chno="1"'
        ' tvg-logo="https://tv.example.cn/logos/rcxf.png" group-title="教育" catchup="default"'
        ' catchup-days="7"'
        ' catchup-source="https://tv.example.cn/catchup/rcxf/iptv/master.m3u8?utc={utc}&duration={duration}"'
        ",融创学府",
        "https://tv.example.cn/live/rcxf/iptv/master.m3u8",
    ]


def test_only_channels_on_the_output_sorted_by_number() -> None:
    channels = [
        channel(id="c3", xmltv_id="c3.rcmedia", name="三台", number=3),
        channel(id="c1", xmltv_id="c1.rcmedia", name="一台", number=1),
        channel(id="tv-only", xmltv_id="tvonly.rcmedia", name="电视", number=2, outputs=(Output.TV,)),
        channel(id="c10", xmltv_id="c10.rcmedia", name="十台", number=10),
    ]
    lines = render(channels)
    names = [entry(line)[1] for line in lines if line.startswith("#EXTINF")]
    assert names == ["一台", "三台", "十台"]
    assert [line for line in lines if not line.startswith("#")] == [
        f"{BASE}/live/c1/iptv/master.m3u8",
        f"{BASE}/live/c3/iptv/master.m3u8",
        f"{BASE}/live/c10/iptv/master.m3u8",
    ]
    mobile = render(channels, Output.MOBILE)
    assert mobile == [f'#EXTM3U x-tvg-url="{EPG}" url-tvg="{EPG}"']


def test_urls_follow_the_output() -> None:
    lines = render([channel()], Output.TV)
    attributes, _ = entry(lines[1])
    assert (
        attributes["catchup-source"]
        == f"{BASE}/catchup/rcxf/tv/master.m3u8?utc={{utc}}&duration={{duration}}"
    )
    assert lines[2] == f"{BASE}/live/rcxf/tv/master.m3u8"


def test_an_output_may_point_at_the_continuous_playlists() -> None:
    lines = render([channel(continuous_outputs=frozenset({Output.IPTV}))], Output.IPTV)
    attributes, _ = entry(lines[1])
    assert attributes["catchup-source"] == (
        f"{BASE}/catchup/rcxf/iptv/continuous/master.m3u8?utc={{utc}}&duration={{duration}}"
    )
    assert lines[2] == f"{BASE}/live/rcxf/iptv/continuous/master.m3u8"
    tv = render([channel(continuous_outputs=frozenset({Output.IPTV}))], Output.TV)
    assert tv[2] == f"{BASE}/live/rcxf/tv/master.m3u8"  # the other output keeps the default


def test_trailing_slash_of_base_url_is_dropped() -> None:
    lines = render([channel()], base_url=BASE + "/")
    assert lines[2] == f"{BASE}/live/rcxf/iptv/master.m3u8"


def test_relative_logo_becomes_absolute() -> None:
    attributes, _ = entry(render([channel(logo="/static/logos/rcxf.png")])[1])
    assert attributes["tvg-logo"] == f"{BASE}/static/logos/rcxf.png"


def test_no_catchup_attributes_without_catchup_days() -> None:
    attributes, _ = entry(render([channel(catchup_days=0)])[1])
    assert "catchup" not in attributes
    assert "catchup-days" not in attributes
    assert "catchup-source" not in attributes


def test_catchup_days_per_channel() -> None:
    attributes, _ = entry(render([channel(catchup_days=3)])[1])
    assert attributes["catchup"] == "default"
    assert attributes["catchup-days"] == "3"


def test_quotes_commas_and_line_breaks_are_made_safe() -> None:
    nasty = channel(
        name='学习,"强国"\n频道',
        group='教育, "公开课"',
        logo='https://x.example/logo.png?a=1,2&b="3"',
    )
    lines = render([nasty])
    assert len(lines) == 3
    attributes, name = entry(lines[1])
    assert name == "学习，＂强国＂ 频道"
    assert attributes["tvg-name"] == name
    assert attributes["group-title"] == "教育， ＂公开课＂"
    assert attributes["tvg-logo"] == "https://x.example/logo.png?a=1，2&b=＂3＂"
    for value in attributes.values():
        assert '"' not in value
        assert "," not in value
    # the only comma on the line is the one before the name
    assert lines[1].count(",") == 1


def test_clean() -> None:
    assert clean('a,b"c\r\nd\te') == "a，b＂c d e"
    assert clean("  融创 学府  ") == "融创 学府"


def test_empty_name_falls_back_to_the_id() -> None:
    attributes, name = entry(render([channel(name=" ")])[1])
    assert name == attributes["tvg-name"] == "rcxf.rcmedia"


@pytest.mark.parametrize(
    ("base_url", "epg_url"),
    [
        pytest.param("tv.example.cn", EPG, id="base-without-scheme"),
        pytest.param("/", EPG, id="base-path"),
        pytest.param(BASE, "/epg.xml", id="relative-epg"),
    ],
)
def test_urls_must_be_absolute(base_url: str, epg_url: str) -> None:
    with pytest.raises(ConfigError, match="absolute"):
        render_channel_list([channel()], output=Output.IPTV, base_url=base_url, epg_url=epg_url)


def programme(on: Channel) -> Event:
    return Event(
        start=datetime(2026, 3, 2, tzinfo=UTC),
        duration_us=1_800_000_000,
        asset_id=1,
        first_segment=0,
        last_segment=299,
        kind=EventKind.PROGRAMME,
        title=f"{on.name}新闻",
    )


def test_tvg_id_is_the_xmltv_channel_id() -> None:
    channels = [channel(), channel(id="rckj", xmltv_id="rckj-2.rcmedia.cn", name="科教", number=2)]
    lines = render(channels)
    tvg_ids = {entry(line)[0]["tvg-id"] for line in lines if line.startswith("#EXTINF")}
    epg = "".join(render_xmltv(channels, {c.id: guide_entries(c, [programme(c)]) for c in channels}))
    xmltv_ids = set(re.findall(r'<channel id="([^"]+)">', epg))
    assert tvg_ids == xmltv_ids == {"rcxf.rcmedia", "rckj-2.rcmedia.cn"}
