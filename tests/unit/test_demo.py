"""The demo's sample library, planned from the shipped channel files (rcmedia.demo)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from rcmedia.core.builder import BuildInput, build_days
from rcmedia.core.grid_file import parse_channel_file
from rcmedia.core.models import Output, Source, all_outputs_rights
from rcmedia.core.rotation import AssetIndex
from rcmedia.core.schedule import Channel, EventKind, ScheduleAsset
from rcmedia.demo import SampleClip, plan_courseware, pool_members

PLAYLISTS = Path(__file__).resolve().parents[2] / "playlists"
FRAME = 40_000  # µs at 25 fps
SEGMENT_FRAMES = 150  # the default profile's 6 s


def shipped_channels() -> list[Channel]:
    return [
        parse_channel_file(path.read_text(encoding="utf-8"), filename=path.name)
        for path in sorted(PLAYLISTS.glob("*.toml"))
    ]


def kind_of(clip: SampleClip) -> str:
    metadata = clip.metadata
    if metadata.get("episode") is not None:
        return "programme"
    if metadata.get("series") == "台标":
        return "ident"
    return "filler" if "公益" in metadata.get("categories", ()) else "lecture"


def as_published(clips: list[SampleClip]) -> AssetIndex:
    """The planned clips as the builder sees them once ingested, with the house slate (asset 1)."""
    slate = ScheduleAsset(
        id=1,
        title="精彩节目 马上回来",
        series="slate",
        episode=None,
        source=Source.OWN,
        categories=("slate",),
        segment_us=tuple([SEGMENT_FRAMES * FRAME] * 10 + [k * FRAME for k in range(1, SEGMENT_FRAMES)]),
        rights=all_outputs_rights(),
    )
    assets = [slate]
    for number, clip in enumerate(clips, 2):
        frames = round(clip.seconds * 25)
        whole, rest = divmod(frames, SEGMENT_FRAMES)
        metadata = clip.metadata
        assets.append(
            ScheduleAsset(
                id=number,
                title=metadata["title"],
                series=metadata.get("series"),
                episode=metadata.get("episode"),
                source=Source(metadata["source"]),
                categories=tuple(metadata.get("categories", ())),
                segment_us=tuple([SEGMENT_FRAMES * FRAME] * whole + ([rest * FRAME] if rest else [])),
                rights=all_outputs_rights(),
            )
        )
    return AssetIndex(assets)


def test_every_series_a_slot_names_gets_one_episode() -> None:
    channels = shipped_channels()
    clips = plan_courseware(channels)
    named = {slot.series for channel in channels for slot in channel.grid.slots}
    episodes = [clip.metadata["series"] for clip in clips if kind_of(clip) == "programme"]
    assert sorted(episodes) == sorted(named)


def test_every_pool_has_several_distinct_clips_and_clips_serve_both_channels() -> None:
    channels = shipped_channels()
    clips = plan_courseware(channels)
    for channel in channels:
        for block in channel.grid.blocks:
            assert len(pool_members(clips, block.pool)) >= 2, block.id
        assert len(pool_members(clips, channel.grid.filler)) >= 6, channel.id
        assert channel.grid.idents is not None
        assert len(pool_members(clips, channel.grid.idents)) >= 3, channel.id
    # the afternoon lectures of both channels, and their filler, are the same clips
    assert sum(kind_of(clip) == "lecture" for clip in clips) == 2
    assert sum(kind_of(clip) == "filler" for clip in clips) == 6


@pytest.mark.parametrize(
    ("kind", "shortest", "longest"),
    [
        pytest.param("programme", 20, 60, id="programmes"),
        pytest.param("lecture", 20, 60, id="lectures"),
        pytest.param("filler", 10, 20, id="filler"),
        pytest.param("ident", 3, 5, id="idents"),
    ],
)
def test_lengths_are_short_and_mixed(kind: str, shortest: float, longest: float) -> None:
    lengths = [clip.seconds for clip in plan_courseware(shipped_channels()) if kind_of(clip) == kind]
    assert lengths
    assert shortest <= min(lengths) <= max(lengths) <= longest
    assert len(set(lengths)) > 1 or kind == "lecture"


def test_the_whole_library_lasts_minutes() -> None:
    """What keeps a first demo near two minutes on two cores."""
    assert sum(clip.seconds for clip in plan_courseware(shipped_channels())) <= 12 * 60


def test_the_shapes_that_arrive_in_practice_are_all_there_and_small() -> None:
    shapes = [clip.shape for clip in plan_courseware(shipped_channels())]
    assert sum(bool(s.get("interlaced")) for s in shapes) == 1
    assert sum(s.get("video") is False for s in shapes) == 1
    assert any(s.get("height", 0) > s.get("width", 0) for s in shapes)  # portrait
    assert any(s.get("width", 0) * 3 == s.get("height", 0) * 4 for s in shapes)  # 4:3
    assert any(s.get("rate") == "30000/1001" for s in shapes)
    # no source reaches the 720p rung: the ladder makes its low rungs only
    assert max(s.get("height", 0) for s in shapes if s.get("video") is not False) <= 576


def test_seconds_makes_every_clip_that_long() -> None:
    assert {clip.seconds for clip in plan_courseware(shipped_channels(), seconds=3.0)} == {3.0}


@pytest.mark.parametrize("channel_id", ["rcxf", "rcjy"])
def test_with_the_plan_every_slot_airs_its_series_and_the_filler_rotates(channel_id: str) -> None:
    channels = shipped_channels()
    clips = plan_courseware(channels)
    (channel,) = [c for c in channels if c.id == channel_id]
    days = build_days(
        BuildInput(channel=channel, output=Output.IPTV, index=as_published(clips)), date(2026, 11, 23), 2
    )
    events = [event for day in days for event in day.events]
    slots = {slot.id: slot.series for slot in channel.grid.slots}
    placed = [e for e in events if e.kind is EventKind.PROGRAMME and e.slot_id in slots]
    assert placed
    assert all(e.series == slots[str(e.slot_id)] and e.substitution is None for e in placed)
    fillers = {e.asset_id for e in events if e.kind is EventKind.FILLER}
    idents = {e.asset_id for e in events if e.kind is EventKind.IDENT}
    assert len(fillers) == 6
    assert len(idents) == 3
