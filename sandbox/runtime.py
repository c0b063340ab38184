"""The sandbox's running machinery: state, background work, callbacks, faults in force, idempotency."""

import asyncio
import copy
import json
import logging
import time
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import Any, Literal, get_args

import httpx
from fastapi.responses import JSONResponse

from domain.signing import sign
from sandbox.faults import Fault, FaultInjector
from sandbox.settings import CallbackSource, SandboxSettings
from sandbox.state import JSON, SandboxState, StateStore

log = logging.getLogger(__name__)

Service = Literal["eid", "vehicle-admin", "tax", "inspection", "insurance", "miit", "courier", "sms", "regulator"]
SERVICES: tuple[str, ...] = get_args(Service)


@dataclass(frozen=True)
class Deferred:
    """Work a department finishes by itself after a delay and then reports by callback."""

    source: CallbackSource
    entries: Callable[[SandboxState], dict[str, JSON]]
    finish: Callable[[SandboxState, JSON], JSON]
    """Completes a stored entry (doing nothing if it already is) and returns the callback body."""


class Runtime:
    """One per running app: owns the state store, the HTTP client and the background tasks."""

    def __init__(
        self,
        settings: SandboxSettings,
        store: StateStore,
        http: httpx.AsyncClient,
        deferred: Iterable[Deferred],
    ) -> None:
        self.settings = settings
        self._store = store
        self._http = http
        self._deferred = tuple(deferred)
        self._tasks: set[asyncio.Task[None]] = set()
        self.injector = FaultInjector()

    @property
    def state(self) -> SandboxState:
        return self._store.state

    def save(self) -> None:
        """Persist the state after a change."""
        self._store.save()

    async def reset(self) -> None:
        """Stop all background work and forget everything."""
        await self._cancel_background()
        self._store.reset()
        self.injector = FaultInjector()

    async def aclose(self) -> None:
        """Stop all background work; unfinished work resumes at the next start."""
        await self._cancel_background()

    def spawn(self, work: Coroutine[Any, Any, object]) -> None:
        """Run ``work`` in the background until it ends or the app stops."""
        task = asyncio.get_running_loop().create_task(self._guarded(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _guarded(work: Coroutine[Any, Any, object]) -> None:
        try:
            await work
        except Exception:
            log.exception("sandbox background work failed")

    async def _cancel_background(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def defer(self, deferred: Deferred, key: str, view: JSON, delay_s: float, **extra: Any) -> None:
        """Store a new entry under ``key`` and finish it after ``delay_s`` seconds."""
        deferred.entries(self.state)[key] = {
            "view": view,
            "due_at": time.time() + delay_s,
            "notified": False,
            **extra,
        }
        self.spawn(self._finish_when_due(deferred, key))

    def resume(self) -> None:
        """Schedule every entry whose completion or callback was lost by a restart."""
        for deferred in self._deferred:
            for key, entry in deferred.entries(self.state).items():
                if not entry["notified"]:
                    self.spawn(self._finish_when_due(deferred, key))

    async def _finish_when_due(self, deferred: Deferred, key: str) -> None:
        entry = deferred.entries(self.state)[key]
        await asyncio.sleep(max(0.0, entry["due_at"] - time.time()))
        body = deferred.finish(self.state, entry)
        self.save()
        if await self.send_callback(deferred.source, body):
            entry["notified"] = True
            self.save()

    def notify(self, source: CallbackSource, body: JSON) -> None:
        """Send a callback in the background."""
        self.spawn(self.send_callback(source, body))

    async def send_callback(self, source: CallbackSource, body: JSON) -> bool:
        """POST ``body`` signed to the API, retrying with backoff; True once accepted."""
        content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        secret = self.settings.callback_secret(source)
        for attempt in range(self.settings.callback_attempts):
            if attempt:
                await asyncio.sleep(self.settings.callback_backoff_s * 2 ** (attempt - 1))
            headers = {
                "Content-Type": "application/json",
                "X-Signature": sign(secret, content, int(time.time())),
            }
            try:
                response = await self._http.post(self.settings.callback_url(source), content=content, headers=headers)
            except httpx.HTTPError as exc:
                log.warning("%s callback attempt %d failed: %r", source, attempt + 1, exc)
                continue
            if response.is_success:
                return True
            log.warning("%s callback attempt %d answered HTTP %d", source, attempt + 1, response.status_code)
        log.error("%s callback abandoned after %d attempts", source, self.settings.callback_attempts)
        return False

    def fault(self, service: str) -> Fault | None:
        """The fault set for ``service``, if any."""
        stored = self.state.faults.get(service)
        return None if stored is None else Fault.model_validate(stored)

    def idempotent(self, service: str, key: str | None, status_code: int, action: Callable[[], JSON]) -> JSONResponse:
        """Run ``action`` once per (service, key) and replay its answer for the same key.

        Only successful answers are stored: a refused request changed nothing.
        """
        stored_key = f"{service}:{key}"
        if key is not None and (stored := self.state.idempotency.get(stored_key)) is not None:
            return JSONResponse(stored["body"], status_code=stored["status"])
        body = action()
        if key is not None:
            self.state.idempotency[stored_key] = {
                "status": status_code,
                "body": copy.deepcopy(body),
            }
        self.save()
        return JSONResponse(body, status_code=status_code)
