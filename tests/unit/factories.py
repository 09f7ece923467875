"""Builders shared by the unit tests: the shipped profile, valid profile data, source facts, plans."""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

from rcmedia.core.plan import LoudnessMeasurement, LoudnessTarget, TranscodePlan, plan_transcode
from rcmedia.core.probe import SourceFacts
from rcmedia.core.profile import Profile, parse_profile
from rcmedia.profiles import load_profile_file

PROJECT = Path(__file__).resolve().parents[2]
PROFILES_DIR = PROJECT / "transcode_profiles"
TEST_PROFILES_DIR = PROJECT / "tests" / "resources" / "profiles"

# A small valid profile as TOML would give it: two rungs, given lowest first on purpose.
_PROFILE_DATA: dict[str, Any] = {
    "name": "house",
    "frame_rate": 25,
    "gop_seconds": 2,
    "segment_seconds": 6,
    "rungs": [
        {"name": "360p", "width": 640, "height": 360, "bitrate": 800_000},
        {"name": "720p", "width": 1280, "height": 720, "bitrate": 3_000_000},
    ],
}

MEASURED = LoudnessMeasurement(
    input_i=-30.1, input_tp=-3.2, input_lra=5.5, input_thresh=-40.3, target_offset=0.4
)


def profile_data(**changes: Any) -> dict[str, Any]:
    """A fresh copy of a valid profile mapping with top-level ``changes`` applied."""
    data = copy.deepcopy(_PROFILE_DATA)
    data.update(copy.deepcopy(changes))
    return data


@cache
def default_profile() -> Profile:
    """The shipped ``transcode_profiles/default.toml``."""
    return load_profile_file(PROFILES_DIR / "default.toml")


@cache
def tiny_profile() -> Profile:
    """The integration tests' ladder, ``tests/resources/profiles/tiny.toml``: 2 s segments, 25 fps."""
    return load_profile_file(TEST_PROFILES_DIR / "tiny.toml")


def small_profile(**changes: Any) -> Profile:
    return parse_profile(profile_data(**changes), "house.toml")


def source_facts(**changes: Any) -> SourceFacts:
    """A 10 s progressive 1080p25 16:9 file with stereo 48 kHz audio, unless ``changes`` say otherwise."""
    values: dict[str, Any] = {
        "filename": "lecture.mxf",
        "size_bytes": 50_000_000,
        "duration": 10.0,
        "video_duration": 10.0,
        "audio_duration": 10.0,
        "container": "MXF",
        "has_video": True,
        "width": 1920,
        "height": 1080,
        "frame_rate": 25.0,
        "video_codec": "AVC",
        "has_audio": True,
        "audio_channels": 2,
        "audio_rate": 48_000,
        "audio_codec": "AAC",
    }
    values.update(changes)
    return SourceFacts(**values)


def make_plan(
    facts: SourceFacts | None = None,
    profile: Profile | None = None,
    *,
    loudness: LoudnessMeasurement | None = MEASURED,
    title: str = "第1课",
) -> TranscodePlan:
    return plan_transcode(
        facts or source_facts(),
        profile or default_profile(),
        title=title,
        loudness=loudness,
        target=LoudnessTarget(),
    )
