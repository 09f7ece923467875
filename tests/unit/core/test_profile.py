"""Transcode profiles: validation names the key; the shipped ladder is the house ladder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rcmedia.core.models import Output
from rcmedia.core.profile import AudioCodec, Slate, VideoCodec, parse_profile
from rcmedia.errors import ConfigError, NotFoundError, ProfileError
from rcmedia.profiles import load_profile_file, load_profiles, pick_profile
from tests.unit.factories import PROFILES_DIR, profile_data

Mutation = Callable[[dict[str, Any]], None]


def top(**changes: Any) -> Mutation:
    def apply(data: dict[str, Any]) -> None:
        data.update(changes)

    return apply


def drop(key: str) -> Mutation:
    def apply(data: dict[str, Any]) -> None:
        del data[key]

    return apply


def rung0(**changes: Any) -> Mutation:
    """Change the first rung given (the 360p one)."""

    def apply(data: dict[str, Any]) -> None:
        data["rungs"][0].update(changes)

    return apply


def test_minimal_profile_gets_the_house_defaults() -> None:
    profile = parse_profile(profile_data(), "house.toml")

    assert profile.name == "house"
    assert profile.description == ""
    assert profile.segment_type == "mpegts"
    assert profile.video == VideoCodec(codec="libx264", preset="veryfast", profile="high", pix_fmt="yuv420p")
    assert profile.audio == AudioCodec(codec="aac", bitrate=128_000, sample_rate=48_000, channels=2)
    assert profile.slate == Slate(width=1280, height=720, color="0x1d3557")
    assert profile.gop_frames == 50
    assert profile.target_duration == 6
    assert dict(profile.outputs) == dict.fromkeys(Output, ("720p", "360p"))


def test_rungs_are_sorted_highest_first_with_derived_vbv() -> None:
    profile = parse_profile(profile_data(), "house.toml")

    assert [r.name for r in profile.rungs] == ["720p", "360p"]
    top_rung = profile.rungs[0]
    assert (top_rung.width, top_rung.height, top_rung.bitrate) == (1280, 720, 3_000_000)
    assert top_rung.maxrate == 4_500_000  # 1.5 x bitrate
    assert top_rung.bufsize == 6_000_000  # 2 x bitrate


def test_explicit_vbv_is_kept() -> None:
    data = profile_data()
    data["rungs"][0].update(maxrate=900_000, bufsize=400_000)
    rung = parse_profile(data, "house.toml").rung("360p")
    assert (rung.maxrate, rung.bufsize) == (900_000, 400_000)


def test_rung_lookup() -> None:
    profile = parse_profile(profile_data(), "house.toml")
    assert profile.rung("360p").height == 360
    with pytest.raises(ProfileError, match="'1080p'"):
        profile.rung("1080p")


def test_outputs_keep_ladder_order_and_unlisted_outputs_get_every_rung() -> None:
    profile = parse_profile(profile_data(outputs={"mobile": ["360p", "720p"], "tv": ["720p"]}), "house.toml")
    assert profile.outputs[Output.MOBILE] == ("720p", "360p")
    assert profile.outputs[Output.TV] == ("720p",)
    assert profile.outputs[Output.IPTV] == ("720p", "360p")


@pytest.mark.parametrize(
    ("segment", "gop", "frame_rate", "expected"),
    [
        pytest.param(6, 2, 25, 6, id="whole"),
        pytest.param(2, 1, 25, 2, id="tiny"),
        pytest.param(6.4, 0.4, 25, 7, id="fraction-rounds-up"),
        pytest.param(5.5, 0.5, 50, 6, id="half-rounds-up"),
        pytest.param(4.0, 2.0, 25, 4, id="float-whole"),
    ],
)
def test_target_duration_rounds_up(segment: float, gop: float, frame_rate: int, expected: int) -> None:
    data = profile_data(segment_seconds=segment, gop_seconds=gop, frame_rate=frame_rate)
    profile = parse_profile(data, "house.toml")
    assert profile.target_duration == expected
    assert profile.gop_frames == round(gop * frame_rate)


@pytest.mark.parametrize(
    ("mutate", "key", "fragment"),
    [
        pytest.param(drop("name"), "name", "missing", id="missing-name"),
        pytest.param(top(name=5), "name", "expected str", id="name-not-text"),
        pytest.param(top(description=5), "description", "expected str", id="description-not-text"),
        pytest.param(top(colour="red"), "colour", "unknown key", id="unknown-top-key"),
        pytest.param(top(frame_rate=23), "frame_rate", "broadcast", id="odd-frame-rate"),
        pytest.param(top(frame_rate=29.97), "frame_rate", "expected int", id="fractional-frame-rate"),
        pytest.param(top(frame_rate=True), "frame_rate", "expected a number", id="bool-frame-rate"),
        pytest.param(top(gop_seconds=0.1), "gop_seconds", "whole number of frames", id="gop-not-frames"),
        pytest.param(top(gop_seconds=0), "gop_seconds", "whole number of frames", id="gop-zero"),
        pytest.param(top(gop_seconds="2"), "gop_seconds", "expected int or float", id="gop-text"),
        pytest.param(
            top(segment_seconds=5), "segment_seconds", "whole number of GOPs", id="segment-not-gops"
        ),
        pytest.param(top(segment_seconds=0), "segment_seconds", "whole number of GOPs", id="segment-zero"),
        pytest.param(
            top(segment_seconds=-6), "segment_seconds", "whole number of GOPs", id="segment-negative"
        ),
        pytest.param(top(segment_type="webm"), "segment_type", "'webm'", id="unknown-segment-type"),
        pytest.param(top(video="x264"), "video", "expected dict", id="video-not-table"),
        pytest.param(top(video={"crf": 23}), "video.crf", "unknown key", id="unknown-video-key"),
        pytest.param(top(video={"codec": "libx265"}), "video.codec", "libx264", id="video-codec"),
        pytest.param(top(video={"preset": 5}), "video.preset", "expected str", id="video-preset-type"),
        pytest.param(top(audio={"volume": 2}), "audio.volume", "unknown key", id="unknown-audio-key"),
        pytest.param(top(audio={"codec": "mp3"}), "audio", "AAC, 48 kHz, stereo", id="audio-not-aac"),
        pytest.param(top(audio={"sample_rate": 44_100}), "audio", "AAC, 48 kHz, stereo", id="audio-44k1"),
        pytest.param(top(audio={"channels": 6}), "audio", "AAC, 48 kHz, stereo", id="audio-5.1"),
        pytest.param(
            top(audio={"bitrate": "128k"}), "audio.bitrate", "expected int", id="audio-bitrate-text"
        ),
        pytest.param(top(slate={"font": "x"}), "slate.font", "unknown key", id="unknown-slate-key"),
        pytest.param(drop("rungs"), "rungs", "missing", id="missing-rungs"),
        pytest.param(top(rungs=[]), "rungs", "at least one", id="no-rungs"),
        pytest.param(top(rungs="720p"), "rungs", "expected list", id="rungs-not-list"),
        pytest.param(top(rungs=["720p"]), "rungs[0]", "expected a table", id="rung-not-table"),
        pytest.param(rung0(fps=25), "rungs[0].fps", "unknown key", id="unknown-rung-key"),
        pytest.param(rung0(name=""), "rungs[0].name", "not a usable", id="rung-name-empty"),
        pytest.param(rung0(name="a/b"), "rungs[0].name", "not a usable", id="rung-name-slash"),
        pytest.param(rung0(name=".hidden"), "rungs[0].name", "not a usable", id="rung-name-hidden"),
        pytest.param(rung0(width="640"), "rungs[0].width", "expected int", id="rung-width-text"),
        pytest.param(rung0(width=639), "rungs[0].width", "even", id="odd-width"),
        pytest.param(rung0(width=0), "rungs[0].width", "positive", id="zero-width"),
        pytest.param(rung0(width=480), "rungs[0].width", "16:9", id="not-16-9"),
        pytest.param(rung0(width=640, height=480), "rungs[0].width", "16:9", id="4-3-rung"),
        pytest.param(rung0(bitrate=800), "rungs[0].bitrate", "kbit/s", id="bitrate-in-kbits"),
        pytest.param(rung0(bitrate=True), "rungs[0].bitrate", "expected a number", id="bitrate-bool"),
        pytest.param(rung0(maxrate=700_000), "rungs[0].maxrate", "below bitrate", id="maxrate-below"),
        pytest.param(rung0(name="720p"), "rungs", "names must be unique", id="duplicate-names"),
        pytest.param(
            rung0(name="360p-alt", width=1280, height=720), "rungs", "same height", id="duplicate-heights"
        ),
        pytest.param(top(outputs="tv"), "outputs", "expected dict", id="outputs-not-table"),
        pytest.param(
            top(outputs={"radio": ["720p"]}), "outputs.radio", "unknown output", id="unknown-output"
        ),
        pytest.param(top(outputs={"tv": ["1080p"]}), "outputs.tv", "'1080p'", id="output-unknown-rung"),
        pytest.param(top(outputs={"tv": []}), "outputs.tv", "non-empty list", id="output-empty"),
        pytest.param(top(outputs={"tv": "720p"}), "outputs.tv", "non-empty list", id="output-not-list"),
        pytest.param(top(outputs={"tv": [720]}), "outputs.tv", "non-empty list", id="output-not-names"),
    ],
)
def test_invalid_profile_names_the_key(mutate: Mutation, key: str, fragment: str) -> None:
    data = profile_data()
    mutate(data)
    with pytest.raises(ProfileError) as info:
        parse_profile(data, "house.toml")
    error = info.value
    assert error.key == key
    assert error.source == "house.toml"
    assert fragment in error.problem
    assert f"'house.toml': {key}:" in str(error)
    assert isinstance(error, ConfigError)
    assert isinstance(error, ValueError)


def test_odd_height_is_refused_on_that_rung() -> None:
    data = profile_data()
    data["rungs"][0]["height"] = 361
    with pytest.raises(ProfileError) as info:
        parse_profile(data, "house.toml")
    assert info.value.key.startswith("rungs[0].")
    assert "640x361" in info.value.problem


def test_error_names_the_rung_by_its_position_in_the_file() -> None:
    data = profile_data()
    data["rungs"][1]["bitrate"] = 3000  # the 720p rung, second in the file
    with pytest.raises(ProfileError) as info:
        parse_profile(data, "house.toml")
    assert info.value.key == "rungs[1].bitrate"


def test_slate_values_are_type_checked() -> None:
    # Every other table is checked key by key; the slate is passed to Slate(**data) unchecked, so a
    # text width reaches the lavfi color source and select_ladder (width / height) at ingest time.
    with pytest.raises(ProfileError) as info:
        parse_profile(profile_data(slate={"width": "wide", "height": 720}), "house.toml")
    assert info.value.key == "slate.width"


def test_audio_bitrate_in_kbits_is_refused() -> None:
    # The same kbit/s slip the rungs are guarded against: 128 would be passed to -b:a as 128 bit/s.
    with pytest.raises(ProfileError) as info:
        parse_profile(profile_data(audio={"bitrate": 128}), "house.toml")
    assert info.value.key == "audio.bitrate"


# --- the shipped profile ---------------------------------------------------------------------


def test_shipped_default_profile_is_the_house_ladder() -> None:
    profiles = load_profiles(PROFILES_DIR)
    assert "default" in profiles
    profile = profiles["default"]

    assert [(r.name, r.width, r.height, r.bitrate) for r in profile.rungs] == [
        ("1080p", 1920, 1080, 5_000_000),
        ("720p", 1280, 720, 3_000_000),
        ("540p", 960, 540, 1_600_000),
        ("360p", 640, 360, 800_000),
        ("240p", 426, 240, 400_000),
    ]
    assert profile.frame_rate == 25
    assert profile.gop_seconds == 2.0
    assert profile.gop_frames == 50
    assert profile.segment_seconds == 6.0
    assert profile.target_duration == 6
    assert profile.segment_type == "mpegts"
    assert profile.video.codec == "libx264"
    assert profile.video.preset == "veryfast"
    assert profile.video.profile == "high"
    assert profile.video.pix_fmt == "yuv420p"
    assert (profile.audio.codec, profile.audio.bitrate) == ("aac", 128_000)
    assert (profile.audio.sample_rate, profile.audio.channels) == (48_000, 2)
    assert profile.outputs[Output.TV] == ("1080p", "720p", "540p")
    assert profile.outputs[Output.IPTV] == ("1080p", "720p", "540p", "360p")
    assert profile.outputs[Output.MOBILE] == ("720p", "540p", "360p", "240p")


@pytest.mark.parametrize("output", [pytest.param(o, id=o.value) for o in Output])
def test_shipped_outputs_name_existing_rungs(output: Output) -> None:
    profile = load_profiles(PROFILES_DIR)["default"]
    names = [r.name for r in profile.rungs]
    assert profile.outputs[output]
    assert all(name in names for name in profile.outputs[output])


def test_profile_name_must_match_the_file_stem(tmp_path: Path) -> None:
    path = tmp_path / "evening.toml"
    path.write_text((PROFILES_DIR / "default.toml").read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(ProfileError) as info:
        load_profile_file(path)
    assert info.value.key == "name"
    assert "'evening'" in info.value.problem
    assert "'default'" in info.value.problem


def test_toml_syntax_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('name = "broken"\n[[rungs]\n', encoding="utf-8")
    with pytest.raises(ProfileError) as info:
        load_profile_file(path)
    assert info.value.source == str(path)
    assert str(path) in str(info.value)


def test_missing_profile_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="profiles_dir"):
        load_profiles(tmp_path / "nowhere")


def test_empty_profile_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no transcode profiles"):
        load_profiles(tmp_path)


def test_pick_unknown_profile() -> None:
    profiles = load_profiles(PROFILES_DIR)
    assert pick_profile(profiles, "default") is profiles["default"]
    with pytest.raises(NotFoundError, match="'evening'"):
        pick_profile(profiles, "evening")
