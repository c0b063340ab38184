"""Activities that tell the national ride-hailing regulatory platform of a permit's issue and end.

Both are idempotent (whole-record PUTs), so the permit's workflow may retry them freely; a failure
never blocks the holder: the workflow's retry policy decides, then raises an incident. Logs name
the permit number only, never the record's personal data.
"""

from __future__ import annotations

from typing import Any

import structlog
from temporalio import activity

from adapters.regulator import RegulatorClient
from workflows.permit_types import RegulatorStateChange, RegulatorVehicleRecord

log = structlog.get_logger(__name__)


class RegulatorActivities:
    def __init__(self, regulator: RegulatorClient) -> None:
        self._regulator = regulator

    @activity.defn
    async def report_vehicle(self, record: RegulatorVehicleRecord) -> None:
        """The vehicle's record, as on the day its permit was issued (or changed)."""
        await self._regulator.put_vehicle(record)
        log.info("regulator.vehicle_reported", permit_number=record.permit_number, state=record.state)

    @activity.defn
    async def report_state(self, change: RegulatorStateChange) -> None:
        """The record turned valid or invalid: the permit cancelled (注销) or lapsed."""
        await self._regulator.put_state(change)
        log.info("regulator.state_reported", permit_number=change.permit_number, state=change.state)

    def all(self) -> list[Any]:
        return [self.report_vehicle, self.report_state]
