from __future__ import annotations

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse

from api.deps import ResourcesDep, SourceIpDep
from api.errors import documented
from api.services import callbacks

router = APIRouter(prefix="/v1/callbacks", tags=["callbacks"], responses=documented(401, 413, 422, 503))


@router.post("/{source}", status_code=202)
async def receive_callback(
    source: callbacks.Source,
    request: Request,
    resources: ResourcesDep,
    source_ip: SourceIpDep,
    x_signature: str | None = Header(default=None, alias="X-Signature", description="t=<unix>,v1=<hex HMAC-SHA256>"),
) -> JSONResponse:
    """A signed report from a department; forwarded to the application's workflow as a signal.

    A missing, malformed, stale or replayed signature is 401 (never 422), and is audited.
    """
    body = await request.body()
    forwarded = await callbacks.receive(resources, source, body, x_signature, source_ip=source_ip)
    return JSONResponse({"accepted": True, "forwarded": forwarded}, status_code=202)
