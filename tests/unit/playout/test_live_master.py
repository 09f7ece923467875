"""The live master describes what each rung really plays (issue 10 item 4), on hand-built renditions."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import m3u8

from rcmedia.core.assets import Asset, Rendition
from rcmedia.core.models import AssetMetadata, AssetStatus, Output
from rcmedia.core.profile import Profile
from rcmedia.playout.channel_output import live_master, rung_media
from rcmedia.profiles import load_profile_file

DEFAULT = Path(__file__).parents[3] / "transcode_profiles" / "default.toml"
AT = datetime(2026, 3, 2, tzinfo=UTC)
# (width, height, peak, average, codecs) of what the ingest measured
FACTS = {
    "1080p": (1920, 1080, 6_100_000, 4_900_000, "avc1.640028,mp4a.40.2"),
    "720p": (1280, 720, 3_300_000, 2_700_000, "avc1.64001f,mp4a.40.2"),
    "540p": (960, 540, 2_100_000, 1_700_000, "avc1.64001f,mp4a.40.2"),
    "360p": (640, 360, 1_000_000, 800_000, "avc1.64001e,mp4a.40.2"),
    "240p": (426, 240, 120_000, 57_967, "avc1.640015,mp4a.40.2"),
}


def asset(asset_id: int, *names: str) -> Asset:
    renditions = []
    for name in names:
        width, height, peak, average, codecs = FACTS[name]
        renditions.append(
            Rendition(
                name=name,
                width=width,
                height=height,
                bandwidth=peak,
                average_bandwidth=average,
                codecs=codecs,
                frame_rate=25.0,
                segments=("seg_00000.ts",),
                segment_durations=(6.0,),
            )
        )
    return Asset(
        id=asset_id,
        metadata=AssetMetadata(title=f"asset {asset_id}"),
        original_filename="a.mp4",
        profile="default",
        status=AssetStatus.PUBLISHED,
        duration=6.0,
        storage_prefix=f"assets/{asset_id}/v1",
        segment_type="mpegts",
        target_duration=6,
        renditions=tuple(renditions),
        created_at=AT,
        published_at=AT,
        updated_at=AT,
    )


def master(profile: Profile, output: Output, *assets: Asset) -> dict[str, m3u8.model.StreamInfo]:
    rungs = tuple(profile.outputs[output])
    text = live_master(profile, rungs, [rung_media(a, profile, rungs) for a in assets])
    return {p.uri: p.stream_info for p in m3u8.loads(text).playlists}


def test_a_slate_alone_is_one_rung_with_its_own_attributes() -> None:
    """Issue 10: four rungs from 1920x1080 down, all with BANDWIDTH=2068000, over the same 240p files."""
    profile = load_profile_file(DEFAULT)

    listed = master(profile, Output.IPTV, asset(1, "240p"))

    assert list(listed) == ["360p.m3u8"]  # the lowest rung name; the others would repeat its bytes
    info = listed["360p.m3u8"]
    assert info.resolution == (426, 240)
    assert (info.bandwidth, info.average_bandwidth) == (120_000, 57_967)
    assert info.codecs == "avc1.640015,mp4a.40.2"


def test_each_rung_takes_the_largest_and_heaviest_of_what_it_plays() -> None:
    profile = load_profile_file(DEFAULT)
    programme = asset(1, "720p", "540p", "360p", "240p")  # a 720p source: no 1080p rung made
    slate = asset(2, "240p")

    listed = master(profile, Output.IPTV, programme, slate)

    # 1080p would play the programme's 720p and the slate's 240p: the 720p rung's files exactly
    assert list(listed) == ["720p.m3u8", "540p.m3u8", "360p.m3u8"]
    assert listed["720p.m3u8"].resolution == (1280, 720)
    assert listed["720p.m3u8"].bandwidth == 3_300_000
    assert listed["720p.m3u8"].codecs == "avc1.64001f,mp4a.40.2"
    assert listed["540p.m3u8"].resolution == (960, 540)
    assert listed["360p.m3u8"].resolution == (640, 360)
    assert listed["360p.m3u8"].average_bandwidth == 800_000


def test_a_rung_one_asset_has_is_listed_with_the_highest_level_served() -> None:
    profile = load_profile_file(DEFAULT)
    full = asset(1, "1080p", "720p", "540p", "360p")
    small = asset(2, "360p")

    listed = master(profile, Output.TV, full, small)

    assert list(listed) == ["1080p.m3u8", "720p.m3u8", "540p.m3u8"]
    assert listed["1080p.m3u8"].resolution == (1920, 1080)
    assert listed["1080p.m3u8"].codecs == "avc1.640028,mp4a.40.2"  # level 4.0 carries 1080p25
    assert listed["1080p.m3u8"].bandwidth == 6_100_000
