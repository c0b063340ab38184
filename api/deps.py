"""The dependencies of the routes: the resources, the one authorization dependency, throttles.

Whether a principal may see an application is the applications service's `application_for`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, cast

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.auth import InvalidToken, Principal, Role, verify_token
from api.errors import ApiError
from api.resources import Resources
from api.services import rate_limits

__all__ = [
    "PrincipalDep",
    "ResourcesDep",
    "SourceIpDep",
    "current_principal",
    "rate_limited",
    "rate_limited_by_address",
    "require",
]


def _resources(request: Request) -> Resources:
    return cast(Resources, request.app.state.resources)


ResourcesDep = Annotated[Resources, Depends(_resources)]


def source_ip(request: Request) -> str | None:
    """The client's address, as the audit trail records it."""
    return request.client.host if request.client else None


SourceIpDep = Annotated[str | None, Depends(source_ip)]

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


def rate_limited(action: str, setting: str, window_s: int = 3600) -> Any:
    """A dependency counting this principal's calls of `action`; 429 with Retry-After past the limit."""

    async def check(resources: ResourcesDep, principal: PrincipalDep) -> None:
        await rate_limits.count(resources, action, principal.sub, getattr(resources.settings, setting), window_s)

    return Depends(check)


def rate_limited_by_address(action: str, setting: str, window_s: int = 3600) -> Any:
    """The same for a route without sign-in: counted per client address."""

    async def check(request: Request, resources: ResourcesDep) -> None:
        address = request.client.host if request.client else "unknown"
        await rate_limits.count(resources, action, address, getattr(resources.settings, setting), window_s)

    return Depends(check)
