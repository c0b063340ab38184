"""The remote codec the Temporal Web UI calls to show encrypted payloads to operators.

Decoding a history reads anyone's personal data, so the codec is an operator's power: an
`operator` token, or a supervisor's for the whole city (330300). Clerks and district
supervisors read applications through the API and the console, masked and audited. Every
call is audited, refused ones too: who, when, which endpoint, how many payloads. The Web UI
passes the operator's access token (TEMPORAL_CODEC_PASS_ACCESS_TOKEN) across origins, so
`CodecCors` answers its origins here, and nowhere else in the API.

Only in development may the local UI, which has no sign-in, call it without a token: that is
the `make run` stack on 127.0.0.1, audited as `DEVELOPMENT_UI`.
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
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send
from temporalio.api.common.v1 import Payload, Payloads

from api.auth import InvalidToken, Principal, Role, is_city_supervisor, verify_token
from api.deps import ResourcesDep, source_ip
from api.errors import ApiError, documented
from api.resources import Resources
from api.services import audit
from domain.districts import CITY_CODE
from domain.keyring import KeyringError, parse_keyring
from workers.codec import EncryptionCodec

PREFIX = "/codec"
router = APIRouter(prefix=PREFIX, tags=["operations"], responses=documented(401, 403, 413, 422))

MAX_CODEC_BYTES = 4 * 1024 * 1024
DEVELOPMENT_UI = Principal("temporal-ui-without-sign-in", Role.OPERATOR, CITY_CODE)


class CodecCors:
    """CORS with credentials for the Temporal Web UI's origins, on the codec's paths only."""

    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_methods=["POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "X-Namespace"],
            allow_credentials=True,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        codec = path == PREFIX or path.startswith(PREFIX + "/")
        await (self.cors if codec else self.app)(scope, receive, send)


def may_use_codec(principal: Principal) -> bool:
    return principal.role is Role.OPERATOR or is_city_supervisor(principal)


async def _authorize(request: Request, resources: Resources, action: str, payloads: int) -> Principal:
    """The operator calling; a clerk's or a district supervisor's refusal is audited too."""
    header = request.headers.get("authorization", "")
    if not header and resources.settings.is_development:
        return DEVELOPMENT_UI
    scheme, _, token = header.partition(" ")
    try:
        principal = (
            await asyncio.to_thread(verify_token, resources.settings, token) if scheme.lower() == "bearer" else None
        )
    except InvalidToken:
        principal = None
    if principal is None:
        raise ApiError(401, "unauthorized", "an operator's bearer token is required")
    if not may_use_codec(principal):
        await _audit(request, resources, principal, action, "refused:forbidden", payloads)
        raise ApiError(403, "forbidden", f"the codec is for operators and the city's supervisors ({CITY_CODE})")
    return principal


async def _audit(
    request: Request, resources: Resources, principal: Principal, action: str, outcome: str, payloads: int
) -> None:
    await audit.record(resources, principal, action, None, outcome, source_ip=source_ip(request), payloads=payloads)


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
    """Encrypt payloads (the UI's inputs when it starts or signals a workflow); audited."""
    principal = await _authorize(request, resources, "codec.encode", len(body.payloads))
    encoded = _answer(await _codec(resources).encode(_to_proto(body)))
    await _audit(request, resources, principal, "codec.encode", "ok", len(body.payloads))
    return encoded


@router.post("/decode")
async def decode_payloads(body: CodecBody, request: Request, resources: ResourcesDep) -> CodecBody:
    """Decrypt payloads so an operator reads a history; audited."""
    principal = await _authorize(request, resources, "codec.decode", len(body.payloads))
    try:
        decoded = _answer(await _codec(resources).decode(_to_proto(body)))
    except (KeyringError, InvalidTag, DecodeError, ValueError) as err:
        await _audit(request, resources, principal, "codec.decode", "refused:undecryptable", len(body.payloads))
        raise ApiError(
            422,
            "undecryptable",
            f"payloads: cannot be decrypted ({type(err).__name__})",
            fields=[{"loc": ["body", "payloads"], "msg": "cannot be decrypted"}],
        ) from None
    await _audit(request, resources, principal, "codec.decode", "ok", len(body.payloads))
    return decoded
