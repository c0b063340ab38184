"""The remote codec the Temporal Web UI calls to show encrypted payloads to operators.

Outside development a clerk, supervisor or operator token is required (the UI passes
the operator's access token). In development the local UI, which has no sign-in, may
decode without one: that is the `make run` stack on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads

from api.auth import InvalidToken, Role, verify_token
from api.deps import ResourcesDep
from api.errors import ApiError
from workers.codec import EncryptionCodec, KeyringError, parse_keyring

router = APIRouter(prefix="/codec", tags=["operations"])

CODEC_ROLES = frozenset({Role.TRANSPORT_CLERK, Role.SUPERVISOR, Role.OPERATOR})
MAX_CODEC_BYTES = 4 * 1024 * 1024


async def _authorize(request: Request, resources) -> None:
    header = request.headers.get("authorization", "")
    if not header and resources.settings.is_development:
        return
    scheme, _, token = header.partition(" ")
    try:
        principal = await asyncio.to_thread(verify_token, resources.settings, token) if scheme.lower() == "bearer" else None
    except InvalidToken:
        principal = None
    if principal is None:
        raise ApiError(401, "unauthorized", "an operator's bearer token is required")
    if principal.role not in CODEC_ROLES:
        raise ApiError(403, "forbidden", "only clerks, supervisors and operators may read histories")


async def _payloads(request: Request) -> Payloads:
    body = await request.body()
    if len(body) > MAX_CODEC_BYTES:
        raise ApiError(413, "too_large", "too many payloads at once")
    try:
        return json_format.Parse(body, Payloads(), ignore_unknown_fields=True)
    except json_format.ParseError:
        raise ApiError(422, "validation_failed", "payloads: not the Temporal codec JSON", fields=[{"loc": ["body", "payloads"], "msg": "invalid"}]) from None


def _codec(resources) -> EncryptionCodec:
    return EncryptionCodec(parse_keyring(resources.settings.payload_keys))


def _answer(payloads: list[Any]) -> JSONResponse:
    return JSONResponse(json_format.MessageToDict(Payloads(payloads=payloads)))


@router.post("/encode")
async def encode_payloads(request: Request, resources: ResourcesDep) -> JSONResponse:
    """Encrypt payloads (for the UI's signal and query inputs)."""
    await _authorize(request, resources)
    return _answer(await _codec(resources).encode((await _payloads(request)).payloads))


@router.post("/decode")
async def decode_payloads(request: Request, resources: ResourcesDep) -> JSONResponse:
    """Decrypt payloads so an authorized operator reads a history."""
    await _authorize(request, resources)
    try:
        return _answer(await _codec(resources).decode((await _payloads(request)).payloads))
    except KeyringError as err:
        raise ApiError(422, "unknown_key", str(err)) from None
