from __future__ import annotations

import hashlib
import json
import time
from typing import Any, Literal

import structlog
from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from temporalio.service import RPCError

from api.deps import ResourcesDep
from api.errors import ApiError, documented
from domain.signing import SignatureError, verify
from workflows.permit_application import PermitApplicationWorkflow
from workflows.types import DeliveryReport, PolicyReport, UsageChangeReport

router = APIRouter(prefix="/v1/callbacks", tags=["callbacks"], responses=documented(401, 413, 422, 503))
log = structlog.get_logger(__name__)

MAX_CALLBACK_BYTES = 64 * 1024


@router.post("/{source}", status_code=202)
async def receive_callback(
    source: Literal["vehicle-admin", "insurance", "courier"],
    request: Request,
    resources: ResourcesDep,
    x_signature: str = Header(alias="X-Signature"),
) -> JSONResponse:
    """A signed report from a department; forwarded to the application's workflow as a signal."""
    body = await request.body()
    if len(body) > MAX_CALLBACK_BYTES:
        raise ApiError(413, "too_large", "callback body too large")
    secret = resources.settings.callback_secret(source)
    assert secret is not None
    try:
        signed_at = verify(
            secret, body, x_signature, now=int(time.time()), tolerance_s=resources.settings.callback_tolerance_s
        )
    except SignatureError as err:
        raise ApiError(401, "invalid_signature", f"signature refused: {err}") from None
    receipt = f"{source}:{signed_at}:{hashlib.sha256(body).hexdigest()}"  # however the header is written
    if not await resources.store.remember_callback(source, receipt):
        raise ApiError(401, "replayed", "this callback was already received")
    try:
        data: dict[str, Any] = json.loads(body)
        delivered = await _forward(resources, source, data)
    except (ValueError, KeyError, TypeError):
        raise ApiError(
            422,
            "validation_failed",
            "the callback body is not the expected JSON",
            fields=[{"loc": ["body"], "msg": "unexpected shape"}],
        ) from None
    except ApiError:
        await resources.store.forget_callback(receipt)  # not taken: the department's retry must get through
        raise
    log.info("callback.received", source=source, forwarded=delivered)
    return JSONResponse({"accepted": True, "forwarded": delivered}, status_code=202)


async def _forward(resources, source: str, data: dict[str, Any]) -> bool:
    store = resources.store
    if source == "insurance":
        row = await store.open_application_for_vin(str(data["vin"]))
        signal, arg = PermitApplicationWorkflow.report_policy, PolicyReport(str(data["policy_no"]))
    elif source == "vehicle-admin":
        row = await store.get_application(str(data["reference"]))
        signal = PermitApplicationWorkflow.report_usage_change
        arg = UsageChangeReport(str(data["job_id"]), str(data["status"]), data.get("driving_license_no"))
    else:
        row = await store.get_application(str(data["reference"]))
        signal = PermitApplicationWorkflow.report_delivery
        arg = DeliveryReport(str(data["tracking_number"]), str(data["status"]))
    if row is None or not row.is_open:
        return False
    try:
        await resources.client.get_workflow_handle(row.workflow_id).signal(signal, arg)
    except RPCError as err:
        log.warning("callback.signal_failed", source=source, code=str(err.status))
        raise ApiError(503, "temporal_unavailable", "could not forward the callback; retry later") from None
    return True
