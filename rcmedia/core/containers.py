"""The media containers rcmedia takes in, by file name: one list for every way a file arrives.

An upload is refused on its name before a byte is stored (tus ``Upload-Metadata: filename``);
the probe in the job still decides whether the bytes are really media.
"""

from __future__ import annotations

from pathlib import PurePath

MEDIA_SUFFIXES = frozenset(
    {
        ".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mxf", ".ts", ".m2ts", ".mts",
        ".mpg", ".mpeg", ".vob", ".flv", ".wmv", ".3gp",
        ".mp3", ".m4a", ".aac", ".wav", ".flac", ".ogg", ".opus", ".wma",
    }
)  # fmt: skip


def media_suffix(filename: str) -> str | None:
    """The lower-cased suffix of ``filename`` when it names a container we take, else None."""
    suffix = PurePath(filename.replace("\\", "/")).suffix.lower()
    return suffix if suffix in MEDIA_SUFFIXES else None
