"""Scans applicants upload, and the checks an application's materials pass."""

from __future__ import annotations

from typing import Any

from api.auth import Principal, Role
from api.errors import ApiError, field_error, not_found
from api.resources import Resources
from api.services import audit
from domain.statuses import MaterialKind
from store.materials import Material, ScanPurged

__all__ = ["Material", "check_owned", "content_of", "find", "upload"]

SIGNATURES = ((b"%PDF-", "application/pdf"), (b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))


def sniff(content: bytes) -> str | None:
    """The content type by the file's first bytes, whatever its name or header claims."""
    return next((kind for magic, kind in SIGNATURES if content.startswith(magic)), None)


async def upload(resources: Resources, principal: Principal, kind: MaterialKind, content: bytes) -> Material:
    """Keep a scan (PDF, JPEG or PNG by content, within the size limit) for its applicant."""
    limit = resources.settings.max_upload_bytes
    if len(content) > limit:
        raise ApiError(413, "too_large", f"a material may be at most {limit // (1024 * 1024)} MiB")
    if not content:
        raise field_error(["body", "file"], "the file is empty")
    content_type = sniff(content)
    if content_type is None:
        raise ApiError(415, "unsupported_media_type", "file: only PDF, JPEG and PNG scans are accepted")
    return await resources.store.materials.save(principal.sub, kind.value, content_type, content)


async def check_owned(
    resources: Resources, principal: Principal, materials: dict[str, str], loc: list[str | int]
) -> None:
    """Each material exists, belongs to the applicant and is of the kind it is given as."""
    for kind, material_id in materials.items():
        material = await resources.store.materials.get(material_id)
        if material is None or material.owner_sub != principal.sub:
            raise field_error([*loc, kind], "no such material of yours; upload it with POST /v1/materials")
        if material.kind != kind:
            raise field_error([*loc, kind], f"this material was uploaded as {material.kind}")
        if material.purged:
            raise field_error([*loc, kind], "this scan was deleted after its retention period; upload it again")


async def find(resources: Resources, material_id: str) -> Material | None:
    """A material's description (kind, content type, size), without its content."""
    return await resources.store.materials.get(material_id)


async def content_of(
    resources: Resources, principal: Principal, view: dict[str, Any], material_id: str, *, source_ip: str | None
) -> tuple[str, bytes]:
    """A scan the application was submitted (or supplemented) with; 404 for any other material.

    A read by staff is audited (`material.read`): scans show the applicant's papers in full.
    """
    if material_id not in {m["material_id"] for m in view.get("materials", [])}:
        raise not_found("material")
    try:
        found = await resources.store.materials.content(material_id)
    except ScanPurged:
        raise ApiError(410, "purged", "this scan was deleted after its retention period") from None
    if found is None:
        raise not_found("material")
    if principal.role is not Role.APPLICANT:
        application_id = view["application_id"]
        await audit.record(
            resources, principal, "material.read", material_id, "ok", source_ip=source_ip, application_id=application_id
        )
    return found
