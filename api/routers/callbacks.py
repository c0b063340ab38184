from __future__ import annotations

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse

from api.deps import ResourcesDep
from api.errors import documented
from api.services import callbacks

router = APIRouter(prefix="/v1/callbacks", tags=["callbacks"], responses=documented(401, 413, 422, 503))


@router.post("/{source}", status_code=202)
async def receive_callback(
    source: callbacks.Source,
    request: Request,
    resources: ResourcesDep,
    x_signature: str = Header(alias="X-Signature"),
) -> JSONResponse:
    """A signed report from a department; forwarded to the application's workflow as a signal."""
    forwarded = await callbacks.receive(resources, source, await request.body(), x_signature)
    return JSONResponse({"accepted": True, "forwarded": forwarded}, status_code=202)
