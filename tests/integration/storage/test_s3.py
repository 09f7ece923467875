"""What only the S3 backend has: uploads that clean up after a failure, multipart uploads, botocore
errors turned into storage errors, presigned URLs. Against moto's server over real HTTP."""

from __future__ import annotations

import dataclasses
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest

from rcmedia.catalog.repository import Catalog
from rcmedia.cli.storage import abort_unfinished_uploads
from rcmedia.config import Settings, load_settings
from rcmedia.errors import StorageError
from rcmedia.storage.factory import open_storage
from rcmedia.storage.s3 import S3Storage
from tests.integration.storage.test_contract import PACKAGE, contents, publish, stage
from tests.s3_server import S3Server


@pytest.fixture
def s3(s3_server: S3Server, tmp_path: Path) -> S3Storage:
    return S3Storage(s3_server.new_bucket(), staging_root=tmp_path / "staging", endpoint=s3_server.endpoint)


class FailingUploads(S3Storage):
    """Uploads every file but fails on the one named ``doomed`` (the store itself is real)."""

    doomed = "720p/seg_00001.m4s"

    def _upload(self, path: Path, name: str) -> None:
        if name.endswith(self.doomed):
            raise StorageError(f"cannot upload {name!r}: the connection was reset")
        super()._upload(path, name)


def test_a_failed_upload_leaves_nothing_under_the_prefix(s3_server: S3Server, tmp_path: Path) -> None:
    store = FailingUploads(
        s3_server.new_bucket(), staging_root=tmp_path / "staging", endpoint=s3_server.endpoint
    )
    staging = stage(store, "job-1-1", PACKAGE)

    with pytest.raises(StorageError, match=r"seg_00001\.m4s"):
        store.publish(staging, "assets/1/p")

    assert store.list_prefixes("assets/1") == []
    assert contents(store, "assets/1/p") == {}
    assert staging.is_dir()  # the job's finally discards it


def test_objects_are_stored_under_the_bucket_prefix_with_media_types(
    s3: S3Storage, s3_server: S3Server
) -> None:
    publish(s3, "assets/1/p")
    client = boto3.client("s3", endpoint_url=s3_server.endpoint)
    listed = client.list_objects_v2(Bucket=s3.bucket)["Contents"]
    assert sorted(item["Key"] for item in listed) == sorted(f"rcmedia/assets/1/p/{name}" for name in PACKAGE)
    head = client.head_object(Bucket=s3.bucket, Key="rcmedia/assets/1/p/360p/seg_00001.ts")
    assert head["ContentType"] == "video/mp2t"
    head = client.head_object(Bucket=s3.bucket, Key="rcmedia/assets/1/p/720p/seg_00001.m4s")
    assert head["ContentType"] == "video/iso.segment"


def test_a_large_file_goes_up_in_parts(s3_server: S3Server, tmp_path: Path) -> None:
    store = S3Storage(
        s3_server.new_bucket(),
        staging_root=tmp_path / "staging",
        endpoint=s3_server.endpoint,
        part_bytes=5 << 20,
    )
    big = bytes(range(256)) * (12 << 12)  # 12 MiB: three parts
    publish(store, "assets/1/p", {"source.mp4": big})
    assert store.read_bytes("assets/1/p/source.mp4") == big
    head = boto3.client("s3", endpoint_url=s3_server.endpoint).head_object(
        Bucket=store.bucket, Key="rcmedia/assets/1/p/source.mp4"
    )
    assert head["ETag"].strip('"').endswith("-3")  # a multipart upload's ETag counts its parts


def test_a_missing_bucket_is_named_in_the_error(s3_server: S3Server, tmp_path: Path) -> None:
    store = S3Storage("s3://no-such-bucket/x", staging_root=tmp_path / "staging", endpoint=s3_server.endpoint)
    with pytest.raises(StorageError, match=r"cannot read 'assets/1/p/master.m3u8': bucket 'no-such-bucket'"):
        store.read_bytes("assets/1/p/master.m3u8")
    with pytest.raises(StorageError, match="does not exist"):
        store.exists("assets/1/p/master.m3u8")


