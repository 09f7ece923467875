"""The audit log's compact diff: which keys of an entry's before/after documents changed."""

from __future__ import annotations

import pytest

from rcmedia.core.audit import MISSING, KeyChange, key_changes


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        pytest.param(None, {"a": 1}, [KeyChange(key="a", before=MISSING, after=1)], id="added"),
        pytest.param({"a": 1}, None, [KeyChange(key="a", before=1, after=MISSING)], id="removed"),
        pytest.param(
            {"a": 1, "b": [1]},
            {"a": 1, "b": [2], "c": None},
            [KeyChange(key="b", before=[1], after=[2]), KeyChange(key="c", before=MISSING, after=None)],
            id="changed",
        ),
        pytest.param("x", "y", [KeyChange(key="", before="x", after="y")], id="not-objects"),
        pytest.param(None, None, [], id="nothing"),
    ],
)
def test_key_changes(before: object, after: object, expected: list[KeyChange]) -> None:
    assert key_changes(before, after) == expected
