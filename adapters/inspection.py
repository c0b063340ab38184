"""Inspection station: the comprehensive performance inspection report."""

from typing import Protocol

from adapters.base import HttpDepartment
from workflows.types import InspectionReport


class InspectionClient(Protocol):
    async def get_report(self, vin: str) -> InspectionReport:
        """The latest report, passed or not (INSPECTION_REPORT_NOT_FOUND otherwise)."""
        ...


class HttpInspectionClient(HttpDepartment):
    department = "inspection station"

    async def get_report(self, vin: str) -> InspectionReport:
        return await self._fetch(
            InspectionReport,
            "GET",
            "/inspection/v1/reports",
            action="the inspection report lookup",
            params={"vin": vin},
        )
