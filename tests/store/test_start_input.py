"""The start input (name, ID number, phone, delivery address): sealed while the workflow has not
started, cleared once it has, on every path of a submission (started, start failed, retried)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.auth import Principal, Role
from api.errors import ApiError
from api.schemas import ApplicationIn
from api.services import applications
from drills.people import new_citizen, new_vehicle
from store import Store
from tests.store.own_database import own_store
from tests.support_settings import settings_for_tests
from workflows.types import Timing

ADDRESS = "乐清市城南街道 8 号"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


class Temporal:
    """Starts workflows as Temporal would, or fails as told; keeps what it was given and what the row held then."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.failure: Exception | None = None
        self.started: list[dict[str, Any]] = []
        self.stored_meanwhile: list[Any] = []

    async def start_workflow(self, _run: Any, start_input: dict[str, Any], *, id: str, **_: Any) -> None:
        application_id = id.removeprefix("permit-")
        self.stored_meanwhile.append(await stored(self.store, application_id))
        if self.failure is not None:
            raise self.failure
        self.started.append(start_input)


@pytest.fixture(scope="module")
async def store(database_url: str) -> AsyncIterator[Store]:
    async with own_store(database_url) as store:
        yield store


async def stored(store: Store, application_id: str) -> Any:
    """The start input as PostgreSQL holds it."""
    return await store.pool.fetchval(
        "SELECT start_input FROM applications WHERE application_id = $1", uuid.UUID(application_id)
    )


def assert_sealed(value: Any, citizen: dict[str, str]) -> None:
    assert isinstance(value, str) and value.startswith("sealed:v1:dev1:")
    for clear in (citizen["name"], citizen["id_number"], citizen["phone"], ADDRESS):
        assert clear not in value


class Applicant:
    def __init__(self, store: Store) -> None:
        self.temporal = Temporal(store)
        self.resources: Any = SimpleNamespace(settings=settings_for_tests(), store=store, client=self.temporal)
        self.citizen = new_citizen()
        self.principal = Principal(f"eid-{uuid.uuid4()}", Role.APPLICANT)

    async def body(self) -> ApplicationIn:
        store, sub = self.resources.store, self.principal.sub
        await store.applicants.save(sub, self.citizen["name"], self.citizen["id_number"], self.citizen["phone"])
        vehicle = new_vehicle(self.citizen)
        certificate = await store.materials.save(sub, "registration_certificate", "image/png", PNG)
        licence = await store.materials.save(sub, "driving_license", "image/png", PNG)
        return ApplicationIn.model_validate(
            {
                "vehicle": {"plate": vehicle["plate"], "vin": vehicle["vin"]},
                "district": "330382",
                "channel": "online",
                "delivery": {"method": "mail", "recipient": "李四", "phone": "13900139000", "address": ADDRESS},
                "materials": {
                    "registration_certificate": certificate.material_id,
                    "driving_license": licence.material_id,
                },
                "insurance_commitment": True,
            }
        )

    async def submit(self, body: ApplicationIn, key: str | None = None) -> tuple[dict[str, Any], bool]:
        return await applications.submit(self.resources, self.principal, body, key, Timing(), source_ip=None)

    async def application_id(self) -> str:
        """The id of this applicant's one application (its submission may have answered an error)."""
        sub = self.principal.sub
        return str(
            await self.resources.store.pool.fetchval(
                "SELECT application_id FROM applications WHERE applicant_sub = $1", sub
            )
        )


async def test_a_started_application_keeps_no_start_input(store: Store) -> None:
    applicant = Applicant(store)
    view, created = await applicant.submit(await applicant.body())
    assert created
    [meanwhile] = applicant.temporal.stored_meanwhile
    assert_sealed(meanwhile, applicant.citizen)  # sealed from the moment it was reserved
    [started] = applicant.temporal.started
    assert started["applicant"]["id_number"] == applicant.citizen["id_number"]  # Temporal gets it clear
    assert started["delivery"]["address"] == ADDRESS
    assert await stored(store, view["application_id"]) is None


async def test_a_failed_start_keeps_the_start_input_sealed_and_a_retry_with_the_key_clears_it(store: Store) -> None:
    applicant = Applicant(store)
    body = await applicant.body()
    applicant.temporal.failure = RPCError("unavailable", RPCStatusCode.UNAVAILABLE, b"")
    with pytest.raises(ApiError) as refused:
        await applicant.submit(body, key="first-try")
    assert refused.value.status == 503
    application_id = await applicant.application_id()
    assert_sealed(await stored(store, application_id), applicant.citizen)
    row = await store.applications.get(application_id)
    assert row is not None and row.start_input is not None
    assert row.start_input["applicant"]["phone"] == applicant.citizen["phone"]  # opens for the retry

    applicant.temporal.failure = None
    view, created = await applicant.submit(body, key="first-try")

    assert (view["application_id"], created) == (application_id, False)
    [started] = applicant.temporal.started
    assert started == row.start_input
    assert await stored(store, application_id) is None


async def test_a_retry_without_the_key_starts_it_and_clears_the_start_input(store: Store) -> None:
    applicant = Applicant(store)
    body = await applicant.body()
    applicant.temporal.failure = RPCError("deadline", RPCStatusCode.DEADLINE_EXCEEDED, b"")
    with pytest.raises(ApiError):
        await applicant.submit(body)
    applicant.temporal.failure = None

    view, created = await applicant.submit(body)

    assert not created
    assert applicant.temporal.started[0]["applicant"]["name"] == applicant.citizen["name"]
    assert await stored(store, view["application_id"]) is None


async def test_a_start_found_already_ended_clears_the_start_input(store: Store) -> None:
    applicant = Applicant(store)
    body = await applicant.body()
    applicant.temporal.failure = RPCError("unavailable", RPCStatusCode.UNAVAILABLE, b"")
    with pytest.raises(ApiError):
        await applicant.submit(body, key="k")
    applicant.temporal.failure = WorkflowAlreadyStartedError("permit-x", "PermitApplicationWorkflow")

    view, _ = await applicant.submit(body, key="k")

    assert await stored(store, view["application_id"]) is None


async def test_clear_start_inputs_from_before_sealing_are_sealed_at_start_up(store: Store) -> None:
    applicant = Applicant(store)
    applicant.temporal.failure = RPCError("unavailable", RPCStatusCode.UNAVAILABLE, b"")
    with pytest.raises(ApiError):
        await applicant.submit(await applicant.body())
    application_id = await applicant.application_id()
    opened = (await store.applications.get(application_id)).start_input
    await store.pool.execute(
        "UPDATE applications SET start_input = $1 WHERE application_id = $2", opened, uuid.UUID(application_id)
    )  # as a row written before sealing existed holds it

    assert (await store.applications.get(application_id)).start_input == opened
    sealed, unreadable = await store.applications.seal_all()

    assert sealed >= 1 and unreadable == 0
    assert_sealed(await stored(store, application_id), applicant.citizen)
    assert (await store.applications.get(application_id)).start_input == opened
    assert await store.applications.seal_all() == (0, 0)
