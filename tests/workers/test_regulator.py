"""The worker's regulator activities against the sandbox, and the secret they sign with."""

from collections.abc import AsyncIterator
from typing import Any

import pytest
from pydantic import ValidationError
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.regulator import RegulatorActivities
from adapters.regulator import HttpRegulatorClient
from config import Settings
from domain import errors
from tests.adapters.test_regulator import CANCELLED, RECORD
from tests.support_sandbox import SandboxUnderTest, sandbox, sandbox_server
from tests.support_settings import TEST_SECRETS, settings_for_tests

__all__ = ["sandbox", "sandbox_server"]


@pytest.fixture
async def activities(sandbox: SandboxUnderTest) -> AsyncIterator[RegulatorActivities]:
    client = HttpRegulatorClient.connect(sandbox.base_url, sandbox.settings.regulator_secret)
    yield RegulatorActivities(client)
    await client.aclose()


async def held(sandbox: SandboxUnderTest) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = (await sandbox.client.get("/sandbox/regulator/records")).json()["records"]
    return records


async def test_the_issue_then_the_cancellation_reach_the_platform(
    sandbox: SandboxUnderTest, activities: RegulatorActivities
) -> None:
    env = ActivityEnvironment()

    await env.run(activities.report_vehicle, RECORD)
    [issued] = await held(sandbox)
    await env.run(activities.report_state, CANCELLED)
    [cancelled] = await held(sandbox)

    assert (issued["permit_number"], issued["state"]) == (RECORD.permit_number, "valid")
    assert (cancelled["state"], cancelled["reason"]) == ("invalid", CANCELLED.reason)


async def test_a_failure_reaches_the_workflow_as_the_adapter_mapped_it(
    sandbox: SandboxUnderTest, activities: RegulatorActivities
) -> None:
    await sandbox.control.set_fault("regulator", error_rate=1)

    with pytest.raises(ApplicationError) as failed:
        await ActivityEnvironment().run(activities.report_vehicle, RECORD)

    assert (failed.value.type, failed.value.non_retryable) == (errors.DEPARTMENT_UNAVAILABLE, False)


def test_the_development_secret_is_refused_outside_development() -> None:
    with pytest.raises(ValidationError, match="REGULATOR_SECRET"):
        settings_for_tests(regulator_secret=Settings.model_fields["regulator_secret"].default)

    assert Settings(app_env="development").regulator_secret == Settings.model_fields["regulator_secret"].default
    assert settings_for_tests().regulator_secret == TEST_SECRETS["regulator_secret"]
