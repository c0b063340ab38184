from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, UploadFile

from api.auth import Principal, Role
from api.deps import ResourcesDep, rate_limited, require
from api.errors import documented
from api.schemas import MaterialOut
from api.services import materials
from domain.statuses import MaterialKind

router = APIRouter(prefix="/v1/materials", tags=["materials"], responses=documented(401, 403, 413, 415, 422, 429))


@router.post(
    "", status_code=201, dependencies=[rate_limited("upload", "rate_limit_uploads")], response_model=MaterialOut
)
async def upload_material(
    resources: ResourcesDep,
    file: UploadFile,
    kind: Annotated[MaterialKind, Form()],
    principal: Principal = require(Role.APPLICANT),
) -> MaterialOut:
    """Upload a scan (PDF, JPEG or PNG, at most 10 MiB)."""
    content = await file.read(resources.settings.max_upload_bytes + 1)
    material = await materials.upload(resources, principal, kind, content)
    return MaterialOut.model_validate(material, from_attributes=True)
