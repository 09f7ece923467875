"""Where the origin's processes keep their metrics: a fresh folder per ``rcmedia serve`` run.

prometheus-client's multiprocess mode (``serve --workers N``: each worker, the parent's ingest
runner and the EPG build process write their own memory-mapped files; whichever worker is
scraped sums them) reads ``PROMETHEUS_MULTIPROC_DIR`` once, when it is first imported. So this
module never imports it: ``serve`` calls :func:`prepare` before anything loads ``rcmedia.metrics``,
and every process it starts inherits the variable.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare(home: Path) -> Path:
    """A fresh, empty ``home/metrics/<pid>`` named in this process's environment (inherited by
    the processes it starts). Files left by an earlier run would be summed as if still counting."""
    folder = home / "metrics" / str(os.getpid())
    shutil.rmtree(folder, ignore_errors=True)
    with contextlib.suppress(OSError):  # another run's folder is still there
        folder.parent.rmdir()
    folder.mkdir(parents=True)
    os.environ[ENV] = str(folder)
    return folder


def remove(folder: Path) -> None:
    """Forget the run's metrics (at the end of ``serve``)."""
    if os.environ.get(ENV) == str(folder):
        del os.environ[ENV]
    shutil.rmtree(folder, ignore_errors=True)
    with contextlib.suppress(OSError):  # another run's folder is still there
        folder.parent.rmdir()
