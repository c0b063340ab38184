"""What the chaos drill breaks, and when: processes killed, servers restarted, departments misbehaving."""

from __future__ import annotations

import asyncio
import random
import signal
import time
from dataclasses import dataclass

import httpx

from devstack.processes import LocalStack
from drills.chaos_verdict import Report
from sandbox.runtime import SERVICES

# The departments an application's steps call; the eID service signs people in to the API,
# so its refusals would only turn sign-ins away.
STEP_DEPARTMENTS = tuple(service for service in SERVICES if service != "eid")


@dataclass
class Drill:
    """What to break, and how much."""

    applications: int = 100
    workers: int = 2
    apis: int = 2
    worker_kills: int | None = None  # None: every few seconds until the end
    kill_every_s: tuple[float, float] = (4.0, 8.0)
    api_kills: int | None = None  # None: every little while until the end
    api_kill_every_s: tuple[float, float] = (10.0, 20.0)
    restart_temporal_at_s: float | None = 25.0
    restart_postgres_at_s: float | None = 50.0
    postgres_down_s: float = 6.0
    error_rate: float = 0.3
    latency_ms: int = 200
    # The refusal phase: besides the 503s, the step departments refuse for good (a 4xx with a
    # body), answer garbage and drop connections, from `refusals_at_s` for `refusals_s`.
    refusals_at_s: float | None = 5.0
    refusals_s: float = 40.0
    refusal_rate: float = 0.1
    refusal_status: int = 422  # not 408 or 429, which the adapters try again
    malformed_rate: float = 0.05
    drop_rate: float = 0.05
    insurance_deadline_s: float = 300.0  # long enough for the slowest usage change under the faults
    concurrency: int = 50
    timeout_s: float = 1200.0


class Faults:
    """The departments' faults in force: steady 503s and latency, and for a while refusals too."""

    def __init__(self, sandbox: httpx.AsyncClient, drill: Drill) -> None:
        self.sandbox, self.drill = sandbox, drill
        self.lifted = asyncio.Event()  # set while no department refuses on purpose
        self.lifted.set()

    async def steady(self) -> None:
        steady = {"error_rate": self.drill.error_rate, "latency_ms": self.drill.latency_ms}
        for service in SERVICES:
            (await self.sandbox.put(f"/sandbox/faults/{service}", json=steady)).raise_for_status()
        self.lifted.set()

    async def refusing(self) -> None:
        self.lifted.clear()
        drill = self.drill
        fault = {
            "error_rate": drill.error_rate,
            "latency_ms": drill.latency_ms,
            "refusal_rate": drill.refusal_rate,
            "refusal_status": drill.refusal_status,
            "malformed_rate": drill.malformed_rate,
            "drop_rate": drill.drop_rate,
        }
        for service in STEP_DEPARTMENTS:
            (await self.sandbox.put(f"/sandbox/faults/{service}", json=fault)).raise_for_status()

    async def none(self) -> None:
        (await self.sandbox.delete("/sandbox/faults")).raise_for_status()
        self.lifted.set()


class Monkey:
    """Breaks the stack on a schedule until told to stop."""

    def __init__(
        self, stack: LocalStack, drill: Drill, faults: Faults, postgres_down: asyncio.Event, report: Report
    ) -> None:
        self.stack, self.drill, self.faults, self.postgres_down, self.report = (
            stack,
            drill,
            faults,
            postgres_down,
            report,
        )
        self.stopped = asyncio.Event()
        self.started = time.monotonic()
        self._api_turn = 0

    def say(self, text: str) -> None:
        print(f"[chaos {time.monotonic() - self.started:6.1f}s] {text}", flush=True)

    def _at(self, offset_s: float | None) -> float | None:
        return None if offset_s is None else self.started + offset_s

    async def run(self) -> None:
        self.started = time.monotonic()
        drill = self.drill
        next_worker_kill = self.started + random.uniform(*drill.kill_every_s)
        next_api_kill = self.started + random.uniform(*drill.api_kill_every_s)
        temporal_at = self._at(drill.restart_temporal_at_s)
        postgres_at = self._at(drill.restart_postgres_at_s)
        refusals_at = self._at(drill.refusals_at_s)
        refusals_end: float | None = None
        while not self.stopped.is_set():
            now = time.monotonic()
            await self._replace_exited()
            if refusals_at is not None and now >= refusals_at:
                refusals_at, refusals_end = None, now + drill.refusals_s
                await self.faults.refusing()
                self.report.faults["refusal phase"] += 1
                self.say(f"departments refuse, garble and drop for {drill.refusals_s:.0f} s")
            if refusals_end is not None and now >= refusals_end:
                refusals_end = None
                await self.faults.steady()
                self.say("refusals lifted")
            if _left(drill.worker_kills, self.report.faults["worker SIGKILL"]) and now >= next_worker_kill:
                self._kill_worker()
                next_worker_kill = now + random.uniform(*drill.kill_every_s)
            if _left(drill.api_kills, self.report.faults["API SIGKILL"]) and now >= next_api_kill:
                await self._kill_api()
                next_api_kill = time.monotonic() + random.uniform(*drill.api_kill_every_s)
            if temporal_at is not None and now >= temporal_at:
                temporal_at = None
                await self._restart_temporal()
            if postgres_at is not None and now >= postgres_at:
                postgres_at = None
                await self._restart_postgres()
            await asyncio.sleep(0.5)
        if refusals_end is not None:
            await self.faults.steady()

    async def _replace_exited(self) -> None:
        processes = self.stack.processes
        for name, code in processes.exited():
            if name.startswith("worker#"):
                processes.running.pop(name)
                self.stack.start_worker()
                self.say(f"{name} had exited ({code}); started another")
            elif name.startswith("api#"):
                processes.running.pop(name)
                await asyncio.to_thread(self.stack.start_api, int(name.removeprefix("api#")))
                self.say(f"{name} had exited ({code}); started it again")

    def _kill_worker(self) -> None:
        """SIGKILL the oldest worker and start another: with two, each is killed in turn."""
        processes = self.stack.processes
        victim = next(name for name in processes.running if name.startswith("worker#"))
        processes.kill(victim, signal.SIGKILL)
        self.stack.start_worker()
        self.report.faults["worker SIGKILL"] += 1

    async def _kill_api(self) -> None:
        """SIGKILL the API processes in turn, each started again on its port."""
        index = self._api_turn % len(self.stack.api_ports)
        self._api_turn += 1
        self.stack.processes.kill(f"api#{index}", signal.SIGKILL)
        await asyncio.to_thread(self.stack.start_api, index)
        self.report.faults["API SIGKILL"] += 1

    async def _restart_temporal(self) -> None:
        self.say("SIGKILL the Temporal dev server, then start it again on the same database file")
        self.stack.processes.kill("temporal", signal.SIGKILL)
        await asyncio.to_thread(self.stack.start_temporal)
        self.report.faults["Temporal dev server restart"] += 1
        self.say("Temporal is back")

    async def _restart_postgres(self) -> None:
        postgres = self.stack.postgres
        if postgres is None:
            return
        self.say(f"stopping PostgreSQL for {self.drill.postgres_down_s:.0f} s")
        self.postgres_down.set()
        await asyncio.to_thread(postgres.stop)
        await asyncio.sleep(self.drill.postgres_down_s)
        await asyncio.to_thread(postgres.start)
        self.postgres_down.clear()
        self.report.faults["PostgreSQL restart"] += 1
        self.say("PostgreSQL is back")


def _left(limit: int | None, done: int) -> bool:
    return limit is None or done < limit
