"""XMLTV rendering: structure, DTD element order, local times across DST, premiere/new/repeat, escaping."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from rcmedia.core.guide import GuideEntry, guide_entries
from rcmedia.core.models import Output
from rcmedia.core.schedule import Channel, Event, EventKind, GuideFiller
from rcmedia.core.xmltv import ProgrammeInfo, Translation, render_xmltv, xmltv_ns
from rcmedia.errors import ConfigError

DTD = Path(__file__).resolve().parents[2] / "resources" / "xmltv.dtd"
# the programme's content model, read from the DTD itself: every child element, in order
DTD_ORDER = re.findall(
    r"[a-z-]+",
    re.search(r"<!ELEMENT programme \(([^)]*)\)", DTD.read_text(encoding="utf-8")).group(1),  # type: ignore[union-attr]
)

MINUTE = 60_000_000


def channel(**changes: object) -> Channel:
    base = Channel(
        id="rcxf",
        xmltv_id="rcxf.rcmedia",
        name="融创学府",
        number=1,
        timezone="Asia/Shanghai",
        outputs=(Output.TV, Output.IPTV),
        logo="https://tv.example.cn/logos/rcxf.png",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def event(start: datetime, **changes: object) -> Event:
    base = Event(
        start=start,
        duration_us=30 * MINUTE,
        asset_id=7,
        first_segment=0,
        last_segment=299,
        kind=EventKind.PROGRAMME,
        title="党建视讯 第12集",
        series="党建视讯",
        episode=12,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


T0 = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai


def guides(channels: list[Channel], events: dict[str, list[Event]]) -> dict[str, list[GuideEntry]]:
    """Each channel's events as its guide (a key of no channel in ``channels`` kept, as a stray)."""
    by_id = {c.id: c for c in channels}
    return {key: guide_entries(by_id.get(key, channel()), found) for key, found in events.items()}


def render(
    channels: list[Channel], programmes: dict[str, list[Event]], **kwargs: object
) -> tuple[str, ET.Element]:
    text = "".join(render_xmltv(channels, guides(channels, programmes), **kwargs))  # type: ignore[arg-type]
    return text, parse(text)


def parse(text: str) -> ET.Element:
    return ET.fromstring(text.encode("utf-8"))  # noqa: S314 - our own output, not untrusted input


def only_programme(root: ET.Element) -> ET.Element:
    programmes = root.findall("programme")
    assert len(programmes) == 1
    return programmes[0]


def test_document_header_and_channel() -> None:
    text, root = render(
        [channel()], {"rcxf": [event(T0)]}, generator="rcmedia/0.1", site_url="https://tv.example.cn/"
    )
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE tv SYSTEM "xmltv.dtd">\n')
    assert root.tag == "tv"
    assert root.get("generator-info-name") == "rcmedia/0.1"
    (element,) = root.findall("channel")
    assert element.get("id") == "rcxf.rcmedia"
    assert [child.tag for child in element] == ["display-name", "icon", "url"]
    name = element.find("display-name")
    assert name is not None
    assert name.text == "融创学府"
    assert name.get("lang") == "zh"
    icon = element.find("icon")
    assert icon is not None
    assert icon.get("src") == "https://tv.example.cn/logos/rcxf.png"
    assert element.findtext("url") == "https://tv.example.cn/watch/rcxf"
    # every channel comes before every programme
    assert [child.tag for child in root] == ["channel", "programme"]


def test_channel_without_logo_or_site_has_only_its_name() -> None:
    _, root = render([channel(logo="")], {"rcxf": [event(T0)]})
    (element,) = root.findall("channel")
    assert [child.tag for child in element] == ["display-name"]


