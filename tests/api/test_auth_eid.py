"""The e-ID sign-in over HTTP without a stack: throttled per client address before the e-ID service is asked,
and every failed sign-in in the audit trail (the address, why; never the QR token)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from temporalio.exceptions import ApplicationError

from adapters.models import Identity
from api.app import create_app
from domain import errors
from tests.support_settings import settings_for_tests

SETTINGS = settings_for_tests(rate_limit_eid_sign_ins=3)
QR_TOKEN = "qr-0123456789abcdef"
CITIZEN = Identity(name="张三", id_number="330302199001011234", phone="13800138000")


class FakeEid:
    """The e-ID service: knows one QR token, or is down; counts the calls it answers."""

    def __init__(self) -> None:
        self.down = False
        self.calls = 0

    async def verify(self, qr_token: str) -> Identity:
        self.calls += 1
        if self.down:
            raise ApplicationError("e-ID service unavailable", type="DepartmentUnavailable")
        if qr_token != QR_TOKEN:
            raise ApplicationError("invalid", type=errors.EID_TOKEN_INVALID, non_retryable=True)
        return CITIZEN


class FakeStore:
    def __init__(self) -> None:
        self.audited: list[dict[str, Any]] = []
        self.hits: Counter[str] = Counter()
        self.rate_limits = SimpleNamespace(hit=self._hit)
        self.applicants = SimpleNamespace(save=self._save)
        self.audit = SimpleNamespace(record=self._record)

    async def _hit(self, key: str, window_s: int) -> tuple[int, int]:
        self.hits[key] += 1
        return self.hits[key], 1200

    async def _save(self, sub: str, name: str, id_number: str, phone: str) -> None:
        pass

    async def _record(self, **entry: Any) -> None:
        self.audited.append(entry)


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def eid() -> FakeEid:
    return FakeEid()


@pytest.fixture
def app(store: FakeStore, eid: FakeEid) -> Any:
    """The app without its lifespan, over the fake store and e-ID service."""
    app = create_app(SETTINGS)
    app.state.resources = SimpleNamespace(settings=SETTINGS, store=store, departments=SimpleNamespace(eid=eid))
    return app


@pytest.fixture
async def api(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with client_from(app, "203.0.113.7") as http:
        yield http


def client_from(app: Any, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://api")


async def sign_in(api: httpx.AsyncClient, qr_token: str = QR_TOKEN) -> httpx.Response:
    return await api.post("/v1/auth/eid", json={"qr_token": qr_token})


async def test_a_sign_in_gives_a_token_and_is_audited(api: httpx.AsyncClient, store: FakeStore) -> None:
    response = await sign_in(api)
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "bearer"
    (entry,) = store.audited
    assert (entry["action"], entry["outcome"], entry["role"]) == ("auth.eid", "ok", "applicant")


async def test_a_refused_qr_token_is_a_401_in_the_audit_trail(api: httpx.AsyncClient, store: FakeStore) -> None:
    response = await sign_in(api, "qr-forged-token-000")
    assert response.status_code == 401 and response.json()["error"] == "eid_token_invalid"
    (entry,) = store.audited
    assert entry["action"] == "auth.eid" and entry["outcome"] == "refused:eid_token_invalid"
    assert (entry["actor"], entry["role"], entry["source_ip"]) == ("unidentified", "applicant", "203.0.113.7")
    assert "qr-forged-token-000" not in json.dumps(entry)


async def test_an_unavailable_e_id_service_is_a_503_in_the_audit_trail(
    api: httpx.AsyncClient, store: FakeStore, eid: FakeEid
) -> None:
    eid.down = True
    response = await sign_in(api)
    assert response.status_code == 503 and response.json()["error"] == "eid_unavailable"
    (entry,) = store.audited
    assert entry["outcome"] == "refused:eid_unavailable" and QR_TOKEN not in json.dumps(entry)


async def test_sign_ins_are_throttled_per_client_address_before_the_e_id_service_is_asked(
    app: Any, api: httpx.AsyncClient, store: FakeStore, eid: FakeEid
) -> None:
    for _ in range(SETTINGS.rate_limit_eid_sign_ins):
        assert (await sign_in(api, "qr-forged-token-000")).status_code == 401
    throttled = await sign_in(api)
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "1200"
    body = throttled.json()
    assert body["error"] == "rate_limited" and body["detail"]
    assert eid.calls == SETTINGS.rate_limit_eid_sign_ins  # the throttled call never reached the e-ID service
    async with client_from(app, "198.51.100.9") as elsewhere:
        assert (await sign_in(elsewhere)).status_code == 200  # another address has its own count
    assert set(store.hits) == {"eid_sign_in:203.0.113.7", "eid_sign_in:198.51.100.9"}
