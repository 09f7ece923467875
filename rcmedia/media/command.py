"""ffmpeg argument lists, built purely from a plan (no process is run here).

The transcode is one ffmpeg process: decode once, condition once (deinterlace, 25 fps, exact
length), then ``split`` into every rung (scale + pad to 16:9) and ``asplit`` the conditioned audio
(48 kHz stereo, loudness-normalised) into each rung's muxer. Every rung gets the same fixed GOP with
scene-cut off and the same segment target, so segment boundaries are identical across rungs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ffmpeg

from rcmedia.core.plan import (
    AAC_PRIMING_SAMPLES,
    AudioInput,
    TranscodePlan,
    VideoInput,
    hls_time_frames,
    keyframe_runs,
    keyframes,
)

SLATE_FONT = "Noto Sans CJK SC"  # fontconfig falls back to its default face when absent


def segment_extension(segment_type: str) -> str:
    return "m4s" if segment_type == "fmp4" else "ts"


def _loudnorm_args(plan: TranscodePlan) -> dict[str, Any]:
    target = plan.target
    args: dict[str, Any] = {"I": target.integrated, "TP": target.true_peak, "LRA": target.lra}
    if plan.loudness is not None:
        m = plan.loudness
        args.update(
            measured_I=m.input_i,
            measured_TP=m.input_tp,
            measured_LRA=m.input_lra,
            measured_thresh=m.input_thresh,
            offset=m.target_offset,
            linear="true",
        )
    return args


def _audio_chain(stream: Any, plan: TranscodePlan) -> Any:
    rate = plan.profile.audio.sample_rate
    stream = stream.filter("asetpts", "PTS-STARTPTS")
    stream = stream.filter("aresample", rate).filter("aformat", sample_rates=rate, channel_layouts="stereo")
    if plan.audio is AudioInput.SOURCE and plan.loudness is not None:
        # loudnorm works at 192 kHz internally; resample back to the house rate after it.
        stream = stream.filter("loudnorm", **_loudnorm_args(plan)).filter("aresample", rate)
    # As long as the video in whole AAC frames, padded with silence where the source is short: a
    # splice must not drift (DESIGN "live timeline"). Timestamps are then counted from the
    # samples (filters such as loudnorm leave gaps in them that the muxer would keep: 30 ms in
    # a 4 s clip, which pushed the audio's end 100 ms past the picture), one priming frame late:
    # the encoder stamps its priming frame one frame earlier, so the first audio packet starts
    # with the first picture (issue 10).
    samples = plan.encoded_audio_samples
    stream = stream.filter("apad", whole_len=samples).filter("atrim", end_sample=samples)
    return stream.filter("asetpts", f"(N+{AAC_PRIMING_SAMPLES})/SR/TB")


def _video_chain(stream: Any, plan: TranscodePlan) -> Any:
    fps = plan.profile.frame_rate
    stream = stream.filter("setpts", "PTS-STARTPTS")
    if plan.deinterlace:
        stream = stream.filter("bwdif", mode="send_frame", parity="auto", deint="all")
    stream = stream.filter("fps", fps=fps)
    # A source whose video ends a little before its audio holds its last picture; a truncated
    # file is not padded out by more than this, so verification sees that it came up short.
    stream = stream.filter("tpad", stop_mode="clone", stop_duration=plan.pad_seconds)
    return stream.filter("trim", end_frame=plan.frames).filter("setpts", "PTS-STARTPTS")


def transcode_args(
    plan: TranscodePlan,
    *,
    source: Path | None,
    out_dir: Path,
    ffmpeg_bin: str,
    title_file: Path | None = None,
    font_file: str = "",
) -> list[str]:
    """The one ffmpeg command that makes every rung of ``plan`` under ``out_dir/<rung>/``."""
    profile = plan.profile
    main = ffmpeg.input(str(source)) if source is not None else None
    if plan.video is VideoInput.SOURCE:
        assert main is not None
        video = main["v:0"]
    else:
        slate = profile.slate
        video = ffmpeg.input(
            f"color=c={slate.color}:s={slate.width}x{slate.height}:r={profile.frame_rate}", f="lavfi"
        ).video
        if title_file is not None:
            face = {"fontfile": font_file} if font_file else {"font": SLATE_FONT}
            video = video.filter(
                "drawtext",
                textfile=str(title_file),
                expansion="none",
                **face,
                fontcolor="white",
                fontsize=max(16, slate.height // 15),
                x="(w-text_w)/2",
                y="(h-text_h)/2",
            )
    if plan.audio is AudioInput.SOURCE:
        assert main is not None
        audio = main["a:0"]
    else:
        audio = ffmpeg.input(f"anullsrc=r={profile.audio.sample_rate}:cl=stereo", f="lavfi").audio

    video = _video_chain(video, plan)
    audio = _audio_chain(audio, plan)
    count = len(plan.ladder)
    videos = video.filter_multi_output("split", count) if count > 1 else None
    audios = audio.filter_multi_output("asplit", count) if count > 1 else None

    extension = segment_extension(profile.segment_type)
    gop = profile.gop_frames
    outputs = []
    for index, geometry in enumerate(plan.ladder):
        rung = geometry.rung
        branch = videos[index] if videos is not None else video
        branch = branch.filter(
            "scale", geometry.content_width, geometry.content_height, flags="bicubic"
        ).filter("setsar", "1")
        if (geometry.content_width, geometry.content_height) != (rung.width, rung.height):
            # only when needed: pad copies every picture even when there is nothing to add
            branch = branch.filter(
                "pad", rung.width, rung.height, geometry.pad_x, geometry.pad_y, color="black"
            )
        branch = branch.filter("format", profile.video.pix_fmt)
        sound = audios[index] if audios is not None else audio
        folder = out_dir / rung.name
        options: dict[str, Any] = {
            "c:v": profile.video.codec,
            "preset": profile.video.preset,
            "profile:v": profile.video.profile,
            "b:v": rung.bitrate,
            "maxrate": rung.maxrate,
            "bufsize": rung.bufsize,
            "g": gop,
            "keyint_min": gop,
            "sc_threshold": 0,
            # closed GOPs starting with an IDR every gop frames: every segment is independent
            "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0:open-gop=0",
            "force_key_frames": f"expr:gte(t,n_forced*{profile.gop_seconds:g})",
            "c:a": profile.audio.codec,
            "b:a": profile.audio.bitrate,
            "ar": profile.audio.sample_rate,
            "ac": profile.audio.channels,
            "map_metadata": -1,
            "map_chapters": -1,
            "max_muxing_queue_size": 4096,
        }
        if plan.segment_frames is None:
            options.update(_hls_options(plan, folder, extension))
            options.update(_keyframe_options(plan))
        else:
            options.update(_explicit_segment_options(plan, folder, extension))
        outputs.append(ffmpeg.output(branch, sound, str(folder / "index.m3u8"), **options))
    return _with_globals(
        ffmpeg.merge_outputs(*outputs).compile(cmd=ffmpeg_bin, overwrite_output=True),
        "-hide_banner",
        "-nostats",
        "-loglevel",
        "error",
        "-progress",
        "pipe:1",
    )


def _hls_options(plan: TranscodePlan, folder: Path, extension: str) -> dict[str, Any]:
    profile = plan.profile
    options: dict[str, Any] = {
        "f": "hls",
        "hls_time": f"{profile.segment_seconds:g}",
        "hls_list_size": 0,
        "hls_playlist_type": "vod",
        "hls_flags": "independent_segments",
        "hls_segment_type": profile.segment_type,
        "hls_segment_filename": str(folder / f"seg_%05d.{extension}"),
    }
    if profile.segment_type == "fmp4":
        options["hls_fmp4_init_filename"] = "init.mp4"
    return options


def _keyframe_options(plan: TranscodePlan) -> dict[str, Any]:
    """A keyframe every GOP from each segment's start, and the muxer's cut interval to match.

    :func:`rcmedia.core.plan.segment_layout` shares a tail under a second out over the last
    segments, so those start a few frames after a multiple of the target; the keyframes follow
    them (by frame number: exact, unlike a comparison of times) and the muxer, cutting at the first
    keyframe after each multiple of ``hls_time``, cuts there. An ordinary asset is a single run.
    """
    profile = plan.profile
    full = round(profile.segment_seconds * profile.frame_rate)
    gop = profile.gop_frames
    lengths = plan.segment_lengths
    forced = keyframes(lengths, full=full, gop=gop)
    gaps = [b - a for a, b in zip(forced, (*forced[1:], plan.frames), strict=True)]
    longest = max(gop, *gaps)
    period = hls_time_frames(lengths, full)
    terms = [f"between(n,{a},{b})*not(mod(n-{a},{gop}))" for a, b in keyframe_runs(forced, gop)]
    return {
        "hls_time": f"{profile.segment_seconds:g}"
        if period == full
        else f"{period / profile.frame_rate:.6f}",
        "force_key_frames": "expr:" + "+".join(terms),
        "g": longest,
        # closed GOPs, an IDR at every forced frame; the longest GOP is a tail's, under two GOPs
        "x264-params": f"keyint={longest}:min-keyint={gop}:scenecut=0:open-gop=0",
    }


def _explicit_segment_options(plan: TranscodePlan, folder: Path, extension: str) -> dict[str, Any]:
    """Cut at the plan's own boundaries (the house slate).

    Keyframes are forced at exactly those instants and nowhere else (no periodic GOP), and the
    HLS muxer, asked for one-frame segments, cuts at every keyframe: so at exactly those instants.
    """
    assert plan.segment_frames is not None
    profile = plan.profile
    boundaries, frames = [], 0
    for length in plan.segment_frames[:-1]:
        frames += length
        boundaries.append(f"{frames / profile.frame_rate:.6f}")
    options = _hls_options(plan, folder, extension)
    options.update(
        {
            "hls_time": f"{1 / profile.frame_rate:.6f}",
            "force_key_frames": ",".join(boundaries),
            "g": plan.frames + 1,
            "keyint_min": 1,
            "x264-params": f"keyint={plan.frames + 1}:min-keyint=1:scenecut=0:open-gop=0",
        }
    )
    return options


def repackage_args(
    playlist: Path,
    out_dir: Path,
    *,
    ffmpeg_bin: str,
    video_start_ticks: int,
    audio_packets: int,
    boundaries: list[float],
    ticks_per_audio_frame: int = 1920,
) -> list[str]:
    """Re-mux one MPEG-TS rendition without re-encoding: the same pictures cut at the same
    instants, the audio packets re-stamped one after another from the first picture.

    ``-copyts`` and the mpegts muxer's own ``mpegts_copyts`` keep every video timestamp as it
    was, so the segments still play where the schedule has them; ``setts`` stamps audio packet N
    at the first picture plus N AAC frames (shifting out the encoder's priming and any gap the
    filters left), and ``-frames:a`` drops what would run more than an AAC frame past the last
    picture. ``boundaries`` are the old cuts in seconds from the first picture, a little early:
    the segment muxer cuts at the first keyframe at or after each, where the old cuts are.
    """
    return [
        ffmpeg_bin,
        "-hide_banner",
        "-nostats",
        "-loglevel",
        "error",
        "-copyts",
        "-i",
        str(playlist),
        "-map",
        "0:v:0",
        "-map",
        "0:a:0",
        "-c",
        "copy",
        "-bsf:a",
        f"setts=ts={video_start_ticks}+N*{ticks_per_audio_frame}",
        "-frames:a",
        str(audio_packets),
        "-f",
        "segment",
        "-segment_format",
        "mpegts",
        "-segment_format_options",
        "mpegts_copyts=1",
        # one segment: no cut at all (the segment muxer would cut every 2 s by default)
        *(["-segment_times", ",".join(f"{t:.6f}" for t in boundaries)] if boundaries else []),
        *([] if boundaries else ["-segment_time", "86400"]),
        "-y",
        str(out_dir / "seg_%05d.ts"),
    ]


def _with_globals(compiled: list[str], *options: str) -> list[str]:
    """Put global options right after the binary (ffmpeg warns about trailing options)."""
    return [compiled[0], *options, *compiled[1:]]


def loudness_measure_args(source: Path, *, ffmpeg_bin: str, sample_rate: int = 48_000) -> list[str]:
    """First loudness pass over the audio only, on the same 48 kHz stereo chain as the transcode.

    ``ebur128`` (with true peak) measures what the second, linear ``loudnorm`` pass needs at a
    third of the cost of a ``loudnorm`` analysis pass, which also resamples to 192 kHz.
    """
    chain = (
        ffmpeg.input(str(source))["a:0"]
        .filter("aresample", sample_rate)
        .filter("aformat", sample_rates=sample_rate, channel_layouts="stereo")
        .filter("ebur128", peak="true", framelog="quiet")
    )
    return _with_globals(
        ffmpeg.output(chain, "-", f="null").compile(cmd=ffmpeg_bin), "-hide_banner", "-nostats", "-vn"
    )
