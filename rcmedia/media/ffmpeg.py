"""Running ffmpeg: resolve the binary once, log the argv, parse ``-progress`` line by line."""

from __future__ import annotations

import logging
import os
import shlex
import subprocess
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from rcmedia.errors import ToolError

log = logging.getLogger(__name__)

# ffmpeg says these when the *input* is at fault: retrying cannot help.
INPUT_FAULTS = (
    "Invalid data found when processing input",
    "moov atom not found",
    "could not find codec parameters",
    "Could not find codec parameters",
    "does not contain any stream",
)


@cache
def _bundled_ffmpeg() -> str:
    import imageio_ffmpeg  # noqa: PLC0415 - only when no ffmpeg is configured

    path: str = imageio_ffmpeg.get_ffmpeg_exe()
    return path


def ffmpeg_binary(configured: str = "") -> str:
    """The ffmpeg to run: the ``ffmpeg`` setting (``RCMEDIA_FFMPEG``) or the imageio-ffmpeg one."""
    if configured:
        if not (Path(configured).is_file() and os.access(configured, os.X_OK)):
            raise ToolError("ffmpeg", f"not found or not executable at {configured!r} (setting ffmpeg)")
        return configured
    try:
        return _bundled_ffmpeg()
    except (ImportError, RuntimeError) as exc:
        raise ToolError("ffmpeg", f"the bundled binary is missing ({exc}); set RCMEDIA_FFMPEG") from exc


@dataclass(frozen=True, kw_only=True, slots=True)
class Progress:
    """One ``-progress`` report: how far the output has got and how fast."""

    out_seconds: float
    speed: float | None
    done: bool


def parse_progress_block(fields: dict[str, str]) -> Progress:
    """Turn the key=value lines of one progress block into a :class:`Progress`."""
    raw_time = fields.get("out_time_us") or fields.get("out_time_ms") or "0"
    try:
        out_seconds = max(0.0, int(raw_time) / 1_000_000)
    except ValueError:
        out_seconds = 0.0
    speed_text = fields.get("speed", "").strip().rstrip("x")
    try:
        speed = float(speed_text) if speed_text and speed_text != "N/A" else None
    except ValueError:
        speed = None
    return Progress(out_seconds=out_seconds, speed=speed, done=fields.get("progress") == "end")


class FfmpegFailed(ToolError):
    """ffmpeg exited with an error; ``input_fault`` tells whether the input file is to blame."""

    def __init__(self, returncode: int, stderr_tail: str) -> None:
        self.returncode = returncode
        self.input_fault = any(marker in stderr_tail for marker in INPUT_FAULTS)
        super().__init__("ffmpeg", f"exited with status {returncode}", stderr_tail=stderr_tail)


def run_ffmpeg(
    argv: Sequence[str],
    *,
    on_progress: Callable[[Progress], None] | None = None,
    cancel: threading.Event | None = None,
) -> str:
    """Run an ffmpeg argv whose output includes ``-progress pipe:1``; returns stderr.

    Progress blocks are parsed as they arrive and handed to ``on_progress``. Setting ``cancel``
    terminates ffmpeg. Raises :class:`FfmpegFailed` on a non-zero exit.
    """
    log.debug("running %s", shlex.join(argv))
    try:
        process = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
    except OSError as exc:
        raise ToolError("ffmpeg", f"could not be started: {exc}") from exc
    with process:
        stderr_lines: deque[str] = deque(maxlen=200)
        reader = threading.Thread(
            target=lambda: stderr_lines.extend(process.stderr or ()), name="ffmpeg-stderr", daemon=True
        )
        reader.start()
        if cancel is not None:

            def watch() -> None:
                while process.poll() is None:
                    if cancel.wait(0.2):
                        process.terminate()
                        return

            threading.Thread(target=watch, name="ffmpeg-cancel", daemon=True).start()
        fields: dict[str, str] = {}
        assert process.stdout is not None
        try:
            for line in process.stdout:
                key, _, value = line.strip().partition("=")
                if not key:
                    continue
                fields[key] = value
                if key == "progress":
                    if on_progress is not None:
                        on_progress(parse_progress_block(fields))
                    fields = {}
        except BaseException:
            process.kill()  # never leave an orphan ffmpeg behind a failed progress callback
            raise
        returncode = process.wait()
        reader.join()
    stderr = "".join(stderr_lines)
    if returncode != 0:
        raise FfmpegFailed(returncode, stderr)
    return stderr


def run_ffmpeg_simple(argv: Sequence[str], *, timeout: float | None = None) -> str:
    """Run a short ffmpeg command (no progress); returns stderr, raises on failure."""
    log.debug("running %s", shlex.join(argv))
    try:
        done = subprocess.run(
            list(argv),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ToolError("ffmpeg", f"did not finish within {timeout} s") from exc
    except OSError as exc:
        raise ToolError("ffmpeg", f"could not be started: {exc}") from exc
    if done.returncode != 0:
        raise FfmpegFailed(done.returncode, done.stderr[-4000:])
    return done.stderr
