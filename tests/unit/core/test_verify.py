"""Ladder verification on hand-built measurements: aligned ladders pass, anything else is refused."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pytest

from rcmedia.core.plan import TranscodePlan
from rcmedia.core.verify import (
    RungOutput,
    SegmentFacts,
    TrackSpan,
    average_bandwidth,
    peak_bandwidth,
    verify_ladder,
)
from rcmedia.errors import RejectedInputError, VerificationError
from tests.unit.factories import make_plan, small_profile, source_facts

SOURCE = "lecture.mxf"
SIZES = {"720p": 1280, "360p": 640}


@pytest.fixture
def plan() -> TranscodePlan:
    """15 s of 720p25 under a 720p/360p profile: segments of 6, 6 and 3 s."""
    facts = source_facts(width=1280, height=720, duration=15.0, video_duration=15.0, audio_duration=15.0)
    plan = make_plan(facts, small_profile())
    assert [g.name for g in plan.ladder] == ["720p", "360p"]
    assert plan.duration == 15.0
    return plan


def segments(
    durations: Sequence[float], sizes: Sequence[int] | None = None, *, idr: Sequence[bool] | None = None
) -> tuple[SegmentFacts, ...]:
    sizes = sizes or [100_000] * len(durations)
    idr = idr or [True] * len(durations)
    return tuple(
        SegmentFacts(name=f"seg_{i:05d}.ts", duration=d, size=s, starts_with_idr=k)
        for i, (d, s, k) in enumerate(zip(durations, sizes, idr, strict=True))
    )


def output(name: str, durations: Sequence[float] = (6.0, 6.0, 3.0), **changes: Any) -> RungOutput:
    values: dict[str, Any] = {
        "name": name,
        "width": SIZES[name],
        "height": SIZES[name] * 9 // 16,
        "frame_rate": 25.0,
        "audio_rate": 48_000,
        "audio_channels": 2,
        "codecs": "avc1.64001f,mp4a.40.2" if name == "720p" else "avc1.64001e,mp4a.40.2",
        "segments": segments(durations),
    }
    values.update(changes)
    return RungOutput(**values)


def test_aligned_ladder_is_accepted_with_true_bandwidths(plan: TranscodePlan) -> None:
    top = output("720p", segments=segments([6.0, 6.0, 3.0], [3_000_001, 2_400_000, 600_000]))
    low = output("360p", segments=segments([6.0, 6.0, 3.0], [600_000, 600_000, 600_000]))

    renditions = verify_ladder([low, top], plan=plan, source_name=SOURCE)

    assert [r.name for r in renditions] == ["720p", "360p"]  # highest first, whatever the input order
    first, second = renditions
    # 3_000_001 bytes in 6 s = 4_000_001.33 bit/s, rounded up
    assert first.bandwidth == 4_000_002
    # 6_000_001 bytes in 15 s = 3_200_000.53 bit/s, rounded up
    assert first.average_bandwidth == 3_200_001
    # the short last segment is the densest: 600_000 bytes in 3 s
    assert second.bandwidth == 1_600_000
    assert second.average_bandwidth == 960_000
    assert (first.width, first.height, first.frame_rate) == (1280, 720, 25.0)
    assert first.codecs == "avc1.64001f,mp4a.40.2"
    assert first.segments == ("seg_00000.ts", "seg_00001.ts", "seg_00002.ts")
    assert first.segment_durations == second.segment_durations == (6.0, 6.0, 3.0)
    assert first.init_segment is None


def test_segment_durations_come_from_the_reference_rung(plan: TranscodePlan) -> None:
    top = output("720p", durations=(6.0, 6.0, 3.0))
    low = output("360p", durations=(6.02, 5.98, 3.01), init_segment="init.mp4")
    renditions = verify_ladder([top, low], plan=plan, source_name=SOURCE)
    assert renditions[1].segment_durations == (6.0, 6.0, 3.0)
    assert renditions[1].init_segment == "init.mp4"


def test_bandwidth_helpers() -> None:
    segs = segments([2.0, 4.0], [250_000, 250_000])
    # with 6 s targets, 2 s alone is under half the target: the densest run is the 4 s one... or both
    assert peak_bandwidth(segs, target_duration=6) == 666_667
    # with 4 s targets, the 2 s segment alone is a run (RFC 8216bis §4.4.6.2)
    assert peak_bandwidth(segs, target_duration=4) == 1_000_000
    assert average_bandwidth(segs) == 666_667


def test_a_one_frame_tail_does_not_set_the_peak() -> None:
    """Issue 10: a 40 ms tail holding a 10 KB key frame counted as 2,068 kbit/s on every rung.

    Ingest no longer makes such tails (item 3: verify refuses them), but packages from before
    have them, and `rcmedia assets rerate` rates those with the same functions."""
    durations = (6.0, 6.0, 6.0, 0.04)
    sizes = [43_500, 43_500, 43_500, 10_340]
    low = segments(durations, sizes)
    top = segments(durations, [4 * size for size in sizes])

    # the densest run is the last 6 s segment with the tail: 53_840 bytes in 6.04 s
    assert peak_bandwidth(low, target_duration=6) == 71_312  # the segments alone: 58,000; the tail: 2,068,000
    assert peak_bandwidth(top, target_duration=6) == 285_246
    assert average_bandwidth(low) == 62_457  # 140_840 bytes in 18.04 s


def test_durations_within_one_frame_are_accepted(plan: TranscodePlan) -> None:
    top = output("720p", durations=(6.0, 6.0, 3.0))
    low = output("360p", durations=(6.0, 6.0, 3.04))  # one frame at 25 fps
    assert len(verify_ladder([top, low], plan=plan, source_name=SOURCE)) == 2


def test_total_short_by_at_most_one_frame_is_accepted(plan: TranscodePlan) -> None:
    durations = (6.0, 6.0, 2.96)
    renditions = verify_ladder(
        [output("720p", durations), output("360p", durations)], plan=plan, source_name=SOURCE
    )
    assert renditions[0].segment_durations == durations


def lasting(seconds: float) -> TranscodePlan:
    facts = source_facts(
        width=1280, height=720, duration=seconds, video_duration=seconds, audio_duration=seconds
    )
    return make_plan(facts, small_profile())


@pytest.mark.parametrize(
    ("seconds", "durations"),
    [
        # RFC 8216 §4.3.3.1: an EXTINF of 6.48 s rounds to the 6 s target duration
        pytest.param(12.48, (6.0, 6.48), id="tail-joined-to-the-last"),
        pytest.param(12.64, (6.32, 6.32), id="tail-shared-by-two"),
        pytest.param(6.8, (3.4, 3.4), id="halves"),
        pytest.param(0.4, (0.4,), id="an-asset-that-short"),
    ],
)
def test_a_tail_under_a_second_merged_as_planned_is_accepted(
    seconds: float, durations: tuple[float, ...]
) -> None:
    outputs = [output("720p", durations), output("360p", durations)]
    assert verify_ladder(outputs, plan=lasting(seconds), source_name=SOURCE)[0].segment_durations == durations


@pytest.mark.parametrize(
    ("seconds", "durations", "fragment"),
    [
        pytest.param(12.04, (6.0, 6.0, 0.04), "segment 2 lasts 0.040 s: a segment under 1 s", id="tiny-tail"),
        pytest.param(12.64, (6.0, 6.0, 0.64), "not the planned 6.32", id="tail-not-shared"),
        pytest.param(12.48, (6.0, 6.52), "rounds to more than the target", id="last-rounds-up"),
    ],
)
def test_a_tail_under_a_second_left_alone_is_refused(
    seconds: float, durations: tuple[float, ...], fragment: str
) -> None:
    error = refused(lasting(seconds), [output("720p", durations), output("360p", durations)])
    assert fragment in error.problem


def refused(plan: TranscodePlan, outputs: Sequence[RungOutput]) -> VerificationError:
    with pytest.raises(VerificationError) as info:
        verify_ladder(outputs, plan=plan, source_name=SOURCE)
    assert SOURCE in info.value.what
    return info.value


@pytest.mark.parametrize(
    ("top", "low", "what", "fragment"),
    [
        pytest.param(
            output("720p"),
            output("360p", durations=(6.0, 6.0, 2.0, 1.0)),
            "360p",
            "4 segments",
            id="more-segments-than-reference",
        ),
        pytest.param(
            output("720p"),
            output("360p", durations=(6.0, 6.0, 3.1)),
            "360p",
            "segment 2 lasts",
            id="differs-by-more-than-a-frame",
        ),
        pytest.param(
            output("720p", durations=(6.0, 4.0, 5.0)),
            output("360p", durations=(6.0, 4.0, 5.0)),
            "720p",
            "not the planned",
            id="non-final-segment-off-target",
        ),
        pytest.param(
            output("720p", durations=(6.0, 9.0)),
            output("360p", durations=(6.0, 9.0)),
            "720p",
            "rounds to more than the target duration",
            id="final-segment-too-long",
        ),
        pytest.param(
            output("720p"),
            output("360p", segments=segments([6.0, 6.0, 3.0], idr=[True, False, True])),
            "360p",
            "seg_00001.ts",
            id="segment-without-idr",
        ),
        pytest.param(
            output("720p", segments=segments([6.0, 6.0, 3.0], [1, 0, 1])),
            output("360p"),
            "720p",
            "is empty",
            id="empty-segment",
        ),
        pytest.param(output("720p", height=718), output("360p"), "720p", "1280x718", id="picture-size"),
        pytest.param(
            output("720p"), output("360p", width=480, height=360), "360p", "480x360", id="4-3-frame"
        ),
        pytest.param(output("720p", frame_rate=29.97), output("360p"), "720p", "frame rate", id="ntsc-rate"),
        pytest.param(output("720p"), output("360p", frame_rate=50.0), "360p", "frame rate", id="double-rate"),
        pytest.param(output("720p", audio_rate=44_100), output("360p"), "720p", "44100 Hz", id="audio-44k1"),
        pytest.param(output("720p"), output("360p", audio_channels=1), "360p", "x1", id="audio-mono"),
    ],
)
def test_misaligned_or_wrong_ladder_is_refused(
    plan: TranscodePlan, top: RungOutput, low: RungOutput, what: str, fragment: str
) -> None:
    error = refused(plan, [top, low])
    assert error.what.endswith(what)
    assert fragment in error.problem


@pytest.mark.parametrize(
    "names",
    [
        pytest.param(("720p",), id="missing-rung"),
        pytest.param(("720p", "360p", "360p"), id="duplicate-rung"),
        pytest.param(("720p", "540p"), id="other-rung"),
    ],
)
def test_rungs_different_from_the_plan_are_refused(plan: TranscodePlan, names: tuple[str, ...]) -> None:
    outputs = [output(name) if name in SIZES else replace(output("360p"), name=name) for name in names]
    error = refused(plan, outputs)
    assert "differ from the plan" in error.problem


def test_no_segments_is_refused(plan: TranscodePlan) -> None:
    error = refused(plan, [output("720p", durations=()), output("360p")])
    assert "no segments" in error.problem


@pytest.mark.parametrize(
    "durations",
    [
        pytest.param((6.0, 6.0), id="a-segment-missing"),
        pytest.param((6.0, 6.0, 2.9), id="short-by-more-than-a-frame"),
    ],
)
def test_short_total_means_a_truncated_input(plan: TranscodePlan, durations: tuple[float, ...]) -> None:
    with pytest.raises(RejectedInputError) as info:
        verify_ladder([output("720p", durations), output("360p", durations)], plan=plan, source_name=SOURCE)
    assert info.value.filename == SOURCE
    assert "truncated" in info.value.reason


def test_rungs_disagreeing_is_a_verification_failure_not_a_truncated_input(plan: TranscodePlan) -> None:
    # The 360p rung has the whole 15 s, so the source decoded fully; only the first (reference)
    # rung came out short. That is a transcode fault (retryable VerificationError), not a bad input
    # (RejectedInputError is never retried and tells the editor the file is damaged).
    top = output("720p", durations=(6.0, 6.0))
    low = output("360p", durations=(6.0, 6.0, 3.0))
    error = refused(plan, [top, low])
    assert "segments" in error.problem


def span(audio_start: float, audio_end: float) -> TrackSpan:
    """A rendition whose pictures run from 1.48 s (the MPEG-TS muxer's offset) for 15 s."""
    return TrackSpan(video_start=1.48, video_end=16.48, audio_start=audio_start, audio_end=audio_end)


@pytest.mark.parametrize(
    ("audio_start", "audio_end"),
    [
        pytest.param(1.48, 16.48, id="exact"),
        pytest.param(1.48, 16.48 + 0.0213, id="ends-within-an-aac-frame-after"),
        pytest.param(1.48 - 0.0213, 16.48 - 0.0213, id="within-an-aac-frame-before"),
    ],
)
def test_audio_within_an_aac_frame_of_the_pictures_is_accepted(
    plan: TranscodePlan, audio_start: float, audio_end: float
) -> None:
    outputs = [output("720p", span=span(audio_start, audio_end)), output("360p", span=span(1.48, 16.48))]
    assert verify_ladder(outputs, plan=plan, source_name=SOURCE)


@pytest.mark.parametrize(
    ("audio_start", "audio_end", "fragment"),
    [
        # issue 10, asset 30: the sound ran on 103 ms after the last picture
        pytest.param(1.48, 16.583, "the audio ends 103.0 ms after the last picture", id="runs-on"),
        pytest.param(1.48, 16.43, "the audio ends 50.0 ms before the last picture", id="stops-early"),
        pytest.param(1.43, 16.48, "the audio starts 50.0 ms before the first picture", id="starts-early"),
        pytest.param(1.53, 16.48, "the audio starts 50.0 ms after the first picture", id="starts-late"),
    ],
)
def test_audio_off_its_pictures_by_more_than_an_aac_frame_is_refused(
    plan: TranscodePlan, audio_start: float, audio_end: float, fragment: str
) -> None:
    error = refused(plan, [output("720p"), output("360p", span=span(audio_start, audio_end))])
    assert error.what.endswith("360p")
    assert fragment in error.problem
