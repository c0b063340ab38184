from __future__ import annotations

import hashlib

from fastapi import APIRouter, Request
from temporalio.exceptions import ApplicationError

from api.auth import Principal, Role, issue_token
from api.deps import ResourcesDep
from api.errors import ApiError, documented
from api.schemas import DevIdentityIn, DevTokenIn, EidLoginIn, TokenOut
from domain import errors

router = APIRouter(prefix="/v1", tags=["identity"], responses=documented(401, 413, 422, 503))
dev_router = APIRouter(prefix="/v1/dev", tags=["development"], responses=documented(413, 422))


def applicant_sub(id_number: str) -> str:
    """A stable pseudonym for an applicant; tokens never carry the ID number."""
    return "eid-" + hashlib.sha256(f"permit-applicant:{id_number}".encode()).hexdigest()[:32]


@router.post("/auth/eid", response_model=TokenOut)
async def login_with_eid(body: EidLoginIn, resources: ResourcesDep, request: Request) -> TokenOut:
    """Exchange a scanned 温警在线 e-ID QR token for an applicant token."""
    try:
        identity = await resources.departments.eid.verify(body.qr_token)
    except ApplicationError as err:
        if err.type == errors.EID_TOKEN_INVALID:
            raise ApiError(401, "eid_token_invalid", "the e-ID QR code is invalid, expired or already used") from None
        raise ApiError(503, "eid_unavailable", "the e-ID service is unavailable; try again") from None
    sub = applicant_sub(identity.id_number)
    await resources.store.save_applicant(sub, identity.name, identity.id_number, identity.phone)
    await resources.store.audit(actor=sub, role=Role.APPLICANT, action="auth.eid", outcome="ok", source_ip=_ip(request))
    return TokenOut(access_token=issue_token(resources.settings, Principal(sub, Role.APPLICANT)))


@dev_router.post("/token", response_model=TokenOut)
async def create_dev_token(body: DevTokenIn, resources: ResourcesDep) -> TokenOut:
    """Development only: a token for any role."""
    principal = Principal(body.sub, Role(body.role), getattr(body, "district", None))
    return TokenOut(access_token=issue_token(resources.settings, principal))


@dev_router.post("/identity", response_model=TokenOut)
async def create_dev_identity(body: DevIdentityIn, resources: ResourcesDep) -> TokenOut:
    """Development only: register an applicant identity without the e-ID service."""
    sub = applicant_sub(body.id_number)
    await resources.store.save_applicant(sub, body.name, body.id_number, body.phone)
    return TokenOut(access_token=issue_token(resources.settings, Principal(sub, Role.APPLICANT)))


def _ip(request: Request) -> str | None:
    return request.client.host if request.client else None
