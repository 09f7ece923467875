"""A real S3-speaking server for the suite: moto's server in a subprocess on loopback.

boto3 is never patched: rcmedia's S3 backend talks HTTP to this server exactly as it would to AWS,
MinIO or Ceph. Credentials reach boto3 through the standard chain (environment variables).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.conftest import require_system


@dataclass(frozen=True, kw_only=True, slots=True)
class S3Server:
    endpoint: str

    def new_bucket(self) -> str:
        """A fresh empty bucket's ``s3://`` storage URL (with a prefix, as operators set it)."""
        import boto3

        name = f"rc-{uuid.uuid4().hex[:16]}"
        boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1").create_bucket(Bucket=name)
        return f"s3://{name}/rcmedia"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    try:
        import moto.server  # noqa: F401
    except ImportError:
        require_system("moto's S3 server", False, "pip install 'moto[server]' (the test extra)")
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    with pytest.MonkeyPatch.context() as patch:
        # the standard AWS chain, from the environment; no shared files of the machine's user
        patch.setenv("AWS_ACCESS_KEY_ID", "rcmedia-test")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "rcmedia-test-secret")
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        patch.setenv("AWS_CONFIG_FILE", os.devnull)
        patch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
        patch.delenv("AWS_PROFILE", raising=False)
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    raise RuntimeError(f"moto's server did not start on port {port}") from None
                time.sleep(0.1)
        try:
            yield S3Server(endpoint=f"http://127.0.0.1:{port}")
        finally:
            process.terminate()
            process.wait(timeout=10)
