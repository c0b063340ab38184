"""Rating in the applicant's app in a real browser at a phone's viewport (375×812), by clicks only: an
application rejected at the preliminary review (the clerk's decision through the JSON API) is rated
不满意; without a reason it is refused beside the field, with one it is kept and its follow-up's due
dates (回访, 整改) show once the follow-up workflow has counted them.

Skipped, saying why, without Debian's chromium (as the other browser tests)."""

from __future__ import annotations

import re

import pytest

from tests.integration.test_applicant_browser import phone, reloaded_until, screenshot  # noqa: F401  (fixture)
from tests.integration.test_console_browser import browser, chromium  # noqa: F401  (fixtures)
from tests.support_stack import Stack, submitted

pytestmark = pytest.mark.timeout(300)

DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


async def test_an_applicant_rates_a_rejected_application_with_a_reason_on_a_phone(phone, stack: Stack) -> None:  # noqa: F811
    page = phone
    clerk = await stack.clerk()
    case = await submitted(stack, until="preliminary_review", clerk=clerk)
    decision = {"step": "preliminary_review", "outcome": "reject", "reason": "车辆不符合本市车型要求"}
    rejected = await stack.api.post(f"/v1/applications/{case.application_id}/decisions", headers=clerk, json=decision)
    assert rejected.status_code == 200, rejected.text
    await stack.wait_for(case.application_id, clerk, "rejected")

    await page.goto(f"/app/applications/{case.application_id}")
    for label, field in (("姓名", "name"), ("身份证号", "id_number"), ("手机号", "phone")):
        await page.get_by_label(label).fill(case.owner[field])
    await page.get_by_role("button", name="用温警在线扫码登录").click()
    await page.wait_for_url(f"**/app/applications/{case.application_id}")
    rating = page.locator("#rating")
    assert await rating.get_by_role("heading", name="办事评价").is_visible()

    # 不满意 without a reason: told beside the reasons, nothing kept.
    await rating.get_by_label("不满意", exact=True).check()
    await rating.get_by_role("button", name="提交评价").click()
    await page.wait_for_load_state()
    assert "请至少选择一个原因或填写具体意见" in await page.locator("#reasons-error").inner_text()
    assert await page.locator("#reasons-error").get_attribute("role") == "alert"
    assert await stack.store.ratings.for_application(case.application_id) is None

    # With a reason (and an indicator scored): kept, shown read-only, the follow-up's due dates.
    assert await rating.get_by_label("不满意", exact=True).is_checked()  # the choice kept on the refused form
    await rating.get_by_label("多次跑动").check()
    await rating.get_by_label("办事效率", exact=True).select_option("2")
    await rating.get_by_role("button", name="提交评价").click()
    await page.get_by_text("感谢您的评价").wait_for()
    assert await page.locator("#rating-level").inner_text() == "不满意"
    assert await page.locator("#rating-reasons").inner_text() == "多次跑动"
    assert await page.locator("#rating-form").count() == 0

    async def due_dates_shown(page) -> bool:  # counted by the follow-up's workflow, on its calendar
        return await page.locator("time#rectification-due").count() == 1

    await reloaded_until(page, due_dates_shown, "the follow-up's due dates")
    callback_due = await page.locator("#callback-due").inner_text()
    rectification_due = await page.locator("#rectification-due").inner_text()
    assert DATE.fullmatch(callback_due) and DATE.fullmatch(rectification_due) and callback_due < rectification_due
    assert await page.locator("#follow-up-status").inner_text() == "待回访"
    assert await page.locator("#addendum-form").count() == 0  # the 追评 waits for the answer
    kept = await stack.store.ratings.for_application(case.application_id)
    assert kept is not None and (kept.level, kept.reasons) == (2, ["多次跑动"])
    await screenshot(page, "rating.png", full_page=True)
