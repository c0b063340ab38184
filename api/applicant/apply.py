"""Apply: one guided form for the vehicle, district, channel, delivery, the two scans and the
insurance commitment (the one-time notice, accepted with a tick). The form carries its own
Idempotency-Key, so submitting it again never makes a second application."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import File, Form, Query, Request, Response, UploadFile
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import TypeAdapter, ValidationError

from api.applicant import labels
from api.applicant.forms import Scan, problems_of, read_scan
from api.applicant.pages import SIGNED_IN, CsrfChecked, applicant_router, page
from api.auth import Principal
from api.deps import ResourcesDep, SourceIpDep
from api.errors import ApiError
from api.resources import Resources
from api.schemas import ApplicationIn, Mobile, Plate, Vin
from api.services import applications, calendar, inbox, materials, rate_limits
from api.services.inbox import InboxQuery
from domain.calendar import cst_date
from domain.statuses import TERMINAL, MaterialKind

router = applicant_router()

SCANS = (MaterialKind.REGISTRATION_CERTIFICATE, MaterialKind.DRIVING_LICENSE)
HOUR = 3600


async def _form_page(
    request: Request, resources: Resources, principal: Principal, form: dict[str, Any], problems: dict[str, str]
) -> Response:
    """The form, as entered, with its problems next to their fields and the one-time notice's deadline."""
    working_days = request.app.state.workflow_timing.insurance_working_days
    deadline = await calendar.deadline(resources, cst_date(datetime.now(UTC)), working_days)
    context = {
        "principal": principal,
        "form": form,
        "problems": problems,
        "deadline": deadline,
        "max_bytes": resources.settings.max_upload_bytes,
    }
    return page(request, "apply.html", context, 422 if problems else 200)


@router.get("/apply")
async def read_apply(request: Request, resources: ResourcesDep, principal: Principal = SIGNED_IN) -> Response:
    """A blank form, with a new Idempotency-Key of its own."""
    form = {"district": "330382", "channel": "online", "delivery_method": "mail", "idempotency_key": str(uuid.uuid4())}
    return await _form_page(request, resources, principal, form, {})


@router.post("/apply", dependencies=[CsrfChecked])
async def apply(
    request: Request,
    resources: ResourcesDep,
    source_ip: SourceIpDep,
    principal: Principal = SIGNED_IN,
    plate: Annotated[str, Form()] = "",
    vin: Annotated[str, Form()] = "",
    district: Annotated[str, Form()] = "",
    channel: Annotated[str, Form()] = "",
    delivery_method: Annotated[str, Form()] = "",
    recipient: Annotated[str, Form()] = "",
    phone: Annotated[str, Form()] = "",
    address: Annotated[str, Form()] = "",
    insurance_commitment: Annotated[str, Form()] = "",
    idempotency_key: Annotated[str, Form(max_length=128)] = "",
    registration_certificate: Annotated[UploadFile | None, File()] = None,
    driving_license: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Check every field as the API does, and the scans; with no problem, upload the scans and submit."""
    form = {
        "plate": plate.strip().upper(),
        "vin": vin.strip().upper(),
        "district": district,
        "channel": channel,
        "delivery_method": delivery_method,
        "recipient": recipient.strip(),
        "phone": phone.strip(),
        "address": address.strip(),
        "insurance_commitment": insurance_commitment,
        "idempotency_key": idempotency_key or str(uuid.uuid4()),
    }
    problems: dict[str, str] = {}
    body: ApplicationIn | None = None
    try:
        body = ApplicationIn.model_validate(_body(form, dict.fromkeys(SCANS, "to-upload")))
    except ValidationError as err:
        problems = problems_of(err, form)
    if insurance_commitment != "yes":
        problems.setdefault("insurance_commitment", labels.PROBLEMS["insurance_commitment"])
    scans: dict[str, Scan] = {}
    for kind, upload in zip(SCANS, (registration_certificate, driving_license), strict=True):
        scan = await read_scan(upload, resources.settings.max_upload_bytes)
        if isinstance(scan, Scan):
            scans[kind] = scan
        else:
            problems[kind] = scan or labels.PROBLEMS[kind]
    if problems or body is None:
        return await _form_page(request, resources, principal, form, problems)
    return await _submit(request, resources, principal, form, scans, source_ip)


def _body(form: dict[str, str], material_ids: dict[str, str]) -> dict[str, Any]:
    """The API's request body of the form (a pickup sends no address, as the API asks none)."""
    delivery: dict[str, str | None] = {"method": form["delivery_method"]}
    if form["delivery_method"] != "pickup":
        delivery.update({field: form[field] or None for field in ("recipient", "phone", "address")})
    return {
        "vehicle": {"plate": form["plate"], "vin": form["vin"]},
        "district": form["district"],
        "channel": form["channel"],
        "delivery": delivery,
        "materials": material_ids,
        "insurance_commitment": form["insurance_commitment"] == "yes",
    }


async def _submit(
    request: Request,
    resources: Resources,
    principal: Principal,
    form: dict[str, str],
    scans: dict[str, Scan],
    source_ip: str | None,
) -> Response:
    """Upload the scans and submit, throttled as the API's routes are; a form submitted before
    (its Idempotency-Key, or its vehicle) leads to the application it made."""
    existing = await _open_application_of(resources, principal, form["plate"])
    if existing is not None:  # this form again, or another for the same vehicle: nothing new is kept
        return RedirectResponse(f"/app/applications/{existing['application_id']}", status_code=303)
    settings = resources.settings
    key = form["idempotency_key"]
    await rate_limits.count(resources, "submission", principal.sub, settings.rate_limit_submissions, HOUR)
    material_ids = {}
    for kind, scan in scans.items():
        await rate_limits.count(resources, "upload", principal.sub, settings.rate_limit_uploads, HOUR)
        material_ids[kind] = (
            await materials.upload(resources, principal, MaterialKind(kind), scan.content)
        ).material_id
    body = ApplicationIn.model_validate(_body(form, material_ids))
    timing = request.app.state.workflow_timing
    try:
        view, _ = await applications.submit(resources, principal, body, key, timing, source_ip=source_ip)
    except ApiError as err:
        if err.error not in ("idempotency_key_reused", "application_in_progress"):
            raise
        existing = await _open_application_of(resources, principal, body.vehicle.plate)
        if existing is None:
            raise
        view = existing
    return RedirectResponse(f"/app/applications/{view['application_id']}", status_code=303)


async def _open_application_of(resources: Resources, principal: Principal, plate: str) -> dict[str, Any] | None:
    """The applicant's open application for the vehicle of this plate, if there is one."""
    items, _ = await inbox.list_applications(resources, principal, InboxQuery(plate=plate, page=1, page_size=5))
    return next((view for view in items if view["status"] not in TERMINAL), None)


CHECKS = {"plate": TypeAdapter(Plate), "vin": TypeAdapter(Vin), "phone": TypeAdapter(Mobile)}


@router.get("/check/{field}")
async def check_field(
    field: Literal["plate", "vin", "phone"], value: Annotated[str, Query(max_length=40)] = "", _: Principal = SIGNED_IN
) -> JSONResponse:
    """A field as it is typed, checked by the API's own validator: its problem in Chinese, or none."""
    try:
        CHECKS[field].validate_python(value)
    except ValidationError:
        return JSONResponse({"problem": labels.PROBLEMS[field]})
    return JSONResponse({"problem": ""})