def test_channel_with_nothing_built_is_left_out() -> None:
    """Only a channel with no event in the window is left out: slate alone is an interlude (the
    guide used to list programmes only, and left a slate-only channel out)."""
    second = channel(id="rckj", xmltv_id="rckj.rcmedia", name="科教", number=2)
    _, root = render([channel(), second], {"rcxf": [event(T0)], "rckj": []})
    assert [c.get("id") for c in root.findall("channel")] == ["rcxf.rcmedia"]
    assert {p.get("channel") for p in root.findall("programme")} == {"rcxf.rcmedia"}
    _, empty = render([channel()], {})
    assert list(empty) == []


def test_slate_alone_is_one_interlude_with_the_channels_title() -> None:
    slate_only = [event(T0, kind=EventKind.SLATE, title="slate", series="slate", duration_us=7 * 60 * MINUTE)]
    _, root = render([channel(interlude_title="精彩 & 节目")], {"rcxf": slate_only})
    programme = only_programme(root)
    assert (programme.get("start"), programme.get("stop")) == ("20260302080000 +0800", "20260302150000 +0800")
    assert [child.tag for child in programme] == ["title"]
    assert programme.findtext("title") == "精彩 & 节目"
    assert programme.find("title").get("lang") == "zh"  # type: ignore[union-attr]


def test_relative_logo_becomes_absolute_with_site_url() -> None:
    _, root = render(
        [channel(logo="/static/logos/rcxf.png")], {"rcxf": [event(T0)]}, site_url="https://tv.example.cn"
    )
    icon = root.find("channel/icon")
    assert icon is not None
    assert icon.get("src") == "https://tv.example.cn/static/logos/rcxf.png"


def test_channels_sorted_by_id_and_programmes_grouped_per_channel() -> None:
    second = channel(id="rckj", xmltv_id="rckj.rcmedia", name="科教", number=2)
    _, root = render(
        [channel(), second],
        {"rcxf": [event(T0)], "rckj": [event(T0)], "unknown": [event(T0)]},
    )
    assert [c.get("id") for c in root.findall("channel")] == ["rckj.rcmedia", "rcxf.rcmedia"]
    assert [p.get("channel") for p in root.findall("programme")] == ["rckj.rcmedia", "rcxf.rcmedia"]


def test_full_programme_follows_dtd_order() -> None:
    info = ProgrammeInfo(
        description="本期聚焦基层党建工作。",
        categories=("党建", "时政"),
        translations=(Translation(lang="en", title="Party Building", description="Grassroots work."),),
    )
    rerun = event(T0, previously_shown=T0 - timedelta(days=2), premiere=True)
    _, root = render([channel()], {"rcxf": [rerun]}, extra={7: info})
    tags = [child.tag for child in only_programme(root)]
    assert tags == [
        "title",
        "title",
        "sub-title",
        "desc",
        "desc",
        "category",
        "category",
        "language",
        "episode-num",
        "episode-num",
        "previously-shown",
        "premiere",
    ]
    positions = [DTD_ORDER.index(tag) for tag in tags]
    assert positions == sorted(positions)


def test_first_episode_of_a_new_series_uses_every_flag_in_dtd_order() -> None:
    first = event(T0, title="新视野 第1集", series="新视野", episode=1, premiere=True)
    _, root = render([channel()], {"rcxf": [first]}, extra={7: ProgrammeInfo(categories=("科普",))})
    tags = [child.tag for child in only_programme(root)]
    assert tags[-2:] == ["premiere", "new"]
    positions = [DTD_ORDER.index(tag) for tag in tags]
    assert positions == sorted(positions)


def test_title_is_the_series_and_sub_title_the_episode() -> None:
    _, root = render([channel()], {"rcxf": [event(T0)]})
    programme = only_programme(root)
    title = programme.find("title")
    assert title is not None
    assert title.text == "党建视讯"
    assert title.get("lang") == "zh"
    assert programme.findtext("sub-title") == "党建视讯 第12集"


def test_one_off_has_its_own_title_and_no_sub_title() -> None:
    one_off = event(T0, title="开学第一课", series=None, episode=None)
    _, root = render([channel()], {"rcxf": [one_off]})
    programme = only_programme(root)
    assert programme.findtext("title") == "开学第一课"
    assert programme.find("sub-title") is None
    assert programme.find("episode-num") is None


