"""Media files: bytes, byte ranges, HEAD, types, caching, and nothing outside the published store."""

from __future__ import annotations

import os
import random

import pytest
import yarl

from rcmedia.storage.local import LocalStorage
from tests.integration.web.published import Client, PublishAsset

IMMUTABLE = "public, max-age=31536000, immutable"
SECRET = b"root:x:0:0:secret\n"


def first_segment(files: dict[str, bytes]) -> tuple[str, bytes]:
    key = sorted(k for k in files if k.endswith("/360p/seg_00001.ts"))[0]
    return key, files[key]


async def test_segment_is_served_whole_with_immutable_caching(
    client: Client, publish_asset: PublishAsset
) -> None:
    key, data = first_segment(publish_asset().files)

    response = await client.get(f"/media/{key}")

    assert response.status == 200
    assert await response.read() == data
    assert response.headers["Content-Type"] == "video/mp2t"
    assert response.headers["Content-Length"] == str(len(data))
    assert response.headers["Cache-Control"] == IMMUTABLE
    assert response.headers["Accept-Ranges"] == "bytes"
    assert "Last-Modified" in response.headers
    assert "ETag" in response.headers
    assert "Content-Encoding" not in response.headers  # segments are never compressed


@pytest.mark.parametrize(
    ("range_header", "start", "end"),
    [
        pytest.param("bytes=100-199", 100, 200, id="middle"),
        pytest.param("bytes=0-0", 0, 1, id="first-byte"),
        pytest.param("bytes=-50", -50, None, id="suffix"),
        pytest.param("bytes=2500-", 2500, None, id="open-ended"),
    ],
)
async def test_byte_ranges(
    client: Client, publish_asset: PublishAsset, range_header: str, start: int, end: int | None
) -> None:
    key, data = first_segment(publish_asset().files)
    expected = data[start:end]
    first = start % len(data)

    response = await client.get(f"/media/{key}", headers={"Range": range_header})

    assert response.status == 206
    assert await response.read() == expected
    assert response.headers["Content-Range"] == f"bytes {first}-{first + len(expected) - 1}/{len(data)}"
    assert response.headers["Content-Type"] == "video/mp2t"


async def test_unsatisfiable_range_is_416(client: Client, publish_asset: PublishAsset) -> None:
    key, data = first_segment(publish_asset().files)

    response = await client.get(f"/media/{key}", headers={"Range": f"bytes={len(data) + 10}-"})

    assert response.status == 416


async def test_head_gives_headers_without_body(client: Client, publish_asset: PublishAsset) -> None:
    key, data = first_segment(publish_asset().files)

    response = await client.head(f"/media/{key}")

    assert response.status == 200
    assert response.headers["Content-Length"] == str(len(data))
    assert response.headers["Content-Type"] == "video/mp2t"
    assert response.headers["Cache-Control"] == IMMUTABLE
    assert await response.read() == b""


async def test_conditional_get_with_etag_is_304(client: Client, publish_asset: PublishAsset) -> None:
    key, _ = first_segment(publish_asset().files)
    etag = (await client.get(f"/media/{key}")).headers["ETag"]

    response = await client.get(f"/media/{key}", headers={"If-None-Match": etag})

    assert response.status == 304


@pytest.fixture
def typed_files(storage: LocalStorage) -> dict[str, bytes]:
    """One published file per extension the store may hold, plus one it must never serve."""
    rng = random.Random(7)
    names = [
        "a.ts",
        "a.m4s",
        "init.mp4",
        "index.m3u8",
        "audio.aac",
        "thumb.jpg",
        "thumb.jpeg",
        "poster.png",
        "sidecar.toml",
    ]
    staging = storage.staging_dir("typed")
    files = {}
    for name in names:
        data = rng.randbytes(300)
        (staging / name).write_bytes(data)
        files[f"misc/p1/{name}"] = data
    storage.publish(staging, "misc/p1")
    return files


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        pytest.param("a.ts", "video/mp2t", id="ts"),
        pytest.param("a.m4s", "video/iso.segment", id="m4s"),
        pytest.param("init.mp4", "video/mp4", id="mp4"),
        pytest.param("index.m3u8", "application/vnd.apple.mpegurl", id="m3u8"),
        pytest.param("audio.aac", "audio/aac", id="aac"),
        pytest.param("thumb.jpg", "image/jpeg", id="jpg"),
        pytest.param("thumb.jpeg", "image/jpeg", id="jpeg"),
        pytest.param("poster.png", "image/png", id="png"),
    ],
)
async def test_content_types(
    client: Client, typed_files: dict[str, bytes], name: str, content_type: str
) -> None:
    response = await client.get(f"/media/misc/p1/{name}")

    assert response.status == 200
    assert response.headers["Content-Type"] == content_type
    assert await response.read() == typed_files[f"misc/p1/{name}"]


