"""JWT identity: HS256 pinned, `exp` required; the principal comes from the token only."""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum

import jwt

from config import Settings

ALGORITHM = "HS256"


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

    @property
    def is_clerk(self) -> bool:
        return self.role in CLERK_ROLES


class InvalidToken(Exception):
    pass


def issue_token(settings: Settings, principal: Principal) -> str:
    now = int(time.time())
    claims = {"sub": principal.sub, "role": principal.role.value, "iat": now, "exp": now + settings.auth_token_ttl_s}
    if principal.district:
        claims["district"] = principal.district
    return jwt.encode(claims, settings.auth_jwt_secret, algorithm=ALGORITHM)


def verify_token(settings: Settings, token: str) -> Principal:
    try:
        claims = jwt.decode(
            token, settings.auth_jwt_secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub", "role"]}
        )
        role = Role(claims["role"])
    except (jwt.PyJWTError, ValueError) as err:
        raise InvalidToken(str(err)) from None
    district = claims.get("district")
    if role in DISTRICT_ROLES and not district:
        raise InvalidToken("clerk, supervisor and operator tokens must name a district")
    return Principal(sub=str(claims["sub"]), role=role, district=district)
