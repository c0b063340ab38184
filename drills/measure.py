"""Measuring a drill: round-trip times and their percentiles, CPU seconds by part, history shape."""

from __future__ import annotations

import os
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from devstack.processes import LocalStack


class Latencies:
    """Round-trip times in milliseconds, by operation."""

    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = defaultdict(list)
        self.statuses: Counter[str] = Counter()

    @asynccontextmanager
    async def timed(self, name: str) -> AsyncIterator[None]:
        started = time.perf_counter()
        yield
        self.samples[name].append((time.perf_counter() - started) * 1000)

    def summary(self, name: str) -> dict[str, float]:
        values = sorted(self.samples.get(name, []))
        if not values:
            return {"count": 0}
        return {"count": len(values), **{f"p{q}": percentile(values, q) for q in (50, 95, 99)}, "max": values[-1]}


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of sorted values."""
    rank = max(1, -(-len(values) * q // 100))
    return values[int(rank) - 1]


def checked(response: httpx.Response, *expected: int) -> httpx.Response:
    if response.status_code not in expected:
        request = f"{response.request.method} {response.request.url.path}"
        raise RuntimeError(f"{request} answered {response.status_code}: {response.text[:300]}")
    return response


class CpuMeter:
    """CPU seconds by part of the stack (and this driver) between two readings."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.last = self._read()

    def _read(self) -> dict[str, float]:
        times = os.times()
        return {**self.stack.cpu_by_part(), "bench driver": times.user + times.system}

    def since_last(self) -> dict[str, float]:
        now = self._read()
        spent = {part: now[part] - self.last.get(part, 0.0) for part in now}
        self.last = now
        return spent


async def history_stats(client: Client, workflow_ids: list[str]) -> dict[str, float]:
    events: list[int] = []
    sizes: list[int] = []
    kinds: Counter[str] = Counter()
    for each in workflow_ids:
        history = await client.get_workflow_handle(each).fetch_history()
        events.append(len(history.events))
        sizes.append(sum(event.ByteSize() for event in history.events))
        kinds.update(EventType.Name(e.event_type) for e in history.events)
        kinds["local activity"] += sum(
            1 for e in history.events if e.marker_recorded_event_attributes.marker_name == "core_local_activity"
        )
    return {
        "events_per_app": statistics.mean(events),
        "bytes_per_app": statistics.mean(sizes),
        "activities_per_app": kinds["EVENT_TYPE_ACTIVITY_TASK_SCHEDULED"] / len(workflow_ids),
        "local_activities_per_app": kinds["local activity"] / len(workflow_ids),
        "updates_per_app": kinds["EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED"] / len(workflow_ids),
        "signals_per_app": kinds["EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED"] / len(workflow_ids),
    }
