"""The one-pass ladder command, built from a plan and read back as argv and filter graph (no ffmpeg)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from rcmedia.core.plan import TranscodePlan
from rcmedia.media.command import loudness_measure_args, repackage_args, segment_extension, transcode_args
from tests.unit.factories import MEASURED, make_plan, small_profile, source_facts

FFMPEG = "/opt/ffmpeg"
SOURCE = Path("/in/lecture.mxf")
OUT = Path("/work/out")
GLOBALS = ["-hide_banner", "-nostats", "-loglevel", "error", "-progress", "pipe:1"]


def build(plan: TranscodePlan, title_file: Path | None = None) -> list[str]:
    return transcode_args(plan, source=SOURCE, out_dir=OUT, ffmpeg_bin=FFMPEG, title_file=title_file)


def inputs(argv: list[str]) -> list[tuple[str | None, str]]:
    """(format, url) of every -i, in order."""
    found = []
    for index, token in enumerate(argv):
        if token == "-i":
            fmt = argv[index - 1] if argv[index - 2] == "-f" else None
            found.append((fmt, argv[index + 1]))
    return found


def graph(argv: list[str]) -> str:
    assert argv.count("-filter_complex") == 1
    return argv[argv.index("-filter_complex") + 1]


def filters(argv: list[str]) -> list[str]:
    """The filter chain entries without their link labels, e.g. ``scale=640:360:flags=bicubic``."""
    return [re.sub(r"^(\[[^\]]+\])+|(\[[^\]]+\])+$", "", part) for part in graph(argv).split(";")]


def filter_args(argv: list[str], name: str) -> dict[str, str]:
    """The key=value options of the single ``name`` filter in the graph."""
    matches = [f for f in filters(argv) if f.startswith(f"{name}=")]
    assert len(matches) == 1, matches
    return dict(item.split("=", 1) for item in matches[0].removeprefix(f"{name}=").split(":"))


def outputs(argv: list[str]) -> list[dict[str, Any]]:
    """The per-output options after the filter graph, one dict per output file."""
    index = argv.index("-filter_complex") + 2
    found: list[dict[str, Any]] = []
    current: dict[str, Any] = {"-map": []}
    while index < len(argv):
        token = argv[index]
        if token == "-y" and index == len(argv) - 1:
            break
        if token.startswith("-"):
            if token == "-map":
                current["-map"].append(argv[index + 1])
            else:
                assert token not in current, f"{token} given twice for one output"
                current[token] = argv[index + 1]
            index += 2
        else:
            current["path"] = token
            found.append(current)
            current = {"-map": []}
            index += 1
    return found


@pytest.fixture
def plan() -> TranscodePlan:
    """An interlaced 1080i 16:9 file with audio, loudness measured: all five rungs."""
    return make_plan(source_facts(interlaced=True, duration=93.3, video_duration=93.28))


def test_global_options_follow_the_binary(plan: TranscodePlan) -> None:
    argv = build(plan)
    assert argv[0] == FFMPEG
    assert argv[1:7] == GLOBALS
    assert argv[-1] == "-y"
    assert all(token not in argv[7:] for token in ("-progress", "-hide_banner", "-loglevel"))


def test_source_is_read_once(plan: TranscodePlan) -> None:
    assert inputs(build(plan)) == [(None, str(SOURCE))]
    assert "[0:v:0]" in graph(build(plan))
    assert "[0:a:0]" in graph(build(plan))


def test_one_split_feeds_every_rung(plan: TranscodePlan) -> None:
    entries = filters(build(plan))
    assert entries.count("split=5") == 1
    assert entries.count("asplit=5") == 1
    for geometry in plan.ladder:
        rung = geometry.rung
        assert f"scale={geometry.content_width}:{geometry.content_height}:flags=bicubic" in entries
        assert (geometry.content_width, geometry.content_height) == (rung.width, rung.height)
    assert not [e for e in entries if e.startswith("pad=")], "a 16:9 source needs no padding"
    assert entries.count("setsar=1") == 5
    assert entries.count("format=yuv420p") == 5


def test_pillarboxed_source_gets_the_geometry_numbers() -> None:
    plan = make_plan(source_facts(width=640, height=480))
    entries = filters(build(plan))
    assert "split=2" in entries
    assert "scale=480:360:flags=bicubic" in entries
    assert "pad=640:360:80:0:color=black" in entries
    assert "scale=320:240:flags=bicubic" in entries
    assert "pad=426:240:52:0:color=black" in entries


def test_single_rung_has_no_split() -> None:
    plan = make_plan(source_facts(width=160, height=90))
    assert [g.name for g in plan.ladder] == ["240p"]
    argv = build(plan)
    entries = filters(argv)
    assert not any(e.startswith(("split", "asplit")) for e in entries)
    assert len(outputs(argv)) == 1


def test_conditioning_chain(plan: TranscodePlan) -> None:
    entries = filters(build(plan))
    assert plan.frames == 2332  # round(93.3 * 25)
    assert "fps=fps=25" in entries
    assert f"trim=end_frame={plan.frames}" in entries
    # 4 477 440 samples of video length, 4372.5 AAC frames: 4372 of them
    assert "apad=whole_len=4476928" in entries
    assert "atrim=end_sample=4476928" in entries
    assert entries.index("atrim=end_sample=4476928") + 1 == entries.index("asetpts=(N+1024)/SR/TB")
    assert "tpad=stop_duration=0.52:stop_mode=clone" in entries
    assert "aformat=channel_layouts=stereo:sample_rates=48000" in entries
    # the order of the video conditioning: deinterlace before the frame rate, trim last
    order = [e.split("=")[0] for e in entries]
    assert order.index("bwdif") < order.index("fps") < order.index("tpad") < order.index("trim")


@pytest.mark.parametrize(
    ("interlaced", "present"),
    [pytest.param(True, True, id="interlaced"), pytest.param(False, False, id="progressive")],
)
def test_bwdif_only_when_deinterlacing(interlaced: bool, present: bool) -> None:
    entries = filters(build(make_plan(source_facts(interlaced=interlaced))))
    assert any(e.startswith("bwdif=") for e in entries) is present


def test_loudnorm_second_pass_uses_the_measurement(plan: TranscodePlan) -> None:
    args = filter_args(build(plan), "loudnorm")
    assert args == {
        "I": "-24.0",
        "TP": "-1.0",
        "LRA": "11.0",
        "measured_I": str(MEASURED.input_i),
        "measured_TP": str(MEASURED.input_tp),
        "measured_LRA": str(MEASURED.input_lra),
        "measured_thresh": str(MEASURED.input_thresh),
        "offset": str(MEASURED.target_offset),
        "linear": "true",
    }


@pytest.mark.parametrize(
    "plan_kind",
    [pytest.param("silent-measurement", id="silent-measurement"), pytest.param("no-audio", id="no-audio")],
)
def test_no_loudnorm_without_a_measurement(plan_kind: str) -> None:
    if plan_kind == "no-audio":
        plan = make_plan(source_facts(has_audio=False))
    else:
        plan = make_plan(source_facts(), loudness=None)
    assert not any(e.startswith("loudnorm") for e in filters(build(plan)))


def test_silence_is_made_for_a_video_without_audio() -> None:
    plan = make_plan(source_facts(has_audio=False))
    argv = build(plan)
    assert inputs(argv) == [(None, str(SOURCE)), ("lavfi", "anullsrc=r=48000:cl=stereo")]
    assert "[0:a:0]" not in graph(argv)
    assert "[1:a]" in graph(argv)


def test_slate_is_made_for_an_audio_only_source() -> None:
    facts = source_facts(has_video=False, width=0, height=0, video_duration=0.0)
    plan = make_plan(facts)
    title = Path("/work/out/title.txt")
    argv = build(plan, title_file=title)
    assert inputs(argv) == [("lavfi", "color=c=0x1d3557:s=1280x720:r=25"), (None, str(SOURCE))]
    assert "[0:v]" in graph(argv)
    assert "[1:a:0]" in graph(argv)
    drawtext = filter_args(argv, "drawtext")
    assert drawtext["textfile"] == str(title)
    assert drawtext["expansion"] == "none"
    assert drawtext["fontsize"] == "48"  # 720 / 15
    assert not any(e.startswith("bwdif") for e in filters(argv))
    assert [o["path"] for o in outputs(argv)] == [
        str(OUT / name / "index.m3u8") for name in ("720p", "540p", "360p", "240p")
    ]


def test_slate_without_title_has_no_drawtext() -> None:
    plan = make_plan(source_facts(has_video=False, width=0, height=0))
    assert not any(e.startswith("drawtext") for e in filters(build(plan)))


def test_every_rung_gets_the_same_fixed_gop_and_segment_target(plan: TranscodePlan) -> None:
    found = outputs(build(plan))
    assert [o["path"] for o in found] == [str(OUT / g.name / "index.m3u8") for g in plan.ladder]
    for options, geometry in zip(found, plan.ladder, strict=True):
        rung = geometry.rung
        assert options["-c:v"] == "libx264"
        assert options["-preset"] == "veryfast"
        assert options["-profile:v"] == "high"
        assert options["-b:v"] == str(rung.bitrate)
        assert options["-maxrate"] == str(rung.maxrate)
        assert options["-bufsize"] == str(rung.bufsize)
        assert options["-g"] == "50"
        assert options["-keyint_min"] == "50"
        assert options["-sc_threshold"] == "0"
        x264 = dict(item.split("=") for item in options["-x264-params"].split(":"))
        assert x264 == {"keyint": "50", "min-keyint": "50", "scenecut": "0", "open-gop": "0"}
        # one keyframe every 50 frames, by frame number, up to the last GOP (frame 2300 of 2350)
        assert options["-force_key_frames"] == "expr:between(n,0,2300)*not(mod(n-0,50))"
        assert options["-c:a"] == "aac"
        assert options["-b:a"] == "128000"
        assert options["-ar"] == "48000"
        assert options["-ac"] == "2"
        assert options["-f"] == "hls"
        assert options["-hls_time"] == "6"
        assert options["-hls_playlist_type"] == "vod"
        assert options["-hls_list_size"] == "0"
        assert options["-hls_segment_type"] == "mpegts"
        assert options["-hls_segment_filename"] == str(OUT / rung.name / "seg_%05d.ts")
        assert "-hls_fmp4_init_filename" not in options
        assert len(options["-map"]) == 2


def test_each_output_maps_its_own_video_and_audio_branch(plan: TranscodePlan) -> None:
    found = outputs(build(plan))
    video_labels = [o["-map"][0] for o in found]
    audio_labels = [o["-map"][1] for o in found]
    assert len(set(video_labels)) == len(set(audio_labels)) == 5
    entries = graph(build(plan)).split(";")
    for label in video_labels:  # each ends a scale/pad/format chain
        producer = next(e for e in entries if e.endswith(label))
        assert "format=yuv420p" in producer
    split = next(e for e in entries if "asplit=5" in e)
    assert all(label in split for label in audio_labels)


def test_fmp4_profile_writes_m4s_and_an_init_segment() -> None:
    profile = small_profile(segment_type="fmp4")
    plan = make_plan(source_facts(), profile)
    for options in outputs(build(plan)):
        assert options["-hls_segment_type"] == "fmp4"
        assert options["-hls_fmp4_init_filename"] == "init.mp4"
        assert options["-hls_segment_filename"].endswith(".m4s")


def test_profile_timing_reaches_the_command() -> None:
    profile = small_profile(gop_seconds=1, segment_seconds=4, frame_rate=50)
    plan = make_plan(source_facts(duration=2.0, video_duration=2.0), profile)
    argv = build(plan)
    assert "fps=fps=50" in filters(argv)
    assert "trim=end_frame=100" in filters(argv)
    # 2 s is 96000 samples, 93.75 AAC frames: cut to 93 (95232 samples), stamped from the samples
    # one priming frame late (the encoder stamps its priming frame one frame early)
    assert "atrim=end_sample=95232" in filters(argv)
    assert "asetpts=(N+1024)/SR/TB" in filters(argv)
    for options in outputs(argv):
        assert (options["-g"], options["-keyint_min"], options["-hls_time"]) == ("50", "50", "4")
        assert options["-force_key_frames"] == "expr:between(n,0,50)*not(mod(n-0,50))"


@pytest.mark.parametrize(
    ("duration", "keyframes", "keyint", "hls_time"),
    [
        # 12.64 s: 0.64 s over two segments is shared out, 6.32 s each; the keyframes follow
        pytest.param(
            12.64,
            "between(n,0,100)*not(mod(n-0,50))+between(n,158,258)*not(mod(n-158,50))",
            58,
            "6",
            id="tail-shared-by-two",
        ),
        # 12.40 s: 0.40 s joins the last segment (6.40 s), whose last GOP is 2.40 s
        pytest.param(12.4, "between(n,0,250)*not(mod(n-0,50))", 60, "6", id="tail-joins-the-last"),
        # 6.80 s: one segment to share 0.80 s with; two of 3.40 s, the muxer cutting at 3.40 s
        pytest.param(
            6.8,
            "between(n,0,50)*not(mod(n-0,50))+between(n,85,135)*not(mod(n-85,50))",
            50,
            "3.400000",
            id="halves",
        ),
    ],
)
def test_a_tail_under_a_second_moves_the_last_keyframes(
    duration: float, keyframes: str, keyint: int, hls_time: str
) -> None:
    plan = make_plan(source_facts(duration=duration, video_duration=duration, audio_duration=duration))
    for options in outputs(build(plan)):
        assert options["-force_key_frames"] == f"expr:{keyframes}"
        assert (options["-g"], options["-keyint_min"], options["-hls_time"]) == (str(keyint), "50", hls_time)
        assert options["-x264-params"] == f"keyint={keyint}:min-keyint=50:scenecut=0:open-gop=0"


@pytest.mark.parametrize(
    ("segment_type", "extension"),
    [pytest.param("mpegts", "ts", id="mpegts"), pytest.param("fmp4", "m4s", id="fmp4")],
)
def test_segment_extension(segment_type: str, extension: str) -> None:
    assert segment_extension(segment_type) == extension


def test_loudness_measure_args() -> None:
    argv = loudness_measure_args(SOURCE, ffmpeg_bin=FFMPEG)
    assert argv[:4] == [FFMPEG, "-hide_banner", "-nostats", "-vn"]
    assert inputs(argv) == [(None, str(SOURCE))]
    assert "[0:a:0]" in graph(argv)
    assert "aresample=48000" in filters(argv)
    assert filter_args(argv, "ebur128") == {"peak": "true", "framelog": "quiet"}
    assert argv[-3:] == ["-f", "null", "-"]


def test_loudness_measure_args_follow_the_sample_rate() -> None:
    argv = loudness_measure_args(SOURCE, ffmpeg_bin=FFMPEG, sample_rate=44_100)
    assert "aresample=44100" in filters(argv)
    assert "aformat=channel_layouts=stereo:sample_rates=44100" in filters(argv)


@pytest.mark.parametrize(
    ("boundaries", "cuts"),
    [
        pytest.param([5.98, 11.98], ["-segment_times", "5.980000,11.980000"], id="at-the-old-cuts"),
        pytest.param([], ["-segment_time", "86400"], id="one-segment-never-cut"),
    ],
)
def test_repackage_copies_and_restamps_only_the_audio(boundaries: list[float], cuts: list[str]) -> None:
    argv = repackage_args(
        Path("/old/360p/index.m3u8"),
        Path("/new/360p"),
        ffmpeg_bin=FFMPEG,
        video_start_ticks=133_200,
        audio_packets=205,
        boundaries=boundaries,
    )
    assert argv[0] == FFMPEG
    assert argv[argv.index("-c") + 1] == "copy"
    assert "-copyts" in argv
    assert argv[argv.index("-bsf:a") + 1] == "setts=ts=133200+N*1920"
    assert argv[argv.index("-frames:a") + 1] == "205"
    assert argv[argv.index("-segment_format_options") + 1] == "mpegts_copyts=1"
    at = argv.index(cuts[0])
    assert argv[at : at + 2] == cuts
    assert argv[-1] == "/new/360p/seg_%05d.ts"
