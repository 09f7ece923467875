"""The viewer pages as HTML: /watch, /watch/{channel}, /watch/vod/{asset}, their 404s and /static.

Expectations are worked out from the stored EPG with plain filters (not the pages' own code), and
read back from the HTML with lxml. Playback itself is tested in a browser (tests/acceptance).
"""

from __future__ import annotations

import itertools
import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import lxml.html
import pytest

from rcmedia.core.models import Output
from rcmedia.core.schedule import Event, EventKind
from rcmedia.service.channels import apply_channel_files
from rcmedia.web import static_files
from tests.integration.web.published import Client, PublishAsset, create_pending
from tests.integration.web.schedules import NOW, TODAY, TOMORROW, YESTERDAY, FixedClock, OnAir

HTML = "text/html; charset=utf-8"
# 12:05 in Shanghai (红色记忆 on rcxf since 12:00) and 05:05 in Berlin (filler on rcjy before 08:00,
# after last night's 20:00 programme)
DURING_A_PROGRAMME = datetime(2026, 3, 2, 4, 5, tzinfo=UTC)


async def get_page(client: Client, path: str, status: int = 200) -> Any:
    response = await client.get(path)
    text = await response.text()
    assert response.status == status, text
    assert response.headers["Content-Type"] == HTML
    return lxml.html.fromstring(text)


def text_of(element: Any) -> str:
    return " ".join(element.text_content().split())


def programmes(on_air: OnAir, channel: str, start: datetime, end: datetime) -> list[Event]:
    events = on_air.store.events(channel, Output.IPTV, start=start, end=end)
    return [e for e in events if e.kind is EventKind.PROGRAMME]


def local(moment: datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%H:%M")


def player_config(page: Any) -> dict[str, Any]:
    (script,) = page.xpath('//script[@id="player-config"]')
    config: dict[str, Any] = json.loads(script.text)
    return config


# --- /watch --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "moment", [pytest.param(NOW, id="between-programmes"), pytest.param(DURING_A_PROGRAMME, id="during-one")]
)
async def test_watch_lists_every_channel_with_now_and_next(
    schedule_client: Client, on_air: OnAir, clock: FixedClock, moment: datetime
) -> None:
    clock.current = moment

    page = await get_page(schedule_client, "/watch")

    assert page.xpath("/html/@lang") == ["zh"]
    items = page.xpath('//li[@class="channel"]')
    assert [item.get("data-channel") for item in items] == ["rcxf", "rcjy"]
    for item, (name, number, zone) in zip(
        items, [("蓉城先锋", "1", "Asia/Shanghai"), ("蓉城教育", "2", "Europe/Berlin")], strict=True
    ):
        channel = item.get("data-channel")
        assert text_of(item.xpath('.//*[@class="name"]')[0]) == name
        assert text_of(item.xpath('.//*[@class="number"]')[0]) == number
        assert f"/watch/{channel}" in item.xpath(".//a/@href")
        # the guide is gapless: between programmes, the one before is on now (the filler after it
        # folds into it); the pages used to show "—" there
        listed = programmes(on_air, channel, moment - timedelta(days=1), moment + timedelta(days=1))
        started = [e for e in listed if e.start <= moment]
        upcoming = [e for e in listed if e.start > moment]
        assert text_of(item.xpath('.//dd[@class="now"]')[0]) == (
            f"{local(started[-1].start, zone)} {started[-1].title}"
        )
        assert text_of(item.xpath('.//dd[@class="next"]')[0]) == (
            f"{local(upcoming[0].start, zone)} {upcoming[0].title}"
        )
    if moment == DURING_A_PROGRAMME:
        assert text_of(items[0].xpath('.//dd[@class="now"]')[0]) == "12:00 红色记忆 第1集"
    # the channel list's logo is a path on this origin: shown
    assert items[0].xpath('.//img[@class="logo"]/@src') == ["/static/logos/rcxf.png"]


async def test_watch_without_channels_says_so(client: Client) -> None:
    page = await get_page(client, "/watch")

    assert page.xpath('//li[@class="channel"]') == []
    assert "no channels yet" in text_of(page)


# --- /watch/{channel} ----------------------------------------------------------------------------


