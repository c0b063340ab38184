"""The retention activity: one store call that deletes what the retention policy no longer keeps."""

from __future__ import annotations

from typing import Any

import structlog
from temporalio import activity

from store.retention import Purged, Retention, RetentionPolicy

log = structlog.get_logger(__name__)


class RetentionActivities:
    def __init__(self, retention: Retention, policy: RetentionPolicy) -> None:
        self._retention = retention
        self._policy = policy

    @activity.defn
    async def purge_expired(self) -> Purged:
        """Scans past their retention, and the expired rows of the guards; idempotent."""
        purged = await self._retention.purge(self._policy)
        log.info("retention.purged", **purged.__dict__)
        return purged

    def all(self) -> list[Any]:
        return [self.purge_expired]
