"""JWT identity: HS256 pinned, `exp` required; the principal comes from the token only."""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import jwt

from config import Settings
from domain.districts import CITY_CODE

ALGORITHM = "HS256"  # tokens this service issues (e-ID sign-in, development)
IDP_ALGORITHM = "RS256"  # tokens of the production identity provider, keys from its JWKS


class Role(StrEnum):
    APPLICANT = "applicant"
    TRANSPORT_CLERK = "transport_clerk"
    SUPERVISOR = "supervisor"
    OPERATOR = "operator"


CLERK_ROLES = frozenset({Role.TRANSPORT_CLERK, Role.SUPERVISOR})
DISTRICT_ROLES = CLERK_ROLES | {Role.OPERATOR}


@dataclass(frozen=True)
class Principal:
    sub: str
    role: Role
    district: str | None = None


def is_city_supervisor(principal: Principal) -> bool:
    """A supervisor for the whole city (330300), who holds the city-level powers."""
    return principal.role is Role.SUPERVISOR and principal.district == CITY_CODE


class InvalidToken(Exception):
    pass


def issue_token(settings: Settings, principal: Principal) -> str:
    now = int(time.time())
    claims = {"sub": principal.sub, "role": principal.role.value, "iat": now, "exp": now + settings.auth_token_ttl_s}
    if principal.district:
        claims["district"] = principal.district
    return jwt.encode(claims, settings.auth_jwt_secret, algorithm=ALGORITHM)


_jwks_clients: dict[str, jwt.PyJWKClient] = {}


def _jwks(url: str) -> jwt.PyJWKClient:
    if url not in _jwks_clients:
        _jwks_clients[url] = jwt.PyJWKClient(url, cache_keys=True, lifespan=300, timeout=5)
    return _jwks_clients[url]


def _key_for(settings: Settings, token: str) -> tuple[Any, str]:
    """Each algorithm has its one key source: HS256 our secret, RS256 the JWKS; nothing else."""
    algorithm = jwt.get_unverified_header(token).get("alg")
    if algorithm == ALGORITHM:
        return settings.auth_jwt_secret, ALGORITHM
    if algorithm == IDP_ALGORITHM and settings.auth_jwks_url:
        return _jwks(settings.auth_jwks_url).get_signing_key_from_jwt(token).key, IDP_ALGORITHM
    raise InvalidToken(f"algorithm {algorithm!r} is not accepted")


def verify_token(settings: Settings, token: str, *, audience: str | None = None) -> Principal:
    """The principal of a valid token: algorithm pinned to its key, `exp` required. Blocking (JWKS).

    With `audience`, the token must be issued for it (an OpenID ID token names its client).
    """
    try:
        key, algorithm = _key_for(settings, token)
        claims = jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            audience=audience,
            options={"require": ["exp", "sub", "role", *(["aud"] if audience else [])]},
        )
        role = Role(claims["role"])
    except (jwt.PyJWTError, ValueError) as err:
        raise InvalidToken(str(err)) from None
    district = claims.get("district")
    if role in DISTRICT_ROLES and not district:
        raise InvalidToken("clerk, supervisor and operator tokens must name a district")
    return Principal(sub=str(claims["sub"]), role=role, district=district)
