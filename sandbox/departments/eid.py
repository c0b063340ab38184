"""e-ID (温警在线): QR tokens that stand for a verified identity, each usable once."""

import secrets
import time

from fastapi.responses import JSONResponse

from sandbox.common import StrictModel, Text
from sandbox.errors import DepartmentError
from sandbox.routing import IdempotencyKey, RuntimeDep, department_router, helper_router
from sandbox.state import JSON

router = department_router("eid")
helpers = helper_router()


class IdentityIn(StrictModel):
    name: Text
    id_number: Text
    phone: Text


class QrTokenIn(StrictModel):
    qr_token: Text


@helpers.post("/eid/qr", status_code=201)
async def issue_qr_token(identity: IdentityIn, runtime: RuntimeDep) -> dict[str, str]:
    """Issue a single-use QR token for ``identity``, as scanning the e-ID app would."""
    tokens = runtime.state.eid_tokens
    now = time.time()
    for expired in [token for token, entry in tokens.items() if entry["expires_at"] <= now]:
        del tokens[expired]
    token = secrets.token_urlsafe(24)
    tokens[token] = {
        "identity": identity.model_dump(),
        "expires_at": now + runtime.settings.eid_token_ttl_s,
    }
    runtime.save()
    return {"qr_token": token}


@router.post("/verify")
async def verify(body: QrTokenIn, runtime: RuntimeDep, idempotency_key: IdempotencyKey = None) -> JSONResponse:
    """Exchange a QR token for the identity it stands for; the token is used up."""

    def consume() -> JSON:
        entry = runtime.state.eid_tokens.pop(body.qr_token, None)
        if entry is None or entry["expires_at"] <= time.time():
            raise DepartmentError(401, "eid_token_invalid", "The QR token is unknown, expired or already used.")
        identity: JSON = entry["identity"]
        return identity

    return runtime.idempotent("eid", idempotency_key, 200, consume)
