"""The API as the chaos drill's drivers see it: several processes, any of which may be down."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from typing import Any

import httpx

from drills.chaos_verdict import Report


class Api:
    """A patient client: calls alternate between the API processes; 503 and broken connections are tried again.

    A call tried again goes to the next process, so one that was SIGKILLed is not waited for.
    """

    def __init__(self, clients: list[httpx.AsyncClient], report: Report, postgres_down: asyncio.Event) -> None:
        self.report, self.postgres_down = report, postgres_down
        self._turns = itertools.cycle(clients)

    async def call(self, method: str, path: str, *, give_up_after_s: float = 600, **kwargs: Any) -> httpx.Response:
        end = time.monotonic() + give_up_after_s
        while True:
            try:
                response = await next(self._turns).request(method, path, **kwargs)
            except httpx.TransportError as err:
                self.report.statuses[f"transport error {type(err).__name__}"] += 1
            else:
                self.report.statuses[str(response.status_code)] += 1
                if self.postgres_down.is_set():
                    self.report.while_postgres_down[str(response.status_code)] += 1
                if response.status_code >= 500 and response.status_code != 503:
                    self.report.server_errors += 1
                    self.report.problems.append(f"{method} {path}: {response.status_code} {response.text[:200]}")
                if response.status_code != 503:
                    return response
            if time.monotonic() > end:
                raise RuntimeError(f"{method} {path}: no answer but 503 for {give_up_after_s:.0f} s")
            await asyncio.sleep(0.5 + random.random())
