"""Applicants verified through the e-ID service: name, ID number and phone sealed at rest."""

from __future__ import annotations

from typing import Any

import asyncpg
from cryptography.exceptions import InvalidTag

from domain.keyring import KeyringError
from store.sealing import Sealer, is_sealed

SEALED_FIELDS = ("name", "id_number", "phone")


def _place(field: str, sub: str) -> str:
    return f"applicants.{field}:{sub}"


class Applicants:
    def __init__(self, pool: asyncpg.Pool, sealer: Sealer) -> None:
        self._pool = pool
        self._sealer = sealer

    async def save(self, sub: str, name: str, id_number: str, phone: str) -> None:
        """Name, ID number and phone are stored sealed (store/sealing.py), each bound to its row."""
        clear = {"name": name, "id_number": id_number, "phone": phone}
        sealed = {field: self._sealer.seal(clear[field], _place(field, sub)) for field in SEALED_FIELDS}
        await self._pool.execute(
            """INSERT INTO applicants (sub, name, id_number, phone) VALUES ($1, $2, $3, $4)
               ON CONFLICT (sub) DO UPDATE SET name = $2, id_number = $3, phone = $4, verified_at = now()""",
            sub,
            sealed["name"],
            sealed["id_number"],
            sealed["phone"],
        )

    async def get(self, sub: str) -> dict[str, Any] | None:
        record = await self._pool.fetchrow("SELECT * FROM applicants WHERE sub = $1", sub)
        if record is None:
            return None
        applicant = dict(record)
        for field in SEALED_FIELDS:
            value = applicant[field]
            applicant[field] = self._sealer.open(value, _place(field, sub)) if is_sealed(value) else value
        return applicant

    async def seal_all(self) -> tuple[int, int]:
        """Seal rows still in clear text and re-seal rows sealed with an older key.

        Returns (rows sealed, rows that would not open: an unknown key or an altered value); the
        latter are left as they are, for an operator, and do not stop the others.
        """
        rows = await self._pool.fetch(
            "SELECT sub, name, id_number, phone FROM applicants"
            " WHERE NOT (starts_with(name, $1) AND starts_with(id_number, $1) AND starts_with(phone, $1))",
            self._sealer.newest_prefix,
        )
        unreadable = 0
        for row in rows:
            try:
                sealed = [self._sealer.reseal(row[field], _place(field, row["sub"])) for field in SEALED_FIELDS]
            except (KeyringError, InvalidTag):
                unreadable += 1
                continue
            await self._pool.execute(
                "UPDATE applicants SET name = $2, id_number = $3, phone = $4 WHERE sub = $1", row["sub"], *sealed
            )
        return len(rows) - unreadable, unreadable
