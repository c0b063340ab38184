"""Documents the workflow issued: for those who may see their application, and public verification."""

from __future__ import annotations

from api.auth import Principal
from api.errors import not_found
from api.resources import Resources
from api.services.applications import application_for
from domain.documents import IssuedDocument


async def find(resources: Resources, document_id: str) -> IssuedDocument:
    """The document, whoever asks (verification shows no personal data); 404 when there is none."""
    document = await resources.store.get_document(document_id)
    if document is None:
        raise not_found("document")
    return document


async def document_for(resources: Resources, principal: Principal, document_id: str) -> IssuedDocument:
    """A document of an application this principal may see; 404 otherwise."""
    document = await find(resources, document_id)
    await application_for(resources, principal, document.application_id)
    return document