async def test_channel_page_plays_live_and_lists_today_with_replays_of_what_ended(
    schedule_client: Client, on_air: OnAir, clock: FixedClock
) -> None:
    clock.current = DURING_A_PROGRAMME

    page = await get_page(schedule_client, "/watch/rcxf")

    config = player_config(page)
    assert config["source"] == "/live/rcxf/iptv/continuous/master.m3u8"
    assert config["live"] == "/live/rcxf/iptv/continuous/master.m3u8"
    assert config["serverNow"] == DURING_A_PROGRAMME.timestamp()
    assert page.xpath('//video[@id="player"]/@muted') == [""]  # present: muted autoplay
    day_start = datetime(2026, 3, 1, 22, 0, tzinfo=UTC)  # 06:00 in Shanghai on 2 March
    expected = programmes(on_air, "rcxf", day_start, day_start + timedelta(days=1))
    rows = page.xpath('//ol[@class="programmes"]/li')
    # the day starts with a programme: no entry from the day before reaches into it
    assert len(rows) == len(expected) > 5
    replays = 0
    stops = [e.start for e in expected[1:]] + [day_start + timedelta(days=1)]
    for row, event, stop in zip(rows, expected, stops, strict=True):
        assert (float(row.get("data-start")), float(row.get("data-end"))) == (
            event.start.timestamp(),
            stop.timestamp(),
        )  # gapless: each programme's line runs to the next programme
        assert text_of(row.xpath("./time")[0]) == local(event.start, "Asia/Shanghai")
        assert text_of(row.xpath('./*[@class="title"]')[0]) == event.title
        links = row.xpath('./a[@class="replay"]')
        ended = event.end <= DURING_A_PROGRAMME
        assert bool(links) == ended, event
        if ended:
            replays += 1
            utc = math.floor(event.start.timestamp())
            duration = math.ceil(event.end.timestamp()) - utc
            assert links[0].get("href") == f"/watch/rcxf?utc={utc}&duration={duration}"
            assert (
                links[0].get("data-src")
                == f"/catchup/rcxf/iptv/continuous/master.m3u8?utc={utc}&duration={duration}"
            )
        on_now = event.start <= DURING_A_PROGRAMME < stop
        assert ("on-now" in row.get("class").split()) == on_now
        assert (row.get("aria-current") == "true") == on_now
    assert replays == 2  # 06:00 学习时间 and 09:00 红色记忆 (10:00 is filler on iptv)
    assert len(page.xpath('//li[contains(@class, "on-now")]')) == 1
    assert text_of(page.xpath('//dd[@id="now"]')[0]) == "12:00 红色记忆 第1集"
    assert "2026年3月2日 星期一" in text_of(page.xpath('//section[@id="guide"]/h2')[0])
    assert "Asia/Shanghai" in text_of(page.xpath('//*[@id="guide"]//*[@class="zone-note"]')[0])


async def test_a_channel_without_catch_up_has_no_replay_links(schedule_client: Client) -> None:
    page = await get_page(schedule_client, f"/watch/rcjy?date={YESTERDAY}")

    assert page.xpath('//ol[@class="programmes"]/li')
    assert page.xpath('//a[@class="replay"]') == []
    page = await get_page(schedule_client, "/watch/rcjy?utc=1772400000&duration=600", status=404)
    assert "keeps no replays" in text_of(page)


async def test_the_days_guide_has_no_gap_and_an_interlude_where_no_programme_is_before(
    schedule_client: Client,
) -> None:
    """rcjy's first built day starts at 05:00 with filler, its first programme is at 08:00."""
    page = await get_page(schedule_client, f"/watch/rcjy?date={YESTERDAY}")

    rows = page.xpath('//ol[@class="programmes"]/li')
    spans = [(float(row.get("data-start")), float(row.get("data-end"))) for row in rows]
    assert all(stop == start for (_, stop), (start, _) in itertools.pairwise(spans))
    assert spans[0][0] == datetime(2026, 3, 1, 4, 0, tzinfo=UTC).timestamp()  # 05:00 in Berlin
    first = rows[0]
    assert "interlude" in first.get("class").split()
    assert text_of(first) == "05:00 精彩节目"
    assert text_of(rows[1].xpath("./time")[0]) == "08:00"
    assert all("interlude" not in row.get("class").split() for row in rows[1:])


async def test_other_days_replays_within_the_catch_up_days_only(
    schedule_client: Client, on_air: OnAir, clock: FixedClock
) -> None:
    yesterday = await get_page(schedule_client, f"/watch/rcxf?date={YESTERDAY}")
    rows = yesterday.xpath('//ol[@class="programmes"]/li')
    assert rows
    assert len(yesterday.xpath('//a[@class="replay"]')) == len(rows)
    assert yesterday.xpath('//a[@rel="next"]/@href') == [f"/watch/rcxf?date={TODAY}"]
    assert yesterday.xpath('//a[@rel="prev"]') == []  # 28 February was never built

    tomorrow = await get_page(schedule_client, f"/watch/rcxf?date={TOMORROW}")
    assert tomorrow.xpath('//ol[@class="programmes"]/li')
    assert tomorrow.xpath('//a[@class="replay"]') == []
    assert tomorrow.xpath('//li[contains(@class, "on-now")]') == []

    # eight days on, 1 March is past the seven catch-up days: listed, not replayable
    clock.current = NOW + timedelta(days=8)
    old = await get_page(schedule_client, f"/watch/rcxf?date={YESTERDAY}")
    assert old.xpath('//ol[@class="programmes"]/li')
    assert old.xpath('//a[@class="replay"]') == []

    unbuilt = await get_page(schedule_client, "/watch/rcxf?date=2026-04-01")
    assert "not scheduled yet" in text_of(unbuilt)


