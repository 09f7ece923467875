"""tus 1.0.0 uploads at /api/v1/uploads over real HTTP: creation, resume, limits, termination,
expiry, roles, and a finished upload becoming an ingest job."""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import web

from rcmedia.catalog.repository import Catalog
from rcmedia.config import Settings
from rcmedia.core.accounts import Role
from rcmedia.core.models import JobState
from rcmedia.errors import BusyError
from rcmedia.media.ffmpeg import ffmpeg_binary
from rcmedia.media.samples import make_clip
from rcmedia.storage.local import LocalStorage
from tests.integration.web.accounts import add_accounts, logged_in
from tests.integration.web.published import AiohttpClient, Client
from tests.integration.web.schedules import NOW, FixedClock, origin_app

TUS = {"Tus-Resumable": "1.0.0"}
BYTES = {"Content-Type": "application/offset+octet-stream"}


def metadata(**pairs: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in pairs.items())


@pytest.fixture(autouse=True)
def accounts(catalog: Catalog) -> dict[Role, str]:
    return add_accounts(catalog)


@pytest.fixture
def upload_settings(app_settings: Settings) -> Settings:
    return app_settings.replace(max_upload_bytes=10_000_000, upload_expiry_hours=1.0)


@pytest.fixture
def upload_app(
    upload_settings: Settings, catalog: Catalog, storage: LocalStorage, clock: FixedClock
) -> web.Application:
    return origin_app(upload_settings, catalog, storage, clock)


@pytest.fixture
async def editor(aiohttp_client: AiohttpClient, upload_app: web.Application) -> Client:
    return await logged_in(await aiohttp_client(upload_app), "editor")


def staged(settings: Settings) -> list[str]:
    folder = settings.uploads_dir
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


async def create(client: Client, length: int, name: str = "show.mp4", **extra: str) -> str:
    response = await client.post(
        "/api/v1/uploads",
        headers={**TUS, "Upload-Length": str(length), "Upload-Metadata": metadata(filename=name, **extra)},
    )
    assert response.status == 201, await response.text()
    location = response.headers["Location"]
    assert location.startswith("/api/v1/uploads/")
    return location


async def offset_of(client: Client, location: str) -> int:
    response = await client.head(location, headers=TUS)
    assert response.status == 200
    return int(response.headers["Upload-Offset"])


async def test_options_says_what_is_spoken(editor: Client, upload_settings: Settings) -> None:
    response = await editor.options("/api/v1/uploads")
    assert response.status == 204
    assert response.headers["Tus-Resumable"] == "1.0.0"
    assert response.headers["Tus-Version"] == "1.0.0"
    assert response.headers["Tus-Extension"] == "creation,creation-with-upload,termination,expiration"
    assert response.headers["Tus-Max-Size"] == str(upload_settings.max_upload_bytes)


async def test_create_head_and_patch_in_chunks(editor: Client, upload_settings: Settings) -> None:
    data = os.urandom(300_000)
    location = await create(editor, len(data), title="红色记忆 第1集", series="红色记忆", episode="1")
    head = await editor.head(location, headers=TUS)
    assert head.headers["Upload-Offset"] == "0"
    assert head.headers["Upload-Length"] == str(len(data))
    assert head.headers["Cache-Control"] == "no-store"
    assert head.headers["Tus-Resumable"] == "1.0.0"
    assert head.headers["Upload-Expires"].endswith(" GMT")
    assert "title" in head.headers["Upload-Metadata"]
    for start in range(0, 200_000, 100_000):
        response = await editor.patch(
            location,
            data=data[start : start + 100_000],
            headers={**TUS, **BYTES, "Upload-Offset": str(start)},
        )
        assert response.status == 204, await response.text()
        assert response.headers["Upload-Offset"] == str(start + 100_000)
    assert await offset_of(editor, location) == 200_000
    upload_id = location.rsplit("/", 1)[-1]
    assert (upload_settings.uploads_dir / f"{upload_id}.part").read_bytes() == data[:200_000]


async def test_a_wrong_offset_is_a_conflict(editor: Client) -> None:
    location = await create(editor, 10)
    response = await editor.patch(location, data=b"abc", headers={**TUS, **BYTES, "Upload-Offset": "3"})
    assert response.status == 409
    assert "stands at 0" in (await response.json())["error"]
    assert await offset_of(editor, location) == 0