def test_sub_title_left_out_when_equal_to_series() -> None:
    same = event(T0, title="党建视讯", series="党建视讯")
    _, root = render([channel()], {"rcxf": [same]})
    assert only_programme(root).find("sub-title") is None


def test_texts_in_the_assets_language() -> None:
    info = ProgrammeInfo(description="A lecture.", language="en", categories=("讲座",))
    _, root = render([channel()], {"rcxf": [event(T0)]}, extra={7: info})
    programme = only_programme(root)
    assert {e.get("lang") for e in programme.findall("title")} == {"en"}
    assert programme.find("desc") is not None
    assert programme.find("desc").get("lang") == "en"  # type: ignore[union-attr]
    assert programme.find("category").get("lang") == "zh"  # type: ignore[union-attr]
    assert programme.findtext("language") == "en"


def test_translations_add_titles_and_descriptions() -> None:
    info = ProgrammeInfo(
        description="中文简介",
        translations=(
            Translation(lang="en", title="Party News", sub_title="Episode 12", description="English text"),
        ),
    )
    _, root = render([channel()], {"rcxf": [event(T0)]}, extra={7: info})
    programme = only_programme(root)
    assert [(e.get("lang"), e.text) for e in programme.findall("title")] == [
        ("zh", "党建视讯"),
        ("en", "Party News"),
    ]
    assert [(e.get("lang"), e.text) for e in programme.findall("sub-title")] == [
        ("zh", "党建视讯 第12集"),
        ("en", "Episode 12"),
    ]
    assert [(e.get("lang"), e.text) for e in programme.findall("desc")] == [
        ("zh", "中文简介"),
        ("en", "English text"),
    ]


def test_empty_description_and_categories_are_left_out() -> None:
    info = ProgrammeInfo(description="  \n ", categories=("", " "))
    _, root = render([channel()], {"rcxf": [event(T0)]}, extra={7: info})
    programme = only_programme(root)
    assert programme.find("desc") is None
    assert programme.find("category") is None


def test_times_in_the_channels_zone() -> None:
    text, root = render([channel()], {"rcxf": [event(T0)]})
    programme = only_programme(root)
    assert programme.get("start") == "20260302080000 +0800"
    assert programme.get("stop") == "20260302083000 +0800"
    assert programme.get("channel") == "rcxf.rcmedia"
    assert 'start="20260302080000 +0800" stop="20260302083000 +0800"' in text


def test_offsets_change_across_the_october_dst_change() -> None:
    berlin = channel(id="rcde", xmltv_id="rcde.rcmedia", timezone="Europe/Berlin")
    # 2026-10-25 03:00 CEST → 02:00 CET: 02:30 local happens twice
    first = event(datetime(2026, 10, 25, 0, 30, tzinfo=UTC), duration_us=60 * MINUTE)
    second = event(datetime(2026, 10, 25, 1, 30, tzinfo=UTC), duration_us=60 * MINUTE)
    _, root = render([berlin], {"rcde": [first, second]})
    assert [(p.get("start"), p.get("stop")) for p in root.findall("programme")] == [
        ("20261025023000 +0200", "20261025023000 +0100"),
        ("20261025023000 +0100", "20261025033000 +0100"),
    ]


def test_offsets_change_across_the_march_dst_change() -> None:
    berlin = channel(id="rcde", xmltv_id="rcde.rcmedia", timezone="Europe/Berlin")
    # 2026-03-29 02:00 CET → 03:00 CEST
    spanning = event(datetime(2026, 3, 29, 0, 30, tzinfo=UTC), duration_us=60 * MINUTE)
    _, root = render([berlin], {"rcde": [spanning]})
    programme = only_programme(root)
    assert (programme.get("start"), programme.get("stop")) == ("20260329013000 +0100", "20260329033000 +0200")


