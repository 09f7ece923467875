"""Ingest benchmark: our whole ingest against hand-written ffmpeg baselines, in the same run.

On one generated 1080p25 60 s source with stereo audio:

  (a) the best hand-written single ffmpeg command for the same ladder: decode once, split,
      scale, the profile's x264/AAC settings, fixed GOP, 6 s HLS segments, one-pass loudnorm;
  (b) one ffmpeg per rung in sequence, same settings (decodes the source five times);
  ours: `rcmedia` ingest end to end — probe, loudness measurement pass, conditioning, one-pass
      ladder, verification and atomic publish into a fresh catalog.

Goals (issue 2): ours ≤ 1.05 × (a), and (b) ≥ 1.2 × ours. Prints wall times and ratios.
Usage: .venv/bin/python bench/ingest.py [--seconds 60] [--repeat 1] [--keep DIR]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rcmedia.bootstrap import open_context  # noqa: E402
from rcmedia.config import load_settings  # noqa: E402
from rcmedia.core.models import AssetMetadata, JobState  # noqa: E402
from rcmedia.core.profile import Profile  # noqa: E402
from rcmedia.ingest.intake import submit  # noqa: E402
from rcmedia.ingest.runner import JobRunner  # noqa: E402
from rcmedia.media.ffmpeg import ffmpeg_binary  # noqa: E402
from rcmedia.profiles import load_profiles  # noqa: E402


def make_source(ffmpeg: str, path: Path, seconds: float) -> None:
    subprocess.run(
        [
            ffmpeg,
            "-y",
            "-hide_banner",
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            f"testsrc2=s=1920x1080:r=25:d={seconds}",
            "-f",
            "lavfi",
            "-i",
            f"sine=f=440:r=48000:d={seconds},volume=2,aformat=channel_layouts=stereo",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "20",
            "-g",
            "250",
            "-c:a",
            "aac",
            "-b:a",
            "192k",
            "-shortest",
            str(path),
        ],
        check=True,
    )


def x264_args(profile: Profile, rung_index: int) -> list[str]:
    rung = profile.rungs[rung_index]
    gop = profile.gop_frames
    return [
        "-c:v",
        "libx264",
        "-preset",
        profile.video.preset,
        "-profile:v",
        profile.video.profile,
        "-b:v",
        str(rung.bitrate),
        "-maxrate",
        str(rung.maxrate),
        "-bufsize",
        str(rung.bufsize),
        "-g",
        str(gop),
        "-keyint_min",
        str(gop),
        "-sc_threshold",
        "0",
        "-x264-params",
        f"keyint={gop}:min-keyint={gop}:scenecut=0:open-gop=0",
        "-c:a",
        "aac",
        "-b:a",
        str(profile.audio.bitrate),
        "-ar",
        "48000",
        "-ac",
        "2",
    ]


def hls_args(profile: Profile, folder: Path) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    return [
        "-f",
        "hls",
        "-hls_time",
        f"{profile.segment_seconds:g}",
        "-hls_playlist_type",
        "vod",
        "-hls_list_size",
        "0",
        "-hls_flags",
        "independent_segments",
        "-hls_segment_filename",
        str(folder / "seg_%05d.ts"),
        str(folder / "index.m3u8"),
    ]


LOUDNORM = "aresample=48000,aformat=channel_layouts=stereo,loudnorm=I=-24:TP=-1:LRA=11,aresample=48000"


def single_command(ffmpeg: str, profile: Profile, source: Path, out: Path) -> list[str]:
    """(a): what an expert writes by hand: one decode, split to every rung, one-pass loudnorm."""
    n = len(profile.rungs)
    video = f"[0:v]split={n}" + "".join(f"[v{i}]" for i in range(n)) + ";"
    video += ";".join(
        f"[v{i}]scale={r.width}:{r.height}[o{i}]" if r.height != 1080 else f"[v{i}]null[o{i}]"
        for i, r in enumerate(profile.rungs)
    )
    audio = f"[0:a]{LOUDNORM},asplit={n}" + "".join(f"[a{i}]" for i in range(n))
    argv = [
        ffmpeg,
        "-y",
        "-hide_banner",
        "-loglevel",
        "error",
        "-i",
        str(source),
        "-filter_complex",
        f"{video};{audio}",
    ]
    for i, rung in enumerate(profile.rungs):
        argv += [
            "-map",
            f"[o{i}]",
            "-map",
            f"[a{i}]",
            *x264_args(profile, i),
            *hls_args(profile, out / rung.name),
        ]
    return argv


def per_rung_commands(ffmpeg: str, profile: Profile, source: Path, out: Path) -> list[list[str]]:
    """(b): one ffmpeg per rung, each decoding the source again."""
    commands = []
    for i, rung in enumerate(profile.rungs):
        commands.append(
            [
                ffmpeg,
                "-y",
                "-hide_banner",
                "-loglevel",
                "error",
                "-i",
                str(source),
                "-vf",
                f"scale={rung.width}:{rung.height}",
                "-af",
                LOUDNORM,
                *x264_args(profile, i),
                *hls_args(profile, out / rung.name),
            ]
        )
    return commands


def run_ours(source: Path, home: Path) -> float:
    settings = load_settings(environ={}, cwd=ROOT, overrides={"home": str(home)})
    with open_context(settings) as ctx:
        started = time.perf_counter()
        job_id = submit(ctx, source, metadata=AssetMetadata(title="bench"))
        (job,) = JobRunner(ctx).run_jobs([job_id])
        elapsed = time.perf_counter() - started
    if job.state is not JobState.PUBLISHED:
        raise SystemExit(f"our ingest failed: {job.failure_reason}")
    return elapsed


def timed(commands: list[list[str]]) -> float:
    started = time.perf_counter()
    for argv in commands:
        subprocess.run(argv, check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each; the best is reported")
    parser.add_argument("--keep", type=Path, help="keep the work folder here")
    args = parser.parse_args()

    ffmpeg = ffmpeg_binary()
    profile = load_profiles(ROOT / "transcode_profiles")["default"]
    work = Path(tempfile.mkdtemp(prefix="rcmedia-bench-")) if args.keep is None else args.keep
    work.mkdir(parents=True, exist_ok=True)
    source = work / "source-1080p25.mp4"
    print(f"making a {args.seconds:g} s 1080p25 source …", flush=True)
    make_source(ffmpeg, source, args.seconds)

    results: dict[str, list[float]] = {"ours": [], "single": [], "per-rung": []}
    for run in range(args.repeat):
        for name in ("single", "ours", "per-rung"):
            out = work / f"{name}-{run}"
            shutil.rmtree(out, ignore_errors=True)
            if name == "single":
                seconds = timed([single_command(ffmpeg, profile, source, out)])
            elif name == "per-rung":
                seconds = timed(per_rung_commands(ffmpeg, profile, source, out))
            else:
                seconds = run_ours(source, out)
            results[name].append(seconds)
            print(f"  run {run + 1}: {name:<9} {seconds:7.2f} s", flush=True)
            shutil.rmtree(out, ignore_errors=True)

    ours, single, per_rung = (min(results[k]) for k in ("ours", "single", "per-rung"))
    print()
    print(
        f"source: {args.seconds:g} s 1080p25, ladder {[r.name for r in profile.rungs]}, "
        f"x264 {profile.video.preset}, best of {args.repeat}"
    )
    print(f"(a) hand-written single command : {single:7.2f} s")
    print(f"(b) one ffmpeg per rung         : {per_rung:7.2f} s")
    print(f"    rcmedia ingest (end to end)  : {ours:7.2f} s")
    print(f"ours / (a) = {ours / single:.3f}   (goal ≤ 1.05)")
    print(f"(b) / ours = {per_rung / ours:.3f}   (goal ≥ 1.2)")
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
