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

import asyncio
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiohttp import web

from rcmedia.core.builder import broadcast_day, day_on_air
from rcmedia.core.live_playlist import no_init, render_replay
from rcmedia.core.schedule import US, EventKind, ScheduleAsset
from rcmedia.core.timeline import SegmentRef, at_us, range_segments, us_of
from rcmedia.playout.channel_output import ChannelOutput, load_channel_output
from rcmedia.web.keys import CLOCK_KEY, LIVE_KEY
from rcmedia.web.live import output_of
from rcmedia.web.playlist_response import playlist_response

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


@dataclass(frozen=True, kw_only=True, slots=True)
class Replay:
    """A replay range that has something to show: its channel output and the segments aired so far."""

    loaded: ChannelOutput
    segments: tuple[SegmentRef, ...]  # never empty
    end: datetime
    now: datetime


async def _replay(request: web.Request) -> Replay:
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

    def refused(asset: ScheduleAsset) -> str | None:
        return None if asset.allowed(output, now) else f"has no rights on {output.value} now"

    loaded = await asyncio.to_thread(
        load_channel_output,
        live.store,
        live.reads,
        live.asrun,
        live.storage,
        channel,
        output,
        profile=live.profile,
        now=now,
        generation=live.generation or (),
        replaced_before=None,
        epoch=now,
        span=(start, end),
        refused=refused,
    )
    timeline = loaded.timeline
    # Before the first built day nothing aired that a replay could show (the timeline of a span
    # without events is the slate loop from now on). A range reaching back before it starts there.
    first = at_us(timeline.start_us) if timeline.events else None
    if first is None or first >= min(end, now):
        raise web.HTTPNotFound(
            text=f"nothing was scheduled on {channel.id}/{output.value} from {start:%Y-%m-%d %H:%M:%S} "
            f"to {min(end, now):%Y-%m-%d %H:%M:%S} UTC\n"
        )
    programmes = [e for e in timeline.events if e.kind is EventKind.PROGRAMME and e.start < end]
    if programmes and all(e.asset_id in timeline.why for e in programmes):
        titles = ", ".join(sorted({e.title for e in programmes}))
        raise web.HTTPForbidden(text=f"no catch-up rights on {output.value} for: {titles}\n")
    # Checked here, not only in the media playlist: the master must not promise what its media
    # playlists would refuse.
    segments = range_segments(timeline, us_of(max(start, first)), us_of(end), now_us=us_of(now))
    if not segments:
        raise web.HTTPNotFound(text="no segment of this range has finished airing yet; try the live stream\n")
    return Replay(loaded=loaded, segments=segments, end=end, now=now)


async def catchup_master(request: web.Request) -> web.Response:
    replay = await _replay(request)
    query = f"?utc={request.query['utc']}&duration={request.query['duration']}"
    text = replay.loaded.master.replace(".m3u8\n", f".m3u8{query}\n")
    return playlist_response(request, text, max_age=ENDED_MAX_AGE if replay.end <= replay.now else 2)


async def catchup_media_playlist(request: web.Request) -> web.Response:
    replay = await _replay(request)
    loaded, segments, end, now = replay.loaded, replay.segments, replay.end, replay.now
    rung = request.match_info["rendition"]
    if rung not in loaded.rungs:
        raise web.HTTPNotFound(text=f"rendition {rung!r} is not on {loaded.output.value}\n")
    ended = us_of(end) <= us_of(now) or segments[-1].end_us >= us_of(end)
    text = render_replay(
        segments,
        target_duration=loaded.target_duration,
        uri=loaded.uri(rung),
        init_uri=loaded.init_uri(rung) if loaded.fmp4 else no_init,
        ended=ended,
    )
    if ended:
        return playlist_response(request, text, max_age=ENDED_MAX_AGE)
    return playlist_response(request, text, max_age=1)  # start-over grows with every segment
