"""Long-lived resources made once in the lifespan, and the one authorization dependency."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from temporalio.client import Client

from adapters.departments import Departments
from api.auth import InvalidToken, Principal, Role, verify_token
from api.errors import ApiError, not_found
from config import Settings
from domain.districts import covers
from store.repository import ApplicationRow, Store


@dataclass
class Resources:
    settings: Settings
    store: Store
    client: Client
    departments: Departments


def _resources(request: Request) -> Resources:
    return request.app.state.resources


ResourcesDep = Annotated[Resources, Depends(_resources)]

_bearer = HTTPBearer(auto_error=False)


def current_principal(
    resources: ResourcesDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if credentials is None:
        raise ApiError(401, "unauthorized", "a bearer token is required", headers={"WWW-Authenticate": "Bearer"})
    try:
        return verify_token(resources.settings, credentials.credentials)
    except InvalidToken:
        raise ApiError(
            401, "unauthorized", "the token is invalid or expired", headers={"WWW-Authenticate": "Bearer"}
        ) from None


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def require(*roles: Role, principal_from: Callable[..., Principal] = current_principal) -> Any:
    """A dependency admitting only the given roles (403 otherwise).

    The principal comes from the bearer token; the console passes its own source (the session cookie).
    """

    # Depends as a default, not in Annotated: a string annotation cannot name the local `principal_from`.
    def check(principal: Principal = Depends(principal_from)) -> Principal:
        if principal.role not in roles:
            raise ApiError(403, "forbidden", f"this action is for: {', '.join(r.value for r in roles)}")
        return principal

    return Depends(check)


def may_see(principal: Principal, row: ApplicationRow) -> bool:
    if principal.role == Role.APPLICANT:
        return row.applicant_sub == principal.sub
    return principal.district is not None and covers(principal.district, row.district)


async def application_for(resources: Resources, principal: Principal, application_id: str) -> ApplicationRow:
    """The application if this principal may see it; 404 whether it is missing or someone else's."""
    row = await resources.store.get_application(application_id)
    if row is None or not may_see(principal, row):
        raise not_found()
    return row


def rate_limited(action: str, setting: str, window_s: int = 3600):
    """A dependency counting this principal's calls of `action`; 429 with Retry-After past the limit."""

    async def check(resources: ResourcesDep, principal: PrincipalDep) -> None:
        await _count(resources, action, principal.sub, getattr(resources.settings, setting), window_s)

    return Depends(check)


def rate_limited_by_address(action: str, setting: str, window_s: int = 3600):
    """The same for a route without sign-in: counted per client address."""

    async def check(request: Request, resources: ResourcesDep) -> None:
        address = request.client.host if request.client else "unknown"
        await _count(resources, action, address, getattr(resources.settings, setting), window_s)

    return Depends(check)


async def _count(resources: Resources, action: str, who: str, limit: int, window_s: int) -> None:
    hits, retry_after = await resources.store.hit(f"{action}:{who}", window_s)
    if hits > limit:
        raise ApiError(
            429,
            "rate_limited",
            f"too many {action} requests; try again in {retry_after} s",
            headers={"Retry-After": str(retry_after)},
        )