def test_sub_second_times_are_truncated_so_stop_meets_next_start() -> None:
    start = T0 + timedelta(microseconds=40_000)
    first = event(start, duration_us=30 * MINUTE + 960_000)  # ends at 08:30:01.000
    second = event(first.end, duration_us=MINUTE - 20_000, asset_id=8)
    _, root = render([channel()], {"rcxf": [first, second]})
    programmes = root.findall("programme")
    assert programmes[0].get("start") == "20260302080000 +0800"
    assert programmes[0].get("stop") == programmes[1].get("start") == "20260302083001 +0800"
    assert programmes[1].get("stop") == "20260302083100 +0800"


def test_idents_filler_and_slate_fold_into_the_programme_before_them() -> None:
    """Gapless: the first programme's entry stops where the next one starts (it used to stop at
    its own end, leaving the hour of ident, filler and slate unlisted)."""
    events = [
        event(T0),
        event(T0 + timedelta(minutes=30), kind=EventKind.IDENT, title="台标", series=None),
        event(T0 + timedelta(minutes=60), kind=EventKind.FILLER, title="宣传片", series=None),
        event(T0 + timedelta(minutes=90), kind=EventKind.SLATE, title="slate", series="slate"),
        event(T0 + timedelta(minutes=120), asset_id=9, title="理论1+1 第3集", series="理论1+1", episode=3),
    ]
    _, root = render([channel()], {"rcxf": events})
    programmes = root.findall("programme")
    assert [p.findtext("title") for p in programmes] == ["党建视讯", "理论1+1"]
    assert [(p.get("start"), p.get("stop")) for p in programmes] == [
        ("20260302080000 +0800", "20260302100000 +0800"),
        ("20260302100000 +0800", "20260302103000 +0800"),
    ]


def test_list_mode_gives_filler_entries_of_its_own() -> None:
    events = [
        event(T0, kind=EventKind.FILLER, title="宣传片", series=None, duration_us=10 * MINUTE),
        event(T0 + timedelta(minutes=10)),
        event(
            T0 + timedelta(minutes=40), kind=EventKind.IDENT, title="台标", series=None, duration_us=MINUTE
        ),
        event(
            T0 + timedelta(minutes=41), kind=EventKind.FILLER, title="宣传片", series=None, duration_us=MINUTE
        ),
    ]
    _, root = render([channel(guide_filler=GuideFiller.LIST)], {"rcxf": events})
    assert [
        (p.findtext("title"), p.get("start")[8:12], p.get("stop")[8:12]) for p in root.findall("programme")
    ] == [  # type: ignore[index]
        ("精彩节目", "0800", "0810"),
        ("党建视讯", "0810", "0840"),
        ("精彩节目", "0840", "0842"),
    ]


def test_an_entry_shorter_than_a_second_is_left_out_without_a_gap() -> None:
    first = event(T0, duration_us=30 * MINUTE + 200_000)  # to 08:30:00.2
    ident = event(first.end, kind=EventKind.IDENT, title="台标", series=None, duration_us=400_000)
    second = event(ident.end, asset_id=8, title="理论1+1 第3集", series="理论1+1", episode=3)
    _, root = render([channel(guide_filler=GuideFiller.LIST)], {"rcxf": [first, ident, second]})
    programmes = root.findall("programme")
    assert [p.findtext("title") for p in programmes] == ["党建视讯", "理论1+1"]
    assert programmes[0].get("stop") == programmes[1].get("start") == "20260302083000 +0800"


def test_programmes_sorted_by_start() -> None:
    late = event(T0 + timedelta(minutes=30), asset_id=2)
    early = event(T0, asset_id=1)
    _, root = render([channel()], {"rcxf": [late, early]})
    assert [p.get("start") for p in root.findall("programme")] == [
        "20260302080000 +0800",
        "20260302083000 +0800",
    ]