async def test_a_replay_link_opens_the_page_on_the_catch_up_playlist(
    schedule_client: Client, clock: FixedClock
) -> None:
    clock.current = DURING_A_PROGRAMME
    live = await get_page(schedule_client, "/watch/rcxf")
    link = live.xpath('//a[@class="replay"]')[0]
    title = text_of(link.getparent().xpath('./*[@class="title"]')[0])

    page = await get_page(schedule_client, link.get("href"))

    assert player_config(page)["source"] == link.get("data-src")
    assert title in text_of(page.xpath('//*[@id="playing-label"]')[0])
    assert page.xpath('//a[@id="back-to-live"]/@hidden') == []
    assert page.xpath('//a[@id="back-to-live"]/@data-src') == ["/live/rcxf/iptv/continuous/master.m3u8"]


async def test_a_replay_of_an_earlier_day_shows_that_days_guide(
    schedule_client: Client, on_air: OnAir
) -> None:
    first = programmes(on_air, "rcxf", NOW - timedelta(days=1), NOW)[0]
    utc = math.floor(first.start.timestamp())
    duration = math.ceil(first.end.timestamp()) - utc

    page = await get_page(schedule_client, f"/watch/rcxf?utc={utc}&duration={duration}")

    assert "2026年3月1日 星期日" in text_of(page.xpath('//section[@id="guide"]/h2')[0])
    assert first.title in text_of(page.xpath('//*[@id="playing-label"]')[0])


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("utc=1772400000", id="utc-without-duration"),
        pytest.param("duration=600", id="duration-without-utc"),
        pytest.param("utc=-5&duration=600", id="negative-utc"),
        pytest.param("utc=1772400000&duration=0", id="zero-duration"),
        pytest.param("utc=1772400000&duration=999999", id="longer-than-a-day"),
        pytest.param("date=2026-02-30", id="bad-date"),
    ],
)
async def test_bad_query_parameters_are_refused(client: Client, query: str) -> None:
    # checked before the channel is looked up: a 400 whether or not it exists
    response = await client.get(f"/watch/rcxf?{query}")
    assert response.status == 400, await response.text()


# --- /watch/vod/{asset} ----------------------------------------------------------------------------


async def test_vod_page_plays_the_assets_master_and_escapes_its_texts(
    client: Client, publish_asset: PublishAsset, catalog: Any
) -> None:
    asset = publish_asset(title="<script>alert('标题')</script>", series="学习 & 时间", episode=3)

    response = await client.get(f"/watch/vod/{asset.asset_id}")
    text = await response.text()

    assert response.status == 200
    assert "<script>alert(" not in text
    assert "&lt;script&gt;alert(" in text
    page = lxml.html.fromstring(text)
    assert text_of(page.xpath('//h1[@class="vod-title"]')[0]) == "<script>alert('标题')</script>"
    assert text_of(page.xpath("//title")[0]) == "<script>alert('标题')</script> · rcmedia"
    assert text_of(page.xpath('//p[@class="series"]')[0]) == "学习 & 时间 · 第3集"
    assert player_config(page) == {"source": f"/vod/{asset.asset_id}/master.m3u8?output=iptv"}
    assert "0:06" in text_of(page.xpath('//p[@class="duration"]')[0])  # 2 + 2 + 1.52 s
    # only our own scripts: the config is data, not code
    assert all(src.startswith("/static/") for src in page.xpath("//script/@src"))
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


async def test_channel_texts_are_escaped_in_the_list_and_the_guide(
    schedule_client: Client, on_air: OnAir
) -> None:
    path = on_air.files[0]
    text = path.read_text(encoding="utf-8").replace(
        'name = "蓉城先锋"', 'name = "<script>alert(1)</script>蓉城"\ndescription = "<b>先锋</b> & 教育"'
    )
    path.write_text(text, encoding="utf-8")
    apply_channel_files(on_air.store, list(on_air.files), now=NOW)

    for url in ("/watch", "/watch/rcxf"):
        response = await schedule_client.get(url)
        body = await response.text()
        assert "<script>alert(1)" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;蓉城" in body
        page = lxml.html.fromstring(body)
        assert text_of(page.xpath('//*[@class="name"]')[0]) == "<script>alert(1)</script>蓉城"
    assert "&lt;b&gt;先锋&lt;/b&gt; &amp; 教育" in body
    assert text_of(page.xpath('//p[@class="description"]')[0]) == "<b>先锋</b> & 教育"


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/watch/nope", id="unknown-channel"),
        pytest.param("/watch/vod/999999", id="unknown-asset"),
        pytest.param("/watch/vod/abc", id="not-an-id"),
        pytest.param("/watch/vod/%C2%B2", id="a-unicode-digit"),
        pytest.param("/watch/vod/1234567890123456789012345", id="id-too-long"),
        pytest.param("/watch/NOPE", id="not-a-channel-id"),
        pytest.param("/watch/rcxf/more", id="deeper"),
        pytest.param("/watch/", id="trailing-slash"),
    ],
)
async def test_unknown_pages_are_a_friendly_404(client: Client, path: str) -> None:
    page = await get_page(client, path, status=404)

    assert page.xpath("//h1")
    assert page.xpath('//a[@href="/watch"]')
    assert page.xpath("//script") == []


