"""Signed reports from the departments, forwarded to the application's workflow as signals."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any, Literal

import structlog
from temporalio.service import RPCError, RPCStatusCode

from api.errors import ApiError
from api.resources import Resources
from domain.signing import SignatureError, verify
from store.applications import ApplicationRow
from workflows.permit_application import PermitApplicationWorkflow
from workflows.types import DeliveryReport, PolicyReport, UsageChangeReport

log = structlog.get_logger(__name__)

Source = Literal["vehicle-admin", "insurance", "courier"]
MAX_CALLBACK_BYTES = 64 * 1024
# Room for `t=` and a few `v1=` signatures while a secret is rotated; anything longer is not a signature.
MAX_SIGNATURE_HEADER = 1024
# Unix seconds have 10 digits until the year 2286: a longer timestamp is malformed, never converted.
MAX_TIMESTAMP_DIGITS = 12


async def receive(
    resources: Resources, source: Source, body: bytes, signature: str | None, *, source_ip: str | None
) -> bool:
    """Verify, refuse a replay, forward; True when the application's workflow took the report.

    A refused signature (missing, malformed, stale, not matching, replayed) is a 401 in the audit trail.
    A report that could not be forwarded is forgotten, so the department's retry gets through.
    """
    if len(body) > MAX_CALLBACK_BYTES:
        raise ApiError(413, "too_large", "callback body too large")
    try:
        receipt = await _authenticated(resources, source, body, signature)
    except ApiError as err:
        await _audit_refusal(resources, source, err, source_ip)
        raise
    try:
        forwarded = await _forward(resources, source, json.loads(body))
    except (ValueError, KeyError, TypeError):
        raise ApiError(
            422,
            "validation_failed",
            "the callback body is not the expected JSON",
            fields=[{"loc": ["body"], "msg": "unexpected shape"}],
        ) from None
    except ApiError:
        await resources.store.callback_receipts.forget(receipt)
        raise
    log.info("callback.received", source=source, forwarded=forwarded)
    return forwarded


async def _authenticated(resources: Resources, source: Source, body: bytes, signature: str | None) -> str:
    """The receipt of a callback signed by `source` within the tolerance and not seen before; 401 otherwise."""
    secret = resources.settings.callback_secret(source)
    assert secret is not None
    try:
        signed_at = verify(
            secret,
            body,
            _bounded(signature),
            now=int(time.time()),
            tolerance_s=resources.settings.callback_tolerance_s,
        )
    except SignatureError as err:
        raise ApiError(401, "invalid_signature", f"signature refused: {err}") from None
    receipt = f"{source}:{signed_at}:{hashlib.sha256(body).hexdigest()}"  # however the header is written
    if not await resources.store.callback_receipts.remember(source, receipt):
        raise ApiError(401, "replayed", "this callback was already received")
    return receipt


def _bounded(header: str | None) -> str:
    """The X-Signature header, once it is small enough to parse: present, short, ASCII, a short `t=`."""
    if header is None:
        raise SignatureError("no X-Signature header")
    if len(header) > MAX_SIGNATURE_HEADER or not header.isascii():
        raise SignatureError("malformed signature header")
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and len(value) > MAX_TIMESTAMP_DIGITS:
            raise SignatureError("malformed signature header: t= is not a unix time")
    return header


async def _audit_refusal(resources: Resources, source: Source, err: ApiError, source_ip: str | None) -> None:
    """Who sent it (the source it claims), why it was refused; never the body.

    Written through the store, as the audit service's `record` takes a signed-in principal and a department
    is none: the actor is the source, its role `department`.
    """
    await resources.store.audit.record(
        actor=source,
        role="department",
        action="callback.receive",
        outcome=f"refused:{err.error}",
        source_ip=source_ip,
        detail={"reason": err.detail},
    )


async def _forward(resources: Resources, source: Source, data: dict[str, Any]) -> bool:
    """Insurance reports go to the vehicle's open application; the others to the application they name,
    closed or not: a closed application's workflow may still be undoing a usage-nature change or a shipment."""
    if source == "insurance":
        policy = PolicyReport(str(data["policy_no"]))
        found = await resources.store.applications.open_for_vin(str(data["vin"]))
        return await _signal(resources, source, found, PermitApplicationWorkflow.report_policy, policy)
    row = await resources.store.applications.get(str(data["reference"]))
    if source == "vehicle-admin":
        report = UsageChangeReport(str(data["job_id"]), str(data["status"]), data.get("driving_license_no"))
        return await _signal(resources, source, row, PermitApplicationWorkflow.report_usage_change, report)
    delivery = DeliveryReport(str(data["tracking_number"]), str(data["status"]))
    return await _signal(resources, source, row, PermitApplicationWorkflow.report_delivery, delivery)


async def _signal(resources: Resources, source: str, row: ApplicationRow | None, signal: Any, arg: Any) -> bool:
    """True once the workflow has the report; False when there is no such application or its workflow has ended."""
    if row is None:
        return False
    try:
        await resources.client.get_workflow_handle(row.workflow_id).signal(signal, arg)
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND and not row.is_open:
            return False  # closed, and its compensation done: nothing is waiting for the report
        log.warning("callback.signal_failed", source=source, code=str(err.status))
        raise ApiError(503, "temporal_unavailable", "could not forward the callback; retry later") from None
    return True
