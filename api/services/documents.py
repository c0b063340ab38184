"""Documents the workflow issued: for those who may see their application, and public verification."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from api.auth import Principal, Role
from api.errors import not_found
from api.resources import Resources
from api.services import audit
from api.services.applications import application_for
from domain.documents import IssuedDocument, render_pdf
from domain.masking import mask_name, mask_plate

# What a verification shows of each kind of document, so that whoever holds the paper can compare it:
# its key fields, personal ones masked (documents store them masked already; masking again is harmless).
# A kind not named here shows none, so a new kind shows nothing until it is decided what it may show.
VERIFIED_FIELDS: dict[str, dict[str, Callable[[Any], str | bool]]] = {
    "joint_handling_confirmation": {"accepted_on": str},
    "insurance_one_time_notice": {"missing": str, "due_on": str, "provisional": bool},
    "vehicle_change_contact_form": {"plate": mask_plate, "target_nature": str},
    "usage_nature_feedback_form": {"plate": mask_plate, "usage_nature": str},
    "permit": {"number": str, "plate": mask_plate, "owner": mask_name, "issued_on": str, "valid_until": str},
    "termination_notice": {"status": str},
}


async def find(resources: Resources, document_id: str) -> IssuedDocument:
    """The document, whoever asks (verification shows personal data masked); 404 when there is none."""
    document = await resources.store.documents.get(document_id)
    if document is None:
        raise not_found("document")
    return document


async def document_for(
    resources: Resources, principal: Principal, document_id: str, *, source_ip: str | None
) -> IssuedDocument:
    """A document of an application this principal may see; 404 otherwise.

    A read by staff is audited (`document.read`); an applicant reading their own is not.
    """
    document = await find(resources, document_id)
    await application_for(resources, principal, document.application_id)
    if principal.role is not Role.APPLICANT:
        await audit.record(
            resources,
            principal,
            "document.read",
            document.document_id,
            "ok",
            source_ip=source_ip,
            application_id=document.application_id,
            kind=document.kind,
        )
    return document


def verified_fields(document: IssuedDocument) -> dict[str, str | bool]:
    """What the document says, as its verification shows it: the key fields of its kind, masked where personal."""
    shown = VERIFIED_FIELDS.get(document.kind, {})
    return {key: show(document.content[key]) for key, show in shown.items() if document.content.get(key) is not None}


def verify_url(resources: Resources, base_url: str, document_id: str) -> str:
    """Where anyone checks a document's code: under the public base URL, else the one the request came to."""
    base = resources.settings.public_base_url or base_url
    return f"{base.rstrip('/')}/v1/documents/{document_id}/verify"


async def pdf_for(
    resources: Resources, principal: Principal, document_id: str, base_url: str, *, source_ip: str | None
) -> bytes:
    """A document of an application this principal may see, as PDF; 404 otherwise; a read by staff is audited."""
    return await pdf(resources, await document_for(resources, principal, document_id, source_ip=source_ip), base_url)


async def pdf(resources: Resources, document: IssuedDocument, base_url: str) -> bytes:
    """The document printed, with its verification code and where to check it."""
    return await asyncio.to_thread(render_pdf, document, verify_url(resources, base_url, document.document_id))
