"""The dashboard over HTTP: now and next per output, the slate share ahead, storage problems."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from rcmedia.catalog.repository import Catalog
from rcmedia.core.accounts import Role
from rcmedia.core.asrun import StoodIn
from rcmedia.core.models import Output
from rcmedia.core.slate_share import slate_share
from rcmedia.service.channels import find_channel
from rcmedia.web.watch_guide import now_and_next
from tests.integration.web.accounts import add_accounts, logged_in
from tests.integration.web.published import Client
from tests.integration.web.schedules import NOW, FixedClock, OnAir


@pytest.fixture(autouse=True)
def accounts(catalog: Catalog) -> dict[Role, str]:
    return add_accounts(catalog)


def output_row(text: str, channel: str, output: str) -> str:
    card = text[text.index(f'id="channel-{channel}"') :]
    card = card[: card.index("</article>")]
    row = card[card.index(f'<tr data-output="{output}">') :]
    return row[: row.index("</tr>")]


async def test_every_channel_output_shows_now_next_and_the_slate_ahead(
    schedule_client: Client, on_air: OnAir
) -> None:
    await logged_in(schedule_client, "editor")
    text = await (await schedule_client.get("/ops")).text()
    for channel_id, outputs in (("rcxf", ("tv", "iptv", "mobile")), ("rcjy", ("iptv", "mobile"))):
        channel = find_channel(on_air.store, channel_id).channel
        for name in outputs:
            output = Output(name)
            row = output_row(text, channel_id, name)
            on_now, upcoming = now_and_next(on_air.store, channel, output, NOW)
            assert on_now is not None
            assert upcoming is not None
            assert f"{on_now.local_start}–{on_now.local_end}</span> {on_now.title}" in row
            assert f"{upcoming.local_start}–{upcoming.local_end}</span> {upcoming.title}" in row
            events = on_air.store.events(channel_id, output, start=NOW, end=NOW + timedelta(hours=24))
            share = slate_share(events, start=NOW, end=NOW + timedelta(hours=24))
            assert share.gap == 0  # three days are built around now
            assert f"{share.slate * 100:.1f}%" in row
            assert "未排" not in row
    assert 'href="/ops/channels/rcxf/grid"' in text
    assert 'href="/ops/channels/rcjy/schedule?output=mobile"' in text


async def test_time_not_built_yet_is_shown_as_such(schedule_client: Client, clock: FixedClock) -> None:
    clock.current = NOW + timedelta(days=2, hours=6)  # past the last built day of rcxf (Shanghai)
    await logged_in(schedule_client, "operator")
    text = await (await schedule_client.get("/ops?lang=en")).text()
    row = output_row(text, "rcxf", "iptv")
    assert "nothing built" in row
    gap = re.search(r"unbuilt (\d+\.\d)%", row)
    assert gap is not None
    assert float(gap.group(1)) == 100.0


async def test_missing_segments_are_listed_as_storage_problems(
    schedule_client: Client, catalog: Catalog
) -> None:
    await logged_in(schedule_client, "operator")
    text = await (await schedule_client.get("/ops")).text()
    assert "没有缺失的分片。" in text
    catalog.asrun.record_stand_in(
        "assets/3/144p/seg_00007.ts", StoodIn(asset_id=3, index=7, rendition="144p", since=NOW)
    )
    text = await (await schedule_client.get("/ops")).text()
    table = text[text.index('id="stand-ins"') :]
    assert '<a href="/ops/assets/3">#3</a></td><td>144p</td><td class="number">7</td>' in table
    assert "2026-03-02 04:30:00" in table
