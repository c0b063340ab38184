"""Applicants' identities: the e-ID sign-in (audited), and the development shortcuts."""

from __future__ import annotations

import hashlib

from temporalio.exceptions import ApplicationError

from adapters.models import Identity
from api.auth import Principal, Role, issue_token
from api.errors import ApiError
from api.resources import Resources
from api.services import audit
from domain import errors


def applicant_sub(id_number: str) -> str:
    """A stable pseudonym for an applicant; tokens never carry the ID number."""
    return "eid-" + hashlib.sha256(f"permit-applicant:{id_number}".encode()).hexdigest()[:32]


# Whoever tries to sign in before the e-ID service has said who they are.
UNIDENTIFIED = Principal("unidentified", Role.APPLICANT)


async def sign_in_with_eid(resources: Resources, qr_token: str, *, source_ip: str | None) -> str:
    """Exchange a scanned e-ID QR token for an applicant token; the identity is kept sealed.

    Each sign-in is audited, a failed one as `refused:<error>` by an unidentified applicant (never the QR token).
    """
    try:
        identity = await _verified(resources, qr_token)
    except ApiError as err:
        await audit.record(resources, UNIDENTIFIED, "auth.eid", None, f"refused:{err.error}", source_ip=source_ip)
        raise
    principal = Principal(applicant_sub(identity.id_number), Role.APPLICANT)
    await resources.store.applicants.save(principal.sub, identity.name, identity.id_number, identity.phone)
    await audit.record(resources, principal, "auth.eid", None, "ok", source_ip=source_ip)
    return issue_token(resources.settings, principal)


async def _verified(resources: Resources, qr_token: str) -> Identity:
    """The identity behind the QR token; 401 for a token the e-ID service refuses, 503 when it is down."""
    try:
        return await resources.departments.eid.verify(qr_token)
    except ApplicationError as err:
        if err.type == errors.EID_TOKEN_INVALID:
            raise ApiError(401, "eid_token_invalid", "the e-ID QR code is invalid, expired or already used") from None
        raise ApiError(503, "eid_unavailable", "the e-ID service is unavailable; try again") from None


async def register_identity(resources: Resources, name: str, id_number: str, phone: str) -> str:
    """Development only: an applicant identity as the e-ID service would give it, and its token."""
    principal = Principal(applicant_sub(id_number), Role.APPLICANT)
    await resources.store.applicants.save(principal.sub, name, id_number, phone)
    return issue_token(resources.settings, principal)


def token_for(resources: Resources, principal: Principal) -> str:
    """Development only: a token for any principal."""
    return issue_token(resources.settings, principal)