async def test_a_pending_asset_is_not_found(client: Client, catalog: Any) -> None:
    asset_id, _job = create_pending(catalog, title="未完成", original_filename="pending.mp4")

    page = await get_page(client, f"/watch/vod/{asset_id}", status=404)

    assert "no longer available" in text_of(page)


@pytest.mark.parametrize("path", ["/watch", "/watch/nope", "/watch/vod/1"])
async def test_pages_are_read_only(client: Client, path: str) -> None:
    head = await client.head(path)
    assert head.status in (200, 404)
    assert head.headers["Content-Type"] == HTML
    assert await head.read() == b""
    for method in ("POST", "PUT", "DELETE"):
        response = await client.request(method, path)
        assert response.status in (403, 405), (method, response.status)


# --- /static ---------------------------------------------------------------------------------------


@pytest.fixture
def static_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A static folder of our own, so that tests do not depend on whether ``make`` installed hls.js."""
    root = tmp_path / "static"
    (root / "node_modules" / "hls.js" / "dist").mkdir(parents=True)
    (root / "node_modules" / "hls.js" / "dist" / "hls.min.js").write_text("/* npm's copy */")
    for name in ("player.js", "site.css", "package.json", ".secret.js"):
        source = static_files.STATIC_ROOT / name
        (root / name).write_bytes(source.read_bytes() if source.is_file() else b"{}")
    monkeypatch.setattr(static_files, "STATIC_ROOT", root)
    monkeypatch.setattr(static_files, "_versions", {})
    return root


def install_hls(root: Path, text: str = "/* hls.js */") -> None:
    (root / "vendor").mkdir(exist_ok=True)
    (root / "vendor" / "hls.min.js").write_text(text)


async def test_without_hls_js_the_pages_say_run_make(
    client: Client, publish_asset: PublishAsset, static_root: Path
) -> None:
    asset = publish_asset()

    page = await get_page(client, f"/watch/vod/{asset.asset_id}")

    message = page.xpath('//p[@id="player-message"]')[0]
    assert text_of(message) == "player script not installed: run make"
    assert message.get("hidden") is None
    scripts = page.xpath("//script/@src")
    assert len(scripts) == 1
    assert scripts[0].startswith("/static/player.js?v=")

    install_hls(static_root)  # `make` while the server runs: no restart needed
    page = await get_page(client, f"/watch/vod/{asset.asset_id}")
    assert page.xpath('//p[@id="player-message"]/@hidden') == [""]
    hls, player = page.xpath("//script/@src")
    assert hls.startswith("/static/vendor/hls.min.js?v=")
    assert player.startswith("/static/player.js?v=")


async def test_static_files_vendored_ones_cached_for_a_year(client: Client, static_root: Path) -> None:
    install_hls(static_root)

    vendored = await client.get("/static/vendor/hls.min.js?v=abc")
    assert vendored.status == 200
    assert await vendored.text() == "/* hls.js */"
    assert vendored.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert vendored.headers["Cache-Control"] == "public, max-age=31536000, immutable"

    own = await client.get("/static/player.js")
    assert own.status == 200
    assert own.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert "immutable" not in own.headers["Cache-Control"]
    css = await client.get("/static/site.css")
    assert css.headers["Content-Type"] == "text/css; charset=utf-8"


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/static/package.json", id="npm-manifest"),
        pytest.param("/static/node_modules/hls.js/dist/hls.min.js", id="node-modules"),
        pytest.param("/static/.secret.js", id="hidden"),
        pytest.param("/static/vendor/missing.js", id="missing"),
        pytest.param("/static/%2e%2e/pages.py", id="traversal"),
        pytest.param("/static/vendor/..%2f..%2fpages.py", id="encoded-traversal"),
    ],
)
async def test_static_serves_only_what_pages_load(client: Client, static_root: Path, path: str) -> None:
    response = await client.get(path)

    assert response.status == 404
