"""Storage keys from outside (URLs, prefixes): normalised, or refused when they could leave the store."""

from __future__ import annotations

from pathlib import PurePosixPath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rcmedia.errors import UnsafePathError
from rcmedia.storage.base import safe_key


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        pytest.param("assets/1/x/seg.ts", "assets/1/x/seg.ts", id="segment"),
        pytest.param("assets/1/720p/index.m3u8", "assets/1/720p/index.m3u8", id="playlist"),
        pytest.param("seg_00001.ts", "seg_00001.ts", id="one-part"),
        pytest.param("assets/1/党建/seg.ts", "assets/1/党建/seg.ts", id="non-ascii"),
        pytest.param("a..b/c", "a..b/c", id="dots-inside-a-name"),
        # PurePosixPath folds these into the same key: it cannot leave the store, so it is kept
        pytest.param("a//b", "a/b", id="double-slash-folded"),
        pytest.param("a/./b", "a/b", id="dot-part-folded"),
        pytest.param("a/b/", "a/b", id="trailing-slash"),
    ],
)
def test_accepted_keys(key: str, expected: str) -> None:
    assert safe_key(key) == expected


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("", id="empty"),
        pytest.param("/abs", id="absolute"),
        pytest.param("//abs", id="double-slash-absolute"),
        pytest.param("/etc/passwd", id="etc-passwd"),
        pytest.param("..", id="parent"),
        pytest.param("../x", id="parent-first"),
        pytest.param("a/../b", id="parent-inside"),
        pytest.param("a/..", id="parent-last"),
        pytest.param(".staging/x", id="staging"),
        pytest.param("assets/.staging/x", id="staging-inside"),
        pytest.param(".hidden", id="hidden"),
        pytest.param("a\\b", id="backslash"),
        pytest.param("..\\x", id="backslash-parent"),
        pytest.param("a\x00b", id="nul"),
    ],
)
def test_refused_keys(key: str) -> None:
    with pytest.raises(UnsafePathError) as info:
        safe_key(key)
    assert info.value.path == key
    assert isinstance(info.value, PermissionError)


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        pytest.param("a/" * 3000 + "x.ts", "longer than 1024 bytes", id="3000-deep"),
        pytest.param("a/" * 32 + "x.ts", "more than 32 parts", id="33-deep"),
        pytest.param("a" * 256 + ".ts", "part longer than 255 bytes", id="long-name"),
        pytest.param("党" * 85 + ".ts", "part longer than 255 bytes", id="long-name-in-utf-8-bytes"),
    ],
)
def test_keys_longer_or_deeper_than_any_stored_file_are_refused(key: str, problem: str) -> None:
    # unchecked, the file system refuses them (ENAMETOOLONG) with an OSError nobody expects
    with pytest.raises(UnsafePathError, match=problem) as info:
        safe_key(key)
    assert info.value.path == key
    assert len(str(info.value)) < 300  # the message does not echo an attacker's 6 KB key


def test_keys_at_the_bounds_are_accepted() -> None:
    deep = "a/" * 31 + "x.ts"
    assert safe_key(deep) == deep
    long_name = "a" * 252 + ".ts"
    assert safe_key(long_name) == long_name


@pytest.mark.parametrize(
    "key",
    [pytest.param(".", id="dot"), pytest.param("./", id="dot-slash"), pytest.param("./.", id="dot-dot-part")],
)
def test_a_key_naming_the_store_root_is_refused(key: str) -> None:
    # Today these come back as "" (the store root): LocalStorage.remove(".") then deletes the
    # whole store and discard_staging(".") every staging folder.
    with pytest.raises(UnsafePathError):
        safe_key(key)


@given(st.text(alphabet=st.sampled_from(["a", "b", ".", "/", "\\", "\x00", "é"]), max_size=12))
def test_whatever_is_accepted_stays_inside_the_store(key: str) -> None:
    try:
        result = safe_key(key)
    except UnsafePathError:
        return
    assert result
    assert not result.startswith("/")
    parts = PurePosixPath(result).parts
    assert all(part not in ("", ".", "..") and not part.startswith(".") for part in parts)
    assert "\\" not in result
    assert "\x00" not in result
    assert safe_key(result) == result  # normalised: a second pass changes nothing
