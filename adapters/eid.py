"""e-ID service (温警在线): turns a scanned QR token into the holder's identity."""

from typing import Protocol

from adapters.base import HttpDepartment
from adapters.models import Identity


class EidClient(Protocol):
    async def verify(self, qr_token: str) -> Identity:
        """The identity behind a single-use QR token (EID_TOKEN_INVALID otherwise)."""
        ...


class HttpEidClient(HttpDepartment):
    department = "e-ID service"

    async def verify(self, qr_token: str) -> Identity:
        return await self._fetch(
            Identity,
            "POST",
            "/eid/v1/verify",
            action="the QR token verification",
            json={"qr_token": qr_token},
        )
