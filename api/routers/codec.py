"""The remote codec the Temporal Web UI calls to show encrypted payloads to operators.

Outside development a clerk, supervisor or operator token is required (the UI passes
the operator's access token). In development the local UI, which has no sign-in, may
decode without one: that is the `make run` stack on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import base64
from typing import Annotated

from cryptography.exceptions import InvalidTag
from fastapi import APIRouter, Request
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from pydantic import BaseModel, Field
from temporalio.api.common.v1 import Payload, Payloads

from api.auth import InvalidToken, Role, verify_token
from api.deps import ResourcesDep
from api.errors import ApiError, documented
from api.resources import Resources
from domain.keyring import KeyringError, parse_keyring
from workers.codec import EncryptionCodec

router = APIRouter(prefix="/codec", tags=["operations"], responses=documented(401, 403, 413, 422))

CODEC_ROLES = frozenset({Role.TRANSPORT_CLERK, Role.SUPERVISOR, Role.OPERATOR})
MAX_CODEC_BYTES = 4 * 1024 * 1024


async def _authorize(request: Request, resources: Resources) -> None:
    header = request.headers.get("authorization", "")
    if not header and resources.settings.is_development:
        return
    scheme, _, token = header.partition(" ")
    try:
        principal = (
            await asyncio.to_thread(verify_token, resources.settings, token) if scheme.lower() == "bearer" else None
        )
    except InvalidToken:
        principal = None
    if principal is None:
        raise ApiError(401, "unauthorized", "an operator's bearer token is required")
    if principal.role not in CODEC_ROLES:
        raise ApiError(403, "forbidden", "only clerks, supervisors and operators may read histories")


Base64 = Annotated[
    str, Field(max_length=MAX_CODEC_BYTES, pattern=r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$")
]


class CodecPayload(BaseModel):
    """A Temporal payload in the remote-codec JSON form: base64 metadata values and data."""

    metadata: dict[Annotated[str, Field(max_length=100)], Base64] = Field(default_factory=dict, max_length=20)
    data: Base64 = ""


class CodecBody(BaseModel):
    payloads: list[CodecPayload] = Field(max_length=1000)


def _to_proto(body: CodecBody) -> list[Payload]:
    return [
        Payload(metadata={k: base64.b64decode(v) for k, v in p.metadata.items()}, data=base64.b64decode(p.data))
        for p in body.payloads
    ]


def _codec(resources: Resources) -> EncryptionCodec:
    return EncryptionCodec(parse_keyring(resources.settings.payload_keys))


def _answer(payloads: list[Payload]) -> CodecBody:
    return CodecBody.model_validate(json_format.MessageToDict(Payloads(payloads=payloads)) or {"payloads": []})


@router.post("/encode")
async def encode_payloads(body: CodecBody, request: Request, resources: ResourcesDep) -> CodecBody:
    """Encrypt payloads (for the UI's signal and query inputs)."""
    await _authorize(request, resources)
    return _answer(await _codec(resources).encode(_to_proto(body)))


@router.post("/decode")
async def decode_payloads(body: CodecBody, request: Request, resources: ResourcesDep) -> CodecBody:
    """Decrypt payloads so an authorized operator reads a history."""
    await _authorize(request, resources)
    try:
        return _answer(await _codec(resources).decode(_to_proto(body)))
    except (KeyringError, InvalidTag, DecodeError, ValueError) as err:
        raise ApiError(
            422,
            "undecryptable",
            f"payloads: cannot be decrypted ({type(err).__name__})",
            fields=[{"loc": ["body", "payloads"], "msg": "cannot be decrypted"}],
        ) from None