@pytest.mark.parametrize(
    ("episode", "numbers"),
    [
        pytest.param(12, [("xmltv_ns", ".11."), ("onscreen", "第12集")], id="twelfth"),
        pytest.param(1, [("xmltv_ns", ".0."), ("onscreen", "第1集")], id="first-is-zero"),
        pytest.param(0, [("onscreen", "第0集")], id="episode-zero-has-no-xmltv-ns"),
        pytest.param(None, [], id="none"),
    ],
)
def test_episode_numbers(episode: int | None, numbers: list[tuple[str, str]]) -> None:
    _, root = render([channel()], {"rcxf": [event(T0, episode=episode)]})
    elements = only_programme(root).findall("episode-num")
    assert [(e.get("system"), e.text) for e in elements] == numbers


def test_dtd_order_is_read_from_the_dtd() -> None:
    assert DTD_ORDER[:3] == ["title", "sub-title", "desc"]
    assert DTD_ORDER.index("previously-shown") < DTD_ORDER.index("premiere") < DTD_ORDER.index("new")
    assert len(DTD_ORDER) == 25


def test_negative_and_half_hour_offsets() -> None:
    newfoundland = channel(id="rcnl", xmltv_id="rcnl.rcmedia", timezone="America/St_Johns")
    _, root = render([newfoundland], {"rcnl": [event(T0)]})
    programme = only_programme(root)
    assert (programme.get("start"), programme.get("stop")) == ("20260301203000 -0330", "20260301210000 -0330")


def test_unknown_time_zone_is_refused() -> None:
    with pytest.raises(ConfigError, match="not an IANA zone"):
        render_xmltv([channel(timezone="Mars/Olympus")], {})


def test_xmltv_ns_is_zero_based_with_empty_season_and_part() -> None:
    assert xmltv_ns(1) == ".0."
    assert xmltv_ns(40) == ".39."
    assert xmltv_ns(0) is None


def flags(root: ET.Element) -> list[str]:
    return [
        child.tag
        for child in only_programme(root)
        if child.tag in {"previously-shown", "premiere", "last-chance", "new"}
    ]


@pytest.mark.parametrize(
    ("changes", "info", "expected"),
    [
        pytest.param(
            {"episode": 1, "premiere": True}, ProgrammeInfo(), ["premiere", "new"], id="new-series-launch"
        ),
        pytest.param({"episode": 2, "premiere": True}, ProgrammeInfo(), ["premiere"], id="new-episode"),
        pytest.param(
            {"episode": 1, "premiere": True},
            ProgrammeInfo(first_run=False),
            ["premiere"],
            id="acquired-series-aired-elsewhere",
        ),
        pytest.param(
            {"episode": None, "series": None, "premiere": True}, ProgrammeInfo(), ["premiere"], id="one-off"
        ),
        pytest.param({"episode": 0, "premiere": True}, ProgrammeInfo(), ["premiere"], id="special"),
        pytest.param(
            {"episode": 1, "previously_shown": datetime(2026, 2, 27, 12, tzinfo=UTC)},
            ProgrammeInfo(),
            ["previously-shown"],
            id="rerun",
        ),
        pytest.param(
            {"episode": 1, "premiere": True, "previously_shown": datetime(2025, 2, 27, 12, tzinfo=UTC)},
            ProgrammeInfo(),
            ["previously-shown", "premiere"],
            id="new-run-of-an-old-show",
        ),
        pytest.param({"episode": 5}, ProgrammeInfo(), [], id="unknown-history"),
    ],
)
def test_premiere_new_and_previously_shown(
    changes: dict[str, object], info: ProgrammeInfo, expected: list[str]
) -> None:
    _, root = render([channel()], {"rcxf": [event(T0, **changes)]}, extra={7: info})
    assert flags(root) == expected


def test_previously_shown_start_in_the_channels_zone() -> None:
    rerun = event(T0, previously_shown=datetime(2026, 2, 27, 12, 0, 0, 400_000, tzinfo=UTC))
    _, root = render([channel()], {"rcxf": [rerun]})
    shown = only_programme(root).find("previously-shown")
    assert shown is not None
    assert shown.attrib == {"start": "20260227200000 +0800"}


