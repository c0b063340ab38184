"""Documents idempotent per key, permit numbers sequential per city without gaps."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

from store import Store


async def test_permit_numbers_are_sequential_and_allocated_once(store: Store) -> None:
    apps = [str(uuid.uuid4()) for _ in range(5)]
    issued = await asyncio.gather(
        *(
            store.permits.allocate(application_id=a, issued_on=date(2026, 11, 27), valid_until=date(2033, 6, 1))
            for a in apps
        )
    )
    again = await store.permits.allocate(
        application_id=apps[0], issued_on=date(2026, 12, 1), valid_until=date(2033, 6, 1)
    )
    assert again == issued[0]
    sequence = sorted(int(p.number[-6:]) for p in issued)
    assert sequence == list(range(sequence[0], sequence[0] + 5))


async def test_documents_are_idempotent_per_key(store: Store) -> None:
    app_id = str(uuid.uuid4())
    first = await store.documents.save(
        application_id=app_id, kind="permit", key="wf:document:permit", data={"number": "1"}
    )
    second = await store.documents.save(
        application_id=app_id, kind="permit", key="wf:document:permit", data={"number": "1"}
    )
    assert first == second
    document = await store.documents.get(first)
    assert document is not None and document.application_id == app_id and document.kind == "permit"
    assert document.content == {"number": "1", "application_id": app_id, "kind": "permit"}
    assert document.is_authentic(document.verification_code)