async def test_creation_with_upload(editor: Client) -> None:
    response = await editor.post(
        "/api/v1/uploads",
        data=b"0123456789",
        headers={**TUS, **BYTES, "Upload-Length": "20", "Upload-Metadata": metadata(filename="a.mkv")},
    )
    assert response.status == 201, await response.text()
    assert response.headers["Upload-Offset"] == "10"
    assert await offset_of(editor, response.headers["Location"]) == 10


async def test_too_large_is_refused_before_anything_is_stored(
    editor: Client, upload_settings: Settings
) -> None:
    response = await editor.post(
        "/api/v1/uploads",
        data=b"x" * 1000,
        headers={
            **TUS,
            **BYTES,
            "Upload-Length": str(upload_settings.max_upload_bytes + 1),
            "Upload-Metadata": metadata(filename="big.mp4"),
        },
    )
    assert response.status == 413
    assert response.headers["Tus-Resumable"] == "1.0.0"
    assert staged(upload_settings) == []


async def test_a_body_past_the_length_is_refused_and_not_kept(editor: Client) -> None:
    location = await create(editor, 10)

    async def chunks() -> AsyncIterator[bytes]:  # chunked: no Content-Length to refuse on early
        yield b"0123456"
        await asyncio.sleep(0.2)  # read apart: the first part is on disk before the overflow arrives
        yield b"789abcdef"

    response = await editor.patch(location, data=chunks(), headers={**TUS, **BYTES, "Upload-Offset": "0"})
    assert response.status == 413
    assert await offset_of(editor, location) == 0


@pytest.mark.parametrize("name", ["notes.txt", "setup.exe", "video"])
async def test_not_a_media_file_is_refused_before_anything_is_stored(
    editor: Client, upload_settings: Settings, name: str
) -> None:
    response = await editor.post(
        "/api/v1/uploads", headers={**TUS, "Upload-Length": "10", "Upload-Metadata": metadata(filename=name)}
    )
    assert response.status == 415
    assert staged(upload_settings) == []


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        pytest.param("filename !!!", "base64", id="bad-base64"),
        pytest.param(metadata(filename="a.mp4", episode="two"), "episode", id="bad-episode"),
        pytest.param(metadata(filename="a.mp4", source="moon"), "source", id="bad-source"),
        pytest.param(metadata(title="x"), "filename is required", id="no-filename"),
        pytest.param(metadata(filename="a.mp4", rights='{"radio": {}}'), "unknown output", id="bad-rights"),
        pytest.param(
            metadata(filename="a.mp4", rights="tv"), "rights must be a JSON object", id="rights-not-json"
        ),
    ],
)
async def test_bad_metadata_is_refused_with_the_reason(
    editor: Client, upload_settings: Settings, header: str, reason: str
) -> None:
    response = await editor.post(
        "/api/v1/uploads", headers={**TUS, "Upload-Length": "10", "Upload-Metadata": header}
    )
    assert response.status == 400
    assert reason in (await response.json())["error"]
    assert staged(upload_settings) == []


async def test_deferred_length_is_refused(editor: Client) -> None:
    response = await editor.post(
        "/api/v1/uploads",
        headers={**TUS, "Upload-Defer-Length": "1", "Upload-Metadata": metadata(filename="a.mp4")},
    )
    assert response.status == 400


async def test_termination(editor: Client, upload_settings: Settings) -> None:
    location = await create(editor, 10)
    await editor.patch(location, data=b"abc", headers={**TUS, **BYTES, "Upload-Offset": "0"})
    response = await editor.delete(location, headers=TUS)
    assert response.status == 204
    assert staged(upload_settings) == []
    assert (await editor.head(location, headers=TUS)).status == 404
    patched = await editor.patch(location, data=b"def", headers={**TUS, **BYTES, "Upload-Offset": "3"})
    assert patched.status == 404


async def test_expired_uploads_answer_410_and_are_swept(
    editor: Client, upload_app: web.Application, clock: FixedClock, upload_settings: Settings
) -> None:
    location = await create(editor, 10)
    await editor.patch(location, data=b"abc", headers={**TUS, **BYTES, "Upload-Offset": "0"})
    clock.current = NOW + timedelta(hours=1, seconds=1)
    assert (await editor.head(location, headers=TUS)).status == 410
    patched = await editor.patch(location, data=b"def", headers={**TUS, **BYTES, "Upload-Offset": "3"})
    assert patched.status == 410
    assert staged(upload_settings)  # not swept yet
    from rcmedia.web.uploads import STAGING_KEY

    deleted = upload_app[STAGING_KEY].sweep(now=clock.now())
    assert deleted == [location.rsplit("/", 1)[-1]]
    assert staged(upload_settings) == []
    assert (await editor.head(location, headers=TUS)).status == 404


