"""A channel on air from S3 (real media, ingested with ffmpeg into moto's server): a segment gone
from the bucket is answered with the house slate, read from S3 and rewritten to its place."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import m3u8
import pytest

from rcmedia.catalog.db import make_engine
from rcmedia.catalog.repository import Catalog
from rcmedia.storage.factory import open_storage
from rcmedia.storage.s3 import S3Storage
from rcmedia.web.app import RunningServer, start_server
from tests.integration.media.test_timeshift import decode_errors
from tests.integration.web.schedules import FixedClock, origin_app
from tests.integration.web.test_missing_segment import NOW, PLAYLIST, Library, put_on_air
from tests.s3_server import S3Server


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory, s3_server: S3Server) -> Library:
    """The slate and a programme ingested into S3 (storage chosen by the settings), on air."""
    environ = {"RCMEDIA_STORAGE": s3_server.new_bucket(), "RCMEDIA_S3_ENDPOINT": s3_server.endpoint}
    library = put_on_air(tmp_path_factory.mktemp("s3-slate"), environ=environ)
    assert isinstance(open_storage(library.settings), S3Storage)
    return library


@pytest.fixture
def catalog(library: Library) -> Iterator[Catalog]:
    engine = make_engine(library.settings.database_url)
    yield Catalog(engine)
    engine.dispose()


@pytest.fixture
async def origin(library: Library, catalog: Catalog) -> AsyncIterator[RunningServer]:
    app = origin_app(library.settings, catalog, open_storage(library.settings), FixedClock(NOW))
    server = await start_server(app, host="127.0.0.1", port=0)
    try:
        yield server
    finally:
        await server.stop()


async def test_a_segment_gone_from_s3_is_answered_with_the_slate_from_s3(
    library: Library, origin: RunningServer, ffmpeg: str, tmp_path: Path
) -> None:
    storage = open_storage(library.settings)
    assert isinstance(storage, S3Storage)
    async with aiohttp.ClientSession() as session:
        async with session.get(origin.url + PLAYLIST) as answer:
            assert answer.status == 200
            live = m3u8.loads(await answer.text())
        ours = [s.uri for s in live.segments if f"/assets/{library.programme_id}/" in s.uri]
        assert ours, live.dumps()
        key = ours[-1].split("/", 4)[4]  # /air/{start_us}/{cut}/{key}
        async with session.get(f"{origin.url}/media/{key}", allow_redirects=False) as before:
            assert before.status == 307  # there: the store sends it
        storage.client.delete_object(Bucket=storage.bucket, Key=f"{storage.root}/{key}")

        for path in (ours[-1], f"/media/{key}"):
            async with session.get(origin.url + path, allow_redirects=False) as answer:
                assert answer.status == 200, path  # the slate, never a 404 nor a redirect to one
                assert answer.headers["Content-Type"] == "video/mp2t"
                assert "immutable" not in answer.headers["Cache-Control"]
                stand_in = tmp_path / "stand_in.ts"
                stand_in.write_bytes(await answer.read())
            assert decode_errors(ffmpeg, stand_in) == "", path
