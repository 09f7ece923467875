"""The open-files limit: raised to the hard limit at start-up; the connections it leaves room for."""

from __future__ import annotations

import subprocess
import sys

import pytest

from rcmedia.web.open_files import connection_cap


@pytest.mark.parametrize(
    ("setting", "limit", "cap"),
    [
        pytest.param(0, 1024, 384, id="systemd-default"),
        pytest.param(0, 65536, 10_000, id="deploy-units"),
        pytest.param(0, 300, 22, id="tiny"),
        pytest.param(0, 100, 8, id="below-the-reserve"),
        pytest.param(50, 1024, 50, id="set"),
        pytest.param(50_000, 1024, 50_000, id="set-above-the-limit"),
    ],
)
def test_the_cap_is_the_setting_or_what_the_limit_leaves_two_per_connection(
    setting: int, limit: int, cap: int
) -> None:
    assert connection_cap(setting, limit) == cap


RAISE = """
import resource
from rcmedia.web.open_files import raise_limit
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
before, after = raise_limit()
print(before, after, resource.getrlimit(resource.RLIMIT_NOFILE)[0] == hard == after)
"""


def test_the_soft_limit_is_raised_to_the_hard_one() -> None:
    # in a child: this process's own limit stays as it is
    done = subprocess.run([sys.executable, "-c", RAISE], capture_output=True, text=True, check=True)
    before, _, raised = done.stdout.split()
    assert before == "256"
    assert raised == "True", done.stdout