async def test_the_app_sweeps_at_start(
    upload_settings: Settings, catalog: Catalog, storage: LocalStorage, aiohttp_client: AiohttpClient
) -> None:
    from rcmedia.ingest.uploads import UploadStaging

    staging = UploadStaging(upload_settings.uploads_dir, expiry=timedelta(hours=1))
    old = staging.create(
        length=5, metadata={"filename": "a.mp4"}, owner="editor", now=NOW - timedelta(hours=2)
    )
    fresh = staging.create(length=5, metadata={"filename": "b.mp4"}, owner="editor", now=NOW)
    await aiohttp_client(origin_app(upload_settings, catalog, storage, FixedClock(NOW)))
    for _ in range(50):
        if not any(name.startswith(old.id) for name in staged(upload_settings)):
            break
        await asyncio.sleep(0.05)
    names = staged(upload_settings)
    assert not any(name.startswith(old.id) for name in names)
    assert f"{fresh.id}.json" in names


async def test_anonymous_and_operators_may_not_upload(
    aiohttp_client: AiohttpClient, upload_app: web.Application, upload_settings: Settings
) -> None:
    client = await aiohttp_client(upload_app)
    headers = {**TUS, "Upload-Length": "10", "Upload-Metadata": metadata(filename="a.mp4")}
    response = await client.post("/api/v1/uploads", headers=headers)
    assert response.status == 401
    assert response.headers["Tus-Resumable"] == "1.0.0"
    await logged_in(client, "operator")
    response = await client.post("/api/v1/uploads", headers=headers)
    assert response.status == 403
    assert staged(upload_settings) == []


async def test_another_editors_upload_is_not_found(
    editor: Client, aiohttp_client: AiohttpClient, upload_app: web.Application, catalog: Catalog
) -> None:
    location = await create(editor, 10)
    from rcmedia.catalog.accounts import Accounts
    from tests.integration.web.accounts import CHEAP, password_of

    Accounts(catalog.engine, hasher=CHEAP).add_user("editor2", Role.EDITOR, password_of("editor2"), now=NOW)
    other = await logged_in(await aiohttp_client(upload_app), "editor2")
    assert (await other.head(location, headers=TUS)).status == 404
    admin = await logged_in(await aiohttp_client(upload_app), "admin")
    assert (await admin.head(location, headers=TUS)).status == 200


@pytest.mark.parametrize("version", [None, "0.2.2", "1.0"])
async def test_tus_resumable_is_required(editor: Client, version: str | None) -> None:
    headers = {"Upload-Length": "10", "Upload-Metadata": metadata(filename="a.mp4")}
    if version is not None:
        headers["Tus-Resumable"] = version
    response = await editor.post("/api/v1/uploads", headers=headers)
    assert response.status == 412
    assert response.headers["Tus-Version"] == "1.0.0"


async def test_a_cross_site_patch_is_refused(editor: Client) -> None:
    location = await create(editor, 10)
    response = await editor.patch(
        location,
        data=b"abc",
        headers={**TUS, **BYTES, "Upload-Offset": "0", "Origin": "https://evil.example"},
    )
    assert response.status == 403
    assert await offset_of(editor, location) == 0


async def test_a_form_post_is_refused(editor: Client, upload_settings: Settings) -> None:
    response = await editor.post(
        "/api/v1/uploads",
        data={"a": "b"},
        headers={**TUS, "Upload-Length": "10", "Upload-Metadata": metadata(filename="a.mp4")},
    )
    assert response.status == 415
    assert staged(upload_settings) == []


async def test_resume_after_a_dropped_connection(editor: Client) -> None:
    """A PATCH cut off mid-body keeps what reached the server; the client resumes from HEAD's offset."""
    data = os.urandom(1_000_000)
    location = await create(editor, len(data))
    cookie = "; ".join(f"{c.key}={c.value}" for c in editor.session.cookie_jar)
    reader, writer = await asyncio.open_connection(editor.host, editor.port)
    request = (
        f"PATCH {location} HTTP/1.1\r\nHost: {editor.host}:{editor.port}\r\nCookie: {cookie}\r\n"
        f"Tus-Resumable: 1.0.0\r\nContent-Type: application/offset+octet-stream\r\n"
        f"Upload-Offset: 0\r\nContent-Length: {len(data)}\r\n\r\n"
    ).encode()
    writer.write(request + data[:400_000])
    await writer.drain()
    offset = 0
    for _ in range(100):  # until the server has written what it was sent
        await asyncio.sleep(0.05)
        offset = await offset_of(editor, location)
        if offset == 400_000:
            break
    writer.transport.abort()  # the connection drops mid-body
    for _ in range(100):  # the server notices, and lets go of the upload
        await asyncio.sleep(0.05)
        response = await editor.patch(
            location, data=data[offset:], headers={**TUS, **BYTES, "Upload-Offset": str(offset)}
        )
        if response.status != 423:
            break
    assert offset == 400_000
    assert response.status == 204, await response.text()
    assert response.headers["Upload-Offset"] == str(len(data))
    del reader


