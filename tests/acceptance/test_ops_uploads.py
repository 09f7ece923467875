"""The upload desk and the job monitor in headless chromium, with the real tus client.

A file goes up through ``/ops/uploads`` (tus-js-client against ``/api/v1/uploads``) and its job
is watched on ``/ops/jobs`` while a job runner, as ``rcmedia serve`` or ``rcmedia worker`` runs
it, takes it to "published"; an upload cut off after its first chunk resumes from the server's
offset when the same file is added on a new page.
"""

from __future__ import annotations

import asyncio
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Page, Request, Route, expect

from rcmedia.catalog.repository import Catalog
from rcmedia.config import Settings
from rcmedia.core.changes import MetadataChange
from rcmedia.core.models import AssetMetadata, JobState, Output, Source
from rcmedia.ingest.context import IngestContext
from rcmedia.ingest.intake import submit
from rcmedia.ingest.runner import JobRunner
from rcmedia.media.samples import make_clip
from rcmedia.web.ops.uploads_desk import CHUNK_BYTES
from tests.acceptance.conftest import Serve
from tests.acceptance.ops_browser import check_page, console_errors, log_in
from tests.integration.web.accounts import add_accounts

pytestmark = pytest.mark.usefixtures("accounts")

WAIT_MS = 60_000


@pytest.fixture
def accounts(catalog: Catalog) -> None:
    add_accounts(catalog)


def job_number(text: str) -> int:
    found = re.search(r"#(\d+)", text)
    assert found, text
    return int(found.group(1))


async def test_an_upload_is_followed_to_published_live(
    chromium_page: Page, serve: Serve, catalog: Catalog, ingest_ctx: IngestContext, tmp_path: Path
) -> None:
    clip = make_clip(tmp_path / "第一集.mp4", ffmpeg=ingest_ctx.ffmpeg, duration=2.0, label="desk")
    base = await serve()
    errors = console_errors(chromium_page)
    await log_in(chromium_page, base, "editor", next_path="/ops/uploads")
    monitor = await chromium_page.context.new_page()
    monitor_errors = console_errors(monitor)
    await monitor.goto(base + "/ops/jobs")
    await expect(monitor.locator("#live-note")).to_have_text("实时更新中", timeout=WAIT_MS)

    await chromium_page.fill("#defaults input[name=series]", "上传测试")
    await chromium_page.fill("#defaults input[name=language]", "zh")
    await chromium_page.select_option("#defaults select[name=source]", "city")
    await chromium_page.uncheck("#defaults input[name=autostart]")
    await chromium_page.set_input_files("#files", str(clip))
    card = chromium_page.locator("li.upload")
    await expect(card.locator("h3")).to_have_text("第一集.mp4")
    await card.locator("input[name=rights-mobile]").uncheck()
    await card.locator("input[name=rights-iptv-end]").fill("2026-12-31")
    await card.locator("button.start").click()
    await expect(card).to_have_attribute("data-state", "done", timeout=WAIT_MS)
    await expect(card.locator("progress")).to_have_attribute("aria-label", "上传进度：第一集.mp4")
    assert await card.locator("progress").get_attribute("value") == "100"
    job_id = job_number(await card.locator("a.job").inner_text())
    await check_page(chromium_page, "ops-uploads", errors)

    row = monitor.locator(f"#job-{job_id}")
    await expect(row).to_have_attribute("data-state", "queued", timeout=WAIT_MS)  # a new row, live
    await expect(row).to_have_class(re.compile("fresh"))
    (job,) = await asyncio.to_thread(JobRunner(ingest_ctx).run_jobs, [job_id])
    assert job.state is JobState.PUBLISHED, job.failure_reason
    await expect(row).to_have_attribute("data-state", "published", timeout=WAIT_MS)
    await expect(row.locator("td.state")).to_have_text("已发布")
    await check_page(monitor, "ops-jobs", monitor_errors)

    sent = catalog.get_asset(job.asset_id).metadata  # sent as Upload-Metadata
    assert (sent.title, sent.series, sent.source, sent.language) == ("第一集", "上传测试", Source.CITY, "zh")
    beijing = ZoneInfo("Asia/Shanghai")
    assert {r.output: (r.start, r.end) for r in sent.rights} == {
        Output.TV: (None, None),
        Output.IPTV: (None, datetime(2026, 12, 31, tzinfo=beijing)),
    }
    # and changed afterwards, on the asset the job made
    await card.locator("input[name=title]").fill("第一集（修订）")
    await card.locator("input[name=episode]").fill("1")
    await card.locator("input[name=rights-mobile]").check()
    await card.locator("input[name=rights-mobile-start]").fill("2027-01-01")
    await card.locator("button.save").click()
    await expect(chromium_page.locator("#flash")).to_have_text("已保存：第一集（修订）")
    changed = catalog.get_asset(job.asset_id).metadata
    assert (changed.title, changed.episode) == ("第一集（修订）", 1)
    assert {r.output: (r.start, r.end) for r in changed.rights}[Output.MOBILE] == (
        datetime(2027, 1, 1, tzinfo=beijing),
        None,
    )
    # another editor saves meanwhile: the desk's next save is refused, never written over theirs
    await asyncio.to_thread(
        catalog.update_metadata,
        job.asset_id,
        MetadataChange(title="另一位编辑的标题"),
        now=datetime.now(UTC),
    )
    await card.locator("input[name=title]").fill("第一集（再改）")
    await card.locator("button.save").click()
    await expect(chromium_page.locator("#flash")).to_contain_text(
        "有人先改了这个节目（现在的标题：另一位编辑的标题）"
    )
    assert catalog.get_asset(job.asset_id).metadata.title == "另一位编辑的标题"
    # the desk now holds the current version: saving again is the editor's decision, and works
    await card.locator("button.save").click()
    await expect(chromium_page.locator("#flash")).to_have_text("已保存：第一集（再改）")
    assert catalog.get_asset(job.asset_id).metadata.title == "第一集（再改）"


