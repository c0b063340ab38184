"""APP_ENV=development alone opens the development surfaces; "test" (staging) is held to production's rules."""

from __future__ import annotations

from types import SimpleNamespace

import httpx
import pytest

from api.app import create_app
from config import Settings
from tests.support_settings import settings_for_tests

STAFF = {"role": "supervisor", "sub": "anyone", "district": "330300"}


def client_for(settings: Settings) -> httpx.AsyncClient:
    """The app without its lifespan: none of these surfaces needs a database or Temporal."""
    app = create_app(settings)
    app.state.resources = SimpleNamespace(settings=settings)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://permit.example")


@pytest.mark.parametrize("app_env", ["test", "production"])
async def test_no_development_surface_outside_development(app_env: str) -> None:
    async with client_for(settings_for_tests(app_env=app_env)) as http:
        assert (await http.post("/v1/dev/token", json=STAFF)).status_code == 404
        identity = {"name": "张三", "id_number": "330302199001011235", "phone": "13800138000"}
        assert (await http.post("/v1/dev/identity", json=identity)).status_code == 404
        assert (await http.post("/codec/decode", json={"payloads": []})).status_code == 401
        sign_in = await http.get("/console/sign-in")
        assert sign_in.status_code == 200 and 'name="role"' not in sign_in.text
        cookies = sign_in.headers.get_list("set-cookie")
        assert cookies and all("secure" in cookie.lower() for cookie in cookies)


async def test_development_opens_them() -> None:
    async with client_for(settings_for_tests(app_env="development")) as http:
        token = await http.post("/v1/dev/token", json=STAFF)
        assert token.status_code == 200 and token.json()["access_token"]
        sign_in = await http.get("/console/sign-in")
        assert 'name="role"' in sign_in.text
        assert all("secure" not in cookie.lower() for cookie in sign_in.headers.get_list("set-cookie"))
