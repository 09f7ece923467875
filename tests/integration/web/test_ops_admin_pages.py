"""The admin pages over HTTP: ``/ops/users`` and ``/ops/audit`` — who may open them, the audit
log's filters and paging, and bad filter values refused with the reason (400, never 500)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from yarl import URL

from rcmedia.catalog.repository import Catalog
from rcmedia.core.accounts import Role
from rcmedia.web.ops.audit import PAGE_SIZE
from tests.integration.web.accounts import add_accounts, logged_in
from tests.integration.web.published import Client

pytestmark = pytest.mark.usefixtures("accounts")

START = datetime(2026, 12, 5, 0, 0, tzinfo=UTC)  # 08:00 in Asia/Shanghai


@pytest.fixture
def accounts(catalog: Catalog) -> dict[Role, str]:
    return add_accounts(catalog)


def config_of(page: str) -> dict[str, object]:
    found = re.search(r'<script type="application/json" id="ops-config">(.*?)</script>', page, re.S)
    assert found
    return json.loads(found.group(1))  # type: ignore[no-any-return]


def entry_ids(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr data-id="(\d+)"', page)]


def older_link(page: str) -> str | None:
    found = re.search(r'href="(/ops/audit\?[^"]*)" rel="next"', page)
    return found.group(1).replace("&amp;", "&") if found else None


def record_minutes(catalog: Catalog, count: int, **fields: str) -> list[int]:
    """``count`` entries a minute apart from START; their ids, oldest first."""
    made = []
    for n in range(count):
        entry = catalog.audit.record(
            fields.get("actor", "admin"),
            fields.get("action", "user.update"),
            fields.get("target", f"user/u{n}"),
            before={"role": "editor", "disabled": False},
            after={"role": "operator", "disabled": False},
            now=START + timedelta(minutes=n),
        )
        made.append(entry.id)
    return made


@pytest.mark.parametrize("path", ["/ops/users", "/ops/audit"])
async def test_anonymous_visitors_are_sent_to_log_in(client: Client, path: str) -> None:
    response = await client.get(path, allow_redirects=False)
    assert response.status == 303
    assert URL(response.headers["Location"]).query["next"] == path


@pytest.mark.parametrize("path", ["/ops/users", "/ops/audit"])
@pytest.mark.parametrize("name", ["operator", "editor"])
async def test_only_admins_open_the_admin_pages(client: Client, path: str, name: str) -> None:
    await logged_in(client, name)
    response = await client.get(path)
    assert response.status == 403
    assert "此页面需要 admin" in await response.text()
    dashboard = await (await client.get("/ops")).text()
    assert 'href="/ops/users"' not in dashboard
    assert 'href="/ops/audit"' not in dashboard


async def test_the_users_page_lists_every_account_and_the_channels(client: Client, on_air: object) -> None:
    await logged_in(client, "admin")
    response = await client.get("/ops/users?lang=en")
    assert response.status == 200
    page = await response.text()
    assert "<h1>Users</h1>" in page
    config = config_of(page)
    assert [u["name"] for u in config["users"]] == ["admin", "editor", "operator"]  # type: ignore[index]
    assert {c["id"] for c in config["channels"]} == {"rcxf", "rcjy"}  # type: ignore[union-attr]
    assert 'name="channel" value="rcjy"' in page
    assert "password_hash" not in page


async def test_the_audit_log_pages_on_with_before_id(client: Client, catalog: Catalog) -> None:
    ids = record_minutes(catalog, PAGE_SIZE + 10)
    await logged_in(client, "admin")
    first = await (await client.get("/ops/audit")).text()
    assert entry_ids(first) == ids[::-1][:PAGE_SIZE]  # newest first
    assert "Asia/Shanghai" in first
    assert "2026-12-05 08:00:00" not in first  # the oldest is on the next page
    assert f"2026-12-05 08:{PAGE_SIZE + 9}:00" in first  # the newest, in Beijing time
    link = older_link(first)
    assert link is not None
    assert URL(link).query["before_id"] == str(ids[10])
    catalog.audit.record("admin", "user.add", "user/late", before=None, after={}, now=START)
    second = await (await client.get(link)).text()
    assert entry_ids(second) == ids[:10][::-1]  # a new entry does not shift the older page
    assert older_link(second) is None
    assert 'href="/ops/audit" rel="first"' in second


async def test_the_audit_log_filters_keep_on_paging(client: Client, catalog: Catalog) -> None:
    record_minutes(
        catalog, 5, actor="cli:root", action="schedule.edit", target="channel/rcxf/iptv/2026-12-05"
    )
    wanted = record_minutes(catalog, PAGE_SIZE + 2, actor="boss", action="user.add", target="user/x")
    await logged_in(client, "admin")
    first = await (await client.get("/ops/audit?actor=boss&action=user.add&target=user/")).text()
    assert entry_ids(first) == wanted[::-1][:PAGE_SIZE]
    link = older_link(first)
    assert link is not None
    assert {k: v for k, v in URL(link).query.items() if k != "before_id"} == {
        "actor": "boss",
        "action": "user.add",
        "target": "user/",
    }
    assert entry_ids(await (await client.get(link)).text()) == wanted[:2][::-1]
    by_target = await (await client.get("/ops/audit?target=channel/rcxf/")).text()
    assert len(entry_ids(by_target)) == 5
    assert "cli:root" in by_target


async def test_since_is_read_in_the_pages_zone(client: Client, catalog: Catalog) -> None:
    ids = record_minutes(catalog, 10)
    await logged_in(client, "admin")
    beijing = await (await client.get("/ops/audit?since=2026-12-05T08:07")).text()
    assert entry_ids(beijing) == ids[7:][::-1]
    assert 'value="2026-12-05T08:07"' in beijing  # the form keeps the filter
    utc = await (await client.get("/ops/audit?since=2026-12-05T00:03&tz=UTC")).text()
    assert entry_ids(utc) == ids[3:][::-1]
    assert "2026-12-05 00:09:00" in utc
    offset = await (await client.get("/ops/audit", params={"since": "2026-12-05T00:08:00+00:00"})).text()
    assert entry_ids(offset) == ids[8:][::-1]


async def test_an_entry_shows_what_changed_and_the_full_documents(client: Client, catalog: Catalog) -> None:
    catalog.audit.record(
        "admin",
        "asset.update",
        "asset/7",
        before={"title": "旧标题", "episode": 1},
        after={"title": "新标题", "episode": 1},
        now=START,
    )
    await logged_in(client, "admin")
    page = await (await client.get("/ops/audit")).text()
    assert '<span class="mono key">title</span>: <del class="mono">&#34;旧标题&#34;</del>' in page
    assert '<span class="mono key">episode</span>' not in page  # unchanged keys stay out of the diff
    assert "<summary>完整 JSON</summary>" in page
    assert "&#34;episode&#34;: 1" in page


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        pytest.param("since=yesterday", "since", id="since"),
        pytest.param("since=2026-13-40T08:00", "since", id="since-out-of-range"),
        pytest.param("before_id=abc", "before_id", id="before-id-text"),
        pytest.param("before_id=0", "before_id", id="before-id-zero"),
        pytest.param("before_id=99999999999999999999", "before_id", id="before-id-huge"),
        pytest.param("since=9999-12-31T23:59:00-14:00", "since", id="since-past-year-9999"),
        pytest.param("since=0001-01-01T00:00", "since", id="since-before-year-1"),
        pytest.param("tz=Mars/Olympus", "tz", id="zone"),
        pytest.param("tz=zone.tab", "tz", id="zone-not-a-zone"),
        pytest.param("tz=../../etc/passwd", "tz", id="zone-path"),
        pytest.param("actor=" + "x" * 101, "actor", id="actor-long"),
        pytest.param("action=" + "x" * 41, "action", id="action-long"),
        pytest.param("target=" + "x" * 301, "target", id="target-long"),
    ],
)
async def test_bad_filters_are_refused_with_the_reason(client: Client, query: str, reason: str) -> None:
    await logged_in(client, "admin")
    response = await client.get(f"/ops/audit?{query}")
    assert response.status == 400
    assert reason in await response.text()


async def test_unknown_actions_and_no_matches_are_not_errors(client: Client) -> None:
    await logged_in(client, "admin")
    response = await client.get("/ops/audit?action=made.up&actor=nobody&lang=en")
    assert response.status == 200
    assert "No entries match." in await response.text()
