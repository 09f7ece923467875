"""The ``/ops`` pages over HTTP: the login redirect and back, the role wall, headers, the language."""

from __future__ import annotations

import json

import pytest
from yarl import URL

from rcmedia.catalog.accounts import Accounts
from rcmedia.catalog.repository import Catalog
from rcmedia.core.accounts import Role
from rcmedia.web.auth import local_path
from tests.integration.web.accounts import CHEAP, CREATED, add_accounts, logged_in, password_of
from tests.integration.web.published import Client

pytestmark = pytest.mark.usefixtures("accounts")


@pytest.fixture
def accounts(catalog: Catalog) -> dict[Role, str]:
    return add_accounts(catalog)


async def test_an_anonymous_visitor_is_sent_to_log_in_and_back(client: Client) -> None:
    response = await client.get("/ops?lang=en", allow_redirects=False)
    assert response.status == 303
    location = URL(response.headers["Location"])
    assert location.path == "/login"
    assert location.query["next"] == "/ops?lang=en"
    assert response.headers["Cache-Control"] == "no-store"
    form = await (await client.get(response.headers["Location"])).text()
    assert '<input type="hidden" name="next" value="/ops?lang=en">' in form
    signed_in = await client.post(
        "/login",
        data={"name": "operator", "password": password_of("operator"), "next": "/ops?lang=en"},
        allow_redirects=False,
    )
    assert signed_in.status == 303
    assert signed_in.headers["Location"] == "/ops?lang=en"
    page = await client.get("/ops?lang=en")
    assert page.status == 200
    assert "<h1>Dashboard</h1>" in await page.text()


@pytest.mark.parametrize(
    "target",
    [
        pytest.param("https://evil.example/", id="absolute"),
        pytest.param("//evil.example/", id="scheme-relative"),
        pytest.param("/\\evil.example/", id="backslash"),
        pytest.param("/ops\r\nSet-Cookie: x=1", id="header-injection"),
        pytest.param("ops", id="relative"),
    ],
)
async def test_login_never_sends_the_browser_elsewhere(client: Client, target: str) -> None:
    assert local_path(target) is None
    signed_in = await client.post(
        "/login",
        data={"name": "operator", "password": password_of("operator"), "next": target},
        allow_redirects=False,
    )
    assert signed_in.status == 303
    assert signed_in.headers["Location"] == "/login"


async def test_a_signed_in_visitor_is_sent_on_from_the_form(client: Client) -> None:
    await logged_in(client, "editor")
    response = await client.get("/login?next=/ops", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/ops"


async def test_pages_are_per_account_and_never_framed(client: Client) -> None:
    await logged_in(client, "operator")
    response = await client.get("/ops")
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    text = await response.text()
    assert '<html lang="zh">' in text
    assert "operator" in text


async def test_english_is_remembered_in_a_cookie(client: Client) -> None:
    await logged_in(client, "operator")
    first = await client.get("/ops?lang=en")
    assert first.cookies["rcmedia_lang"].value == "en"
    again = await client.get("/ops")
    assert '<html lang="en">' in await again.text()
    back = await client.get("/ops?lang=zh")
    assert '<html lang="zh">' in await back.text()


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("a</script>b", id="end-tag"),
        pytest.param("<!--<script>ab", id="comment-and-script"),  # bends the parser without "</"
        pytest.param("a&amp;'b>", id="entities"),
    ],
)
async def test_the_page_config_cannot_end_or_bend_its_script_block(
    client: Client, catalog: Catalog, name: str
) -> None:
    Accounts(catalog.engine, hasher=CHEAP).add_user(name, Role.EDITOR, password_of("x" * 8), now=CREATED)
    login = await client.post("/login", json={"name": name, "password": password_of("x" * 8)})
    assert login.status == 200
    text = await (await client.get("/ops")).text()
    block = text.split('<script type="application/json" id="ops-config">', 1)[1].split("</script>", 1)[0]
    assert not set("<>&'") & set(block)
    assert json.loads(block)["user"]["name"] == name


@pytest.mark.parametrize("page", ["/ops/channels/rcxf/schedule", "/ops/channels/rcxf/grid"])
async def test_an_operator_limited_to_other_channels_gets_the_403_page(
    client: Client, catalog: Catalog, page: str
) -> None:
    catalog.accounts.update_user("operator", channels=["rcjy"])
    await logged_in(client, "operator")
    response = await client.get(page + "?lang=en")
    assert response.status == 403
    assert response.content_type == "text/html"
    assert "may only work on these channels: rcjy" in await response.text()
