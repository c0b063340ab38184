"""The applications projection: reserved at submission, written by the workflow, listed in the inbox.

The start input (the workflow's input: the applicant's name, ID number and phone, the delivery
address) is kept only until the workflow has started, and sealed (store/sealing.py) meanwhile.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

import asyncpg
from cryptography.exceptions import InvalidTag

from domain.districts import DISTRICTS
from domain.keyring import KeyringError
from domain.statuses import TERMINAL, Channel, PendingAction, Status, WarningLevel
from store.digest import keyed_digest
from store.incidents import record_from_view
from store.sealing import Sealer

OPEN_VEHICLE_INDEX = "applications_one_open_per_vehicle"
Sort = Literal["submitted", "decision_due", "insurance_due"]
Due = Literal["decision", "insurance"]
ORDERS: dict[str, str] = {
    "submitted": "submitted_at DESC, application_id",
    "decision_due": "decision_due_on ASC NULLS LAST, application_id",
    "insurance_due": "insurance_due_on ASC NULLS LAST, application_id",
}
DUE_COLUMNS: dict[str, str] = {"decision": "decision_due_on", "insurance": "insurance_due_on"}
ALL_DISTRICTS = frozenset(DISTRICTS)
TERMINAL_LIST = ", ".join(f"'{s}'" for s in sorted(TERMINAL))
NOT_TERMINAL = f"status NOT IN ({TERMINAL_LIST})"


@dataclass(frozen=True)
class InboxQuery:
    """Filters of the inbox (`GET /v1/applications`, the console); None means any."""

    applicant_sub: str | None = None
    districts: list[str] | None = None
    status: Status | None = None
    step: PendingAction | None = None
    channel: Channel | None = None
    warning_level: WarningLevel | None = None
    due: Due = "decision"
    due_from: date | None = None
    due_to: date | None = None
    plate: str | None = None
    sort: Sort = "submitted"
    page: int = 1
    page_size: int = 20


class ApplicationInProgress(Exception):
    """The vehicle already has an open application."""


class IdempotencyKeyReused(Exception):
    """The Idempotency-Key was used before with a different request body."""


@dataclass(frozen=True)
class ApplicationRow:
    application_id: str
    workflow_id: str
    applicant_sub: str
    district: str
    status: str
    view: dict[str, Any]
    start_input: dict[str, Any] | None  # opened; None once the workflow has started

    @property
    def is_open(self) -> bool:
        return self.status not in TERMINAL


@dataclass(frozen=True)
class Reservation:
    row: ApplicationRow
    created: bool


def _start_input_place(application_id: str) -> str:
    return f"applications.start_input:{application_id}"


class Applications:
    def __init__(self, pool: asyncpg.Pool, digest_key: str, sealer: Sealer) -> None:
        self._pool = pool
        self._digest_key = digest_key
        self._sealer = sealer

    def _digest(self, text: str) -> str:
        return keyed_digest(self._digest_key, text)

    def _seal_start_input(self, application_id: str, start_input: dict[str, Any]) -> str:
        """Stored as a JSON string, `sealed:v1:…`; a row from before sealing holds a JSON object."""
        return self._sealer.seal(json.dumps(start_input, ensure_ascii=False), _start_input_place(application_id))

    def _row(self, record: asyncpg.Record) -> ApplicationRow:
        application_id = str(record["application_id"])
        start_input = record["start_input"]
        if isinstance(start_input, str):
            start_input = json.loads(self._sealer.open(start_input, _start_input_place(application_id)))
        return ApplicationRow(
            application_id=application_id,
            workflow_id=record["workflow_id"],
            applicant_sub=record["applicant_sub"],
            district=record["district"],
            status=record["status"],
            view=record["view"],
            start_input=start_input,
        )

    async def reserve(
        self,
        *,
        application_id: str,
        workflow_id: str,
        applicant_sub: str,
        district: str,
        channel: str,
        vin: str,
        plate: str,
        submitted_at: datetime,
        view: dict[str, Any],
        start_input: dict[str, Any],
        idempotency_key: str | None,
        request_sha256: str,
    ) -> Reservation:
        """Insert the application row, or return the one this Idempotency-Key created."""
        async with self._pool.acquire() as conn, conn.transaction():
            if idempotency_key is not None:
                # Two concurrent retries with one key: the second waits, then finds the first's row.
                await conn.execute(
                    "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"{applicant_sub}:{idempotency_key}"
                )
                existing = await conn.fetchrow(
                    """SELECT k.request_sha256, a.* FROM idempotency_keys k
                       JOIN applications a USING (application_id)
                       WHERE k.applicant_sub = $1 AND k.key = $2""",
                    applicant_sub,
                    idempotency_key,
                )
                if existing is not None:
                    if existing["request_sha256"] != request_sha256:
                        raise IdempotencyKeyReused()
                    return Reservation(self._row(existing), created=False)
            try:
                async with conn.transaction():
                    record = await conn.fetchrow(
                        """INSERT INTO applications (application_id, workflow_id, applicant_sub, district, channel,
                               status, vin_digest, submitted_at, view, start_input, plate_digest)
                           VALUES ($1, $2, $3, $4, $5, 'submitted', $6, $7, $8, $9, $10) RETURNING *""",
                        uuid.UUID(application_id),
                        workflow_id,
                        applicant_sub,
                        district,
                        channel,
                        self._digest(vin),
                        submitted_at,
                        view,
                        self._seal_start_input(application_id, start_input),
                        self._digest(plate),
                    )
            except asyncpg.UniqueViolationError as err:
                if err.constraint_name == OPEN_VEHICLE_INDEX:
                    raise ApplicationInProgress() from err
                raise
            assert record is not None  # INSERT ... RETURNING
            if idempotency_key is not None:
                await conn.execute(
                    """INSERT INTO idempotency_keys (applicant_sub, key, request_sha256, application_id)
                       VALUES ($1, $2, $3, $4)""",
                    applicant_sub,
                    idempotency_key,
                    request_sha256,
                    uuid.UUID(application_id),
                )
            return Reservation(self._row(record), created=True)

    async def mark_started(self, application_id: str) -> None:
        """The workflow runs: the start input (personal data) is no longer kept here."""
        await self._pool.execute(
            "UPDATE applications SET start_input = NULL WHERE application_id = $1", uuid.UUID(application_id)
        )

    async def seal_all(self) -> tuple[int, int]:
        """Seal start inputs still in clear and re-seal those sealed with an older key.

        Returns (rows sealed, rows that would not open); the latter are left for an operator.
        """
        rows = await self._pool.fetch(
            """SELECT application_id, start_input FROM applications WHERE start_input IS NOT NULL
               AND NOT (jsonb_typeof(start_input) = 'string' AND starts_with(start_input #>> '{}', $1))""",
            self._sealer.newest_prefix,
        )
        sealed = unreadable = 0
        for row in rows:
            application_id, value = str(row["application_id"]), row["start_input"]
            place = _start_input_place(application_id)
            try:
                clear_or_sealed = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                resealed = self._sealer.reseal(clear_or_sealed, place)
            except (KeyringError, InvalidTag):
                unreadable += 1
                continue
            done = await self._pool.execute(
                "UPDATE applications SET start_input = $2 WHERE application_id = $1 AND start_input = $3",
                row["application_id"],
                resealed,
                value,
            )
            if done.endswith(" 1"):  # else started or sealed meanwhile (another replica starting)
                sealed += 1
        return sealed, unreadable

    async def get(self, application_id: str) -> ApplicationRow | None:
        try:
            key = uuid.UUID(application_id)
        except ValueError:
            return None
        record = await self._pool.fetchrow("SELECT * FROM applications WHERE application_id = $1", key)
        return self._row(record) if record else None

    async def open_for_vin(self, vin: str) -> ApplicationRow | None:
        record = await self._pool.fetchrow(
            f"SELECT * FROM applications WHERE vin_digest = $1 AND {NOT_TERMINAL}", self._digest(vin)
        )
        return self._row(record) if record else None

    async def list(self, query: InboxQuery) -> tuple[list[dict[str, Any]], int]:
        """Masked views in a stable order (ties broken by id), with the total for the filters."""
        where: list[str] = []
        args: list[Any] = []

        def arg(value: Any) -> str:
            args.append(value)
            return f"${len(args)}"

        if query.applicant_sub is not None:
            where.append(f"applicant_sub = {arg(query.applicant_sub)}")
        if query.districts is not None and set(query.districts) != ALL_DISTRICTS:
            where.append(f"district = ANY({arg(query.districts)})")
        for column, value in (
            ("status", query.status),
            ("step", query.step),
            ("channel", query.channel),
            ("warning_level", query.warning_level),
        ):
            if value is not None:
                where.append(f"{column} = {arg(value)}")
        due_column = DUE_COLUMNS[query.due]
        if query.due_from is not None:
            where.append(f"{due_column} >= {arg(query.due_from)}")
        if query.due_to is not None:
            where.append(f"{due_column} <= {arg(query.due_to)}")
        if query.plate is not None:
            where.append(f"plate_digest = {arg(self._digest(query.plate))}")
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        order = ORDERS[query.sort]
        async with self._pool.acquire() as conn:
            total = await conn.fetchval(f"SELECT count(*) FROM applications {clause}", *args)
            rows = await conn.fetch(
                f"""SELECT view FROM applications {clause} ORDER BY {order}
                    LIMIT {arg(query.page_size)} OFFSET {arg((query.page - 1) * query.page_size)}""",
                *args,
            )
        return [r["view"] for r in rows], total

    async def project(self, version: int, view: dict[str, Any], masked: dict[str, Any]) -> None:
        """Write the workflow's view and its incident; an older version never overwrites a newer one.

        The first view with a terminal status sets `closed_at`, where the retention period starts."""
        deadlines = view.get("deadlines") or {}
        pending = view.get("pending") or []
        async with self._pool.acquire() as conn, conn.transaction():
            district = await conn.fetchval(
                f"""UPDATE applications SET status = $2, step = $3, accepted_on = $4, insurance_due_on = $5,
                       decision_due_on = $6, permit_number = $7, view = $8, version = $9, updated_at = now(),
                       insurance_provisional = $10, decision_provisional = $11, warning_level = $12,
                       closed_at = CASE WHEN $2 IN ({TERMINAL_LIST}) THEN coalesce(closed_at, now()) END
                   WHERE application_id = $1 AND version < $9 RETURNING district""",
                uuid.UUID(view["application_id"]),
                view["status"],
                pending[0]["action"] if pending else None,
                _date(view.get("accepted_on")),
                _date((deadlines.get("insurance") or {}).get("due_on")),
                _date((deadlines.get("decision") or {}).get("due_on")),
                (view.get("permit") or {}).get("number"),
                masked,
                version,
                bool((deadlines.get("insurance") or {}).get("provisional")),
                bool((deadlines.get("decision") or {}).get("provisional")),
                (deadlines.get("decision") or {}).get("warning", "none"),
            )
            if district is not None:  # this view is newer than the one projected before
                await record_from_view(conn, district, masked)


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None
