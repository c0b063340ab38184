"""The applicant's app over HTTP without a stack: the app over a fake store that records what
would be kept (scans, applications, audit entries), signed in as an applicant."""

from __future__ import annotations

import hashlib
import re
import uuid
from types import SimpleNamespace
from typing import Any

import httpx
from temporalio.exceptions import ApplicationError

from adapters.models import Identity
from api.app import create_app
from api.applicant.session import SESSION_COOKIE
from api.auth import Principal, Role, issue_token
from config import Settings
from domain import errors
from domain.calendar import WorkingDayCalendar, official_schedules
from drills.people import new_citizen, new_vehicle
from store.applications import ApplicationRow, Reservation
from store.materials import Material
from tests.support_settings import settings_for_tests

SETTINGS = settings_for_tests(app_env="development")
APPLICANT = Principal("eid-applicant-1", Role.APPLICANT)
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
PDF = b"%PDF-1.4\n% scan\n"


class FakeStore:
    """What the services keep, recorded; the applications listed are `views`."""

    def __init__(self) -> None:
        self.saved_materials: list[Material] = []
        self.reserved: list[dict[str, Any]] = []
        self.audited: list[dict[str, Any]] = []
        self.rows: dict[str, ApplicationRow] = {}
        self.hits = 1  # what the rate limits count for every call
        self.applicants = SimpleNamespace(get=self._applicant, save=self._save_applicant)
        self.materials = SimpleNamespace(save=self._save_material, get=self._material)
        self.applications = SimpleNamespace(
            list=self._list, get=self._get, reserve=self._reserve, mark_started=self._mark_started
        )
        self.calendar = SimpleNamespace(load=self._calendar)
        self.rate_limits = SimpleNamespace(hit=self._hit)
        self.audit = SimpleNamespace(record=self._record)
        self.ratings = SimpleNamespace(for_application=self._no_rating)  # an ended application is not rated

    async def _no_rating(self, application_id: str) -> None:
        return None

    async def _applicant(self, sub: str) -> dict[str, str] | None:
        return {"name": "张三", "id_number": "330302199001011235", "phone": "13800138000"}

    async def _save_applicant(self, *args: Any) -> None:
        return None

    async def _save_material(self, owner_sub: str, kind: str, content_type: str, content: bytes) -> Material:
        sha = hashlib.sha256(content).hexdigest()
        material = Material(str(uuid.uuid4()), owner_sub, kind, content_type, len(content), sha)
        self.saved_materials.append(material)
        return material

    async def _material(self, material_id: str) -> Material | None:
        return next((m for m in self.saved_materials if m.material_id == material_id), None)

    async def _list(self, query: Any) -> tuple[list[dict[str, Any]], int]:
        views = [row.view for row in self.rows.values() if row.applicant_sub == query.applicant_sub]
        return views, len(views)

    async def _get(self, application_id: str) -> ApplicationRow | None:
        return self.rows.get(application_id)

    async def _reserve(self, **reservation: Any) -> Reservation:
        self.reserved.append(reservation)
        row = ApplicationRow(
            reservation["application_id"],
            reservation["workflow_id"],
            reservation["applicant_sub"],
            reservation["district"],
            "submitted",
            reservation["view"],
            reservation["start_input"],
        )
        self.rows[row.application_id] = row
        return Reservation(row, True)

    async def _mark_started(self, application_id: str) -> None:
        return None

    async def _calendar(self) -> WorkingDayCalendar:
        return WorkingDayCalendar(official_schedules())

    async def _hit(self, key: str, window_s: int) -> tuple[int, int]:
        return self.hits, 60

    async def _record(self, **entry: Any) -> None:
        self.audited.append(entry)


class FakeTemporal:
    """Starts nothing; an update is recorded (its name and argument) and answers with `answer`."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.updates: list[tuple[str, Any]] = []
        self.answer: dict[str, Any] = {}

    async def start_workflow(self, *args: Any, id: str, **kwargs: Any) -> None:
        self.started.append(id)

    def get_workflow_handle(self, workflow_id: str) -> Any:
        async def execute_update(update: Any, *args: Any, rpc_timeout: Any) -> dict[str, Any]:
            self.updates.append((update.__name__, args[0] if args else None))
            return self.answer

        return SimpleNamespace(execute_update=execute_update)


def add_application(store: FakeStore, view: dict[str, Any], applicant_sub: str = APPLICANT.sub) -> str:
    """An application of `applicant_sub` whose read model is `view`."""
    application_id = view["application_id"]
    workflow_id = f"permit-{application_id}"
    store.rows[application_id] = ApplicationRow(
        application_id, workflow_id, applicant_sub, "330382", view["status"], view, None
    )
    return application_id


class FakeEid:
    """An e-ID service that knows one QR token, for 张三."""

    def __init__(self) -> None:
        self.verified: list[str] = []

    async def verify(self, qr_token: str) -> Identity:
        self.verified.append(qr_token)
        if qr_token != "qr-token-of-zhang-san":
            raise ApplicationError("unknown QR token", type=errors.EID_TOKEN_INVALID, non_retryable=True)
        return Identity("张三", "330302199001011235", "13800138000")


def client_for(
    store: FakeStore,
    *,
    signed_in: bool = True,
    settings: Settings = SETTINGS,
    departments: Any = None,
    temporal: FakeTemporal | None = None,
    base_url: str = "http://api",
    **changes: Any,
) -> httpx.AsyncClient:
    """The app without its lifespan, over the fake store (and by default a fake e-ID service)."""
    current = settings.model_copy(update=changes)
    app = create_app(current)
    departments = departments or SimpleNamespace(eid=FakeEid())
    temporal = temporal or FakeTemporal()
    app.state.resources = SimpleNamespace(settings=current, store=store, client=temporal, departments=departments)
    cookies = {SESSION_COOKIE: issue_token(current, APPLICANT)} if signed_in else {}
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=base_url, cookies=cookies)


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def field_errors(html: str) -> dict[str, str]:
    """The inline message of each field: `<p id="<field>-error" ... role="alert">`."""
    return dict(re.findall(r'<p id="([a-z_]+)-error" class="field-error" role="alert">([^<]+)</p>', html))


def a_vehicle() -> dict[str, Any]:
    return new_vehicle(new_citizen())
