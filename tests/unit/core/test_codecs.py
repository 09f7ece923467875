"""One CODECS value for a rung that plays several encodings."""

from __future__ import annotations

import pytest

from rcmedia.core.codecs import covering_codecs


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        pytest.param(["avc1.64001e,mp4a.40.2"], "avc1.64001e,mp4a.40.2", id="one"),
        pytest.param(
            ["avc1.64001e,mp4a.40.2", "avc1.640028,mp4a.40.2"], "avc1.640028,mp4a.40.2", id="higher-level"
        ),
        # whole strings would sort 64001e above 4d4028: level 3.0 cannot carry the Main programme
        pytest.param(["avc1.4d4028,mp4a.40.2", "avc1.64001e,mp4a.40.2"], "avc1.640028,mp4a.40.2", id="mixed"),
        # Constrained Baseline (0x42, flags e0) with Main (flags 40): only the flag both set
        pytest.param(["avc1.42e01e", "avc1.4d401f"], "avc1.4d401f", id="constraint-flags"),
        pytest.param(
            ["avc1.64001f,mp4a.40.2", "avc1.64001f,mp4a.40.5"], "avc1.64001f,mp4a.40.2,mp4a.40.5", id="audio"
        ),
    ],
)
def test_covering_codecs(given: list[str], expected: str) -> None:
    assert covering_codecs(given) == expected


def test_nothing_to_cover_is_refused() -> None:
    with pytest.raises(ValueError, match="no codecs"):
        covering_codecs([])
