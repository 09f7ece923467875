"""The transcode plan: every decision about one source, without ffmpeg."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from rcmedia.core.plan import (
    AudioInput,
    LoudnessTarget,
    VideoInput,
    hls_time_frames,
    keyframes,
    plan_slate,
    plan_transcode,
    segment_layout,
    slate_loop_quantum,
)
from rcmedia.core.probe import SourceFacts
from rcmedia.core.profile import Profile
from tests.unit.factories import (
    MEASURED,
    default_profile,
    make_plan,
    small_profile,
    source_facts,
    tiny_profile,
)


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
    # whole AAC frames, never past the pictures: the priming frame ahead makes up the difference
    assert plan.encoded_audio_samples == max(1024, frames * 1920 // 1024 * 1024)
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


# --- the house slate ----------------------------------------------------------------------------

PROFILES: dict[str, Callable[[], Profile]] = {
    "default": default_profile,
    "tiny": tiny_profile,
    "one-second": lambda: small_profile(gop_seconds=1, segment_seconds=1),
}


def loop_of(frames: tuple[int, ...]) -> tuple[int, int]:
    """(first index, length) of the longest run of full-length segments: where players find the loop."""
    full = max(frames)
    runs, at = [], 0
    for length, run in itertools.groupby(frames):
        count = len(list(run))
        if length == full:
            runs.append((count, -at))
        at += count
    count, start = max(runs)
    return -start, count


@pytest.mark.parametrize("name", list(PROFILES))
def test_the_slate_loop_wraps_on_a_whole_video_frame_and_a_whole_aac_frame(name: str) -> None:
    profile = PROFILES[name]()
    frames = plan_slate(profile, title="精彩节目 马上回来").segment_frames
    assert frames is not None
    start, length = loop_of(frames)
    loop_us, rest = divmod(length * frames[start] * 1_000_000, profile.frame_rate)
    assert rest == 0
    assert loop_us * profile.frame_rate % 1_000_000 == 0, "whole video frames"
    # an AAC frame is 1024 samples: 21 333.3 µs at 48 kHz
    assert loop_us * profile.audio.sample_rate % (1024 * 1_000_000) == 0, "whole AAC frames"
    # the encode's start (the AAC priming frame) and its end (the encoder's flush) stay out of it
    assert start >= 1, "a non-loop segment before the loop"
    assert start + length < len(frames), "a non-loop segment after the loop"


@pytest.mark.parametrize(
    ("name", "before", "loop", "after"),
    [
        pytest.param(
            "default",
            (5, 10, 15, 20, 50, 75, 100, 125),
            8,
            (*range(25, 50), 1, 2, 3, 4),
            id="default-48s",
        ),
        pytest.param("tiny", (5, 10, 15, 20), 28, (*range(25, 50), 1, 2, 3, 4), id="tiny-56s"),
        # segments under two seconds keep the older layout: steps of ⌈√25⌉ and 1 … 4 frames
        pytest.param("one-second", (5, 10, 15, 20), 8, (1, 2, 3, 4), id="one-second-8s"),
    ],
)
def test_slate_layout_is_steps_up_then_the_loop_then_the_rest(
    name: str, before: tuple[int, ...], loop: int, after: tuple[int, ...]
) -> None:
    profile = PROFILES[name]()
    full = round(profile.segment_seconds * profile.frame_rate)
    plan = plan_slate(profile, title="台标卡", loop_seconds=8.0 if name == "one-second" else 60.0)
    assert plan.segment_frames == (*before, *(full,) * loop, *after)
    assert plan.frames == sum(plan.segment_frames)
    assert (plan.video, plan.audio, plan.title) == (VideoInput.SLATE, AudioInput.SILENCE, "台标卡")


@pytest.mark.parametrize(
    ("loop_seconds", "segments"),
    [
        pytest.param(60.0, 8, id="60s-tie-to-the-shorter-48s"),
        pytest.param(66.0, 12, id="66s-nearest-72s"),
        pytest.param(37.0, 8, id="37s-nearest-48s"),
        pytest.param(36.0, 4, id="36s-tie-to-the-shorter-24s"),
        pytest.param(1.0, 4, id="at-least-one-quantum"),
        pytest.param(0.0, 4, id="zero"),
    ],
)
def test_slate_loop_is_the_nearest_whole_number_of_quanta(loop_seconds: float, segments: int) -> None:
    frames = plan_slate(default_profile(), title="t", loop_seconds=loop_seconds).segment_frames
    assert frames is not None
    assert loop_of(frames)[1] == segments


@pytest.mark.parametrize(
    ("frame_rate", "gop_seconds", "segment_seconds", "quantum"),
    [
        pytest.param(25, 2, 6, 4, id="25fps-6s"),
        pytest.param(25, 1, 2, 4, id="25fps-2s"),
        pytest.param(25, 1, 1, 8, id="25fps-1s"),
        pytest.param(25, 2, 4, 2, id="25fps-4s"),
        pytest.param(25, 2, 8, 1, id="25fps-8s"),
        pytest.param(30, 2, 6, 4, id="30fps-6s"),
        pytest.param(24, 0.5, 0.5, 16, id="24fps-half-second"),
    ],
)
def test_slate_loop_quantum(
    frame_rate: int, gop_seconds: float, segment_seconds: float, quantum: int
) -> None:
    profile = small_profile(frame_rate=frame_rate, gop_seconds=gop_seconds, segment_seconds=segment_seconds)
    assert slate_loop_quantum(profile) == quantum
    full = round(segment_seconds * frame_rate)
    samples_per_frame = 48_000 // frame_rate
    assert quantum * full * samples_per_frame % 1024 == 0
    assert all(n * full * samples_per_frame % 1024 for n in range(1, quantum)), "the fewest"


@pytest.mark.parametrize(
    ("seconds", "lengths"),
    [
        pytest.param(12.0, (150, 150), id="whole-segments"),
        pytest.param(13.6, (150, 150, 40), id="tail-of-a-second-or-more-stays"),
        pytest.param(12.04, (150, 151), id="one-frame-joins-the-last"),
        pytest.param(12.48, (150, 162), id="under-half-a-second-joins-the-last"),
        pytest.param(12.52, (156, 157), id="half-a-second-is-shared"),
        pytest.param(18.96, (150, 162, 162), id="under-a-second-is-shared-by-two"),
        pytest.param(6.8, (85, 85), id="one-segment-to-share-with-halves"),
        pytest.param(6.52, (81, 82), id="halves-odd"),
        pytest.param(0.4, (10,), id="an-asset-that-short"),
        pytest.param(4.0, (100,), id="shorter-than-a-segment"),
    ],
)
def test_segment_layout_leaves_no_tail_under_a_second(seconds: float, lengths: tuple[int, ...]) -> None:
    assert segment_layout(round(seconds * 25), full=150, second=25) == lengths
    assert make_plan(source_facts(duration=seconds)).segment_lengths == lengths


def muxer_cuts(forced: tuple[int, ...], period: int, frames: int) -> tuple[int, ...]:
    """Segment lengths as ffmpeg's HLS muxer cuts: at the first keyframe at or after k × hls_time."""
    cuts, k = [0], 1
    for frame in forced:
        if frame >= k * period:
            cuts.append(frame)
            k += 1
    cuts.append(frames)
    return tuple(b - a for a, b in itertools.pairwise(cuts))


