"""Answering a 差评 from the clerks' console in a real browser, by clicks: an application rejected at the
preliminary review is rated 非常不满意 by its applicant through the JSON API; the district's supervisor
finds it on the supervision page, records the 回访 and then the 整改 with the answer, and the follow-up
(the real workflow on the stack's worker) shows answered, to the applicant as well. The ratings page
then shows the month's figures with their chart.

Skipped, saying why, without Debian's chromium (as the other browser tests)."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime

import pytest

from domain.calendar import CST
from tests.integration.test_console_browser import SCREENSHOTS, browser, chromium, page  # noqa: F401  (fixtures)
from tests.support_stack import Stack, submitted

pytestmark = pytest.mark.timeout(300)

SUPERVISOR_SUB = "wz-supervisor-rating"


async def rated_badly(stack: Stack) -> tuple[str, str, dict[str, str]]:
    """An application of 乐清 rejected and rated 非常不满意 by its applicant: its id, the rating's, the applicant."""
    clerk = await stack.clerk()
    case = await submitted(stack, until="preliminary_review", clerk=clerk)
    decision = {"step": "preliminary_review", "outcome": "reject", "reason": "车辆不符合本市车型要求"}
    rejected = await stack.api.post(f"/v1/applications/{case.application_id}/decisions", headers=clerk, json=decision)
    assert rejected.status_code == 200, rejected.text
    await stack.wait_for(case.application_id, clerk, "rejected")
    rating = {"level": 1, "text": "窗口说法前后不一，电话 13812345678 无人接听"}
    rated = await stack.api.post(f"/v1/applications/{case.application_id}/rating", headers=case.applicant, json=rating)
    assert rated.status_code == 201, rated.text
    rating_id = rated.json()["rating_id"]
    for _ in range(100):  # the workflow counts the due dates in working days, then projects them
        follow_up = await stack.store.follow_ups.get(rating_id)
        if follow_up is not None and follow_up.rectification_due_on is not None:
            break
        await asyncio.sleep(0.2)
    else:
        pytest.fail("the follow-up's due dates were not projected")
    return case.application_id, rating_id, case.applicant


async def sign_in_as_supervisor(page) -> None:  # noqa: F811
    await page.goto("/console/sign-in")
    await page.locator("#sub").fill(SUPERVISOR_SUB)
    await page.locator("#role").select_option("supervisor")
    async with page.expect_navigation():
        await page.get_by_role("button", name="登录").click()
    assert page.url.endswith("/console/inbox")


async def test_a_supervisor_answers_a_bad_rating_by_clicks(page, stack: Stack) -> None:  # noqa: F811
    application_id, rating_id, applicant = await rated_badly(stack)
    await sign_in_as_supervisor(page)

    await page.get_by_role("link", name="超期督办").click()
    await page.get_by_role("link", name=f"办理差评 {rating_id[:8]}").click()
    await page.wait_for_url(f"**/console/ratings/{rating_id}")
    assert "非常不满意" in await page.get_by_role("heading", name="评价", exact=True).locator("..").inner_text()
    shown = await page.content()
    assert "13812345678" not in shown and "窗口说法前后不一" in shown  # the text masked, never the rater
    assert await page.locator('[data-status="awaiting_callback"]').inner_text() == "待回访"

    callback = page.locator('form[data-step="callback"]')
    await callback.get_by_label(re.compile("回访情况")).fill("已电话回访，了解到窗口答复不一致")
    await callback.get_by_role("button", name="记录回访").click()
    await page.get_by_text("回访已记录。").wait_for()
    assert await page.locator('[data-status="awaiting_rectification"]').inner_text() == "待整改答复"
    assert "（已回访）" in await page.locator("#h-follow-up").locator("..").inner_text()

    rectification = page.locator('form[data-step="rectification"]')
    await rectification.get_by_label(re.compile("给评价人的答复")).fill("已统一窗口口径并向您致歉，欢迎重新申请")
    await rectification.get_by_role("button", name="记录整改并答复评价人").click()
    await page.get_by_text("整改情况与答复已记录").wait_for()
    assert await page.locator('[data-status="answered"]').inner_text() == "已答复"
    assert await page.locator("form.step-form").count() == 0
    assert "欢迎重新申请" in await page.locator(".answer").inner_text()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=SCREENSHOTS / "console-rating.png", full_page=True)

    # The applicant reads the answer (and may now add the 追评).
    read = await stack.api.get(f"/v1/applications/{application_id}/rating", headers=applicant)
    follow_up = read.json()["follow_up"]
    assert (follow_up["status"], follow_up["answer"]) == ("answered", "已统一窗口口径并向您致歉，欢迎重新申请")

    # The month's figures: the 差评 counted and answered, the bars drawn server-side.
    await page.get_by_role("link", name="好差评").click()
    await page.wait_for_url("**/console/ratings")
    assert await page.locator("select#f-month option[selected]").inner_text() == datetime.now(CST).strftime("%Y-%m")
    assert int(await page.locator('[data-figure="bad"]').inner_text()) >= 1
    assert await page.locator('svg.level-chart g.bar[data-level="1"]').count() == 1
    assert await page.locator("script").count() == 0
    await page.screenshot(path=SCREENSHOTS / "console-ratings.png", full_page=True)
