"""The supervisors' side of the service rating (好差评): a month's figures of a district with their chart
and CSV export, and a bad rating's page where its follow-up is answered, step by step.

Everything goes through the API's services (api.services.ratings, api.services.follow_ups): the same
figures, the same rules and refusals, the same audit trail. Never the rater's identity."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Form, Path, Query, Request, Response

from api.auth import Principal, Role, is_city_supervisor
from api.console.rendering import message_page, page
from api.console.security import CsrfChecked, console_router, staff
from api.deps import ResourcesDep, SourceIpDep
from api.errors import ApiError
from api.resources import Resources
from api.services import applications, follow_ups, ratings
from domain import rating as rules
from domain.calendar import CST
from domain.districts import CITY_CODE, CITY_NAME, DISTRICTS, covers
from domain.masking import mask_text
from store.follow_ups import FollowUpRow
from workflows.rating_follow_up import SYSTEM
from workflows.rating_types import OPEN, AppealState, FollowUpStatus, FollowUpStep

router = console_router()

SUPERVISOR = staff(Role.SUPERVISOR)
RatingId = Annotated[str, Path(pattern=r"^[0-9a-fA-F-]{36}$")]
District = Annotated[str | None, Query(pattern=r"^(\d{6})?$")]
Month = Annotated[str | None, Query(pattern=r"^(\d{4}-\d{2})?$")]
MONTHS_OFFERED = 24
CHART_HEIGHT = 160  # the tallest bar, in the SVG's units

NOT_FOUND = "没有找到该评价，或它不属于您所在的区县。"
STEP_NOTICES = {
    FollowUpStep.CALLBACK: "回访已记录。",
    FollowUpStep.RECTIFICATION: "整改情况与答复已记录，评价人可以查看答复并追评。",
    FollowUpStep.APPEAL: "申诉已提交，等待市级负责人审核。",
    FollowUpStep.APPEAL_UPHELD: "已维持该差评：整改照常进行。",
    FollowUpStep.APPEAL_VOIDED: "已作废该差评：它不再计入统计。",
}
STEP_NAMES = {
    FollowUpStep.CALLBACK: "记录回访",
    FollowUpStep.RECTIFICATION: "记录整改并答复评价人",
    FollowUpStep.APPEAL: "申诉（恶意或误评）",
    FollowUpStep.APPEAL_UPHELD: "维持差评",
    FollowUpStep.APPEAL_VOIDED: "作废差评",
    "assigned": "分派至区县科室负责人",
    "warning_yellow": "黄色预警",
    "warning_red": "红色预警",
}
STEP_PROMPTS = {
    FollowUpStep.CALLBACK: "回访情况",
    FollowUpStep.RECTIFICATION: "核实整改情况及给评价人的答复",
    FollowUpStep.APPEAL: "申诉理由",
    FollowUpStep.APPEAL_UPHELD: "审核意见",
    FollowUpStep.APPEAL_VOIDED: "审核意见（作废理由）",
}
FOLLOW_UP_STATUSES = {
    FollowUpStatus.AWAITING_CALLBACK: "待回访",
    FollowUpStatus.AWAITING_RECTIFICATION: "待整改答复",
    FollowUpStatus.ANSWERED: "已答复",
    FollowUpStatus.VOIDED: "已作废",
}
APPEAL_STATES = {
    AppealState.PENDING: "申诉待市级审核",
    AppealState.UPHELD: "申诉未获支持",
    AppealState.VOIDED: "申诉成立，差评已作废",
}
STEP_REFUSALS = {
    "not_found": NOT_FOUND,
    "forbidden": "只有该区县的科室负责人可以办理差评整改；申诉由市级（330300）负责人审核。",
    "not_awaiting_this_step": "该差评当前不在这一环节，可能已由他人处理。请查看最新状态。",
    "validation_failed": "请填写说明（1–2000 字）并选择当前环节可办理的事项。",
    "still_processing": "已提交，系统仍在处理，请稍后刷新本页查看。",
    "step_failed": "未能记录，请稍后重试。",
    "temporal_unavailable": "整改流程服务暂时不可用，请稍后重试。",
}


def this_month() -> str:
    return datetime.now(CST).strftime("%Y-%m")


def months_offered(today: date, chosen: str) -> list[str]:
    """The months of the selector, the latest first; the chosen one among them even if older."""
    year, month = today.year, today.month
    months = []
    for _ in range(MONTHS_OFFERED):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return months if chosen in months else [*months, chosen]


def district_choices(principal: Principal) -> dict[str, str]:
    """A city supervisor chooses the whole city or any district; a district supervisor reads their own."""
    if is_city_supervisor(principal):
        return {CITY_CODE: f"{CITY_NAME}（全市）", **DISTRICTS}
    assert principal.district is not None
    return {principal.district: DISTRICTS.get(principal.district, principal.district)}


def chart_bars(counts: dict[str, int]) -> list[dict[str, Any]]:
    """One bar per level, 5 to 1, scaled to the largest count (a bar of zero has no height)."""
    top = max(counts.values(), default=0) or 1
    return [
        {
            "level": level,
            "name": name,
            "count": counts.get(str(level), 0),
            "height": round(CHART_HEIGHT * counts.get(str(level), 0) / top),
            "bad": rules.is_bad(level),
        }
        for level, name in rules.LEVELS.items()
    ]


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


@router.get("/ratings")
async def read_ratings(
    request: Request,
    resources: ResourcesDep,
    principal: Principal = SUPERVISOR,
    district: District = None,
    month: Month = None,
) -> Response:
    """A month's figures of a district (or, for the city's supervisors, of the city), with their chart."""
    chosen = month or this_month()
    total, rows = await ratings.summary(resources, principal, district or None, chosen)
    context = {
        "principal": principal,
        "summary": total,
        "rows": rows if len(rows) > 1 else [],
        "bars": chart_bars(total["counts"]),
        "chart_height": CHART_HEIGHT,
        "percent": percent,
        "month": chosen,
        "months": months_offered(datetime.now(CST).date(), chosen),
        "district": total["district"],
        "district_choices": district_choices(principal),
        "levels": rules.LEVELS,
    }
    return page(request, "ratings.html", context)


@router.get("/ratings/export.csv")
async def export_ratings(
    resources: ResourcesDep, principal: Principal = SUPERVISOR, district: District = None, month: Month = None
) -> Response:
    """The month's figures as the API's CSV export (one line per district, the city's total after them)."""
    chosen = month or this_month()
    total, rows = await ratings.summary(resources, principal, district or None, chosen)
    filename = f"ratings-{total['district']}-{chosen}.csv"
    return Response(
        ratings.summary_csv(total, rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def steps_offered(principal: Principal, follow_up: FollowUpRow | None) -> list[FollowUpStep]:
    """The forms the page shows: the step the follow-up waits for, the district's appeal, the city's decision.
    The workflow alone decides; a form offered out of turn is refused there and said so on the page."""
    if follow_up is None or follow_up.status not in OPEN:
        return []
    offered = [
        FollowUpStep.CALLBACK if follow_up.status == FollowUpStatus.AWAITING_CALLBACK else FollowUpStep.RECTIFICATION
    ]
    if follow_up.appeal is None and principal.district != CITY_CODE:
        offered.append(FollowUpStep.APPEAL)
    if follow_up.appeal == AppealState.PENDING and is_city_supervisor(principal):
        offered += [FollowUpStep.APPEAL_UPHELD, FollowUpStep.APPEAL_VOIDED]
    return offered


async def _rating_page(
    request: Request, resources: Resources, principal: Principal, rating_id: str, status: int = 200, **extra: Any
) -> Response:
    stored = await resources.store.ratings.get(rating_id)
    if stored is None or not covers(principal.district or "", stored.district):
        return message_page(request, NOT_FOUND, 404, principal)
    application = await applications.application_for(resources, principal, stored.application_id)
    follow_up = await resources.store.follow_ups.get(stored.rating_id)
    timeline = [
        {
            **event,
            "note": mask_text(event.get("note") or ""),
            "by": "系统" if event.get("by") == SYSTEM else event.get("by"),
        }
        for event in (follow_up.view if follow_up else {}).get("timeline", [])
    ]
    context = {
        "principal": principal,
        "rating": ratings.rating_view(stored, principal, None),  # staff: its texts masked, no rater
        "application": application,
        "follow_up": follow_up,
        "answer": mask_text((follow_up.view.get("answer") if follow_up else None) or ""),
        "timeline": timeline,
        "steps": steps_offered(principal, follow_up),
        "levels_named": rules.LEVELS,
        "step_names": STEP_NAMES,
        "step_prompts": STEP_PROMPTS,
        "follow_up_statuses": FOLLOW_UP_STATUSES,
        "appeal_states": APPEAL_STATES,
        "notice": None,
        "error": None,
        "failed_step": None,
        "note": "",
        **extra,
    }
    return page(request, "rating.html", context, status)


@router.get("/ratings/{rating_id}")
async def read_rating(
    rating_id: RatingId, request: Request, resources: ResourcesDep, principal: Principal = SUPERVISOR
) -> Response:
    """A rating of the supervisor's districts: its level, indicators, reasons and text (masked), the case,
    and for a 差评 its follow-up with due dates, badges and the forms of the step it waits for."""
    return await _rating_page(request, resources, principal, rating_id)


@router.post("/ratings/{rating_id}/follow-up")
async def take_follow_up_step(
    rating_id: RatingId,
    request: Request,
    resources: ResourcesDep,
    source_ip: SourceIpDep,
    principal: Principal = SUPERVISOR,
    _: None = CsrfChecked,
    step: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    """A step of the follow-up through the API's service; its refusal is shown on the page, the note kept."""
    try:
        await follow_ups.record_step(resources, principal, rating_id, step, note, source_ip=source_ip)
    except ApiError as err:
        if err.status == 404:
            return message_page(request, NOT_FOUND, 404, principal)
        error = STEP_REFUSALS.get(err.error, f"未能办理（{err.detail}）")
        return await _rating_page(
            request, resources, principal, rating_id, err.status, error=error, note=note, failed_step=step
        )
    return await _rating_page(request, resources, principal, rating_id, notice=STEP_NOTICES[FollowUpStep(step)])
