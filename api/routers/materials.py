from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, UploadFile

from api.auth import Principal, Role
from api.deps import ResourcesDep, rate_limited, require
from api.errors import ApiError, documented
from domain.statuses import MaterialKind

router = APIRouter(prefix="/v1/materials", tags=["materials"], responses=documented(401, 403, 413, 415, 422, 429))

SIGNATURES = ((b"%PDF-", "application/pdf"), (b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))


def sniff(content: bytes) -> str | None:
    """The content type by the file's first bytes, whatever its name or header claims."""
    return next((kind for magic, kind in SIGNATURES if content.startswith(magic)), None)


@router.post("", status_code=201, dependencies=[rate_limited("upload", "rate_limit_uploads")])
async def upload_material(
    resources: ResourcesDep,
    file: UploadFile,
    kind: Annotated[MaterialKind, Form()],
    principal: Principal = require(Role.APPLICANT),
) -> dict[str, Any]:
    """Upload a scan (PDF, JPEG or PNG, at most 10 MiB)."""
    limit = resources.settings.max_upload_bytes
    content = await file.read(limit + 1)
    if len(content) > limit:
        raise ApiError(413, "too_large", f"a material may be at most {limit // (1024 * 1024)} MiB")
    if not content:
        raise ApiError(
            422, "validation_failed", "file: the file is empty", fields=[{"loc": ["body", "file"], "msg": "empty file"}]
        )
    content_type = sniff(content)
    if content_type is None:
        raise ApiError(415, "unsupported_media_type", "file: only PDF, JPEG and PNG scans are accepted")
    material = await resources.store.save_material(principal.sub, kind.value, content_type, content)
    return material.public()