async def test_one_patch_at_a_time(editor: Client) -> None:
    location = await create(editor, 100)
    cookie = "; ".join(f"{c.key}={c.value}" for c in editor.session.cookie_jar)
    _reader, writer = await asyncio.open_connection(editor.host, editor.port)
    writer.write(
        (
            f"PATCH {location} HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\nTus-Resumable: 1.0.0\r\n"
            "Content-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\nContent-Length: 100\r\n\r\n"
        ).encode()
        + b"x" * 10
    )
    await writer.drain()
    await asyncio.sleep(0.3)  # the first PATCH holds the upload, waiting for the rest of its body
    response = await editor.patch(location, data=b"y" * 10, headers={**TUS, **BYTES, "Upload-Offset": "0"})
    assert response.status == 423
    writer.transport.abort()


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    path = tmp_path / "clip.mp4"
    make_clip(path, ffmpeg=ffmpeg_binary(), duration=1.0)
    return path


async def test_a_finished_upload_becomes_an_ingest_job(
    editor: Client, clip: Path, catalog: Catalog, upload_settings: Settings
) -> None:
    data = await asyncio.to_thread(clip.read_bytes)
    location = await create(
        editor, len(data), name="红色记忆.mp4", title="红色记忆 第1集", categories="党史,历史"
    )
    half = len(data) // 2
    first = await editor.patch(location, data=data[:half], headers={**TUS, **BYTES, "Upload-Offset": "0"})
    assert "Rcmedia-Job" not in first.headers
    assert catalog.find_jobs(state=None, limit=10, offset=0).total == 0  # nothing until the last byte
    last = await editor.patch(
        location, data=data[half:], headers={**TUS, **BYTES, "Upload-Offset": str(half)}
    )
    assert last.status == 204, await last.text()
    job_id = int(last.headers["Rcmedia-Job"])
    job = catalog.get_job(job_id)
    assert job.state is JobState.QUEUED
    assert await asyncio.to_thread(Path(job.source_path).read_bytes) == data
    assert Path(job.source_path).parent == upload_settings.hot_folder / "processing"
    document = await (await editor.get(location)).json()
    assert document["job_id"] == job_id
    assert (document["offset"], document["length"]) == (len(data), len(data))
    assert document["metadata"]["title"] == "红色记忆 第1集"
    asset = catalog.get_asset(job.asset_id)
    assert asset.metadata.title == "红色记忆 第1集"
    assert asset.metadata.categories == ("党史", "历史")
    (entry,) = catalog.audit.entries(action="upload.finish")
    assert (entry.actor, entry.target) == ("editor", f"upload/{document['id']}")
    assert entry.after["job_id"] == job_id
    assert entry.after["metadata"]["title"] == "红色记忆 第1集"
    again = await editor.patch(location, data=b"x", headers={**TUS, **BYTES, "Upload-Offset": str(len(data))})
    assert again.status == 409  # finished: nothing more is taken


async def test_a_busy_catalog_at_the_last_byte_can_be_retried(
    editor: Client, catalog: Catalog, upload_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    location = await create(editor, 10)

    def busy(*_args: object, **_kwargs: object) -> tuple[int, int]:
        raise BusyError("the catalog")

    with monkeypatch.context() as patched:
        patched.setattr(Catalog, "create_ingest", busy)
        response = await editor.patch(
            location, data=b"0123456789", headers={**TUS, **BYTES, "Upload-Offset": "0"}
        )
        assert response.status == 503
    assert list((upload_settings.hot_folder / "processing").iterdir()) == []  # the bytes went back
    assert await offset_of(editor, location) == 10
    retried = await editor.patch(location, data=b"", headers={**TUS, **BYTES, "Upload-Offset": "10"})
    assert retried.status == 204, await retried.text()
    assert catalog.get_job(int(retried.headers["Rcmedia-Job"])).state is JobState.QUEUED
