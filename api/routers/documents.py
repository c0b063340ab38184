from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from api import service
from api.deps import PrincipalDep, ResourcesDep
from api.errors import documented
from domain.documents import render_pdf

router = APIRouter(prefix="/v1/documents", tags=["documents"], responses=documented(401, 404, 422))


@router.get(
    "/{document_id}",
    response_model=None,
    responses={200: {"content": {"application/pdf": {}, "application/json": {}}, "description": "the document"}},
)
async def read_document(document_id: str, request: Request, resources: ResourcesDep, principal: PrincipalDep) -> Response:
    """A document as PDF, or its data with `Accept: application/json`."""
    document = await service.document_for(resources, principal, document_id)
    payload = {
        "document_id": str(document["document_id"]),
        "application_id": str(document["application_id"]),
        "kind": document["kind"],
        "data": document["data"],
        "verification_code": document["sha256"],
        "created_at": document["created_at"].isoformat(),
    }
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(payload)
    pdf = render_pdf(document["kind"], document["data"], document["sha256"])
    return Response(pdf, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{document_id}.pdf"'})
