from __future__ import annotations

import pytest

from rcmedia.ingest.runner import retry_delay


@pytest.mark.parametrize(
    ("attempts", "seconds"),
    [
        pytest.param(1, 15.0, id="first-failure"),
        pytest.param(2, 30.0, id="doubles"),
        pytest.param(3, 60.0, id="doubles-again"),
        pytest.param(12, 300.0, id="capped-at-20-times"),
    ],
)
def test_a_transient_failure_is_retried_after_a_growing_delay(attempts: int, seconds: float) -> None:
    assert retry_delay(15.0, attempts) == seconds
