from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.deps import PrincipalDep, ResourcesDep, SourceIpDep, rate_limited_by_address
from api.errors import documented
from api.services import documents

router = APIRouter(prefix="/v1/documents", tags=["documents"], responses=documented(404, 422))

VerificationCode = Annotated[
    str,
    Query(pattern=r"^[0-9a-fA-F]{64}$", description="the 64 hexadecimal digits printed on the document as 验证码"),
]


class Verification(BaseModel):
    """Whether a code is the document's; what the document is, and says, only when it is."""

    valid: bool
    document_id: str
    application_id: str | None = None
    kind: str | None = None
    issued_at: str | None = None
    fields: dict[str, str | bool] | None = Field(
        default=None,
        description=(
            "what the document says, to compare with the paper; personal data masked. A permit: number, plate,"
            " owner, issued_on, valid_until; the other kinds their key fields (accepted_on; missing, due_on,"
            " provisional; plate, target_nature or usage_nature; status)"
        ),
    )


@router.get(
    "/{document_id}",
    response_model=None,
    responses={
        200: {"content": {"application/pdf": {}, "application/json": {}}, "description": "the document"},
        **documented(401),
    },
)
async def read_document(
    document_id: str, request: Request, resources: ResourcesDep, principal: PrincipalDep, source_ip: SourceIpDep
) -> Response:
    """A document as PDF, or its data with `Accept: application/json`; a read by staff is audited."""
    document = await documents.document_for(resources, principal, document_id, source_ip=source_ip)
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(
            {
                "document_id": document.document_id,
                "application_id": document.application_id,
                "kind": document.kind,
                "data": document.content,
                "verification_code": document.verification_code,
                "created_at": document.issued_at.isoformat(),
            }
        )
    pdf = await documents.pdf(resources, document, str(request.base_url))
    return Response(
        pdf, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{document_id}.pdf"'}
    )


@router.get(
    "/{document_id}/verify",
    response_model=Verification,
    dependencies=[rate_limited_by_address("verification", "rate_limit_verifications")],
    responses=documented(429),
)
async def verify_document(document_id: str, code: VerificationCode, resources: ResourcesDep) -> Verification:
    """Whether `code` is the verification code of this document, and what it says; no sign-in, personal data masked."""
    document = await documents.find(resources, document_id)
    if not document.is_authentic(code):
        return Verification(valid=False, document_id=document.document_id)
    return Verification(
        valid=True,
        document_id=document.document_id,
        application_id=document.application_id,
        kind=document.kind,
        issued_at=document.issued_at.isoformat(),
        fields=documents.verified_fields(document),
    )
