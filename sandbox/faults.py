"""Faults injected into the played departments' answers (``PUT /sandbox/faults/{service}``).

For each request to a department with a fault set, ``latency_ms`` is waited first; then,
with an independent draw for each and in this order, the first that hits decides the answer:

- ``drop_rate``: the answer starts and the connection closes before its body ends, so the
  client sees a transport error. Drops alternate, per service, between a lost request (the
  department did nothing) and a lost answer (it did its work and the answer never arrived).
- ``error_rate``: 503 ``injected_fault``; the department did nothing.
- ``refusal_rate``: ``refusal_status`` (a 4xx, default 422) with
  ``{"error": "injected_refusal", "detail": ...}``, as a department's permanent refusal; it
  did nothing. Clients count 408 and 429 as passing, so those are not permanent refusals.
- ``malformed_rate``: the department does its work, then a successful answer's body is
  replaced, alternating per service between a page that is not JSON and JSON whose fields
  are not the department's (every key renamed, inside lists too). Its own refusals pass.

The faults apply to every department API (paths ``/{service}/v1/...``), never to the
``/sandbox/*`` helpers.
"""

import asyncio
import json
import logging
import random
from collections import Counter
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi.responses import JSONResponse, Response
from pydantic import Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.common import StrictModel

log = logging.getLogger(__name__)

Rate = Annotated[float, Field(ge=0, le=1)]

NOT_JSON_PAGE = (
    '<!DOCTYPE html><html><head><meta charset="utf-8"><title>系统维护</title></head>'
    "<body><h1>系统维护中，请稍后再试</h1></body></html>"
).encode()


class Fault(StrictModel):
    """How a department misbehaves; every rate is a probability between 0 and 1."""

    error_rate: Rate = 0.0
    latency_ms: int = Field(default=0, ge=0, le=60_000)
    refusal_rate: Rate = 0.0
    refusal_status: int = Field(default=422, ge=400, le=499)
    malformed_rate: Rate = 0.0
    drop_rate: Rate = 0.0


@dataclass(frozen=True)
class Answer:
    """A department's complete answer, held back before it is sent."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


class FaultInjector:
    """Applies a department's fault to its requests, alternating the kinds of drops and malformed bodies."""

    def __init__(self) -> None:
        self._seen: Counter[tuple[str, str]] = Counter()

    def _second_kind(self, service: str, mode: str) -> bool:
        """False, True, False, ... for successive calls with the same service and mode."""
        self._seen[service, mode] += 1
        return self._seen[service, mode] % 2 == 0

    async def serve(self, service: str, fault: Fault, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a request to ``service`` through ``app``, as ``fault`` says."""
        if fault.latency_ms:
            await asyncio.sleep(fault.latency_ms / 1000)
        if _hits(fault.drop_rate):
            log.warning(
                "%s: connection dropped on purpose (sandbox fault); uvicorn reports an incomplete response", service
            )
            if self._second_kind(service, "drop"):
                answer = await _held_back(app, scope, receive)
            else:
                answer = Answer(200, [(b"content-type", b"application/json"), (b"content-length", b"2")], b"{}")
            await _cut_short(answer, send)
        elif _hits(fault.error_rate):
            detail = f"{service} fails on purpose (sandbox fault)"
            await JSONResponse({"error": "injected_fault", "detail": detail}, 503)(scope, receive, send)
        elif _hits(fault.refusal_rate):
            detail = f"{service} refuses the request on purpose (sandbox fault)"
            await JSONResponse({"error": "injected_refusal", "detail": detail}, fault.refusal_status)(
                scope, receive, send
            )
        elif _hits(fault.malformed_rate):
            answer = await _held_back(app, scope, receive)
            if 200 <= answer.status < 300:
                await self._malformed(service, answer)(scope, receive, send)
            else:
                await _replay(answer, send)
        else:
            await app(scope, receive, send)

    def _malformed(self, service: str, answer: Answer) -> Response:
        headers = _without_framing(answer.headers)
        if self._second_kind(service, "malformed"):
            try:
                return Response(_renamed_json(answer.body), answer.status, headers, "application/json")
            except ValueError:
                pass
        return Response(NOT_JSON_PAGE, answer.status, headers, "text/html; charset=utf-8")


def _hits(rate: float) -> bool:
    return random.random() < rate


async def _held_back(app: ASGIApp, scope: Scope, receive: Receive) -> Answer:
    """Run ``app`` and keep its answer instead of sending it."""
    start: Message = {}
    body = bytearray()

    async def hold(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            body.extend(message.get("body", b""))

    await app(scope, receive, hold)
    return Answer(start["status"], list(start.get("headers", [])), bytes(body))


async def _replay(answer: Answer, send: Send) -> None:
    await send({"type": "http.response.start", "status": answer.status, "headers": answer.headers})
    await send({"type": "http.response.body", "body": answer.body})


async def _cut_short(answer: Answer, send: Send) -> None:
    """Send the status line, the headers and half the body, then return without finishing.

    The server then closes the connection (uvicorn logs "ASGI callable returned without
    completing response"), and the client reads a transport error.
    """
    await send({"type": "http.response.start", "status": answer.status, "headers": answer.headers})
    await send({"type": "http.response.body", "body": answer.body[: len(answer.body) // 2], "more_body": True})


def _without_framing(headers: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """``headers`` without the ones that describe the body, for a new body."""
    dropped = {b"content-length", b"content-type", b"transfer-encoding"}
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in headers if name.lower() not in dropped}


def _renamed_json(body: bytes) -> bytes:
    """A JSON body with the same values under other keys."""
    return json.dumps(_renamed(json.loads(body)), ensure_ascii=False).encode()


def _renamed(value: Any) -> Any:
    """``value`` with every object key in UpperCamelCase (``policy_no`` becomes ``PolicyNo``)."""
    if isinstance(value, dict):
        return {"".join(part.capitalize() for part in key.split("_")): _renamed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_renamed(item) for item in value]
    return value
