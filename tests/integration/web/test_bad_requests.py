"""Bad input is a 4xx with the reason, never a 500 (issue 9, item 6): each case once answered 500.

Over the real app on a real SQLite catalog with two channels on air (``schedules.py``).
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest

from rcmedia.catalog.repository import AssetQuery, Catalog
from rcmedia.core.accounts import Role
from rcmedia.storage.local import LocalStorage
from tests.integration.web.accounts import add_accounts, logged_in
from tests.integration.web.published import Client

FIRST_BUILT = datetime(2026, 2, 28, 22, 0, tzinfo=UTC)  # 06:00 of FIRST_DAY (1 March) in Shanghai
TOO_BIG = str(2**63)  # one more than SQLite's (and PostgreSQL's bigint) largest integer


@pytest.fixture(autouse=True)
def accounts(catalog: Catalog) -> dict[Role, str]:
    return add_accounts(catalog)


def segment_key(catalog: Catalog, title: str = "学习时间 第1集") -> str:
    (asset,) = catalog.find_assets(AssetQuery(text=title)).items
    return f"{asset.storage_prefix}/144p/seg_00000.ts"


def catchup(rung: str, start: int, seconds: int) -> str:
    return f"/catchup/rcxf/iptv/{rung}.m3u8?utc={start}&duration={seconds}"


BEFORE_SCHEDULE = int((FIRST_BUILT - timedelta(days=2)).timestamp())  # inside the 7 catch-up days


@pytest.mark.parametrize(
    ("path", "status", "says"),
    [
        pytest.param(f"/api/v1/assets?offset={TOO_BIG}", 400, "'offset'", id="assets-offset"),
        pytest.param(f"/api/v1/jobs?offset={TOO_BIG}", 400, "'offset'", id="jobs-offset"),
        pytest.param(f"/api/v1/assets?limit={TOO_BIG}", 400, "'limit'", id="assets-limit"),
        pytest.param("/api/v1/assets?offset=%D9%A1", 400, "'offset'", id="arabic-digit"),
        pytest.param("/api/v1/assets?offset=1_0", 400, "'offset'", id="underscore"),
        pytest.param("/media/" + "a/" * 3000 + "x.ts", 404, "longer than 1024 bytes", id="deep-media-path"),
        pytest.param("/media/" + "a/" * 40 + "x.ts", 404, "more than 32 parts", id="deep-short-media-path"),
        pytest.param("/media/" + "a" * 300 + ".ts", 404, "longer than 255 bytes", id="long-media-name"),
        pytest.param(
            "/shifted/0/" + "a/" * 3000 + "x.ts", 404, "longer than 1024 bytes", id="deep-shifted-path"
        ),
        pytest.param(catchup("master", 999_999_999_999, 600), 400, "'utc'", id="catchup-year-33658"),
        pytest.param(
            "/catchup/rcxf/iptv/master.m3u8?utc=%C2%B2&duration=60",
            400,
            "'utc'",
            id="catchup-superscript-digit",
        ),
        pytest.param(
            catchup("master", BEFORE_SCHEDULE, 600), 404, "nothing was scheduled", id="catchup-master-unbuilt"
        ),
        pytest.param(
            catchup("720p", BEFORE_SCHEDULE, 600), 404, "nothing was scheduled", id="catchup-media-unbuilt"
        ),
    ],
)
async def test_bad_requests_are_refused_with_the_reason(
    schedule_client: Client, path: str, status: int, says: str
) -> None:
    response = await schedule_client.get(path)
    assert response.status == status, await response.text()
    assert says in await response.text()


async def test_a_replay_reaching_back_before_the_schedule_starts_where_it_starts(
    schedule_client: Client,
) -> None:
    """The master and its media playlists agree: both play what aired from the first built day on."""
    start = int((FIRST_BUILT - timedelta(minutes=30)).timestamp())
    master = await schedule_client.get(catchup("master", start, 3600))
    media = await schedule_client.get(catchup("720p", start, 3600))

    assert (master.status, media.status) == (200, 200), await media.text()
    text = await media.text()
    assert text.count("#EXTINF:") == 300  # 30 minutes of 6 s segments: from 06:00 on
    assert "#EXT-X-ENDLIST" in text


@pytest.mark.parametrize(
    ("shift", "status", "says"),
    [
        pytest.param("1", 400, "90 kHz", id="not-whole-ticks"),
        pytest.param("-7", 400, "90 kHz", id="negative-not-whole-ticks"),
        pytest.param("1000000", 404, "cannot be shifted", id="not-mpeg-ts"),  # the fixture's random bytes
    ],
)
async def test_shifted_segments_refused_with_the_reason(
    schedule_client: Client, catalog: Catalog, shift: str, status: int, says: str
) -> None:
    response = await schedule_client.get(f"/shifted/{shift}/{segment_key(catalog)}")
    assert response.status == status, await response.text()
    assert says in await response.text()


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("[" * 100_000 + "]" * 100_000, id="deep-list"),
        pytest.param('{"a":' * 50_000 + "1" + "}" * 50_000, id="deep-object"),
    ],
)
async def test_deeply_nested_json_is_a_400(schedule_client: Client, body: str) -> None:
    response = await schedule_client.post("/login", data=body, headers={"Content-Type": "application/json"})
    assert response.status == 400, await response.text()
    assert (await response.json())["field"] == "body"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        pytest.param(b"name=\xff\xfe&password=x", "application/x-www-form-urlencoded", id="form-not-utf-8"),
        pytest.param(
            b"name=x&password=x", "application/x-www-form-urlencoded; charset=klingon", id="charset"
        ),
        pytest.param(b"garbage", "multipart/form-data", id="multipart-without-boundary"),
        pytest.param(
            b"--x\r\nContent-Disposition: form-data; name=name\r\n\r\n\xff\r\n--x--\r\n",
            "multipart/form-data; boundary=x",
            id="multipart-not-utf-8",
        ),
    ],
)
async def test_an_unreadable_login_form_is_a_400(
    schedule_client: Client, body: bytes, content_type: str
) -> None:
    response = await schedule_client.post("/login", data=body, headers={"Content-Type": content_type})
    assert response.status == 400, await response.text()
    assert "not a readable form" in await response.text()


async def test_ids_are_ascii_digits(schedule_client: Client) -> None:
    assert (await schedule_client.get("/api/v1/assets/1")).status == 200
    assert (await schedule_client.get("/api/v1/assets/%D9%A1")).status == 404  # Arabic-Indic one


async def test_a_body_over_the_limit_is_a_413(schedule_client: Client) -> None:
    body = io.BytesIO(b'{"name": "' + b"x" * (2 << 20) + b'"}')
    response = await schedule_client.post("/login", data=body, headers={"Content-Type": "application/json"})
    assert response.status == 413


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        pytest.param("0001-01-01T00:00:00+14:00", None, "rights[0].start", id="before-year-1"),
        pytest.param(None, "9999-12-31T23:59:59-14:00", "rights[0].end", id="after-year-9999"),
        pytest.param("1969-12-31T23:59:59Z", None, "rights[0].start", id="before-1970"),
    ],
)
async def test_rights_out_of_range_are_a_400_naming_the_field(
    schedule_client: Client, catalog: Catalog, start: str | None, end: str | None, field: str
) -> None:
    (asset,) = catalog.find_assets(AssetQuery(text="红色记忆")).items
    await logged_in(schedule_client, "editor")
    response = await schedule_client.put(
        f"/api/v1/assets/{asset.id}/rights", json=[{"output": "tv", "start": start, "end": end}]
    )
    assert response.status == 400, await response.text()
    body = await response.json()
    assert body["field"] == field
    assert "from 1970" in body["error"]


NULL_PACKET = b"\x47\x1f\xff\x10" + b"\xff" * 184  # MPEG-TS null packets: nothing to shift, but valid


@pytest.mark.parametrize(
    ("byte_range", "status"),
    [
        pytest.param("bytes=0-99", 206, id="satisfiable"),
        pytest.param(f"bytes={len(NULL_PACKET) * 2}-", 416, id="past-the-end"),
        pytest.param("bytes=" + "9" * 5000 + "-", 200, id="huge-number-ignored"),
    ],
)
async def test_shifted_byte_ranges(
    schedule_client: Client, storage: LocalStorage, byte_range: str, status: int
) -> None:
    key = "slate/test/144p/seg_00000.ts"
    (storage.root / key).parent.mkdir(parents=True)
    (storage.root / key).write_bytes(NULL_PACKET * 2)

    response = await schedule_client.get(f"/shifted/3600/{key}", headers={"Range": byte_range})
    assert response.status == status, await response.text()
