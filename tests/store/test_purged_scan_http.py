"""A scan deleted under the retention policy, over HTTP: its preview answers 410, and submitting it
again is a 422 naming the field, never a 500."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.auth import Principal, Role, issue_token
from api.console.session import SESSION_COOKIE
from api.resources import Resources
from drills.people import new_citizen, new_vehicle
from store import Store
from tests.store.own_database import own_store
from tests.support_settings import settings_for_tests
from tests.support_views import view_of

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
SETTINGS = settings_for_tests()


@pytest.fixture(scope="module")
async def store(database_url: str) -> AsyncIterator[Store]:
    async with own_store(database_url) as store:
        yield store


@pytest.fixture
async def api(store: Store) -> AsyncIterator[httpx.AsyncClient]:
    """The app over the test's store; nothing here reaches Temporal or a department."""
    app = create_app(SETTINGS)
    app.state.resources = Resources(settings=SETTINGS, store=store, client=None, departments=None)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        yield client


def bearer(principal: Principal) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SETTINGS, principal)}"}


async def purged_scan(store: Store, owner: str) -> str:
    material = await store.materials.save(owner, "driving_license", "image/png", PNG)
    await store.pool.execute(
        "UPDATE materials SET created_at = now() - interval '400 days' WHERE material_id = $1",
        uuid.UUID(material.material_id),
    )
    assert await store.materials.content(material.material_id) == ("image/png", PNG)
    assert await store.retention.purge_scans(timedelta(days=SETTINGS.retention_days)) >= 1
    return material.material_id


async def test_a_purged_scan_answers_410_to_the_clerk(store: Store, api: httpx.AsyncClient) -> None:
    owner = f"eid-{uuid.uuid4()}"
    scan = await purged_scan(store, owner)
    application_id = str(uuid.uuid4())
    view = view_of(application_id, materials=[{"kind": "driving_license", "material_id": scan}])
    await store.applications.reserve(
        application_id=application_id,
        workflow_id=f"permit-{application_id}",
        applicant_sub=owner,
        district="330382",
        channel="online",
        vin=f"VIN{uuid.uuid4().hex[:14]}",
        plate="浙C12345",
        submitted_at=datetime.now(UTC),
        view=view,
        start_input={"application_id": application_id},
        idempotency_key=None,
        request_sha256="b",
    )
    token = issue_token(SETTINGS, Principal("clerk-1", Role.TRANSPORT_CLERK, "330382"))

    response = await api.get(
        f"/console/applications/{application_id}/materials/{scan}", headers={"Cookie": f"{SESSION_COOKIE}={token}"}
    )

    assert response.status_code == 410, response.text


async def test_a_purged_scan_cannot_be_submitted_again(store: Store, api: httpx.AsyncClient) -> None:
    citizen = new_citizen()
    owner = Principal(f"eid-{uuid.uuid4()}", Role.APPLICANT)
    await store.applicants.save(owner.sub, citizen["name"], citizen["id_number"], citizen["phone"])
    scan = await purged_scan(store, owner.sub)
    fresh = await store.materials.save(owner.sub, "registration_certificate", "image/png", PNG)
    vehicle = new_vehicle(citizen)
    body: dict[str, Any] = {
        "vehicle": {"plate": vehicle["plate"], "vin": vehicle["vin"]},
        "district": "330382",
        "channel": "window",
        "delivery": {"method": "pickup"},
        "materials": {"registration_certificate": fresh.material_id, "driving_license": scan},
        "insurance_commitment": True,
    }

    response = await api.post("/v1/applications", json=body, headers=bearer(owner))

    assert response.status_code == 422, response.text
    assert response.json()["fields"][0]["loc"] == ["body", "materials", "driving_license"]
    assert "retention" in response.json()["detail"]
