"""The bucket's CORS rules for the web player (``s3_media = "redirect"``: hls.js follows the
origin's 307 to the bucket with XHR, so the bucket must allow the page's origin). Against moto's
server over real HTTP. The rules are what is tested: moto's server itself answers every origin
(it sends Access-Control-Allow-Origin with or without a bucket rule), so a browser's view of them
cannot be shown here."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from click.testing import CliRunner

from rcmedia.catalog.repository import Catalog
from rcmedia.cli.storage import storage as storage_commands
from rcmedia.cli.storage import web_origin
from rcmedia.config import Settings
from rcmedia.storage.s3 import CORS_RULE_ID, S3Storage
from tests.s3_server import S3Server

PAGE = "https://tv.example.org"


@pytest.fixture
def s3(s3_server: S3Server, tmp_path: Path) -> S3Storage:
    return S3Storage(s3_server.new_bucket(), staging_root=tmp_path / "staging", endpoint=s3_server.endpoint)


def test_allowing_an_origin_keeps_the_other_rules_and_replaces_its_own(s3: S3Storage) -> None:
    assert not s3.cors_allows(PAGE)  # a new bucket has no CORS configuration at all
    foreign = {"ID": "uploads", "AllowedOrigins": ["https://cms.example.org"], "AllowedMethods": ["PUT"]}
    s3.client.put_bucket_cors(Bucket=s3.bucket, CORSConfiguration={"CORSRules": [foreign]})
    assert not s3.cors_allows("https://cms.example.org")  # PUT only

    s3.allow_cors("https://old.example.org")
    s3.allow_cors(PAGE)

    assert s3.cors_allows(PAGE)
    assert not s3.cors_allows("https://old.example.org")  # our one rule was replaced
    assert not s3.cors_allows("https://elsewhere.example.org")
    rules = s3.client.get_bucket_cors(Bucket=s3.bucket)["CORSRules"]
    assert [r.get("ID") for r in rules] == ["uploads", CORS_RULE_ID]
    ours = rules[1]
    assert (ours["AllowedOrigins"], sorted(ours["AllowedMethods"])) == ([PAGE], ["GET", "HEAD"])


def test_web_origin_is_scheme_host_and_port() -> None:
    assert web_origin("https://TV.example.org:8443/watch?x=1") == "https://tv.example.org:8443"
    with pytest.raises(Exception, match="not an http"):
        web_origin("tv.example.org")


def s3_settings(settings: Settings, s3_server: S3Server, s3: S3Storage, public_url: str) -> Settings:
    """The test home's settings (its catalog: the ``catalog`` fixture migrates it) on the bucket."""
    return dataclasses.replace(
        settings, storage=s3.url, s3_endpoint=s3_server.endpoint, public_url=public_url
    )


def test_the_cors_command_checks_and_sets_public_urls_origin(
    settings: Settings, catalog: Catalog, s3_server: S3Server, s3: S3Storage
) -> None:
    settings = s3_settings(settings, s3_server, s3, f"{PAGE}/")
    runner = CliRunner()

    missing = runner.invoke(storage_commands, ["cors", "--check"], obj={"settings": settings})
    assert missing.exit_code == 1, missing.output
    assert f"do not let pages on {PAGE} GET media" in missing.output

    done = runner.invoke(storage_commands, ["cors"], obj={"settings": settings})
    assert done.exit_code == 0, done.output
    assert s3.cors_allows(PAGE)
    checked = runner.invoke(storage_commands, ["cors", "--check"], obj={"settings": settings})
    assert checked.exit_code == 0, checked.output

    other = runner.invoke(
        storage_commands, ["cors", "--check", "--origin", "http://127.0.0.1:8080"], obj={"settings": settings}
    )
    assert other.exit_code == 1


def test_the_cors_command_needs_an_origin(settings: Settings, s3_server: S3Server, s3: S3Storage) -> None:
    settings = s3_settings(settings, s3_server, s3, "")
    result = CliRunner().invoke(storage_commands, ["cors"], obj={"settings": settings})
    assert result.exit_code == 2
    assert "pass --origin" in result.output


def test_storage_check_warns_when_the_player_cannot_read_the_bucket(
    settings: Settings, catalog: Catalog, s3_server: S3Server, s3: S3Storage
) -> None:
    settings = s3_settings(settings, s3_server, s3, PAGE)
    runner = CliRunner()
    before = runner.invoke(storage_commands, ["check"], obj={"settings": settings})
    assert "run rcmedia storage cors" in before.output, before.output
    s3.allow_cors(PAGE)
    after = runner.invoke(storage_commands, ["check"], obj={"settings": settings})
    assert "CORS" not in after.output, after.output


def test_local_storage_needs_no_cors(settings: Settings) -> None:
    result = CliRunner().invoke(storage_commands, ["cors"], obj={"settings": settings})
    assert result.exit_code == 0, result.output
    assert "no CORS rule is needed" in result.output
