"""Live, catch-up and start-over playlists over real HTTP, from the stored EPG (fake media bytes)."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta

import m3u8
import pytest
from aiohttp import web

from rcmedia.catalog.repository import Catalog
from rcmedia.core.edits import Edit, EditKind
from rcmedia.core.models import Output
from rcmedia.core.schedule import EventKind
from rcmedia.core.timeline import at_us
from rcmedia.playout.channel_output import LOOKAHEAD
from rcmedia.playout.live import RELOAD_EVERY
from rcmedia.service.schedules import edit_schedule
from rcmedia.storage.local import LocalStorage
from rcmedia.web.keys import CATCHUP_KEY, LIVE_KEY
from tests.integration.web.published import CODECS, RUNG_FACTS, Client, publish_fake_asset
from tests.integration.web.schedules import NOW, RUNGS, TOMORROW, FixedClock, OnAir

LIVE = "/live/rcxf/iptv"


async def playlist(client: Client, path: str, status: int = 200) -> m3u8.M3U8:
    response = await client.get(path)
    text = await response.text()
    assert response.status == status, text
    assert response.headers["Content-Type"] == "application/vnd.apple.mpegurl"
    return m3u8.loads(text)


async def test_master_lists_what_the_rungs_really_play(schedule_client: Client) -> None:
    """Every asset on the air has only a 144p rendition: each of the output's four rungs plays it.

    Listing all four (with the profile's 1920x1080 … 640x360) promised pictures that nothing
    serves (issue 10); one rung is listed, named after the lowest, with the 144p facts.
    """
    master = await playlist(schedule_client, f"{LIVE}/master.m3u8")

    assert [p.uri for p in master.playlists] == ["360p.m3u8"]
    info = master.playlists[0].stream_info
    facts = RUNG_FACTS["144p"]
    assert info.resolution == (facts["width"], facts["height"])
    assert (info.bandwidth, info.average_bandwidth) == (facts["bandwidth"], facts["average_bandwidth"])
    assert info.codecs == CODECS
    assert info.frame_rate == 25
    assert "#EXT-X-INDEPENDENT-SEGMENTS" in master.dumps()
    # the rungs left out still serve their (identical) media playlists, for masters players kept
    for rung in ("1080p", "720p", "540p", "360p"):
        assert (await playlist(schedule_client, f"{LIVE}/{rung}.m3u8")).segments


async def test_media_playlist_is_the_window_of_the_stored_events(
    schedule_client: Client, on_air: OnAir
) -> None:
    live = await playlist(schedule_client, f"{LIVE}/720p.m3u8")

    events = on_air.store.events("rcxf", Output.IPTV, start=NOW - timedelta(hours=1), end=NOW)
    on_now = next(e for e in events if e.start <= NOW < e.end)
    assert live.target_duration == 6
    assert live.playlist_type is None
    assert not live.is_endlist
    assert len(live.segments) >= 6
    last = live.segments[-1]
    assert last.program_date_time is not None or live.segments[0].program_date_time is not None
    # the last listed segment is the one that completed last: NOW is 04:30:00 sharp, a boundary
    offset = (NOW - on_now.start) // timedelta(seconds=6)
    assert live.media_sequence + len(live.segments) == on_now.seq0 + offset
    assert live.discontinuity_sequence is not None


async def test_segments_named_in_the_playlist_are_served(schedule_client: Client) -> None:
    live = await playlist(schedule_client, f"{LIVE}/360p.m3u8")

    for segment in live.segments[-3:]:
        assert segment.uri.startswith("/air/")  # as aired: rcmedia.playout.aired
        response = await schedule_client.get(segment.uri)
        assert response.status == 200
        assert response.headers["Content-Type"] == "video/mp2t"
        assert response.headers["Access-Control-Allow-Origin"]
        ranged = await schedule_client.get(segment.uri, headers={"Range": "bytes=0-187"})
        assert ranged.status == 206
        assert len(await ranged.read()) == 188


async def test_numbers_never_move_and_every_rung_agrees(schedule_client: Client, clock: FixedClock) -> None:
    seen: dict[int, tuple[str, float]] = {}
    previous = None
    for step in range(40):
        clock.current = NOW + timedelta(seconds=7 * step)
        by_rung = [await playlist(schedule_client, f"{LIVE}/{rung}.m3u8") for rung in ("1080p", "360p")]
        first, second = by_rung
        assert (first.media_sequence, first.discontinuity_sequence) == (
            second.media_sequence,
            second.discontinuity_sequence,
        )
        assert [s.duration for s in first.segments] == [s.duration for s in second.segments]
        for number, segment in enumerate(first.segments, start=first.media_sequence):
            assert seen.setdefault(number, (segment.uri, segment.duration)) == (segment.uri, segment.duration)
        if previous is not None:
            assert first.media_sequence >= previous.media_sequence
            assert first.discontinuity_sequence >= previous.discontinuity_sequence
        previous = first


async def test_cacheable_until_the_next_segment_and_gzip(schedule_client: Client, clock: FixedClock) -> None:
    clock.current = NOW + timedelta(seconds=2)
    response = await schedule_client.get(f"{LIVE}/720p.m3u8", headers={"Accept-Encoding": "gzip"})
    body = await response.read()

    assert response.headers["Cache-Control"] == (
        "public, max-age=4, s-maxage=3, stale-while-revalidate=1, stale-if-error=18"
    )
    assert response.headers["Access-Control-Allow-Origin"]  # web players on other origins
    assert response.headers["Expires"] == "Mon, 02 Mar 2026 04:30:06 GMT"
    assert response.headers["Vary"] == "Accept-Encoding"
    assert response.headers.get("Content-Encoding") in (None, "gzip")  # the client decodes it
    plain = await schedule_client.get(f"{LIVE}/720p.m3u8", headers={"Accept-Encoding": "identity"})
    assert (await plain.read()) == body
    raw = await schedule_client.get(
        f"{LIVE}/720p.m3u8", headers={"Accept-Encoding": "gzip"}, auto_decompress=False
    )
    assert raw.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(await raw.read()) == body


@pytest.mark.parametrize(
    ("path", "status"),
    [
        pytest.param("/live/nope/iptv/master.m3u8", 404, id="unknown-channel"),
        pytest.param("/live/rcjy/tv/master.m3u8", 404, id="not-on-that-output"),
        pytest.param("/live/rcxf/radio/master.m3u8", 404, id="unknown-output"),
        pytest.param("/live/rcxf/iptv/9999p.m3u8", 404, id="unknown-rung"),
    ],
)
async def test_what_does_not_exist_is_404(schedule_client: Client, path: str, status: int) -> None:
    response = await schedule_client.get(path)
    assert response.status == status


async def test_a_withdrawn_asset_is_replaced_by_the_slate_without_moving_numbers(
    schedule_client: Client, clock: FixedClock, on_air: OnAir, catalog: Catalog
) -> None:
    before = await playlist(schedule_client, f"{LIVE}/720p.m3u8")
    upcoming = next(
        e
        for e in on_air.store.events("rcxf", Output.IPTV, start=NOW, end=NOW + timedelta(hours=3))
        if e.start > NOW and e.kind is not EventKind.SLATE  # filler in the afternoon
    )
    live = schedule_client.server.app[LIVE_KEY]
    catalog.withdraw(upcoming.asset_id, now=NOW)
    await live.refresh()  # what the app's watch does every 2 s
    await playlist(schedule_client, f"{LIVE}/720p.m3u8")  # the reload starts
    await live.settle()
    clock.current = upcoming.start + timedelta(seconds=30)
    after = await playlist(schedule_client, f"{LIVE}/720p.m3u8")

    assert after.media_sequence > before.media_sequence
    slate = [s for s in after.segments if s.uri.startswith("/shifted/") or "/assets/1/" in s.uri]
    assert slate, after.dumps()
    assert all(f"/assets/{upcoming.asset_id}/" not in s.uri for s in after.segments)


async def test_a_live_load_reaches_a_few_hours_ahead_and_is_reloaded_long_before_that(
    schedule_client: Client, on_air: OnAir
) -> None:
    await playlist(schedule_client, f"{LIVE}/720p.m3u8")
    loaded = await schedule_client.server.app[LIVE_KEY].channel_output("rcxf", Output.IPTV, NOW)
    built = on_air.store.events("rcxf", Output.IPTV, start=NOW, end=NOW + timedelta(days=30))

    assert built[-1].end - NOW > timedelta(days=1), "the EPG is built days ahead"
    loaded_until = at_us(loaded.timeline.end_us)
    assert NOW + LOOKAHEAD <= loaded_until < NOW + LOOKAHEAD + timedelta(hours=3)
    # a load is used for 2 x RELOAD_EVERY at most, then awaited anew: never past what it holds
    assert 2 * RELOAD_EVERY + timedelta(hours=1) < LOOKAHEAD


# --- catch-up and start-over ---------------------------------------------------------------------------


def catchup(utc: datetime, seconds: int, rung: str = "master", channel: str = "rcxf") -> str:
    return f"/catchup/{channel}/iptv/{rung}.m3u8?utc={int(utc.timestamp())}&duration={seconds}"


async def test_catch_up_of_a_past_hour_is_what_aired(schedule_client: Client, on_air: OnAir) -> None:
    start = NOW - timedelta(hours=2)
    master = await playlist(schedule_client, catchup(start, 3600))
    assert master.playlists[0].uri.startswith("360p.m3u8?utc=")  # 144p alone: one rung (see above)
    replay = await playlist(schedule_client, catchup(start, 3600, "720p"))

    assert replay.playlist_type == "vod"
    assert replay.is_endlist
    events = on_air.store.events("rcxf", Output.IPTV, start=start, end=start + timedelta(hours=1))
    assert replay.media_sequence == events[0].seq0 + (start - events[0].start) // timedelta(seconds=6)
    assert sum(s.duration for s in replay.segments) == pytest.approx(3600, abs=6)
    assert sum(1 for s in replay.segments if s.discontinuity) == len(events) - 1


async def test_start_over_of_the_programme_on_air_grows(
    schedule_client: Client, clock: FixedClock, on_air: OnAir
) -> None:
    on_now = next(
        e for e in on_air.store.events("rcxf", Output.IPTV, start=NOW, end=NOW + timedelta(seconds=1))
    )
    path = catchup(on_now.start, on_now.duration_us // 1_000_000, "720p")
    first = await playlist(schedule_client, path)
    clock.current = NOW + timedelta(seconds=30)
    later = await playlist(schedule_client, path)

    assert first.playlist_type == "event"
    assert not first.is_endlist
    assert len(later.segments) == len(first.segments) + 5
    assert [s.uri for s in later.segments[: len(first.segments)]] == [s.uri for s in first.segments]


@pytest.mark.parametrize(
    ("path", "status", "says"),
    [
        pytest.param(
            catchup(NOW - timedelta(hours=1), 600, channel="rcjy"), 403, "offers no catch-up", id="none"
        ),
        pytest.param(
            catchup(NOW - timedelta(days=9), 600), 404, "before the 7 catch-up day(s)", id="too-old"
        ),
        pytest.param(catchup(NOW + timedelta(hours=1), 600), 404, "nothing has aired yet", id="future"),
        pytest.param("/catchup/rcxf/iptv/master.m3u8?utc=abc&duration=60", 400, "'utc'", id="bad-utc"),
        pytest.param(catchup(NOW - timedelta(hours=1), 0), 400, "a replay lasts", id="zero-length"),
        pytest.param(catchup(NOW - timedelta(hours=1), 86400), 400, "a replay lasts", id="too-long"),
    ],
)
async def test_replays_refused_with_the_reason(
    schedule_client: Client, path: str, status: int, says: str
) -> None:
    response = await schedule_client.get(path)
    assert response.status == status
    assert says in await response.text()


async def test_programmes_without_rights_now_replay_as_the_slate(
    schedule_client: Client, on_air: OnAir, catalog: Catalog
) -> None:
    programme = next(
        e
        for e in on_air.store.events("rcxf", Output.IPTV, start=NOW - timedelta(hours=6), end=NOW)
        if e.kind is EventKind.PROGRAMME and e.end <= NOW
    )
    seconds = programme.duration_us // 1_000_000
    catalog.set_rights(programme.asset_id, [], now=NOW)  # the licence ended

    response = await schedule_client.get(catchup(programme.start, seconds, "720p"))
    assert response.status == 403
    assert programme.title in await response.text()


async def test_a_replay_built_from_the_guide_s_whole_seconds_starts_and_ends_with_its_programme(
    schedule_client: Client,
    schedule_app: web.Application,
    on_air: OnAir,
    clock: FixedClock,
    catalog: Catalog,
    storage: LocalStorage,
) -> None:
    """Kodi builds catch-up URLs from XMLTV's whole seconds (issue 10, item 5): a programme that
    aired 19:00:03.040–19:00:15.080 is asked as utc=19:00:03 and duration=12 s. It must play that
    programme, not the last segment of what aired before it, and not lose its own last frame."""
    ident = publish_fake_asset(
        catalog,
        storage,
        seed=9001,
        title="台标 短",
        original_filename="id.mp4",
        series="宣传片",
        rungs=RUNGS,
        durations=(3.0, 0.04),
    ).asset_id
    show = publish_fake_asset(
        catalog,
        storage,
        seed=9002,
        title="短片",
        original_filename="short.mp4",
        series="宣传片",
        rungs=RUNGS,
        durations=(6.0, 6.0, 0.04),
    ).asset_id
    at = datetime(2026, 3, 3, 11, 0, tzinfo=UTC)  # 19:00 on the next day in Chengdu
    for asset, to in ((ident, at), (show, at + timedelta(microseconds=3_040_000))):
        edit = Edit(kind=EditKind.INSERT, asset_id=asset, to=to)
        edit_schedule(on_air.store, "rcxf", Output.IPTV, edit, day=TOMORROW, now=NOW)
    clock.current = at + timedelta(hours=1)
    await schedule_app[LIVE_KEY].refresh()

    utc = int((at + timedelta(microseconds=3_040_000)).timestamp())  # the guide truncates
    duration = int((at + timedelta(microseconds=15_080_000)).timestamp()) - utc
    response = await schedule_client.get(f"/catchup/rcxf/iptv/720p.m3u8?utc={utc}&duration={duration}")
    assert response.status == 200, await response.text()
    replay = m3u8.loads(await response.text())

    assert [s.duration for s in replay.segments] == [6.0, 6.0, 0.04], "the programme, all of it, and only it"
    assert all(f"/{show}/" in s.uri for s in replay.segments)
    assert replay.segments[0].program_date_time == at + timedelta(microseconds=3_040_000)


async def test_a_one_second_replay_at_a_boundary_is_not_snapped_to_nothing(
    schedule_client: Client, on_air: OnAir
) -> None:
    programme = next(
        e
        for e in on_air.store.events("rcxf", Output.IPTV, start=NOW - timedelta(hours=6), end=NOW)
        if e.kind is EventKind.PROGRAMME and e.end <= NOW
    )
    for rung in ("master", "720p"):  # both ends within a second of the programme's start
        response = await schedule_client.get(catchup(programme.start, 1, rung))
        assert response.status == 200, await response.text()


async def test_start_over_reloads_between_segment_boundaries_cost_no_render(
    schedule_client: Client, schedule_app: web.Application, clock: FixedClock, on_air: OnAir
) -> None:
    on_now = next(
        e for e in on_air.store.events("rcxf", Output.IPTV, start=NOW, end=NOW + timedelta(seconds=1))
    )
    path = catchup(on_now.start, on_now.duration_us // 1_000_000, "720p")
    replays = schedule_app[CATCHUP_KEY]
    six = timedelta(seconds=6)  # the fake programmes' segments
    clock.current = on_now.start + (NOW - on_now.start) // six * six + timedelta(milliseconds=500)
    first = await playlist(schedule_client, path)
    renders = replays.renders
    for _ in range(3):  # players reloading within the same segment
        clock.current += timedelta(seconds=1)
        assert [s.uri for s in (await playlist(schedule_client, path)).segments] == [
            s.uri for s in first.segments
        ]
    assert replays.renders == renders, "a reload within a segment is served from the cache"

    clock.current += timedelta(seconds=6)  # a segment later
    assert len((await playlist(schedule_client, path)).segments) == len(first.segments) + 1
    assert replays.renders == renders + 1
