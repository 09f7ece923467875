"""The transcode plan: every decision about one source, without ffmpeg."""

from __future__ import annotations

import pytest

from rcmedia.core.plan import AudioInput, LoudnessTarget, VideoInput, plan_transcode
from rcmedia.core.probe import SourceFacts
from tests.unit.factories import MEASURED, default_profile, make_plan, source_facts


@pytest.mark.parametrize(
    ("duration", "frames"),
    [
        pytest.param(10.0, 250, id="whole-seconds"),
        pytest.param(10.03, 251, id="rounds-up"),
        pytest.param(10.01, 250, id="rounds-down"),
        pytest.param(0.5, 12, id="half-second"),
        pytest.param(0.01, 1, id="at-least-one-frame"),
        pytest.param(5400.0, 135_000, id="ninety-minutes"),
    ],
)
def test_frames_and_audio_samples(duration: float, frames: int) -> None:
    plan = make_plan(source_facts(duration=duration, video_duration=duration, audio_duration=duration))
    assert plan.frames == frames
    assert plan.audio_samples == frames * 1920  # 48000 / 25 samples per frame, no drift
    assert plan.duration == frames / 25


def test_video_with_audio_uses_both_tracks() -> None:
    plan = make_plan(source_facts())
    assert plan.video is VideoInput.SOURCE
    assert plan.audio is AudioInput.SOURCE
    assert plan.loudness == MEASURED
    assert plan.deinterlace is False
    assert plan.title == "第1课"
    assert plan.target == LoudnessTarget()
    assert [g.name for g in plan.ladder] == ["1080p", "720p", "540p", "360p", "240p"]


def test_audio_only_source_gets_a_slate() -> None:
    facts = SourceFacts(
        filename="talk.wav",
        size_bytes=1_000_000,
        duration=30.0,
        audio_duration=30.0,
        has_audio=True,
        audio_channels=2,
        audio_rate=44_100,
        interlaced=True,  # meaningless without video: must not turn deinterlacing on
    )
    plan = make_plan(facts)
    assert plan.video is VideoInput.SLATE
    assert plan.audio is AudioInput.SOURCE
    assert plan.deinterlace is False
    assert plan.loudness == MEASURED
    # the ladder follows the 1280x720 slate: no rung above it
    assert [g.name for g in plan.ladder] == ["720p", "540p", "360p", "240p"]
    assert all(g.pad_x == 0 and g.pad_y == 0 for g in plan.ladder)


def test_silent_video_gets_a_silent_track_and_no_loudness() -> None:
    plan = make_plan(source_facts(has_audio=False, audio_channels=0, audio_rate=0, audio_duration=0.0))
    assert plan.video is VideoInput.SOURCE
    assert plan.audio is AudioInput.SILENCE
    assert plan.loudness is None


@pytest.mark.parametrize(
    ("interlaced", "expected"),
    [pytest.param(True, True, id="interlaced"), pytest.param(False, False, id="progressive")],
)
def test_deinterlace_only_interlaced_video(interlaced: bool, expected: bool) -> None:
    assert make_plan(source_facts(interlaced=interlaced)).deinterlace is expected


def test_loudness_none_is_kept_for_a_silent_measurement() -> None:
    assert make_plan(source_facts(), loudness=None).loudness is None


@pytest.mark.parametrize(
    ("duration", "video_duration", "pad"),
    [
        pytest.param(10.0, 10.0, 0.5, id="same-length"),
        pytest.param(10.0, 9.2, 1.3, id="video-short"),
        pytest.param(10.0, 10.04, 0.5, id="video-longer"),
        pytest.param(7.0, 0.0, 7.5, id="no-video-length"),
    ],
)
def test_pad_seconds(duration: float, video_duration: float, pad: float) -> None:
    plan = make_plan(source_facts(duration=duration, video_duration=video_duration))
    assert plan.pad_seconds == pytest.approx(pad)


def test_ladder_follows_the_source() -> None:
    plan = make_plan(source_facts(width=640, height=480))
    assert [(g.name, g.content_width, g.pad_x) for g in plan.ladder] == [("360p", 480, 80), ("240p", 320, 52)]


def test_target_is_passed_through() -> None:
    target = LoudnessTarget(integrated=-23.0, true_peak=-2.0, lra=7.0)
    plan = plan_transcode(source_facts(), default_profile(), title="t", loudness=None, target=target)
    assert plan.target == target
