"""The applicant's app in a real browser: Playwright driving Debian's Chromium at a phone's
viewport (375×812) through the whole online journey, by clicks and typing only, from the e-ID
sign-in to `completed`; the clerk's steps through the JSON API, the departments' through the
sandbox. It asserts what each page shows (status, due date, inline errors, document links that
download PDFs).

Skipped, saying why, without Debian's chromium (CI never skips it). Screenshots land in
.data/screenshots/applicant/; with UPDATE_SCREENS=1 also in docs/screens/ (the README's).
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from drills.people import new_citizen, new_vehicle
from tests.integration.test_console_browser import browser, chromium, scan_png  # noqa: F401  (fixtures)
from tests.support_pdf import pdf_text
from tests.support_stack import PDF, Stack

pytestmark = pytest.mark.timeout(300)

ROOT = Path(__file__).resolve().parents[2]
SCREENS = [ROOT / ".data" / "screenshots" / "applicant"]
if os.environ.get("UPDATE_SCREENS"):
    SCREENS.append(ROOT / "docs" / "screens")


@pytest.fixture
async def phone(browser, stack: Stack) -> AsyncIterator[object]:  # noqa: F811
    phone_sized = {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True}
    options = {"base_url": str(stack.api.base_url), "locale": "zh-CN", "accept_downloads": True, **phone_sized}
    async with await browser.new_context(**options) as context:
        page = await context.new_page()
        page.set_default_timeout(15_000)
        yield page


async def screenshot(page, name: str, **options) -> None:
    for folder in SCREENS:
        folder.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=folder / name, **options)


async def reloaded_until(page, shows, what: str, timeout_s: float = 40) -> None:
    """Reload the progress view (as a person would) until `shows(page)` is true."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout_s
    while not await shows(page):
        assert loop.time() < end, f"the page never showed {what}"
        await asyncio.sleep(0.5)
        await page.reload()


async def status_becomes(page, text: str) -> None:
    async def shows(page) -> bool:
        return await page.locator("#status").inner_text() == text

    await reloaded_until(page, shows, f"the status {text}")


async def approve(stack: Stack, clerk: dict[str, str], application_id: str, step: str) -> dict:
    """The clerk approves `step` through the JSON API: the workflow's answer."""
    decided = await stack.api.post(
        f"/v1/applications/{application_id}/decisions", headers=clerk, json={"step": step, "outcome": "approve"}
    )
    assert decided.status_code == 200, decided.text
    return decided.json()


async def downloaded_pdf(page, link_name: str) -> str:
    """Click a document's link (once the page lists it: documents follow their step): its download
    is a PDF; its text."""

    async def listed(page) -> bool:
        return await page.get_by_role("link", name=link_name).count() == 1

    await reloaded_until(page, listed, link_name)
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name=link_name).click()
    download = await download_info.value
    content = await asyncio.to_thread(Path(await download.path()).read_bytes)
    assert content.startswith(b"%PDF-"), content[:20]
    return pdf_text(content)


