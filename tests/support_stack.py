"""The whole system over real HTTP, as the integration tests drive it: the stack and a submitted application."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import httpx
from temporalio.client import Client

from drills.people import new_citizen, new_vehicle
from store import Store
from tests.support_sandbox import SandboxControl

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n% scan\n"


@dataclass
class Stack:
    api: httpx.AsyncClient
    sandbox: SandboxControl
    store: Store
    temporal: Client

    async def clerk(self, district: str = "330382", role: str = "transport_clerk") -> dict[str, str]:
        response = await self.api.post(
            "/v1/dev/token", json={"role": role, "sub": f"clerk-{district}", "district": district}
        )
        response.raise_for_status()
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    async def applicant(self, name: str, id_number: str, phone: str) -> dict[str, str]:
        """Sign in as the e-ID service's citizen: scan a QR token, exchange it for a token."""
        qr = await self.sandbox.issue_qr(name=name, id_number=id_number, phone=phone)
        response = await self.api.post("/v1/auth/eid", json={"qr_token": qr})
        response.raise_for_status()
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    async def upload(self, headers: dict[str, str], kind: str, content: bytes = PNG) -> str:
        response = await self.api.post(
            "/v1/materials", headers=headers, data={"kind": kind}, files={"file": ("scan.png", content, "image/png")}
        )
        assert response.status_code == 201, response.text
        return response.json()["material_id"]

    async def wait_for(
        self,
        application_id: str,
        headers: dict[str, str],
        status: str,
        timeout: float = 30,
        *,
        with_documents: bool = False,
    ) -> dict[str, Any]:
        """The view once it shows `status` (and, if asked, the documents of the step that led there)."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while True:
            view = (await self.api.get(f"/v1/applications/{application_id}", headers=headers)).json()
            if view.get("status") == status and (view.get("documents") or not with_documents):
                return view
            if loop.time() > end:
                raise AssertionError(f"application never reached {status}: {view.get('status')}")
            await asyncio.sleep(0.1)


async def submit(
    stack: Stack,
    headers: dict[str, str],
    vehicle: dict[str, Any],
    *,
    key: str | None = None,
    changes: dict[str, Any] | None = None,
    scan: bytes = PNG,
) -> tuple[httpx.Response, dict[str, Any]]:
    """Upload the two scans and submit an online application for `vehicle` (mail delivery)."""
    body = {
        "vehicle": {"plate": vehicle["plate"], "vin": vehicle["vin"]},
        "district": "330382",
        "channel": "online",
        "delivery": {"method": "mail", "recipient": "李四", "phone": "13900139000", "address": "乐清市城南街道 8 号"},
        "materials": {
            "registration_certificate": await stack.upload(headers, "registration_certificate", scan),
            "driving_license": await stack.upload(headers, "driving_license", PDF),
        },
        "insurance_commitment": True,
        **(changes or {}),
    }
    extra = {"Idempotency-Key": key} if key else {}
    return await stack.api.post("/v1/applications", json=body, headers={**headers, **extra}), body


@dataclass
class Submitted:
    owner: dict[str, str]
    vehicle: dict[str, Any]
    applicant: dict[str, str]
    application_id: str


async def submitted(
    stack: Stack, *, until: str | None = None, clerk: dict[str, str] | None = None, scan: bytes = PNG
) -> Submitted:
    """A new citizen's vehicle and online application, optionally waited for until a status."""
    owner = new_citizen()
    vehicle = await stack.sandbox.add_vehicle(**new_vehicle(owner))
    applicant = await stack.applicant(**owner)
    created, _ = await submit(stack, applicant, vehicle, scan=scan)
    assert created.status_code == 201, created.text
    application_id = created.json()["application_id"]
    if until is not None:
        await stack.wait_for(application_id, clerk or applicant, until)
    return Submitted(owner, vehicle, applicant, application_id)
