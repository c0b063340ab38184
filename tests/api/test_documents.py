"""Documents over HTTP without a stack: the public verification shows what the document says (masked),
so whoever holds the paper can compare; staff reads of a document are audited, an applicant's own are not."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.auth import Principal, Role, issue_token
from api.console.session import SESSION_COOKIE
from api.services.documents import VERIFIED_FIELDS
from domain.documents import TITLES, IssuedDocument, canonical_sha256, document_content
from store.applications import ApplicationRow
from tests.support_settings import settings_for_tests
from tests.support_views import view_of

SETTINGS = settings_for_tests()
APP_ID = str(uuid.uuid4())
ROW = ApplicationRow(APP_ID, f"permit-{APP_ID}", "eid-1", "330382", "completed", view_of(APP_ID), None)
ISSUED_AT = datetime(2026, 10, 30, 2, 0, tzinfo=UTC)


def issued(kind: str, data: dict[str, Any]) -> IssuedDocument:
    content = document_content(APP_ID, kind, data)
    return IssuedDocument(f"doc-{kind}", APP_ID, kind, content, canonical_sha256(content), ISSUED_AT)


# A permit as an early release stored it, plate and owner in clear: the verification masks them all the same.
PERMIT = issued(
    "permit",
    {
        "number": "浙温网约330300000123",
        "plate": "浙C12345",
        "owner": "张三丰",
        "issued_on": "2026-10-30",
        "valid_until": "2030-10-29",
    },
)
NOTICE = issued(
    "insurance_one_time_notice",
    {
        "missing": "承运人责任险保单",
        "due_on": "2026-10-22",
        "provisional": False,
        "consequence": "逾期未投保的，申请终止",
    },
)
TERMINATION = issued("termination_notice", {"status": "rejected", "reason": "申请人张三丰车辆登记信息与申请不符"})


class FakeStore:
    def __init__(self) -> None:
        self.audited: list[dict[str, Any]] = []
        documents = {d.document_id: d for d in (PERMIT, NOTICE, TERMINATION)}
        self.documents = SimpleNamespace(get=self._getter(documents))
        self.applications = SimpleNamespace(get=self._getter({APP_ID: ROW}))
        self.rate_limits = SimpleNamespace(hit=self._hit)
        self.audit = SimpleNamespace(record=self._record)

    @staticmethod
    def _getter(items: dict[str, Any]) -> Any:
        async def get(key: str) -> Any:
            return items.get(key)

        return get

    async def _hit(self, key: str, window_s: int) -> tuple[int, int]:
        return 1, window_s

    async def _record(self, **entry: Any) -> None:
        self.audited.append(entry)


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
async def api(store: FakeStore) -> AsyncIterator[httpx.AsyncClient]:
    """The app without its lifespan, over the fake store."""
    app = create_app(SETTINGS)
    app.state.resources = SimpleNamespace(settings=SETTINGS, store=store)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://api") as http:
        yield http


def token(role: Role, district: str | None = "330382", sub: str = "staff-1") -> str:
    return issue_token(SETTINGS, Principal(sub, role, district))


def bearer(role: Role, district: str | None = "330382", sub: str = "staff-1") -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, district, sub)}"}


async def verify(api: httpx.AsyncClient, document: IssuedDocument, code: str) -> dict[str, Any]:
    response = await api.get(f"/v1/documents/{document.document_id}/verify", params={"code": code})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_verified_permit_shows_its_number_masked_plate_and_owner_and_validity(
    api: httpx.AsyncClient,
) -> None:
    assert await verify(api, PERMIT, PERMIT.verification_code.upper()) == {
        "valid": True,
        "document_id": PERMIT.document_id,
        "application_id": APP_ID,
        "kind": "permit",
        "issued_at": ISSUED_AT.isoformat(),
        "fields": {
            "number": "浙温网约330300000123",
            "plate": "浙C1***5",
            "owner": "张**",
            "issued_on": "2026-10-30",
            "valid_until": "2030-10-29",
        },
    }


async def test_other_kinds_show_their_key_fields_and_nothing_personal(api: httpx.AsyncClient) -> None:
    notice = await verify(api, NOTICE, NOTICE.verification_code)
    assert notice["fields"] == {"missing": "承运人责任险保单", "due_on": "2026-10-22", "provisional": False}
    termination = await verify(api, TERMINATION, TERMINATION.verification_code)
    assert termination["fields"] == {"status": "rejected"}  # the clerk's free-text reason may name people


async def test_a_wrong_code_shows_nothing_of_the_document(api: httpx.AsyncClient) -> None:
    wrong = ("0" if PERMIT.verification_code[0] != "0" else "1") + PERMIT.verification_code[1:]
    assert await verify(api, PERMIT, wrong) == {
        "valid": False,
        "document_id": PERMIT.document_id,
        "application_id": None,
        "kind": None,
        "issued_at": None,
        "fields": None,
    }


def test_every_kind_of_document_has_its_verified_fields_decided() -> None:
    assert set(VERIFIED_FIELDS) == set(TITLES)


async def test_a_clerks_read_of_a_document_is_audited(api: httpx.AsyncClient, store: FakeStore) -> None:
    headers = {**bearer(Role.TRANSPORT_CLERK), "Accept": "application/json"}
    response = await api.get(f"/v1/documents/{PERMIT.document_id}", headers=headers)
    assert response.status_code == 200 and response.json()["data"]["number"] == "浙温网约330300000123"
    (entry,) = store.audited
    assert (entry["actor"], entry["role"], entry["district"]) == ("staff-1", "transport_clerk", "330382")
    assert (entry["action"], entry["target"], entry["outcome"]) == ("document.read", PERMIT.document_id, "ok")
    assert entry["detail"] == {"application_id": APP_ID, "kind": "permit"}
    assert entry["source_ip"] == "127.0.0.1"


async def test_a_supervisors_pdf_download_in_the_console_is_audited(api: httpx.AsyncClient, store: FakeStore) -> None:
    cookie = {"Cookie": f"{SESSION_COOKIE}={token(Role.SUPERVISOR, '330300', 'sup-1')}"}
    response = await api.get(f"/console/documents/{NOTICE.document_id}", headers=cookie)
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    (entry,) = store.audited
    assert (entry["actor"], entry["action"], entry["target"]) == ("sup-1", "document.read", NOTICE.document_id)


async def test_an_applicant_reading_their_own_document_is_not_audited(api: httpx.AsyncClient, store: FakeStore) -> None:
    headers = {**bearer(Role.APPLICANT, None, "eid-1"), "Accept": "application/json"}
    assert (await api.get(f"/v1/documents/{PERMIT.document_id}", headers=headers)).status_code == 200
    assert store.audited == []


async def test_a_document_of_another_district_is_not_found_and_not_read(
    api: httpx.AsyncClient, store: FakeStore
) -> None:
    headers = {**bearer(Role.TRANSPORT_CLERK, "330381"), "Accept": "application/json"}
    assert (await api.get(f"/v1/documents/{PERMIT.document_id}", headers=headers)).status_code == 404
    assert store.audited == []
