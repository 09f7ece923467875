"""Catch-up and start-over: what aired on a channel output in a time range, as a replay playlist.

``?utc=START&duration=SECONDS`` (Unix seconds, as IPTV apps' ``catchup-source`` templates fill
them in). A range that has aired is a VOD playlist; one that reaches past now (start-over of the
programme on air) is an EVENT playlist that grows until the range ends. The segments and numbers
are the live stream's, so a replay is exactly what aired, splices included. Programmes whose
rights on the output have ended are replaced by the slate; a range with nothing replayable in it
(before the first built day, not aired yet, no rights) is refused with the reason, by the master
playlist and its media playlists alike.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from aiohttp import hdrs, web

from rcmedia.core.builder import broadcast_day, day_on_air
from rcmedia.core.schedule import US, EventKind
from rcmedia.core.timeline import at_us, snap_range, us_of
from rcmedia.playout.catchup import Archive, Replay
from rcmedia.web.keys import CATCHUP_KEY, CLOCK_KEY, LIVE_KEY
from rcmedia.web.live import output_of, takes_gzip
from rcmedia.web.playlist_response import PLAYLIST_TYPE, playlist_response

LONGEST_REPLAY = timedelta(hours=12)
_SECONDS = re.compile(r"[0-9]{1,12}")
LAST_START = 253_402_214_400 - 2 * 86_400  # 9999-12-30: later, Python has no datetimes for the range
ENDED_MAX_AGE = 300  # a replay that has aired changes only if an asset is withdrawn


def _range(request: web.Request) -> tuple[datetime, datetime]:
    values = {}
    for name in ("utc", "duration"):
        raw = request.query.get(name)
        # ASCII digits: str.isdigit() also takes "²", which int() refuses
        if raw is None or _SECONDS.fullmatch(raw) is None:
            raise web.HTTPBadRequest(text=f"{name!r} must be a whole number of seconds, got {raw!r}\n")
        values[name] = int(raw)
    if values["utc"] > LAST_START:
        raise web.HTTPBadRequest(
            text=f"'utc' must be at most {LAST_START} (year 9999), got {values['utc']}\n"
        )
    if not 0 < values["duration"] <= LONGEST_REPLAY.total_seconds():
        raise web.HTTPBadRequest(text=f"a replay lasts 1 s to {LONGEST_REPLAY.total_seconds():.0f} s\n")
    start = at_us(values["utc"] * US)
    return start, start + timedelta(seconds=values["duration"])


async def _replay(request: web.Request) -> tuple[Archive, datetime, datetime, datetime]:
    live = request.app[LIVE_KEY]
    now = request.app[CLOCK_KEY].now()
    output = output_of(request)
    start, end = _range(request)
    if live.generation is None:
        await live.refresh()
    channel = live.channel(request.match_info["channel"], output)
    if channel.catchup_days <= 0:
        raise web.HTTPForbidden(text=f"channel {channel.id!r} offers no catch-up\n")
    oldest, _ = broadcast_day(channel, day_on_air(channel, now) - timedelta(days=channel.catchup_days))
    if start < oldest:
        raise web.HTTPNotFound(
            text=f"{start:%Y-%m-%d %H:%M:%S} UTC is before the {channel.catchup_days} catch-up day(s) of "
            f"channel {channel.id!r} (from {oldest:%Y-%m-%d %H:%M:%S} UTC)\n"
        )
    if start >= now:
        raise web.HTTPNotFound(text=f"nothing has aired yet at {start:%Y-%m-%d %H:%M:%S} UTC\n")
    archive = await request.app[CATCHUP_KEY].archive(channel, output, start, end, now)
    timeline = archive.loaded.timeline
    # a range from the guide (whole seconds) starts and ends where its programme does
    start, end = map(at_us, snap_range(timeline, us_of(start), us_of(end)))
    # Before the first built day nothing aired that a replay could show (the timeline of a span
    # without events is the slate loop from now on); a range reaching back before it starts there.
    # Checked here for the master too: it must not promise what its media playlists would refuse.
    first = at_us(timeline.start_us) if timeline.events else None
    if first is None or first >= min(end, now):
        raise web.HTTPNotFound(
            text=f"nothing was scheduled on {channel.id}/{output.value} from {start:%Y-%m-%d %H:%M:%S} "
            f"to {min(end, now):%Y-%m-%d %H:%M:%S} UTC\n"
        )
    programmes = [
        e for e in timeline.events if e.kind is EventKind.PROGRAMME and e.start < end and e.end > start
    ]
    if programmes and all(e.asset_id in timeline.why for e in programmes):
        titles = ", ".join(sorted({e.title for e in programmes}))
        raise web.HTTPForbidden(text=f"no catch-up rights on {output.value} for: {titles}\n")
    return archive, max(start, first), end, now


async def catchup_master(request: web.Request) -> web.Response:
    archive, start, end, now = await _replay(request)
    master = await request.app[CATCHUP_KEY].master_playlist(archive, start, end, now)
    query = f"?utc={request.query['utc']}&duration={request.query['duration']}"
    text = master.replace(".m3u8\n", f".m3u8{query}\n")
    return playlist_response(request, text, max_age=ENDED_MAX_AGE if end <= now else 2)


async def catchup_media_playlist(request: web.Request) -> web.Response:
    return await _catchup_media_playlist(request, continuous=False)


async def catchup_continuous_media_playlist(request: web.Request) -> web.Response:
    """The same replay without EXT-X-DISCONTINUITY (rcmedia.core.live_playlist)."""
    return await _catchup_media_playlist(request, continuous=True)


async def _catchup_media_playlist(request: web.Request, *, continuous: bool) -> web.Response:
    archive, start, end, now = await _replay(request)
    rung = request.match_info["rendition"]
    if rung not in archive.loaded.rungs:
        raise web.HTTPNotFound(text=f"rendition {rung!r} is not on {archive.loaded.output.value}\n")
    gzipped = takes_gzip(request.headers.get(hdrs.ACCEPT_ENCODING, ""))
    replay = await request.app[CATCHUP_KEY].media_playlist(
        archive, rung, start, end, now, gzipped=gzipped, continuous=continuous
    )
    # start-over grows with every segment
    return _replay_response(replay, max_age=ENDED_MAX_AGE if replay.ended else 1, gzipped=gzipped)


def _replay_response(replay: Replay, *, max_age: int, gzipped: bool) -> web.Response:
    headers = {
        hdrs.CONTENT_TYPE: PLAYLIST_TYPE,
        hdrs.CACHE_CONTROL: f"public, max-age={max_age}",
        hdrs.VARY: "Accept-Encoding",  # an edge cache must keep gzip and plain copies apart
    }
    if gzipped and replay.gzipped is not None:
        headers[hdrs.CONTENT_ENCODING] = "gzip"
        return web.Response(body=replay.gzipped, headers=headers)
    return web.Response(body=replay.body, headers=headers)
