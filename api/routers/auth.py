from __future__ import annotations

from fastapi import APIRouter

from api.auth import Principal, Role
from api.deps import ResourcesDep, SourceIpDep, rate_limited_by_address
from api.errors import documented
from api.schemas import DevIdentityIn, DevTokenIn, EidLoginIn, TokenOut
from api.services import identity

router = APIRouter(prefix="/v1", tags=["identity"], responses=documented(401, 413, 422, 503))
dev_router = APIRouter(prefix="/v1/dev", tags=["development"], responses=documented(413, 422))


@router.post(
    "/auth/eid",
    response_model=TokenOut,
    dependencies=[rate_limited_by_address("eid_sign_in", "rate_limit_eid_sign_ins")],
    responses=documented(429),
)
async def login_with_eid(body: EidLoginIn, resources: ResourcesDep, source_ip: SourceIpDep) -> TokenOut:
    """Exchange a scanned 温警在线 e-ID QR token for an applicant token; throttled per client address."""
    return TokenOut(access_token=await identity.sign_in_with_eid(resources, body.qr_token, source_ip=source_ip))


@dev_router.post("/token", response_model=TokenOut)
async def create_dev_token(body: DevTokenIn, resources: ResourcesDep) -> TokenOut:
    """Development only: a token for any role."""
    principal = Principal(body.sub, Role(body.role), getattr(body, "district", None))
    return TokenOut(access_token=identity.token_for(resources, principal))


@dev_router.post("/identity", response_model=TokenOut)
async def create_dev_identity(body: DevIdentityIn, resources: ResourcesDep) -> TokenOut:
    """Development only: register an applicant identity without the e-ID service."""
    token = await identity.register_identity(resources, body.name, body.id_number, body.phone)
    return TokenOut(access_token=token)
