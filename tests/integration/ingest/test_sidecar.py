"""Sidecar files and the command line's metadata flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from rcmedia.errors import ConfigError, InvalidFieldError
from rcmedia.ingest.sidecar import read_sidecar


def test_a_flag_with_a_control_character_is_refused_naming_the_flag(tmp_path: Path) -> None:
    media = tmp_path / "lesson.mp4"
    (tmp_path / "lesson.toml").write_text('title = "fine"\n', encoding="utf-8")

    with pytest.raises(InvalidFieldError) as caught:
        read_sidecar(media, overrides={"title": "课\x1b[31m", "series": None, "episode": 3})

    assert caught.value.field == "--title"
    assert "U+001B ESC" in caught.value.problem


def test_a_sidecar_with_a_control_character_names_the_file_and_key(tmp_path: Path) -> None:
    media = tmp_path / "lesson.mp4"
    (tmp_path / "lesson.toml").write_text('series = "a\\u001b[2Jb"\n', encoding="utf-8")

    with pytest.raises(
        ConfigError, match=r"^lesson\.toml: series contains a control character \(U\+001B ESC\)"
    ):
        read_sidecar(media)