async def test_files_that_are_not_media_are_not_served(client: Client, typed_files: dict[str, bytes]) -> None:
    assert "misc/p1/sidecar.toml" in typed_files  # it is in the store...

    response = await client.get("/media/misc/p1/sidecar.toml")

    assert response.status == 404  # ...but it is not media


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/media/missing/seg_00000.ts", id="missing-file"),
        pytest.param("/media/misc", id="folder"),
        pytest.param("/media/misc/p1", id="prefix-folder"),
        pytest.param("/media/", id="empty-key"),
    ],
)
async def test_missing_keys_are_404(client: Client, typed_files: dict[str, bytes], path: str) -> None:
    response = await client.get(path)

    assert response.status == 404


@pytest.fixture
def attack_targets(storage: LocalStorage) -> None:
    """Files an attacker would like: one next to the store, one unfinished in staging, a symlink out."""
    outside = storage.root.parent / "secret.ts"
    outside.write_bytes(SECRET)
    staging = storage.staging_dir("job-9")
    (staging / "seg.ts").write_bytes(SECRET)
    links = storage.staging_dir("links")
    os.symlink(outside, links / "escape.ts")
    storage.publish(links, "links")
    assert (storage.root / "links" / "escape.ts").read_bytes() == SECRET  # the link really leads out


@pytest.mark.parametrize(
    "raw_path",
    [
        pytest.param("/media/..%2fsecret.ts", id="encoded-slash"),
        pytest.param("/media/..%2F..%2Fsecret.ts", id="encoded-slash-upper"),
        pytest.param("/media/%2e%2e/secret.ts", id="encoded-dots"),
        pytest.param("/media/%2e%2e%2fsecret.ts", id="encoded-dots-and-slash"),
        pytest.param("/media/links/..%2f..%2fsecret.ts", id="nested"),
        pytest.param("/media/../secret.ts", id="raw-dots"),
        pytest.param("/media/%2fetc%2fpasswd", id="absolute-encoded"),
        pytest.param("/media//etc/passwd", id="absolute-double-slash"),
        pytest.param("/media/..%5csecret.ts", id="backslash"),
        pytest.param("/media/links%5c..%5c..%5csecret.ts", id="backslash-nested"),
        pytest.param("/media/secret.ts%00.ts", id="nul"),
        pytest.param("/media/.staging/job-9/seg.ts", id="staging"),
        pytest.param("/media/%2estaging/job-9/seg.ts", id="staging-encoded"),
        pytest.param("/media/links/escape.ts", id="symlink-out-of-the-store"),
    ],
)
async def test_nothing_outside_the_published_store_is_served(
    client: Client, attack_targets: None, raw_path: str
) -> None:
    response = await client.get(yarl.URL(raw_path, encoded=True))
    body = await response.read()

    assert response.status == 404
    assert SECRET not in body


async def test_a_key_that_looks_unsafe_but_is_not_is_served(client: Client, storage: LocalStorage) -> None:
    staging = storage.staging_dir("odd")
    (staging / "a..b.ts").write_bytes(b"dots inside a name are fine")
    storage.publish(staging, "odd/p")

    response = await client.get("/media/odd/p/a..b.ts")

    assert response.status == 200
    assert await response.read() == b"dots inside a name are fine"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
async def test_media_is_read_only(client: Client, publish_asset: PublishAsset, method: str) -> None:
    key, _ = first_segment(publish_asset().files)

    response = await client.request(method, f"/media/{key}")

    assert response.status == 405
