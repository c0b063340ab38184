"""Activities of the permit lifecycle workflow of its own (the SMS is the permit workflow's `send_sms`;
the national regulator's reports are activities/regulator.py's)."""

from __future__ import annotations

from typing import Any

from temporalio import activity

from store import Store
from workflows.permit_lifecycle_types import PermitProjection


class PermitLifecycleActivities:
    def __init__(self, store: Store) -> None:
        self._store = store

    @activity.defn
    async def project_permit(self, request: PermitProjection) -> None:
        """The permit's row in the register (newer versions win)."""
        await self._store.permit_register.project(request.version, request.row)

    def all(self) -> list[Any]:
        return [self.project_permit]
