"""Live, catch-up and start-over playlists: golden files, and what a player derives from the text."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from rcmedia.core.live_playlist import extinf, program_date_time, render_live, render_replay
from rcmedia.core.schedule import US
from rcmedia.core.timeline import SegmentRef, Timeline, at_us, live_window, range_segments, us_of
from tests.unit.core.test_timeline import SLATE, START, TARGET, A, B, chain, timeline_of

GOLDEN = Path(__file__).resolve().parents[2] / "resources" / "playlists"


def uri_for(rung: str, extension: str = "ts") -> Callable[[SegmentRef], str]:
    def uri(segment: SegmentRef) -> str:
        shift = f"?shift={segment.shift_us}" if segment.shift_us else ""
        return f"/media/{segment.asset_id}/{rung}/{segment.index:05d}.{extension}{shift}"

    return uri


def init_for(rung: str) -> Callable[[SegmentRef], str | None]:
    return lambda segment: f"/media/{segment.asset_id}/{rung}/init.mp4"


@dataclass(frozen=True, kw_only=True, slots=True)
class Listed:
    """One segment as a player reads it off the playlist (RFC 8216bis §4.4.3.2, §4.4.3.3)."""

    seq: int
    disc: int
    duration_ms: int
    uri: str
    discontinuity: bool
    program_date_time: str | None
    init: str | None


@dataclass(frozen=True, kw_only=True, slots=True)
class Parsed:
    tags: dict[str, str]
    segments: tuple[Listed, ...]
    ended: bool


def parse_playlist(text: str) -> Parsed:
    """Read a media playlist the way a client numbers it: seq and disc counted from the header tags."""
    assert text.endswith("\n")
    assert text.startswith("#EXTM3U\n")
    tags: dict[str, str] = {}
    segments: list[Listed] = []
    pending: dict[str, str | bool] = {}
    init: str | None = None
    ended = False
    for line in text.splitlines()[1:]:
        name, _, value = line.partition(":")
        if name in (
            "#EXT-X-VERSION",
            "#EXT-X-TARGETDURATION",
            "#EXT-X-MEDIA-SEQUENCE",
            "#EXT-X-PLAYLIST-TYPE",
        ):
            assert not segments, f"{name} after the first segment"
            tags[name] = value
        elif name == "#EXT-X-DISCONTINUITY-SEQUENCE":
            assert not segments
            tags[name] = value
        elif line in ("#EXT-X-INDEPENDENT-SEGMENTS", "#EXT-X-DISCONTINUITY"):
            pending[line] = True
        elif name == "#EXT-X-PROGRAM-DATE-TIME":
            pending[name] = value
        elif name == "#EXT-X-MAP":
            assert value.startswith('URI="')
            assert value.endswith('"')
            init = value[5:-1]
        elif name == "#EXTINF":
            assert value.endswith(",")
            pending[name] = value[:-1]
        elif line == "#EXT-X-ENDLIST":
            ended = True
        else:
            assert not line.startswith("#"), f"unexpected tag {line!r}"
            seconds, _, millis = str(pending.pop("#EXTINF")).partition(".")
            assert len(millis) == 3
            discontinuity = bool(pending.pop("#EXT-X-DISCONTINUITY", False))
            before = segments[-1] if segments else None
            segments.append(
                Listed(
                    seq=before.seq + 1 if before else int(tags["#EXT-X-MEDIA-SEQUENCE"]),
                    disc=(before.disc + discontinuity)
                    if before
                    else int(tags["#EXT-X-DISCONTINUITY-SEQUENCE"]),
                    duration_ms=int(seconds) * 1000 + int(millis),
                    uri=line,
                    discontinuity=discontinuity,
                    program_date_time=str(pending.pop("#EXT-X-PROGRAM-DATE-TIME", "")) or None,
                    init=init,
                )
            )
    assert "#EXTINF" not in pending
    return Parsed(tags=tags, segments=tuple(segments), ended=ended)


def small_timeline() -> Timeline:
    """A (62 s) then B (25 s), B withdrawn from its third segment: a splice and a stand-in to show."""
    events = chain([A, B], seq0=1000, disc0=40)
    since = at_us(us_of(events[1].start) + 12 * US)
    return timeline_of(events, A, B, unavailable={B.id: "withdrawn"}, unavailable_since={B.id: since})


NOW = START + 87 * US  # B has just ended


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("RCMEDIA_WRITE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} differs; RCMEDIA_WRITE_GOLDEN=1 rewrites it"


@pytest.mark.parametrize(
    ("name", "options"),
    [
        pytest.param("live_ts.m3u8", {"uri": uri_for("720p")}, id="ts"),
        pytest.param(
            "live_fmp4.m3u8", {"uri": uri_for("720p", "m4s"), "init_uri": init_for("720p")}, id="fmp4"
        ),
    ],
)
def test_live_playlist_golden(name: str, options: dict[str, object]) -> None:
    window = live_window(small_timeline(), NOW, target_duration_s=TARGET)
    text = render_live(window, target_duration=TARGET, **options)  # type: ignore[arg-type]
    golden(name, text)
    again = live_window(small_timeline(), NOW, target_duration_s=TARGET)
    assert render_live(again, target_duration=TARGET, **options) == text, "byte-identical"  # type: ignore[arg-type]


def test_replay_golden() -> None:
    timeline = small_timeline()
    catch_up = range_segments(timeline, START + 50 * US, START + 75 * US, now_us=START + 3600 * US)
    golden(
        "catchup_vod.m3u8", render_replay(catch_up, target_duration=TARGET, uri=uri_for("360p"), ended=True)
    )
    start_over = range_segments(timeline, START + 62 * US, START + 80 * US, now_us=START + 80 * US)
    text = render_replay(start_over, target_duration=TARGET, uri=uri_for("360p"), ended=False)
    golden("startover_event.m3u8", text)


def test_what_a_player_reads_is_what_the_timeline_says() -> None:
    timeline = small_timeline()
    for now in range(START + 10 * US, START + 200 * US, 500_000):
        window = live_window(timeline, now, target_duration_s=TARGET)
        for rung, init in (("720p", None), ("360p", init_for("360p"))):
            options = {"init_uri": init} if init else {}
            parsed = parse_playlist(render_live(window, target_duration=TARGET, uri=uri_for(rung), **options))  # type: ignore[arg-type]
            assert "#EXT-X-PLAYLIST-TYPE" not in parsed.tags
            assert not parsed.ended
            assert [(p.seq, p.disc, p.duration_ms * 1000) for p in parsed.segments] == [
                (s.seq, s.disc, s.duration_us) for s in window.segments
            ]
            for listed, segment in zip(parsed.segments, window.segments, strict=True):
                if listed.program_date_time is not None:
                    assert listed.program_date_time == program_date_time(segment.start_us)
                if listed is parsed.segments[0] or segment.discontinuity:
                    assert listed.program_date_time is not None, "on the first segment and at every splice"
                    assert init is None or listed.init is not None
                assert not (listed is parsed.segments[0] and listed.discontinuity), "counted by the sequence"


def test_the_first_listed_segment_opening_an_event_has_no_tag_but_its_number() -> None:
    timeline = small_timeline()
    # the window's first segment is B's first: in the stream a splice comes before it
    now = START + 62 * US + 10 * 6 * US
    window = live_window(timeline, now, target_duration_s=TARGET)
    assert window.segments[0].discontinuity
    assert window.segments[0].event_start_us == START + 62 * US
    text = render_live(window, target_duration=TARGET, uri=uri_for("720p"))
    assert "#EXT-X-DISCONTINUITY-SEQUENCE:41\n" in text
    assert "#EXT-X-DISCONTINUITY\n" in text, "the splice into the slate loop after B"
    assert text.index("#EXT-X-DISCONTINUITY\n") > text.index("#EXTINF"), "not before the first segment"


def test_a_new_map_where_a_stand_in_begins_within_an_event() -> None:
    window = live_window(small_timeline(), NOW, target_duration_s=TARGET)
    text = render_live(window, target_duration=TARGET, uri=uri_for("720p", "m4s"), init_uri=init_for("720p"))
    maps = [line for line in text.splitlines() if line.startswith("#EXT-X-MAP")]
    assert maps == [
        f'#EXT-X-MAP:URI="/media/{A.id}/720p/init.mp4"',
        f'#EXT-X-MAP:URI="/media/{B.id}/720p/init.mp4"',
        f'#EXT-X-MAP:URI="/media/{SLATE.id}/720p/init.mp4"',
    ]
    assert "#EXT-X-VERSION:7\n" in text


def test_replay_playlists_are_typed_and_need_segments() -> None:
    segments = range_segments(small_timeline(), START, START + 30 * US, now_us=START + 30 * US)
    vod = parse_playlist(render_replay(segments, target_duration=TARGET, uri=uri_for("a"), ended=True))
    event = parse_playlist(render_replay(segments, target_duration=TARGET, uri=uri_for("a"), ended=False))
    assert (vod.tags["#EXT-X-PLAYLIST-TYPE"], vod.ended) == ("VOD", True)
    assert (event.tags["#EXT-X-PLAYLIST-TYPE"], event.ended) == ("EVENT", False)
    assert vod.tags["#EXT-X-MEDIA-SEQUENCE"] == "1000"
    assert vod.tags["#EXT-X-DISCONTINUITY-SEQUENCE"] == "40"
    with pytest.raises(ValueError, match="at least one completed segment"):
        render_replay((), target_duration=TARGET, uri=uri_for("a"), ended=True)


def test_version_can_be_given() -> None:
    window = live_window(small_timeline(), NOW, target_duration_s=TARGET)
    text = render_live(window, target_duration=TARGET, uri=uri_for("a"), init_uri=init_for("a"), version=6)
    assert text.startswith("#EXTM3U\n#EXT-X-VERSION:6\n")


@pytest.mark.parametrize(
    ("duration_us", "text"),
    [
        pytest.param(6_000_000, "6.000", id="six-seconds"),
        pytest.param(40_000, "0.040", id="one-frame"),
        pytest.param(5_960_000, "5.960", id="149-frames"),
        pytest.param(1_000_499, "1.000", id="rounds-down"),
        pytest.param(1_000_500, "1.001", id="half-rounds-up"),
        pytest.param(59_999_999, "60.000", id="carries"),
    ],
)
def test_extinf_is_exact_and_rounds_one_way(duration_us: int, text: str) -> None:
    assert extinf(duration_us) == text


def test_program_date_time_is_utc_with_milliseconds() -> None:
    moment = datetime(2026, 11, 27, 1, 2, 3, 40_000, tzinfo=UTC)
    assert program_date_time(us_of(moment)) == "2026-11-27T01:02:03.040Z"
