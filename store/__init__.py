"""The PostgreSQL store, one repository per table group, composed in `Store`."""

from __future__ import annotations

import asyncpg

from config import DEV_AUDIT_KEY, DEV_DATA_KEYS, DEV_DIGEST_KEY, Settings
from domain.keyring import parse_keyring
from store.applicants import Applicants
from store.applications import Applications
from store.audit import AuditLog
from store.calendar import CalendarYears
from store.documents import Documents, Permits
from store.follow_ups import FollowUps
from store.guards import CallbackReceipts, RateLimits
from store.incidents import Incidents
from store.materials import Materials
from store.permits import PermitRegister
from store.ratings import Ratings
from store.retention import Retention
from store.sealing import Sealer

__all__ = ["Store"]


class Store:
    """`store.applications.get(...)`, `store.permits.allocate(...)`, `store.audit.record(...)` ..."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        digest_key: str = DEV_DIGEST_KEY,
        data_keys: str = DEV_DATA_KEYS,
        audit_key: str = DEV_AUDIT_KEY,
    ) -> None:
        self.pool = pool
        sealer = Sealer(parse_keyring(data_keys))
        self.applicants = Applicants(pool, sealer)
        self.applications = Applications(pool, digest_key, sealer)
        self.incidents = Incidents(pool)
        self.materials = Materials(pool, sealer)
        self.documents = Documents(pool)
        self.permits = Permits(pool)
        self.permit_register = PermitRegister(pool)
        self.calendar = CalendarYears(pool)
        self.audit = AuditLog(pool, audit_key)
        self.rate_limits = RateLimits(pool)
        self.callback_receipts = CallbackReceipts(pool)
        self.retention = Retention(pool)
        self.ratings = Ratings(pool)
        self.follow_ups = FollowUps(pool)

    @classmethod
    def for_settings(cls, pool: asyncpg.Pool, settings: Settings) -> Store:
        """The store with the deployment's digest, data and audit keys (API and worker alike)."""
        return cls(
            pool, digest_key=settings.data_digest_key, data_keys=settings.data_keys, audit_key=settings.audit_key
        )

    async def ping(self) -> None:
        """Raises when PostgreSQL does not answer."""
        await self.pool.fetchval("SELECT 1")
