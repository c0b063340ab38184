"""The clerks' console in a real browser: Playwright driving Debian's Chromium against the
whole stack (dev server, PostgreSQL, sandbox, worker, API on a real port).

`make test` installs Debian's chromium when it is missing and it runs as root; otherwise
these tests are skipped, saying why. CI (CI=true) never skips them. Screenshots of the
inbox and the application page land in .data/screenshots/.
"""

from __future__ import annotations

import asyncio
import os
import re
import struct
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support_console import incident_projection, overdue_projection
from tests.support_stack import Stack, submitted
from workflows.types import Timing

pytestmark = pytest.mark.timeout(240)

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / ".data" / "screenshots"


@pytest.fixture(scope="module")
def stack_timing() -> Timing:
    """Decisions due 2 working days after acceptance: an accepted application is in its warning period at once."""
    return Timing(usage_change_poll_s=5, insurance_poll_s=5, delivery_poll_s=5, decision_working_days=2)


@pytest.fixture(scope="module")
def chromium() -> Path:
    if not CHROMIUM.exists():
        reason = f"Debian's chromium is not installed at {CHROMIUM} (`make test` installs it when run as root)"
        if os.environ.get("CI"):
            pytest.fail(f"CI runs the browser tests: {reason}")
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture(scope="module")
async def browser(chromium: Path) -> AsyncIterator[object]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(chromium))
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
async def page(browser, stack: Stack) -> AsyncIterator[object]:
    context = await browser.new_context(
        base_url=str(stack.api.base_url), viewport={"width": 1440, "height": 640}, locale="zh-CN"
    )
    page = await context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        await context.close()


def scan_png(width: int = 320, height: int = 220) -> bytes:
    """A small valid PNG that looks like a scanned certificate: ruled lines and a red seal."""
    rows = []
    for y in range(height):
        row = bytearray([0])
        for x in range(width):
            colour = (250, 250, 246)
            if x < 6 or x >= width - 6 or y < 6 or y >= height - 6:
                colour = (120, 130, 150)
            elif 40 <= y < 200 and y % 22 in (0, 1) and 24 <= x < width - 24:
                colour = (185, 190, 200)
            elif (x - 250) ** 2 + (y - 160) ** 2 <= 30**2 and (x - 250) ** 2 + (y - 160) ** 2 >= 25**2:
                colour = (200, 40, 40)
            row += bytes(colour)
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )


async def sign_in_by_keyboard(page, sub: str) -> None:
    """Only the keyboard: the skip link first, then the labelled fields in order, Enter on the button."""
    await page.goto("/console/inbox")
    assert page.url.endswith("/console/sign-in?next=%2Fconsole%2Finbox")
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent") == "跳到主要内容"
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.id") == "sub"
    await page.keyboard.type(sub)
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.id") == "role"  # 审批员 by default
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.id") == "district"  # 乐清市 by default
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent") == "登录"
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    assert page.url.endswith("/console/inbox")


async def unlabelled_controls(page) -> list[str]:
    return await page.evaluate(
        """[...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
              .filter(el => el.labels.length === 0).map(el => el.outerHTML)"""
    )


async def test_a_clerk_finds_and_accepts_an_application(page, stack: Stack) -> None:
    clerk = await stack.clerk()
    mine, accepted, _ = await asyncio.gather(
        submitted(stack, until="preliminary_review", clerk=clerk, scan=scan_png()),
        submitted(stack, until="preliminary_review", clerk=clerk, scan=scan_png()),
        submitted(stack, until="preliminary_review", clerk=clerk, scan=scan_png()),
    )
    approved = await stack.api.post(
        f"/v1/applications/{accepted.application_id}/decisions",
        headers=clerk,
        json={"step": "preliminary_review", "outcome": "approve"},
    )
    assert approved.json()["deadlines"]["decision"]["warning"] == "yellow"
    await overdue_projection(stack)

    await sign_in_by_keyboard(page, "wz-clerk-7")
    assert await page.get_by_role("heading", name="待办箱").is_visible()
    assert await page.locator("tr.row-red .badge-red").count() >= 1
    assert await page.locator("tr.row-yellow .badge-yellow").count() >= 1
    assert await unlabelled_controls(page) == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=SCREENSHOTS / "inbox.png", full_page=True)

    plate_field = page.get_by_label("车牌号（完整）")
    await plate_field.fill(mine.vehicle["plate"])
    async with page.expect_navigation():
        await plate_field.press("Enter")
    assert await page.get_by_text("共 1 件").is_visible()
    await page.get_by_role("link", name=re.compile(mine.application_id[:8])).click()
    await page.wait_for_url(f"**/console/applications/{mine.application_id}")
    assert await page.locator("#status").inner_text() == "待初审"
    preview = page.get_by_role("img", name="机动车登记证书扫描件预览")
    await preview.wait_for()
    assert await preview.evaluate("img => img.complete && img.naturalWidth") == 320
    assert await unlabelled_controls(page) == []
    await page.screenshot(path=SCREENSHOTS / "application.png", full_page=True)

    reject = page.locator("form.decision-reject")
    async with page.expect_response(lambda r: r.url.endswith("/decisions")) as refused:
        await reject.get_by_role("button", name="不予受理").click()
    assert (await refused.value).status == 422
    await page.wait_for_load_state()
    assert "必须填写理由" in await page.get_by_role("alert").inner_text()
    assert await page.locator("#reason-reject").get_attribute("aria-invalid") == "true"
    assert await page.locator("#status").inner_text() == "待初审"

    async with page.expect_response(lambda r: r.url.endswith("/decisions")) as accepted_page:
        await page.get_by_role("button", name="受理（初审通过）").click()
    assert (await accepted_page.value).status == 200
    # The page answering the decision puts the application's own address back: a reload reads, never re-posts.
    await page.wait_for_url(f"**/console/applications/{mine.application_id}")
    assert "已完成：受理（初审通过）" in await page.get_by_role("status").inner_text()
    assert await page.locator("#status").inner_text() == "待收原件"
    # The acceptance documents follow the decision; once issued, the page links them.
    await stack.wait_for(mine.application_id, clerk, "awaiting_originals", with_documents=True)
    reloaded = await page.reload()
    assert reloaded is not None and reloaded.request.method == "GET" and reloaded.status == 200
    assert await page.get_by_role("link", name=re.compile("联办确认单")).count() == 1