async def test_a_citizen_applies_follows_and_finishes_on_a_phone(phone, stack: Stack, tmp_path: Path) -> None:
    page = phone
    owner = new_citizen()
    vehicle = await stack.sandbox.add_vehicle(**new_vehicle(owner))
    clerk = await stack.clerk()

    # Sign in with the e-ID: the sandbox's QR flow in development.
    await page.goto("/app")
    assert page.url.endswith("/app/sign-in?next=%2Fapp")
    await page.get_by_label("身份证号").fill("330302199001011234")  # a wrong check character
    await page.get_by_role("button", name="用温警在线扫码登录").click()
    assert "末位校验码" in await page.locator("#id_number-error").inner_text()
    for label, value in (("姓名", owner["name"]), ("身份证号", owner["id_number"]), ("手机号", owner["phone"])):
        await page.get_by_label(label).fill(value)
    await page.get_by_role("button", name="用温警在线扫码登录").click()
    await page.wait_for_url("**/app")
    assert await page.get_by_role("heading", name="我的申请").is_visible()
    assert await page.get_by_text("还没有申请").is_visible()

    # Apply: bad input is told next to its field, and nothing is submitted.
    await page.get_by_role("link", name="申请网约车营运（一件事联办）").click()
    await page.wait_for_url("**/app/apply")
    due_text = await page.locator("#insurance-due").inner_text()
    assert re.fullmatch(r"\d{4} 年 \d{1,2} 月 \d{1,2} 日", due_text)
    await page.get_by_label("车牌号").fill("京A12345")
    await page.get_by_label("车辆识别代号（VIN）").fill(vehicle["vin"][:8] + "X" + vehicle["vin"][9:])
    vin_as_typed = page.locator(".field:has(#vin) .client-error")
    await vin_as_typed.wait_for()  # checked as typed, by the API's validator
    assert "校验位" in await vin_as_typed.inner_text()
    await page.get_by_role("button", name="提交申请").click()
    await page.wait_for_load_state()
    assert "温州号牌" in await page.locator("#plate-error").inner_text()
    assert "校验位" in await page.locator("#vin-error").inner_text()
    assert "请上传机动车登记证书" in await page.locator("#registration_certificate-error").inner_text()
    assert "勾选承诺" in await page.locator("#insurance_commitment-error").inner_text()
    assert await page.locator("#plate").get_attribute("aria-invalid") == "true"
    listed = await stack.api.get("/v1/applications", headers=await stack.applicant(**owner))
    assert listed.json()["total"] == 0

    await page.get_by_label("车牌号").fill(vehicle["plate"])
    await page.get_by_label("车辆识别代号（VIN）").fill(vehicle["vin"])
    await page.get_by_label("所属区县").select_option(label="乐清市")
    await page.get_by_label("网上办理").check()
    await page.get_by_label("邮寄（免费）").check()
    await page.get_by_label("收件人").fill(owner["name"])
    await page.get_by_label("联系电话").fill(owner["phone"])
    await page.get_by_label("收件地址").fill("乐清市城南街道 8 号")
    scan = tmp_path / "登记证书.png"
    scan.write_bytes(scan_png())
    licence = tmp_path / "行驶证.pdf"
    licence.write_bytes(PDF)
    wrong = tmp_path / "照片.gif"
    wrong.write_bytes(b"GIF89a" + b"\x00" * 16)
    await page.get_by_label("机动车登记证书").set_input_files(wrong)
    assert "只接受" in await page.locator(".field:has(#registration_certificate) .client-error").inner_text()
    await page.get_by_label("机动车登记证书").set_input_files(scan)
    preview = page.get_by_role("img", name="机动车登记证书预览")
    await preview.wait_for()
    assert await preview.evaluate("img => img.complete && img.naturalWidth") == 320
    await page.get_by_label("机动车行驶证").set_input_files(licence)
    await page.get_by_label("我已阅读以上告知").check()
    await screenshot(page, "apply-form.png", full_page=True)
    await page.get_by_role("button", name="提交申请").click()
    await page.wait_for_url(re.compile(r".*/app/applications/[0-9a-f-]{36}$"))
    application_id = page.url.rsplit("/", 1)[1]

    # Follow it: the preliminary review, then acceptance with the insurance due date.
    await status_becomes(page, "待初审")
    assert "初审" in await page.locator('[aria-current="step"]').inner_text()
    assert "初审" in await page.locator("#waiting").inner_text()
    accepted = await approve(stack, clerk, application_id, "preliminary_review")
    due_on = accepted["deadlines"]["insurance"]["due_on"]
    await stack.wait_for(application_id, clerk, "awaiting_originals", with_documents=True)
    await status_becomes(page, "待收原件")
    assert "原件" in await page.locator('[aria-current="step"]').inner_text()
    assert await page.locator("#insurance-due").inner_text() == due_on
    assert re.fullmatch(r"还剩 \d+ 个工作日", await page.locator("#days-left").inner_text())
    assert "容缺受理" in await downloaded_pdf(page, "容缺受理一次性告知书（PDF）")

    # Act on it: the originals' tracking number (a bad one is told first).
    await page.get_by_label("快递运单号").fill("SF 1#")
    await page.get_by_role("button", name="提交运单号").click()
    await page.wait_for_load_state()
    assert "运单号" in await page.locator("#tracking_number-error").inner_text()
    await page.get_by_label("快递运单号").fill("SF10001")
    await page.get_by_role("button", name="提交运单号").click()
    await page.get_by_text("运单号已登记").wait_for()
    await approve(stack, clerk, application_id, "originals_received")

    # The usage nature changes at the vehicle administration; then the insurance is awaited.
    await status_becomes(page, "待投保（容缺）")
    assert "参保" in await page.locator('[aria-current="step"]').inner_text()
    await screenshot(page, "progress.png", full_page=True)
    await page.get_by_role("button", name="我已参保").click()  # not yet: the platform has no policy
    await page.get_by_text("已向保险平台查询保单").wait_for()
    assert await page.locator("#status").inner_text() == "待投保（容缺）"
    await stack.sandbox.buy_policy(plate=vehicle["plate"], vin=vehicle["vin"])
    await status_becomes(page, "待审核发证")
    await approve(stack, clerk, application_id, "final_review")

    # Delivered: completed, every step done, the permit's PDF downloads.
    await status_becomes(page, "已办结")
    assert await page.locator('[aria-current="step"]').count() == 0
    assert await page.locator(".step-done").count() == 6
    assert "撤回申请" not in await page.content()
    permit_text = await downloaded_pdf(page, "网络预约出租汽车运输证（PDF）")
    done = (await stack.api.get(f"/v1/applications/{application_id}", headers=clerk)).json()
    assert done["permit"]["number"] in permit_text
    assert await page.get_by_role("link", name=re.compile("（PDF）")).count() == len(done["documents"])
    await screenshot(page, "completed.png", full_page=True)

    await page.get_by_role("link", name="我的申请").click()
    await page.wait_for_url("**/app")
    assert "已办结" in await page.locator(".cards").inner_text()