async def test_an_interrupted_upload_resumes_from_the_servers_offset(
    chromium_page: Page, serve: Serve, settings: Settings, tmp_path: Path
) -> None:
    big = tmp_path / "长片.mp4"
    big.write_bytes(os.urandom(2 * CHUNK_BYTES + 12345))  # three PATCHes; never ingested here
    base = await serve()
    await log_in(chromium_page, base, "editor", next_path="/ops/uploads")
    patches: list[Request] = []
    cut = asyncio.Event()

    async def cut_after_first_chunk(route: Route, request: Request) -> None:
        if request.method != "PATCH":
            await route.continue_()
            return
        patches.append(request)
        if len(patches) == 1:
            await route.continue_()
        else:
            cut.set()
            await route.abort("connectionreset")  # the connection drops (tus-js-client retries)

    await chromium_page.route("**/api/v1/uploads/*", cut_after_first_chunk)
    await chromium_page.set_input_files("#files", str(big))
    await asyncio.wait_for(cut.wait(), WAIT_MS / 1000)
    (part,) = settings.uploads_dir.glob("*.part")
    assert part.stat().st_size >= CHUNK_BYTES
    await chromium_page.close()  # the tab is closed mid-upload
    await asyncio.sleep(0.5)  # a body cut short keeps what reached the disk
    staged = part.stat().st_size
    assert CHUNK_BYTES <= staged < big.stat().st_size

    page = await chromium_page.context.new_page()  # same browser profile: its localStorage kept
    errors = console_errors(page)
    sent: list[Request] = []
    page.on("request", lambda request: sent.append(request) if "/api/v1/uploads" in request.url else None)
    await page.goto(base + "/ops/uploads")
    await page.set_input_files("#files", str(big))
    card = page.locator("li.upload")
    await expect(card).to_have_attribute("data-state", "done", timeout=WAIT_MS)
    await expect(card.locator(".resume-note")).to_have_text(re.compile(r"^从 \d+\.\d MB 处继续$"))
    methods = [(r.method, r.headers.get("upload-offset")) for r in sent]
    assert ("POST", None) not in methods  # no new upload was created
    first_patch = next(offset for method, offset in methods if method == "PATCH")
    assert first_patch == str(staged)  # the bytes went on from the server's offset, not from 0
    assert not list(settings.uploads_dir.glob("*.part"))  # complete: moved on to its ingest job
    assert not errors


async def test_a_refused_file_shows_the_servers_reason(
    chromium_page: Page, serve: Serve, settings: Settings
) -> None:
    base = await serve()
    errors = console_errors(chromium_page)
    await log_in(chromium_page, base, "editor", next_path="/ops/uploads?lang=en")
    await chromium_page.set_input_files(
        "#files", files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not a programme"}]
    )
    card = chromium_page.locator("li.upload")
    await expect(card).to_have_attribute("data-state", "failed", timeout=WAIT_MS)
    reason = card.locator("p.error")
    await expect(reason).to_contain_text("'notes.txt' is not a media file rcmedia takes")
    await expect(reason).to_contain_text("HTTP 415")
    assert not list(settings.uploads_dir.glob("*.part"))  # refused on its headers: nothing stored
    # the refusal is a 415 the page shows, not an error of the page itself
    await check_page(chromium_page, "ops-uploads-refused-en", [e for e in errors if "415" not in e])


