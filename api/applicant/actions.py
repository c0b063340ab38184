"""Act on it: hand in supplements when asked, report the mailed originals' tracking number, ask
for the insurance check ("我已参保"), withdraw after a confirmation of what will be reversed. Each
through the applications service, as the API's routes act."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import File, Form, Request, Response, UploadFile
from pydantic import ValidationError

from api.applicant import labels
from api.applicant.forms import Scan, problems_of, read_scan
from api.applicant.pages import SIGNED_IN, CsrfChecked, applicant_router, page, refusal
from api.applicant.progress import WITHDRAWABLE_UNTIL, progress_page
from api.auth import Principal
from api.deps import ResourcesDep, SourceIpDep
from api.errors import ApiError
from api.resources import Resources
from api.schemas import OriginalsShipmentIn, WithdrawalIn
from api.services import applications, materials, rate_limits
from domain.statuses import MaterialKind

router = applicant_router()

HOUR = 3600


async def _after(
    request: Request, resources: Resources, principal: Principal, application_id: str, act: Any, notice: str
) -> Response:
    """Run an act; the progress view as the workflow answers it, or as it stands with the refusal."""
    row = await applications.application_for(resources, principal, application_id)
    try:
        view = await act(row)
    except ApiError as err:
        current = await applications.current_view(resources, row)
        return await progress_page(request, resources, principal, current, err.status, failure=refusal(err))
    return await progress_page(request, resources, principal, view, notice=notice)


async def _refused_form(
    request: Request,
    resources: Resources,
    principal: Principal,
    application_id: str,
    problems: dict[str, str],
    form: dict[str, str],
) -> Response:
    row = await applications.application_for(resources, principal, application_id)
    view = await applications.current_view(resources, row)
    return await progress_page(request, resources, principal, view, 422, problems=problems, form=form)


@router.post("/applications/{application_id}/supplements", dependencies=[CsrfChecked])
async def submit_supplements(
    application_id: str,
    request: Request,
    resources: ResourcesDep,
    source_ip: SourceIpDep,
    principal: Principal = SIGNED_IN,
    note: Annotated[str, Form(max_length=500)] = "",
    registration_certificate: Annotated[UploadFile | None, File()] = None,
    driving_license: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """The scans the clerk asked for (一次性告知): at least one, each checked before it is kept."""
    chosen = zip(
        (MaterialKind.REGISTRATION_CERTIFICATE, MaterialKind.DRIVING_LICENSE),
        (registration_certificate, driving_license),
        strict=True,
    )
    scans: dict[MaterialKind, Scan] = {}
    problems: dict[str, str] = {}
    for kind, upload in chosen:
        scan = await read_scan(upload, resources.settings.max_upload_bytes)
        if isinstance(scan, str):
            problems[kind] = scan
        elif scan is not None:
            scans[kind] = scan
    if not scans and not problems:
        problems["supplements"] = labels.PROBLEMS["supplements"]
    if problems:
        return await _refused_form(request, resources, principal, application_id, problems, {"note": note})
    supplied = {}
    for kind, scan in scans.items():
        await rate_limits.count(resources, "upload", principal.sub, resources.settings.rate_limit_uploads, HOUR)
        supplied[kind.value] = (await materials.upload(resources, principal, kind, scan.content)).material_id

    async def act(row: Any) -> dict[str, Any]:
        return await applications.submit_supplements(resources, principal, row, supplied, note, source_ip=source_ip)

    return await _after(request, resources, principal, application_id, act, "补正材料已提交，等待审批员审查。")


@router.post("/applications/{application_id}/originals-shipment", dependencies=[CsrfChecked])
async def report_originals_shipment(
    application_id: str,
    request: Request,
    resources: ResourcesDep,
    source_ip: SourceIpDep,
    principal: Principal = SIGNED_IN,
    tracking_number: Annotated[str, Form()] = "",
) -> Response:
    """The tracking number of the mailed original certificates."""
    form = {"tracking_number": tracking_number.strip()}
    try:
        body = OriginalsShipmentIn.model_validate(form)
    except ValidationError as err:
        return await _refused_form(request, resources, principal, application_id, problems_of(err, form), form)

    async def act(row: Any) -> dict[str, Any]:
        return await applications.report_originals_shipment(
            resources, principal, row, body.tracking_number, source_ip=source_ip
        )

    return await _after(request, resources, principal, application_id, act, "运单号已登记，请等待窗口签收原件。")


@router.post("/applications/{application_id}/insurance-check", dependencies=[CsrfChecked])
async def request_insurance_check(
    application_id: str,
    request: Request,
    resources: ResourcesDep,
    source_ip: SourceIpDep,
    principal: Principal = SIGNED_IN,
) -> Response:
    """ "我已参保": the insurance platform is queried now (throttled as the API's route)."""
    limit = resources.settings.rate_limit_insurance_checks
    await rate_limits.count(resources, "insurance_check", principal.sub, limit, HOUR)

    async def act(row: Any) -> dict[str, Any]:
        return await applications.check_insurance(resources, principal, row, source_ip=source_ip)

    return await _after(request, resources, principal, application_id, act, "已向保险平台查询保单。")


def reversals_of(view: dict[str, Any]) -> list[str]:
    """What withdrawing this application undoes, from what has happened so far."""
    events = {entry["event"] for entry in view.get("timeline", [])}
    reversed_ = ["申请终止，审批不再继续；如需办理须重新提交申请。"]
    if "usage_nature_changed" in events or view["status"] == "vehicle_nature_change":
        reversed_.append("车管所已变更（或正在变更）的车辆使用性质将恢复为“非营运”。")
    if "originals_received" in events:
        reversed_.append("已收到的原件将退回（邮寄送达的寄回，窗口自取的到窗口领取）。")
    reversed_.append("已上传的扫描件按规定期限保存后删除。")
    return reversed_


@router.get("/applications/{application_id}/withdraw")
async def read_withdraw(
    application_id: str, request: Request, resources: ResourcesDep, principal: Principal = SIGNED_IN
) -> Response:
    """The confirmation: what withdrawing will reverse."""
    row = await applications.application_for(resources, principal, application_id)
    view = await applications.current_view(resources, row)
    if view["status"] in WITHDRAWABLE_UNTIL:
        return await progress_page(request, resources, principal, view, 409, failure=labels.REFUSALS["cannot_withdraw"])
    context = {"principal": principal, "view": view, "reversals": reversals_of(view), "form": {}, "problems": {}}
    return page(request, "withdraw.html", context)


@router.post("/applications/{application_id}/withdraw", dependencies=[CsrfChecked])
async def withdraw(
    application_id: str,
    request: Request,
    resources: ResourcesDep,
    source_ip: SourceIpDep,
    principal: Principal = SIGNED_IN,
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Withdraw, confirmed; a changed usage nature is reverted by the workflow."""
    form = {"reason": reason.strip()}
    try:
        body = WithdrawalIn.model_validate(form)
    except ValidationError as err:
        row = await applications.application_for(resources, principal, application_id)
        view = await applications.current_view(resources, row)
        context = {"principal": principal, "view": view, "reversals": reversals_of(view)}
        return page(request, "withdraw.html", {**context, "form": form, "problems": problems_of(err, form)}, 422)

    async def act(row: Any) -> dict[str, Any]:
        return await applications.withdraw(resources, principal, row, body.reason, source_ip=source_ip)

    return await _after(request, resources, principal, application_id, act, "申请已撤回。")