async def test_a_post_without_the_csrf_token_is_refused(page, stack: Stack) -> None:
    clerk = await stack.clerk()
    application = await submitted(stack, until="preliminary_review", clerk=clerk)
    await sign_in_by_keyboard(page, "wz-clerk-8")
    await page.goto(f"/console/applications/{application.application_id}")
    url = f"/console/applications/{application.application_id}/decisions"
    decision = {"step": "preliminary_review", "outcome": "approve"}
    forged = await page.request.post(url, form=decision, max_redirects=0)
    assert forged.status == 403
    token = await page.locator("form.decision-approve input[name=csrf_token]").input_value()
    genuine = await page.request.post(url, form={**decision, "csrf_token": token}, max_redirects=0)
    assert genuine.status == 200  # the same request with the session's token goes through
    assert "已完成：受理（初审通过）" in await genuine.text()


def contrast(foreground: list[float], background: list[float]) -> float:
    def luminance(rgb: list[float]) -> float:
        channels = [c / 255 for c in rgb[:3]]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


COLOURS_JS = """selector => {
  const rgb = text => text.match(/[\\d.]+/g).map(Number);
  const el = document.querySelector(selector);
  if (!el) return null;
  let bg = el;
  while (bg && (getComputedStyle(bg).backgroundColor === 'rgba(0, 0, 0, 0)')) bg = bg.parentElement;
  return [rgb(getComputedStyle(el).color), rgb(bg ? getComputedStyle(bg).backgroundColor : 'rgb(255,255,255)')];
}"""


async def test_text_and_badges_keep_wcag_aa_contrast(page, stack: Stack) -> None:
    clerk = await stack.clerk()
    soon = await submitted(stack, until="preliminary_review", clerk=clerk)
    accepted = await stack.api.post(
        f"/v1/applications/{soon.application_id}/decisions",
        headers=clerk,
        json={"step": "preliminary_review", "outcome": "approve"},
    )
    assert accepted.json()["deadlines"]["decision"]["warning"] == "yellow"
    await overdue_projection(stack)
    await sign_in_by_keyboard(page, "wz-clerk-9")
    await page.goto("/console/inbox?warning=red")
    checked = []
    for selector in (
        ".badge-red",
        ".muted",
        "td",
        ".status",
        ".button.primary",
        ".main-nav a",
        "label",
        "tr.row-red td",
    ):
        colours = await page.evaluate(COLOURS_JS, selector)
        assert colours is not None, selector
        checked.append((selector, round(contrast(*colours), 2)))
    await page.goto("/console/inbox?warning=yellow")
    for selector in (".badge-yellow", "tr.row-yellow td"):
        colours = await page.evaluate(COLOURS_JS, selector)
        assert colours is not None, selector
        checked.append((selector, round(contrast(*colours), 2)))
    assert all(ratio >= 4.5 for _, ratio in checked), checked


async def test_a_supervisor_answers_an_incident_with_labelled_controls(page, stack: Stack) -> None:
    application_id, incident_id = await incident_projection(stack)
    await page.goto("/console/sign-in")
    await page.fill("#sub", "wz-supervisor-1")
    await page.select_option("#role", "supervisor")
    await page.select_option("#district", "330382")
    async with page.expect_navigation():
        await page.get_by_role("button", name="登录").click()
    await page.goto("/console/supervision")
    assert await unlabelled_controls(page) == []
    incident = page.locator("article.incident", has=page.locator(f"a[href='/console/applications/{application_id}']"))
    await incident.get_by_label("重试该环节").check()
    async with page.expect_navigation():
        await incident.get_by_role("button", name="提交处理").click()  # without the reason it requires
    reason = page.locator(f"#reason-{incident_id}")
    assert await reason.get_attribute("aria-invalid") == "true"
    assert await page.locator(f"#reason-{incident_id}-error").text_content() == "处理异常时必须填写理由"
    assert await page.get_by_label("重试该环节").is_checked()  # what the supervisor chose is kept
    assert await unlabelled_controls(page) == []
