"""Rate it: the applicant rates an ended application once (好差评), and after the answer to a 差评 adds
the one follow-up rating (追评). Both through the ratings service, as the API's routes act: its rules
answer, a field's problem is told next to the field and nothing is kept, a refusal (409 …) is a
message on the progress view."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from pydantic import ValidationError

from api.applicant import labels
from api.applicant.pages import SIGNED_IN, CsrfChecked, applicant_router, refusal
from api.applicant.progress import progress_page
from api.applicant.rating_section import indicator_fields
from api.auth import Principal
from api.deps import ResourcesDep, SourceIpDep
from api.errors import ApiError
from api.resources import Resources
from api.schemas import AddendumIn, RatingIn
from api.services import applications, ratings
from domain import rating as rules
from store.applications import ApplicationRow

router = applicant_router()

# A location in the rating's request body, as the rating form names the field.
RATING_FIELDS = {"level": "level", "indicators": "indicators", "reasons": "reasons", "text": "rating_text"}
ADDENDUM_FIELDS = {"level": "addendum_level", "text": "addendum_text"}


def _problems(locations: list[tuple[str, ...]], fields: dict[str, str]) -> dict[str, str]:
    """The first problem of each field of the form, in Chinese."""
    problems: dict[str, str] = {}
    for loc in locations:
        parts = [part for part in loc if part != "body"]
        field = fields.get(parts[0] if parts else "", next(iter(fields.values())))
        problems.setdefault(field, labels.PROBLEMS[field])
    return problems


def _validation_locations(err: ValidationError) -> list[tuple[str, ...]]:
    return [tuple(str(part) for part in error["loc"]) for error in err.errors()]


def _service_locations(err: ApiError) -> list[tuple[str, ...]]:
    return [tuple(str(part) for part in field["loc"]) for field in err.extra.get("fields", [])]


async def _answer(
    request: Request,
    resources: Resources,
    principal: Principal,
    row: ApplicationRow,
    act: Any,
    fields: dict[str, str],
    entered: dict[str, Any],
    notice: str,
) -> Response:
    """Run the service's act: the progress view with the rating as kept, or as it stood with the problem
    beside its field (422) or the refusal as the page's message."""
    view = await applications.current_view(resources, row)
    try:
        await act()
    except ApiError as err:
        located = _service_locations(err)
        if err.status == 422 and located:
            problems = _problems(located, fields)
            return await progress_page(request, resources, principal, view, 422, problems=problems, form=entered)
        return await progress_page(request, resources, principal, view, err.status, failure=refusal(err), form=entered)
    return await progress_page(request, resources, principal, view, notice=notice)


@router.post("/applications/{application_id}/rating", dependencies=[CsrfChecked])
async def rate(
    application_id: str,
    request: Request,
    resources: ResourcesDep,
    source_ip: SourceIpDep,
    principal: Principal = SIGNED_IN,
) -> Response:
    """The rating: a level, the channel's indicators (optional), reason tags and a text (one of them
    required for 不满意 and 非常不满意)."""
    form = await request.form()
    row = await applications.application_for(resources, principal, application_id)
    channel = row.view.get("channel") or "online"
    scored = {field: str(form.get(field, "")) for field, _ in indicator_fields(channel)}
    entered: dict[str, Any] = {
        "level": str(form.get("level", "")),
        "reasons": [str(reason) for reason in form.getlist("reasons")],
        "rating_text": str(form.get("rating_text", "")).strip(),
        **scored,
    }
    names = dict(indicator_fields(channel))
    given = {
        "level": entered["level"],
        "indicators": {names[field]: value for field, value in scored.items() if value},
        "reasons": entered["reasons"],
        "text": entered["rating_text"],
    }
    try:
        body = RatingIn.model_validate(given)
    except ValidationError as err:
        problems = _problems(_validation_locations(err), RATING_FIELDS)
        view = await applications.current_view(resources, row)
        return await progress_page(request, resources, principal, view, 422, problems=problems, form=entered)

    async def act() -> None:
        await ratings.rate(resources, principal, application_id, body, source_ip=source_ip)

    notice = "感谢您的评价！" + ("差评已转区县督查人员回访整改，答复后可在此追评。" if rules.is_bad(body.level) else "")
    return await _answer(request, resources, principal, row, act, RATING_FIELDS, entered, notice)


@router.post("/applications/{application_id}/rating/addendum", dependencies=[CsrfChecked])
async def add_addendum(
    application_id: str,
    request: Request,
    resources: ResourcesDep,
    source_ip: SourceIpDep,
    principal: Principal = SIGNED_IN,
) -> Response:
    """The 追评, once, after the answer to the applicant's 差评."""
    form = await request.form()
    entered = {
        "addendum_level": str(form.get("addendum_level", "")),
        "addendum_text": str(form.get("addendum_text", "")).strip(),
    }
    row = await applications.application_for(resources, principal, application_id)
    try:
        body = AddendumIn.model_validate({"level": entered["addendum_level"], "text": entered["addendum_text"]})
    except ValidationError as err:
        problems = _problems(_validation_locations(err), ADDENDUM_FIELDS)
        view = await applications.current_view(resources, row)
        return await progress_page(request, resources, principal, view, 422, problems=problems, form=entered)

    async def act() -> None:
        await ratings.add_addendum(resources, principal, application_id, body, source_ip=source_ip)

    return await _answer(request, resources, principal, row, act, ADDENDUM_FIELDS, entered, "追评已提交。")
