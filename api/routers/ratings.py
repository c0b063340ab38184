"""The service rating (好差评): the applicant's rating and 追评, its reading, the follow-up's steps, the
indicator set in force, and the supervisors' monthly figures (JSON, or CSV for the export)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query
from fastapi.responses import Response

from api.auth import Principal, Role
from api.deps import PrincipalDep, ResourcesDep, SourceIpDep, require
from api.errors import documented
from api.schemas import AddendumIn, FollowUpStepIn, RatingIn
from api.services import follow_ups, ratings
from api.views import RatingIndicatorsView, RatingSummaryView, RatingView
from domain.statuses import Channel

router = APIRouter(tags=["ratings"], responses=documented(401, 403, 404, 409, 422, 503))

RATING: dict[str, Any] = {"response_model": RatingView}
RatingId = Annotated[str, Path(pattern=r"^[0-9a-fA-F-]{36}$", description="the rating's id")]


@router.post("/v1/applications/{application_id}/rating", status_code=201, **RATING)
async def rate_application(
    application_id: str, body: RatingIn, resources: ResourcesDep, principal: PrincipalDep, source_ip: SourceIpDep
) -> dict[str, Any]:
    """The applicant rates the ended application, once (一事一评); a 差评 needs a reason or a text."""
    return await ratings.rate(resources, principal, application_id, body, source_ip=source_ip)


@router.get("/v1/applications/{application_id}/rating", response_model=RatingView | None)
async def read_rating(application_id: str, resources: ResourcesDep, principal: PrincipalDep) -> dict[str, Any] | None:
    """The rating, for its applicant and the staff of the district, with a bad rating's follow-up; `null`
    while the application is not rated."""
    return await ratings.read(resources, principal, application_id)


@router.post("/v1/applications/{application_id}/rating/addendum", status_code=201, **RATING)
async def add_rating_addendum(
    application_id: str, body: AddendumIn, resources: ResourcesDep, principal: PrincipalDep, source_ip: SourceIpDep
) -> dict[str, Any]:
    """The 追评: once, by the applicant, after the answer to their bad rating."""
    return await ratings.add_addendum(resources, principal, application_id, body, source_ip=source_ip)


@router.post("/v1/ratings/{rating_id}/follow-up")
async def record_follow_up_step(
    rating_id: RatingId,
    body: FollowUpStepIn,
    resources: ResourcesDep,
    source_ip: SourceIpDep,
    principal: Principal = require(Role.SUPERVISOR),
) -> dict[str, Any]:
    """A step of a bad rating's follow-up by a supervisor of its district (the appeal's decision: the city's)."""
    return await follow_ups.record_step(
        resources, principal, rating_id, body.step.value, body.note, source_ip=source_ip
    )


@router.get("/v1/rating-indicators", response_model=RatingIndicatorsView)
async def rating_indicators(_: PrincipalDep, channel: Channel = Channel.ONLINE) -> dict[str, Any]:
    """The indicator set in force for the channel, its reason tags and the five levels."""
    return ratings.indicators(channel.value)


@router.get(
    "/v1/ratings/summary",
    response_model=RatingSummaryView,
    responses={200: {"content": {"text/csv": {}}, "description": "JSON, or with `Accept: text/csv` the export"}},
)
async def rating_summary(
    resources: ResourcesDep,
    month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM, in Wenzhou's time")],
    district: Annotated[
        str | None, Query(pattern=r"^\d{6}$", description="default: the supervisor's; 330300 the city")
    ] = None,
    accept: Annotated[str, Header()] = "application/json",
    principal: Principal = require(Role.SUPERVISOR),
) -> Any:
    """A month's figures of a district: counts per level, 好评率, 未评率, 差评回复率, 回访整改率, 整改满意率.

    `Accept: text/csv` exports one line per district (and the city's total after them)."""
    total, rows = await ratings.summary(resources, principal, district, month)
    if "text/csv" in accept:
        filename = f"ratings-{total['district']}-{month}.csv"
        return Response(
            ratings.summary_csv(total, rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    return total
