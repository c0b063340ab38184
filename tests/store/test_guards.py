"""Rate limits and callback receipts, shared by every API replica."""

from __future__ import annotations

import uuid

from store import Store


async def test_a_callback_is_taken_once(store: Store) -> None:
    signature = f"t=1,v1={uuid.uuid4().hex}"
    assert await store.callback_receipts.remember("courier", signature)
    assert not await store.callback_receipts.remember("courier", signature)


async def test_a_rate_limit_counts_hits_within_the_window(store: Store) -> None:
    key = f"upload:{uuid.uuid4()}"
    counts = [await store.rate_limits.hit(key, 3600) for _ in range(3)]
    assert [hits for hits, _ in counts] == [1, 2, 3]
    assert all(1 <= left <= 3600 for _, left in counts)
    assert (await store.rate_limits.hit(f"upload:{uuid.uuid4()}", 3600))[0] == 1  # another key, its own count
