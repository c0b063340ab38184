"""Documents the workflow issued: for those who may see their application, and public verification."""

from __future__ import annotations

import asyncio

from api.auth import Principal
from api.errors import not_found
from api.resources import Resources
from api.services.applications import application_for
from domain.documents import IssuedDocument, render_pdf


async def find(resources: Resources, document_id: str) -> IssuedDocument:
    """The document, whoever asks (verification shows no personal data); 404 when there is none."""
    document = await resources.store.documents.get(document_id)
    if document is None:
        raise not_found("document")
    return document


async def document_for(resources: Resources, principal: Principal, document_id: str) -> IssuedDocument:
    """A document of an application this principal may see; 404 otherwise."""
    document = await find(resources, document_id)
    await application_for(resources, principal, document.application_id)
    return document


def verify_url(resources: Resources, base_url: str, document_id: str) -> str:
    """Where anyone checks a document's code: under the public base URL, else the one the request came to."""
    base = resources.settings.public_base_url or base_url
    return f"{base.rstrip('/')}/v1/documents/{document_id}/verify"


async def pdf_for(resources: Resources, principal: Principal, document_id: str, base_url: str) -> bytes:
    """A document of an application this principal may see, as PDF; 404 otherwise."""
    return await pdf(resources, await document_for(resources, principal, document_id), base_url)


async def pdf(resources: Resources, document: IssuedDocument, base_url: str) -> bytes:
    """The document printed, with its verification code and where to check it."""
    return await asyncio.to_thread(render_pdf, document, verify_url(resources, base_url, document.document_id))
