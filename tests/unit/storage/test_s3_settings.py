"""The S3 settings and storage URL, checked at start-up (no server needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rcmedia.config import load_settings
from rcmedia.errors import ConfigError
from rcmedia.storage.s3 import parse_s3_url
from rcmedia.web.media import redirect_cache_control


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param("s3://media", ("media", ""), id="bucket"),
        pytest.param("s3://media/rcmedia", ("media", "rcmedia"), id="prefix"),
        pytest.param("s3://media/a/b/", ("media", "a/b"), id="slashes"),
    ],
)
def test_storage_urls(url: str, expected: tuple[str, str]) -> None:
    assert parse_s3_url(url) == expected


@pytest.mark.parametrize("url", ["s3:///prefix", "s3:/media", "http://media/x"])
def test_bad_storage_urls_are_refused(url: str) -> None:
    with pytest.raises(ConfigError, match="s3://bucket"):
        parse_s3_url(url)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        pytest.param("s3_media", "stream", "'redirect' or 'proxy'", id="media"),
        pytest.param("s3_presign_seconds", "30", "at least 60", id="presign"),
    ],
)
def test_bad_s3_settings_fail_at_start_up(tmp_path: Path, name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(
            environ={f"RCMEDIA_{name.upper()}": value}, cwd=tmp_path, overrides={"home": str(tmp_path)}
        )


def test_a_redirect_is_cached_far_less_long_than_its_signature_lives() -> None:
    assert redirect_cache_control(3600) == "public, max-age=360"
    assert redirect_cache_control(60) == "public, max-age=6"
