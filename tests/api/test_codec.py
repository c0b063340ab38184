"""The Web UI's codec over HTTP without a stack: an operator's power, every call audited, and
CORS for the UI's origin on /codec only."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads

from api.app import create_app
from api.auth import Principal, Role, issue_token
from config import Settings
from domain.keyring import parse_keyring
from tests.support_settings import settings_for_tests
from workers.codec import EncryptionCodec

SETTINGS = settings_for_tests()
UI_ORIGIN = SETTINGS.temporal_ui_origins[0]


class FakeAudit:
    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    async def record(self, **entry: Any) -> None:
        self.entries.append(entry)


@pytest.fixture
def audited() -> FakeAudit:
    return FakeAudit()


def client_for(settings: Settings, audited: FakeAudit) -> httpx.AsyncClient:
    """The app without its lifespan: the codec needs only the settings and the audit trail."""
    app = create_app(settings)
    app.state.resources = SimpleNamespace(settings=settings, store=SimpleNamespace(audit=audited))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://api")


@pytest.fixture
async def api(audited: FakeAudit) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(SETTINGS, audited) as http:
        yield http


def bearer(role: Role, district: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SETTINGS, Principal(f'{role}-1', role, district))}"}


async def encrypted(*texts: bytes) -> dict[str, Any]:
    """Payloads as the workers store them, in the codec's JSON form."""
    codec = EncryptionCodec(parse_keyring(SETTINGS.payload_keys))
    payloads = await codec.encode([Payload(metadata={"encoding": b"json/plain"}, data=text) for text in texts])
    return json_format.MessageToDict(Payloads(payloads=payloads))


@pytest.mark.parametrize(
    ("role", "district"),
    [(Role.TRANSPORT_CLERK, "330382"), (Role.TRANSPORT_CLERK, "330300"), (Role.SUPERVISOR, "330382")],
)
async def test_clerks_and_district_supervisors_may_not_decode(
    api: httpx.AsyncClient, audited: FakeAudit, role: Role, district: str
) -> None:
    body = await encrypted(b'{"id_number": "330302199001011235"}')
    for endpoint in ("decode", "encode"):
        response = await api.post(f"/codec/{endpoint}", headers=bearer(role, district), json=body)
        assert response.status_code == 403, response.text
        assert "330302199001011235" not in response.text
    assert [(e["actor"], e["action"], e["outcome"], e["detail"]) for e in audited.entries] == [
        (f"{role}-1", f"codec.{endpoint}", "refused:forbidden", {"payloads": 1}) for endpoint in ("decode", "encode")
    ]


@pytest.mark.parametrize(("role", "district"), [(Role.OPERATOR, "330382"), (Role.SUPERVISOR, "330300")])
async def test_operators_and_the_city_supervisor_decode_audited(
    api: httpx.AsyncClient, audited: FakeAudit, role: Role, district: str
) -> None:
    response = await api.post("/codec/decode", headers=bearer(role, district), json=await encrypted(b"1", b"2"))
    assert response.status_code == 200, response.text
    assert [base64.b64decode(p["data"]) for p in response.json()["payloads"]] == [b"1", b"2"]
    (entry,) = audited.entries
    assert entry == {
        "actor": f"{role}-1",
        "role": role.value,
        "district": district,
        "action": "codec.decode",
        "target": None,
        "outcome": "ok",
        "source_ip": "127.0.0.1",
        "detail": {"payloads": 2},
    }


async def test_encoding_is_audited_with_its_count(api: httpx.AsyncClient, audited: FakeAudit) -> None:
    body = {"payloads": [{"metadata": {"encoding": "anNvbi9wbGFpbg=="}, "data": "e30="}] * 3}
    response = await api.post("/codec/encode", headers=bearer(Role.OPERATOR, "330382"), json=body)
    assert response.status_code == 200, response.text
    assert [(e["action"], e["outcome"], e["detail"]) for e in audited.entries] == [
        ("codec.encode", "ok", {"payloads": 3})
    ]


async def test_an_undecryptable_payload_is_a_422_in_the_audit_trail(api: httpx.AsyncClient, audited: FakeAudit) -> None:
    body = await encrypted(b"1")
    body["payloads"][0]["data"] = base64.b64encode(b"not what was sealed").decode()
    response = await api.post("/codec/decode", headers=bearer(Role.OPERATOR, "330382"), json=body)
    assert response.status_code == 422 and response.json()["error"] == "undecryptable"
    assert [(e["action"], e["outcome"]) for e in audited.entries] == [("codec.decode", "refused:undecryptable")]


async def test_without_a_token_only_development_decodes(audited: FakeAudit) -> None:
    body = await encrypted(b"1")
    for app_env in ("test", "production"):
        async with client_for(settings_for_tests(app_env=app_env), audited) as http:
            assert (await http.post("/codec/decode", json=body)).status_code == 401
    assert audited.entries == []
    async with client_for(settings_for_tests(app_env="development"), audited) as http:
        assert (await http.post("/codec/decode", json=body)).status_code == 200
    ((actor, action, outcome),) = [(e["actor"], e["action"], e["outcome"]) for e in audited.entries]
    assert (actor, action, outcome) == ("temporal-ui-without-sign-in", "codec.decode", "ok")


PREFLIGHT = {
    "Origin": UI_ORIGIN,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization,content-type",
}


async def test_cors_answers_the_ui_on_the_codec_only(api: httpx.AsyncClient) -> None:
    codec = await api.options("/codec/decode", headers=PREFLIGHT)
    assert codec.status_code == 200
    assert codec.headers["access-control-allow-origin"] == UI_ORIGIN
    assert codec.headers["access-control-allow-credentials"] == "true"
    assert "authorization" in codec.headers["access-control-allow-headers"].lower()
    for path in ("/v1/applications", "/v1/calendar/deadline", "/console/inbox"):
        preflight = await api.options(path, headers=PREFLIGHT)
        assert "access-control-allow-origin" not in preflight.headers, path
    simple = await api.get("/v1/applications", headers={"Origin": UI_ORIGIN})
    assert simple.status_code == 401
    assert "access-control-allow-origin" not in simple.headers
    assert "access-control-allow-credentials" not in simple.headers


async def test_other_origins_get_no_cors_on_the_codec(api: httpx.AsyncClient) -> None:
    preflight = await api.options("/codec/decode", headers={**PREFLIGHT, "Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in preflight.headers
