"""Control characters: refused in fields, replaced in file names, made visible on terminals."""

from __future__ import annotations

import pytest

from rcmedia.core.text import control_problem, normalize_newlines, visible, without_controls


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("学习时间 第1集", id="chinese"),
        pytest.param("Café — «x» [red] 100%", id="punctuation-and-brackets"),
        pytest.param("👩‍🏫 lesson", id="emoji-with-zero-width-joiner"),
        pytest.param("", id="empty"),
    ],
)
def test_ordinary_text_is_fine(text: str) -> None:
    assert control_problem(text) is None
    assert control_problem(text, multiline=True) is None
    assert visible(text) == text
    assert without_controls(text) == text


@pytest.mark.parametrize(
    ("text", "described"),
    [
        pytest.param("a\x1b[31mred", "U+001B ESC) at character 2", id="esc"),
        pytest.param("ding\x07", "U+0007 BEL) at character 5", id="bel"),
        pytest.param("nul\x00", "U+0000 NUL", id="nul"),
        pytest.param("two\nlines", "U+000A LF", id="lf"),
        pytest.param("cr\r", "U+000D CR", id="cr"),
        pytest.param("tab\there", "U+0009 TAB", id="tab"),
        pytest.param("del\x7f", "U+007F DEL", id="del"),
        pytest.param("c1\x9b31m", "U+009B CSI", id="c1-csi"),
        pytest.param("abc\u202edcb", "U+202E RIGHT-TO-LEFT OVERRIDE", id="bidi-override"),
        pytest.param("x\u2066y", "U+2066 LEFT-TO-RIGHT ISOLATE", id="bidi-isolate"),
        pytest.param("line\u2028sep", "U+2028 LINE SEPARATOR", id="line-separator"),
    ],
)
def test_control_characters_are_refused_in_one_line_fields(text: str, described: str) -> None:
    problem = control_problem(text)

    assert problem is not None
    assert described in problem
    assert "one line" in problem
    assert not any(c in visible(text) for c in "\x1b\x07\x00\n\r\t\x7f\x9b\u202e\u2066\u2028")
    assert "\x1b" not in without_controls(text)


def test_multi_line_fields_keep_line_feeds_and_tabs_only() -> None:
    assert control_problem("第一段\n\n\tsecond", multiline=True) is None
    assert control_problem(normalize_newlines("a\r\nb\rc"), multiline=True) is None
    assert normalize_newlines("a\r\nb\rc") == "a\nb\nc"
    problem = control_problem("ok\nnot \x1b[2J ok", multiline=True)
    assert problem is not None
    assert "U+001B ESC) at character 8" in problem
    assert "only line breaks and tabs" in problem


def test_visible_shows_what_is_stored() -> None:
    assert visible("a\x1b[31mb\x07\n\t\u202e") == "a\\x1b[31mb\\x07\\n\\t\\u202e"


def test_file_names_lose_their_control_characters() -> None:
    assert without_controls("lecture\x1b[31m\r\n.mp4") == "lecture_[31m__.mp4"