@pytest.mark.parametrize(
    ("fps", "gop", "full"),
    [
        pytest.param(25, 50, 150, id="shipped-6s"),
        pytest.param(25, 25, 50, id="tiny-2s"),
        pytest.param(25, 5, 150, id="short-gops"),
        pytest.param(25, 150, 150, id="gop-is-segment"),
        pytest.param(30, 60, 180, id="30fps"),
        pytest.param(50, 50, 100, id="50fps-2s"),
    ],
)
def test_every_layout_is_what_the_muxer_cuts_and_none_rounds_past_the_target(
    fps: int, gop: int, full: int
) -> None:
    for frames in range(1, 6 * full):
        lengths = segment_layout(frames, full=full, second=fps)
        assert sum(lengths) == frames
        forced = keyframes(lengths, full=full, gop=gop)
        assert muxer_cuts(forced, hls_time_frames(lengths, full), frames) == lengths, frames
        # every EXTINF rounds to no more than the target (RFC 8216 §4.3.3.1)
        assert all(2 * (length - full) < fps for length in lengths), (frames, lengths)
        whole, tail = divmod(frames, full)
        # at 30 fps a 29-frame tail needs three segments to share it (each < 0.5 s): with only
        # two it stays (documented in segment_layout); at 25 and 50 fps two always suffice
        unshareable = whole == 2 and 2 * -(-tail // 2) >= fps > tail
        if frames >= full + fps and not unshareable:
            assert min(lengths) >= fps, (frames, lengths)
        gaps = [b - a for a, b in itertools.pairwise((*forced, frames))]
        assert max(gaps) < gop + fps, (frames, forced)  # a last GOP less than a second longer
