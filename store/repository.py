"""Repositories over PostgreSQL: projection, materials, documents, permits, audit."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import asyncpg
from cryptography.exceptions import InvalidTag

from config import DEV_DATA_KEYS, DEV_DIGEST_KEY, Settings
from domain.calendar import WorkingDayCalendar, YearSchedule
from domain.districts import DISTRICTS
from domain.documents import IssuedDocument, canonical_sha256, document_content
from domain.keyring import KeyringError, parse_keyring
from domain.statuses import TERMINAL
from store.sealing import Sealer, is_sealed

CITY = "330300"
OPEN_VEHICLE_INDEX = "applications_one_open_per_vehicle"
ORDERS = {
    "submitted": "submitted_at DESC, application_id",
    "decision_due": "decision_due_on ASC NULLS LAST, application_id",
    "insurance_due": "insurance_due_on ASC NULLS LAST, application_id",
}
DUE_COLUMNS = {"decision": "decision_due_on", "insurance": "insurance_due_on"}
ALL_DISTRICTS = frozenset(DISTRICTS)


@dataclass(frozen=True)
class InboxQuery:
    """Filters of `GET /v1/applications`; None means any."""

    applicant_sub: str | None = None
    districts: list[str] | None = None
    status: str | None = None
    step: str | None = None
    channel: str | None = None
    warning_level: str | None = None
    due: str = "decision"
    due_from: date | None = None
    due_to: date | None = None
    plate: str | None = None
    sort: str = "submitted"
    page: int = 1
    page_size: int = 20


class ApplicationInProgress(Exception):
    """The vehicle already has an open application."""


class IdempotencyKeyReused(Exception):
    """The Idempotency-Key was used before with a different request body."""


def keyed_digest(key: str, text: str) -> str:
    """HMAC-SHA256: a plate (浙C + 5 characters) could be found from a plain hash by trying them all."""
    return hmac.new(key.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Material:
    material_id: str
    owner_sub: str
    kind: str
    content_type: str
    size: int
    sha256: str

    def public(self) -> dict[str, Any]:
        return {
            "material_id": self.material_id,
            "kind": self.kind,
            "sha256": self.sha256,
            "size": self.size,
            "content_type": self.content_type,
        }


@dataclass(frozen=True)
class ApplicationRow:
    application_id: str
    workflow_id: str
    applicant_sub: str
    district: str
    status: str
    view: dict[str, Any]
    start_input: dict[str, Any] | None

    @property
    def is_open(self) -> bool:
        return self.status not in TERMINAL


@dataclass(frozen=True)
class Reservation:
    row: ApplicationRow
    created: bool


@dataclass(frozen=True)
class IssuedPermit:
    number: str
    issued_on: date
    valid_until: date


APPLICANT_FIELDS = ("name", "id_number", "phone")  # sealed at rest


def _place(field: str, sub: str) -> str:
    return f"applicants.{field}:{sub}"


def _row(record: asyncpg.Record) -> ApplicationRow:
    return ApplicationRow(
        application_id=str(record["application_id"]),
        workflow_id=record["workflow_id"],
        applicant_sub=record["applicant_sub"],
        district=record["district"],
        status=record["status"],
        view=record["view"],
        start_input=record["start_input"],
    )


class Store:
    def __init__(self, pool: asyncpg.Pool, *, digest_key: str = DEV_DIGEST_KEY, data_keys: str = DEV_DATA_KEYS) -> None:
        self.pool = pool
        self._digest_key = digest_key
        self._sealer = Sealer(parse_keyring(data_keys))

    @classmethod
    def for_settings(cls, pool: asyncpg.Pool, settings: Settings) -> Store:
        """The store with the deployment's digest and data keys (API and worker alike)."""
        return cls(pool, digest_key=settings.data_digest_key, data_keys=settings.data_keys)

    def _digest(self, text: str) -> str:
        return keyed_digest(self._digest_key, text)

    # ---------------------------------------------------------- applicants

    async def save_applicant(self, sub: str, name: str, id_number: str, phone: str) -> None:
        """Name, ID number and phone are stored sealed (store/sealing.py), each bound to its row."""
        clear = {"name": name, "id_number": id_number, "phone": phone}
        sealed = {field: self._sealer.seal(clear[field], _place(field, sub)) for field in APPLICANT_FIELDS}
        await self.pool.execute(
            """INSERT INTO applicants (sub, name, id_number, phone) VALUES ($1, $2, $3, $4)
               ON CONFLICT (sub) DO UPDATE SET name = $2, id_number = $3, phone = $4, verified_at = now()""",
            sub,
            sealed["name"],
            sealed["id_number"],
            sealed["phone"],
        )

    async def get_applicant(self, sub: str) -> dict[str, Any] | None:
        record = await self.pool.fetchrow("SELECT * FROM applicants WHERE sub = $1", sub)
        if record is None:
            return None
        applicant = dict(record)
        for field in APPLICANT_FIELDS:
            value = applicant[field]
            applicant[field] = self._sealer.open(value, _place(field, sub)) if is_sealed(value) else value
        return applicant

    async def seal_applicants(self) -> tuple[int, int]:
        """Seal rows still in clear text and re-seal rows sealed with an older key.

        Returns (rows sealed, rows that would not open: an unknown key or an altered value); the
        latter are left as they are, for an operator, and do not stop the others.
        """
        rows = await self.pool.fetch(
            "SELECT sub, name, id_number, phone FROM applicants"
            " WHERE NOT (starts_with(name, $1) AND starts_with(id_number, $1) AND starts_with(phone, $1))",
            self._sealer.newest_prefix,
        )
        unreadable = 0
        for row in rows:
            try:
                sealed = [self._sealer.reseal(row[field], _place(field, row["sub"])) for field in APPLICANT_FIELDS]
            except (KeyringError, InvalidTag):
                unreadable += 1
                continue
            await self.pool.execute(
                "UPDATE applicants SET name = $2, id_number = $3, phone = $4 WHERE sub = $1", row["sub"], *sealed
            )
        return len(rows) - unreadable, unreadable

    # ----------------------------------------------------------- materials

    async def save_material(self, owner_sub: str, kind: str, content_type: str, content: bytes) -> Material:
        material = Material(
            material_id=str(uuid.uuid4()),
            owner_sub=owner_sub,
            kind=kind,
            content_type=content_type,
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
        )
        await self.pool.execute(
            """INSERT INTO materials (material_id, owner_sub, kind, content_type, size, sha256, content)
               VALUES ($1, $2, $3, $4, $5, $6, $7)""",
            uuid.UUID(material.material_id),
            owner_sub,
            kind,
            content_type,
            material.size,
            material.sha256,
            content,
        )
        return material

    async def get_material(self, material_id: str) -> Material | None:
        try:
            key = uuid.UUID(material_id)
        except ValueError:
            return None
        r = await self.pool.fetchrow(
            "SELECT material_id, owner_sub, kind, content_type, size, sha256 FROM materials WHERE material_id = $1",
            key,
        )
        if r is None:
            return None
        return Material(str(r["material_id"]), r["owner_sub"], r["kind"], r["content_type"], r["size"], r["sha256"])

    async def get_material_content(self, material_id: str) -> tuple[str, bytes] | None:
        """The scan's content type (sniffed at upload) and bytes."""
        try:
            key = uuid.UUID(material_id)
        except ValueError:
            return None
        r = await self.pool.fetchrow("SELECT content_type, content FROM materials WHERE material_id = $1", key)
        return (r["content_type"], bytes(r["content"])) if r else None

    # -------------------------------------------------------- applications

    async def reserve_application(
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
        async with self.pool.acquire() as conn, conn.transaction():
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
                    return Reservation(_row(existing), created=False)
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
                        start_input,
                        self._digest(plate),
                    )
            except asyncpg.UniqueViolationError as err:
                if err.constraint_name == OPEN_VEHICLE_INDEX:
                    raise ApplicationInProgress() from err
                raise
            if idempotency_key is not None:
                await conn.execute(
                    """INSERT INTO idempotency_keys (applicant_sub, key, request_sha256, application_id)
                       VALUES ($1, $2, $3, $4)""",
                    applicant_sub,
                    idempotency_key,
                    request_sha256,
                    uuid.UUID(application_id),
                )
            return Reservation(_row(record), created=True)

    async def mark_started(self, application_id: str) -> None:
        """The workflow runs: the start input (personal data) is no longer kept here."""
        await self.pool.execute(
            "UPDATE applications SET start_input = NULL WHERE application_id = $1", uuid.UUID(application_id)
        )

    async def get_application(self, application_id: str) -> ApplicationRow | None:
        try:
            key = uuid.UUID(application_id)
        except ValueError:
            return None
        record = await self.pool.fetchrow("SELECT * FROM applications WHERE application_id = $1", key)
        return _row(record) if record else None

    async def open_application_for_vin(self, vin: str) -> ApplicationRow | None:
        record = await self.pool.fetchrow(
            f"""SELECT * FROM applications WHERE vin_digest = $1
                AND status NOT IN ({", ".join(f"'{s}'" for s in sorted(TERMINAL))})""",
            self._digest(vin),
        )
        return _row(record) if record else None

    async def list_applications(self, query: InboxQuery) -> tuple[list[dict[str, Any]], int]:
        """Masked views in a stable order (ties broken by id), with the total for the filters."""
        where, args = [], []

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
        async with self.pool.acquire() as conn:
            total = await conn.fetchval(f"SELECT count(*) FROM applications {clause}", *args)
            rows = await conn.fetch(
                f"""SELECT view FROM applications {clause} ORDER BY {order}
                    LIMIT {arg(query.page_size)} OFFSET {arg((query.page - 1) * query.page_size)}""",
                *args,
            )
        return [r["view"] for r in rows], total

    async def project(self, version: int, view: dict[str, Any], masked: dict[str, Any]) -> None:
        """Write the workflow's view; an older version never overwrites a newer one."""
        deadlines = view.get("deadlines") or {}
        pending = view.get("pending") or []
        await self.pool.execute(
            """UPDATE applications SET status = $2, step = $3, accepted_on = $4, insurance_due_on = $5,
                   decision_due_on = $6, permit_number = $7, view = $8, version = $9, updated_at = now(),
                   insurance_provisional = $10, decision_provisional = $11, warning_level = $12
               WHERE application_id = $1 AND version < $9""",
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

    # ------------------------------------------------------------ calendar

    async def load_calendar(self) -> WorkingDayCalendar:
        rows = await self.pool.fetch("SELECT year, holidays, makeup_workdays FROM calendar_years")
        return WorkingDayCalendar(
            YearSchedule(r["year"], frozenset(r["holidays"]), frozenset(r["makeup_workdays"])) for r in rows
        )

    async def save_calendar_year(self, schedule: YearSchedule, *, loaded_by: str, source: str) -> bool:
        """Load (or replace) an announced year; True when it was not loaded before."""
        previous = await self.pool.fetchval(
            """INSERT INTO calendar_years AS c (year, holidays, makeup_workdays, source, loaded_by)
               VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT (year) DO UPDATE SET holidays = $2, makeup_workdays = $3, source = $4,
                   loaded_by = $5, loaded_at = now()
               RETURNING (xmax <> 0)""",
            schedule.year,
            sorted(schedule.holidays),
            sorted(schedule.makeup_workdays),
            source,
            loaded_by,
        )
        return not previous

    async def open_with_provisional_deadlines(self) -> list[ApplicationRow]:
        """Open applications whose deadlines may be provisional: those projected so, and those
        not yet projected with deadlines (one may have counted them a moment ago)."""
        records = await self.pool.fetch(
            f"""SELECT * FROM applications
                WHERE (insurance_provisional OR decision_provisional OR insurance_due_on IS NULL)
                AND status NOT IN ({", ".join(f"'{s}'" for s in sorted(TERMINAL))})"""
        )
        return [_row(r) for r in records]

    # ----------------------------------------------------------- documents

    async def save_document(self, *, application_id: str, kind: str, key: str, data: dict[str, Any]) -> str:
        """Idempotent per (application, key): a retried activity returns the same document."""
        document_id = uuid.uuid5(uuid.NAMESPACE_URL, f"permit-document:{application_id}:{key}")
        content = document_content(application_id, kind, data)
        await self.pool.execute(
            """INSERT INTO documents (document_id, application_id, kind, data, sha256)
               VALUES ($1, $2, $3, $4, $5) ON CONFLICT (document_id) DO NOTHING""",
            document_id,
            uuid.UUID(application_id),
            kind,
            content,
            canonical_sha256(content),
        )
        return str(document_id)

    async def get_document(self, document_id: str) -> IssuedDocument | None:
        try:
            key = uuid.UUID(document_id)
        except ValueError:
            return None
        record = await self.pool.fetchrow("SELECT * FROM documents WHERE document_id = $1", key)
        if record is None:
            return None
        return IssuedDocument(
            document_id=str(record["document_id"]),
            application_id=str(record["application_id"]),
            kind=record["kind"],
            content=record["data"],
            verification_code=record["sha256"],
            issued_at=record["created_at"],
        )

    # ------------------------------------------------------------- permits

    async def allocate_permit_number(self, *, application_id: str, issued_on: date, valid_until: date) -> IssuedPermit:
        """Sequential per city without gaps; a second call for one application returns the first number."""
        app = uuid.UUID(application_id)
        async with self.pool.acquire() as conn, conn.transaction():
            existing = await conn.fetchrow("SELECT * FROM permits WHERE application_id = $1", app)
            if existing is None:
                seq = await conn.fetchval(
                    "UPDATE permit_counters SET last_seq = last_seq + 1 WHERE city = $1 RETURNING last_seq", CITY
                )
                existing = await conn.fetchrow(
                    """INSERT INTO permits (application_id, city, seq, number, issued_on, valid_until)
                       VALUES ($1, $2, $3, $4, $5, $6) RETURNING *""",
                    app,
                    CITY,
                    seq,
                    f"{CITY}{issued_on.year}{seq:06d}",
                    issued_on,
                    valid_until,
                )
        return IssuedPermit(existing["number"], existing["issued_on"], existing["valid_until"])

    # --------------------------------------------------------------- audit

    async def audit(
        self,
        *,
        actor: str,
        role: str,
        action: str,
        outcome: str,
        district: str | None = None,
        target: str | None = None,
        source_ip: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        await self.pool.execute(
            """INSERT INTO audit_log (actor, role, district, action, target, outcome, source_ip, detail)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
            actor,
            role,
            district,
            action,
            target,
            outcome,
            source_ip,
            detail or {},
        )

    async def hit(self, key: str, window_s: int) -> tuple[int, int]:
        """Count a hit in the current window: (hits so far, seconds until the window ends)."""
        row = await self.pool.fetchrow(
            """WITH w AS (SELECT to_timestamp(floor(extract(epoch FROM now()) / $2) * $2) AS start)
               INSERT INTO rate_limits (key, window_start, hits) SELECT $1, w.start, 1 FROM w
               ON CONFLICT (key, window_start) DO UPDATE SET hits = rate_limits.hits + 1
               RETURNING hits, ceil(extract(epoch FROM window_start) + $2 - extract(epoch FROM now()))::int AS left""",
            key,
            window_s,
        )
        return row["hits"], max(1, row["left"])

    async def verify_audit_chain(self) -> tuple[int, int | None]:
        """(records checked, seq of the first broken link or None) — recomputed in the database."""
        broken = await self.pool.fetchval(
            """SELECT seq FROM (
                   SELECT seq, hash, prev_hash, audit_log_record_hash(a) AS expected,
                          lag(hash, 1, repeat('0', 64)) OVER (ORDER BY seq) AS previous
                   FROM audit_log a) chain
               WHERE hash <> expected OR prev_hash <> previous
               ORDER BY seq LIMIT 1"""
        )
        count = await self.pool.fetchval("SELECT count(*) FROM audit_log")
        return count, broken

    async def forget_callback(self, signature: str) -> None:
        await self.pool.execute("DELETE FROM callback_receipts WHERE signature = $1", signature)

    async def remember_callback(self, source: str, signature: str) -> bool:
        """False when this signed callback was taken before (a replay)."""
        result = await self.pool.execute(
            "INSERT INTO callback_receipts (signature, source) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            signature,
            source,
        )
        return result.endswith(" 1")


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None
