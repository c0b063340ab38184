"""The register of permits (在册运输证): the lifecycle workflow's projection, and the clerks' queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg

COLUMNS = (
    "number, application_id, holder_subject, plate_masked, district, state, ended, issued_on, valid_until, "
    "next_review_due_on, mileage_km, regulator_pending"
)


@dataclass(frozen=True)
class RegisteredPermit:
    number: str
    application_id: str
    holder_subject: str
    plate: str  # masked
    district: str
    state: str
    ended: str | None
    issued_on: date
    valid_until: date
    next_review_due_on: date | None
    mileage_km: int
    regulator_pending: bool


@dataclass(frozen=True)
class RegisterQuery:
    districts: list[str] | None = None  # None: every district
    state: str | None = None
    expiring_before: date | None = None
    page: int = 1
    page_size: int = 50


def _permit(record: asyncpg.Record) -> RegisteredPermit:
    return RegisteredPermit(
        number=record["number"],
        application_id=str(record["application_id"]),
        holder_subject=record["holder_subject"],
        plate=record["plate_masked"],
        district=record["district"],
        state=record["state"],
        ended=record["ended"],
        issued_on=record["issued_on"],
        valid_until=record["valid_until"],
        next_review_due_on=record["next_review_due_on"],
        mileage_km=record["mileage_km"],
        regulator_pending=record["regulator_pending"],
    )


class PermitRegister:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def project(self, version: int, row: dict[str, Any]) -> None:
        """Upsert the permit's row; an older version (a retried or late projection) never overwrites a newer."""
        next_review = row.get("next_review_due_on")
        await self._pool.execute(
            f"""INSERT INTO permit_register ({COLUMNS}, version)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
                ON CONFLICT (number) DO UPDATE SET
                    state = EXCLUDED.state, ended = EXCLUDED.ended,
                    next_review_due_on = EXCLUDED.next_review_due_on, mileage_km = EXCLUDED.mileage_km,
                    regulator_pending = EXCLUDED.regulator_pending, version = EXCLUDED.version, updated_at = now()
                WHERE permit_register.version < EXCLUDED.version""",
            row["number"],
            row["application_id"],
            row["holder_subject"],
            row["plate"],
            row["district"],
            row["state"],
            row.get("ended"),
            date.fromisoformat(row["issued_on"]),
            date.fromisoformat(row["valid_until"]),
            date.fromisoformat(next_review) if next_review else None,
            row.get("mileage_km", 0),
            row.get("regulator_pending", False),
            version,
        )

    async def get(self, number: str) -> RegisteredPermit | None:
        record = await self._pool.fetchrow(f"SELECT {COLUMNS} FROM permit_register WHERE number = $1", number)
        return _permit(record) if record is not None else None

    async def for_application(self, application_id: str) -> RegisteredPermit | None:
        record = await self._pool.fetchrow(
            f"SELECT {COLUMNS} FROM permit_register WHERE application_id = $1::uuid", application_id
        )
        return _permit(record) if record is not None else None

    async def search(self, query: RegisterQuery) -> tuple[list[RegisteredPermit], int]:
        """One page of the register, the validity ending soonest first, and the total matching."""
        where: list[str] = ["true"]
        args: list[Any] = []
        if query.districts is not None:
            args.append(query.districts)
            where.append(f"district = ANY(${len(args)})")
        if query.state is not None:
            args.append(query.state)
            where.append(f"state = ${len(args)}")
        if query.expiring_before is not None:
            args.append(query.expiring_before)
            where.append(f"valid_until < ${len(args)}")
        condition = " AND ".join(where)
        total = await self._pool.fetchval(f"SELECT count(*) FROM permit_register WHERE {condition}", *args)
        args += [query.page_size, (query.page - 1) * query.page_size]
        records = await self._pool.fetch(
            f"""SELECT {COLUMNS} FROM permit_register WHERE {condition}
                ORDER BY valid_until, number LIMIT ${len(args) - 1} OFFSET ${len(args)}""",
            *args,
        )
        return [_permit(r) for r in records], total