def test_an_unreachable_endpoint_is_a_storage_error(tmp_path: Path, s3_server: S3Server) -> None:
    store = S3Storage("s3://b/x", staging_root=tmp_path / "staging", endpoint="http://127.0.0.1:9")
    store.client.meta.config.retries = {"max_attempts": 1}
    with pytest.raises(StorageError, match="cannot reach the S3 endpoint"):
        store.list_prefixes("assets")


def test_a_presigned_url_gets_the_bytes(s3: S3Storage) -> None:
    publish(s3, "assets/1/p")
    url = s3.presigned_url("assets/1/p/720p/seg_00001.m4s", 300)
    assert "Signature" in url or "X-Amz-Signature" in url
    with urllib.request.urlopen(url) as answer:  # noqa: S310 (http from our server) a plain HTTP client: no credentials of its own
        assert answer.read() == PACKAGE["720p/seg_00001.m4s"]


def test_open_storage_reads_s3_settings(s3_server: S3Server, tmp_path: Path) -> None:
    url = s3_server.new_bucket()
    settings = load_settings(
        environ={"RCMEDIA_S3_ENDPOINT": s3_server.endpoint, "RCMEDIA_STORAGE": url},
        cwd=tmp_path,
        overrides={"home": str(tmp_path / "var")},
    )
    store = open_storage(settings)
    assert isinstance(store, S3Storage)
    assert store.url == url
    assert store.staging_dir("job-1-1").is_relative_to(tmp_path / "var")


def test_readiness_asks_for_the_bucket(s3_server: S3Server, tmp_path: Path) -> None:
    store = S3Storage(s3_server.new_bucket(), staging_root=tmp_path, endpoint=s3_server.endpoint)
    assert store.check_reachable() == f"s3://{store.bucket}"
    missing = S3Storage("s3://no-such-bucket-here/p", staging_root=tmp_path, endpoint=s3_server.endpoint)
    with pytest.raises(StorageError, match="no-such-bucket-here"):
        missing.check_reachable()


def test_the_sweep_aborts_unfinished_multipart_uploads_under_assets(
    s3_server: S3Server, s3: S3Storage, settings: Settings, catalog: Catalog
) -> None:
    """A publish killed in the middle of a large file: its parts are in no listing, only in the
    bucket's unfinished uploads, until the sweep aborts them (after the grace)."""
    crashed = f"{s3.root}/assets/1/crashed/720p/seg_00001.ts"
    elsewhere = f"{s3.root}/sources/job-7/lecture.mxf"  # not a package: not the sweep's
    for key in (crashed, elsewhere):
        upload = s3.client.create_multipart_upload(Bucket=s3.bucket, Key=key)
        s3.client.upload_part(
            Bucket=s3.bucket, Key=key, UploadId=upload["UploadId"], PartNumber=1, Body=b"\x47" * 188
        )
    assert s3.list_prefixes("assets") == []  # invisible to every listing
    on_s3 = dataclasses.replace(settings, storage=s3.url, s3_endpoint=s3_server.endpoint)
    now, grace = datetime.now(UTC), timedelta(hours=24)

    # moto lists every upload as started at 2010-11-10T20:48:33Z (a fixed value in its responses),
    # so "too recent to abort" is shown at that time: an hour after it, within the grace
    started = datetime(2010, 11, 10, 20, 48, 33, tzinfo=UTC)
    assert abort_unfinished_uploads(on_s3, grace=grace, now=started + timedelta(hours=1)) == []
    aborted = abort_unfinished_uploads(on_s3, grace=grace, now=now + timedelta(hours=25))

    assert aborted == ["assets/1/crashed/720p/seg_00001.ts"]
    left = s3.client.list_multipart_uploads(Bucket=s3.bucket).get("Uploads", [])
    assert [u["Key"] for u in left] == [elsewhere]
    assert abort_unfinished_uploads(on_s3, grace=grace, now=now + timedelta(hours=25)) == []
