"""tus 1.0.0 headers: Upload-Metadata both ways, sizes, the asset fields and the file's type."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from rcmedia.core import tus
from rcmedia.core.models import Output, Source
from rcmedia.errors import InvalidFieldError


def b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def test_metadata_pairs_decode_and_render_back() -> None:
    header = f"filename {b64('红色记忆.mp4')},title {b64('红色记忆 第1集')},is_confidential"
    pairs = tus.parse_metadata(header)
    assert pairs == {"filename": "红色记忆.mp4", "title": "红色记忆 第1集", "is_confidential": ""}
    assert tus.parse_metadata(tus.render_metadata(pairs)) == pairs


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("filename not*base64", id="bad-base64"),
        pytest.param("filename YQ", id="unpadded"),
        pytest.param("filename //4=", id="not-utf8"),
        pytest.param(f"filename {b64('a')},filename {b64('b')}", id="duplicate-key"),
        pytest.param(f"file name {b64('a')}", id="three-parts"),
        pytest.param(f"{b64('a')} ,", id="empty-key"),
    ],
)
def test_bad_metadata_is_refused_naming_the_header(header: str) -> None:
    with pytest.raises(InvalidFieldError) as raised:
        tus.parse_metadata(header)
    assert raised.value.field == "Upload-Metadata"


@pytest.mark.parametrize("value", ["0", "1024", " 7 "])
def test_sizes(value: str) -> None:
    assert tus.parse_size("Upload-Offset", value) == int(value)


@pytest.mark.parametrize("value", [None, "", "-1", "1.5", "0x10", "١٢", "9" * 20])
def test_bad_sizes_are_refused(value: str | None) -> None:
    with pytest.raises(InvalidFieldError, match="Upload-Offset"):
        tus.parse_size("Upload-Offset", value)


def test_asset_fields_from_metadata() -> None:
    metadata = tus.asset_metadata(
        {
            "filename": "ep3.mp4",
            "filetype": "video/mp4",
            "series": "红色记忆",
            "episode": "3",
            "source": "city",
            "categories": "党史, 历史,,",
        }
    )
    assert metadata.title == "ep3"  # no title: the file's name without its extension
    assert (metadata.series, metadata.episode, metadata.source) == ("红色记忆", 3, Source.CITY)
    assert metadata.categories == ("党史", "历史")


@pytest.mark.parametrize(
    ("pairs", "reason"),
    [
        pytest.param({"filename": "a.mp4", "episode": "two"}, "episode", id="episode"),
        pytest.param({"filename": "a.mp4", "source": "moon"}, "source", id="source"),
        pytest.param({"filename": "a.mp4", "colour": "red"}, "unknown key 'colour'", id="unknown"),
        pytest.param({"filename": "a.mp4", "title": "a\x1bb"}, "title", id="control"),
        pytest.param({"title": "x"}, "filename is required", id="no-filename"),
    ],
)
def test_bad_asset_fields_are_refused(pairs: dict[str, str], reason: str) -> None:
    with pytest.raises(InvalidFieldError, match=reason):
        tus.asset_metadata(pairs)


@pytest.mark.parametrize(
    ("name", "taken"),
    [
        ("a.mp4", True),
        ("A.MOV", True),
        ("show.ts", True),
        ("a.exe", False),
        ("mp4", False),
        ("a.mp4.txt", False),
    ],
)
def test_media_names(name: str, taken: bool) -> None:
    assert tus.is_media_name(name) is taken


def test_expiry_is_an_rfc_7231_date() -> None:
    assert tus.http_date(datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)) == "Wed, 04 Mar 2026 05:06:07 GMT"


def test_rights_per_output_from_metadata() -> None:
    metadata = tus.asset_metadata(
        {
            "filename": "a.mp4",
            "rights": '{"tv": {}, "iptv": {"start": "2026-05-01", "end": "2026-06-01T00:00:00+00:00"}}',
        }
    )
    by_output = {r.output: r for r in metadata.rights}
    assert set(by_output) == {Output.TV, Output.IPTV}  # mobile left out: off
    assert by_output[Output.TV].start is None
    assert by_output[Output.IPTV].start == datetime(2026, 5, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert by_output[Output.IPTV].end == datetime(2026, 6, 1, tzinfo=UTC)
    assert {r.output for r in tus.asset_metadata({"filename": "a.mp4"}).rights} == set(Output)


@pytest.mark.parametrize(
    ("rights", "reason"),
    [
        pytest.param("tv", "must be a JSON object", id="not-json"),
        pytest.param('["tv"]', "JSON object of outputs", id="a-list"),
        pytest.param('{"tv": true}', "JSON object of outputs", id="not-a-window"),
        pytest.param('{"radio": {}}', "unknown output", id="unknown-output"),
        pytest.param('{"tv": {"start": "soon"}}', "rights.tv.start", id="bad-instant"),
        pytest.param('{"tv": {"start": 20260501}}', "rights.tv.start", id="number"),
        pytest.param(
            '{"tv": {"start": "2026-06-01", "end": "2026-05-01"}}', "end must be after", id="backwards"
        ),
        pytest.param('{"tv": {"until": "2026-05-01"}}', "unknown key", id="unknown-key"),
        pytest.param("[" * 5000, "must be a JSON object", id="nested-past-the-stack"),
        pytest.param('{"tv": {"start": "0001-01-01"}}', "out of range", id="before-1970"),
        pytest.param(
            '{"tv": {"end": "9999-12-31T23:59:59-14:00"}}', "out of range", id="past-what-python-holds"
        ),
    ],
)
def test_bad_rights_are_refused(rights: str, reason: str) -> None:
    with pytest.raises(InvalidFieldError, match=reason):
        tus.asset_metadata({"filename": "a.mp4", "rights": rights})