async def test_a_failed_job_is_retried_from_the_monitor(
    chromium_page: Page, serve: Serve, catalog: Catalog, ingest_ctx: IngestContext, tmp_path: Path
) -> None:
    broken = tmp_path / "坏文件.mp4"
    broken.write_bytes(b"\x00" * 4096)
    job_id = submit(ingest_ctx, broken, metadata=AssetMetadata(title="坏文件"))
    (failed,) = await asyncio.to_thread(JobRunner(ingest_ctx).run_jobs, [job_id])
    assert failed.state is JobState.FAILED
    base = await serve()
    errors = console_errors(chromium_page)
    await log_in(chromium_page, base, "editor", next_path="/ops/jobs?state=failed")
    row = chromium_page.locator(f"#job-{job_id}")
    await expect(row.locator("td.reason")).to_have_text(failed.failure_reason or "")
    await expect(row.locator("button.cancel")).to_be_disabled()
    await check_page(chromium_page, "ops-jobs-failed", errors)
    await row.locator("button.retry").click()
    await expect(row).to_have_attribute("data-state", "queued")
    await expect(chromium_page.locator("#flash")).to_have_text(f"任务 #{job_id} 已重新排队")
    assert catalog.get_job(job_id).state is JobState.QUEUED
    await expect(row.locator("button.retry")).to_be_disabled()


async def test_operators_watch_jobs_but_may_not_upload(
    chromium_page: Page, serve: Serve, ingest_ctx: IngestContext, tmp_path: Path
) -> None:
    clip = make_clip(tmp_path / "waiting.mp4", ffmpeg=ingest_ctx.ffmpeg, duration=1.0, label="op")
    job_id = submit(ingest_ctx, clip, metadata=AssetMetadata(title="Waiting"))
    base = await serve()
    errors = console_errors(chromium_page)
    await log_in(chromium_page, base, "operator", next_path="/ops/jobs?lang=en")
    row = chromium_page.locator(f"#job-{job_id}")
    await expect(row.locator("td.state")).to_have_text("queued")
    assert await row.locator("button").count() == 0  # retry and cancel are the editors'
    await check_page(chromium_page, "ops-jobs-en", errors)
    (job,) = await asyncio.to_thread(JobRunner(ingest_ctx).run_jobs, [job_id])
    assert job.state is JobState.PUBLISHED, job.failure_reason
    await expect(row.locator("td.state")).to_have_text("published", timeout=WAIT_MS)  # live, no reload
    response = await chromium_page.goto(base + "/ops/uploads")
    assert response is not None
    assert response.status == 403
    await expect(chromium_page.locator("h1")).to_have_text("Not allowed")
    await expect(chromium_page.locator("p.error")).to_contain_text("this page needs editor")


async def test_a_dropped_file_is_paused_resumed_and_cancelled(
    chromium_page: Page, serve: Serve, settings: Settings
) -> None:
    base = await serve()
    errors = console_errors(chromium_page)
    await log_in(chromium_page, base, "editor", next_path="/ops/uploads")
    allowed = {"0"}  # PATCHes at these offsets go through; the others are held until the page gives up
    held = asyncio.Event()

    async def hold(route: Route, request: Request) -> None:
        if request.method != "PATCH" or request.headers.get("upload-offset") in allowed:
            await route.continue_()
        else:
            held.set()  # never answered: the page aborts it (pause, cancel)

    await chromium_page.route("**/api/v1/uploads/*", hold)
    await chromium_page.uncheck("#defaults input[name=autostart]")
    dropped = await chromium_page.evaluate_handle(
        """(size) => {
            const data = new DataTransfer();
            data.items.add(new File([new Uint8Array(size)], "拖进来.mkv", { type: "video/x-matroska" }));
            return data;
        }""",
        2 * CHUNK_BYTES + 1,
    )
    await chromium_page.dispatch_event("#drop", "drop", {"dataTransfer": dropped})
    card = chromium_page.locator("li.upload")
    await expect(card).to_have_attribute("data-state", "ready")
    await expect(card.locator("input[name=title]")).to_have_value("拖进来")
    await card.locator("button.start").click()
    await asyncio.wait_for(held.wait(), WAIT_MS / 1000)
    await expect(card.locator("p.figures .bytes")).to_have_text("8.0 MB / 16.0 MB")
    await card.locator("button.pause").click()
    await expect(card).to_have_attribute("data-state", "paused")
    (part,) = settings.uploads_dir.glob("*.part")
    assert part.stat().st_size == CHUNK_BYTES

    held.clear()
    allowed.add(str(CHUNK_BYTES))
    await card.locator("button.pause").click()  # now labelled "继续"
    await asyncio.wait_for(held.wait(), WAIT_MS / 1000)  # the third chunk is held
    await expect(card).to_have_attribute("data-state", "uploading")
    assert part.stat().st_size == 2 * CHUNK_BYTES  # the second chunk went on from where it stood
    await card.locator("button.cancel").click()
    await expect(chromium_page.locator("#flash")).to_have_text("已取消：拖进来.mkv")
    await expect(card).to_have_count(0)
    assert not list(settings.uploads_dir.iterdir())  # terminated: the server deleted what it had
    assert not errors