def test_special_characters_are_escaped() -> None:
    nasty = "A&B <c> \"d\" 'e' 学习强国「一」"
    named = channel(name=nasty, logo='https://x.example/a.png?b=1&c="2"')
    info = ProgrammeInfo(description=nasty, categories=(nasty,))
    text, root = render(
        [named], {"rcxf": [event(T0, title=nasty, series=nasty + "系列")]}, extra={7: info}, generator=nasty
    )
    assert "A&B" not in text
    assert "<c>" not in text
    assert root.get("generator-info-name") == nasty
    assert root.findtext("channel/display-name") == nasty
    icon = root.find("channel/icon")
    assert icon is not None
    assert icon.get("src") == 'https://x.example/a.png?b=1&c="2"'
    programme = only_programme(root)
    assert programme.findtext("title") == nasty + "系列"
    assert programme.findtext("sub-title") == nasty
    assert programme.findtext("desc") == nasty
    assert programme.findtext("category") == nasty


def test_invalid_xml_characters_and_line_breaks_are_removed() -> None:
    info = ProgrammeInfo(description="第一行\r\n第二行\x00\x1b", categories=("a\nb",))
    bad = event(T0, title="标题\x07\x0b\ufffe\n第二行", series=None)
    text, root = render([channel(name="频\x01道")], {"rcxf": [bad]}, extra={7: info})
    for char in "\x00\x01\x07\x0b\x1b\ufffe\r":
        assert char not in text
    assert root.findtext("channel/display-name") == "频道"
    programme = only_programme(root)
    assert programme.findtext("title") == "标题 第二行"
    assert programme.findtext("desc") == "第一行\n第二行"  # desc may hold line breaks (DTD)
    assert programme.findtext("category") == "a b"


def test_empty_title_falls_back_to_the_asset() -> None:
    _, root = render([channel()], {"rcxf": [event(T0, title=" ", series=None)]})
    assert only_programme(root).findtext("title") == "#7"


@pytest.mark.parametrize(
    "xmltv_id",
    ["rcxf", "rcxf.", ".rcmedia", "rc xf.rcmedia", "融创.rcmedia", "rcxf.rcmedia/1", "rcxf_1.rcmedia"],
)
def test_invalid_channel_id_is_refused_before_any_output(xmltv_id: str) -> None:
    with pytest.raises(ConfigError, match="not a valid XMLTV id"):
        render_xmltv([channel(xmltv_id=xmltv_id)], {})


def test_duplicate_channel_id_is_refused() -> None:
    with pytest.raises(ConfigError, match="used twice"):
        render_xmltv([channel(), channel(id="other")], {})


def test_streams_in_chunks() -> None:
    events = [event(T0 + timedelta(minutes=30 * i), asset_id=i) for i in range(600)]
    chunks = list(render_xmltv([channel()], guides([channel()], {"rcxf": events})))
    assert len(chunks) > 3
    assert all(isinstance(chunk, str) and chunk for chunk in chunks)
    assert chunks[-1] == "</tv>\n"
    root = parse("".join(chunks))
    assert len(root.findall("programme")) == 600


def test_a_week_of_a_hundred_channels_renders_whole() -> None:
    """The size `/epg.xml` serves (7 days × 100 channels × 40 a day); timing is left to the bench."""
    channels = [
        channel(
            id=f"c{n}",
            xmltv_id=f"c{n}.rcmedia",
            number=n,
            timezone="Europe/Berlin" if n % 2 else "Asia/Shanghai",
        )
        for n in range(100)
    ]
    day = [event(T0 + timedelta(minutes=36 * i), asset_id=i, duration_us=36 * MINUTE) for i in range(40 * 7)]
    text = "".join(render_xmltv(channels, guides(channels, {c.id: day for c in channels})))
    assert text.count("<programme ") == 100 * 40 * 7
