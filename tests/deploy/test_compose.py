"""docker-compose.yml cannot run here (no Docker engine): parse it and check it against the code."""

from __future__ import annotations

import base64
import os
import re
import secrets
from pathlib import Path

import pytest
import yaml

from config import Settings
from devstack.processes import temporal_args
from sandbox.settings import SandboxSettings
from workflows import search_attributes

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES: dict = COMPOSE["services"]
APP_SERVICES = ("api", "worker", "sandbox", "migrate")
SECRETS = {
    "POSTGRES_PASSWORD",
    "AUTH_JWT_SECRET",
    "PAYLOAD_KEYS",
    "DATA_KEYS",
    "CALLBACK_SECRET_VEHICLE_ADMIN",
    "CALLBACK_SECRET_INSURANCE",
    "CALLBACK_SECRET_COURIER",
    "REGULATOR_SECRET",
    "DATA_DIGEST_KEY",
    "AUDIT_KEY",
    "POSTGRES_APP_PASSWORD",
}


def test_the_topology_is_complete() -> None:
    assert {"postgresql", "temporal", "temporal-ui", "api", "worker", "sandbox"} <= set(SERVICES)
    assert SERVICES["api"]["deploy"]["replicas"] == 2
    assert SERVICES["worker"]["deploy"]["replicas"] == 2
    assert SERVICES["postgresql"]["image"].startswith("postgres:16")


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_images_are_pinned(name: str) -> None:
    image = SERVICES[name]["image"]
    assert ":" in image and not image.endswith(":latest"), image


@pytest.mark.parametrize("name", ["postgresql", "temporal", "sandbox", "api"])
def test_long_running_services_have_healthchecks(name: str) -> None:
    assert SERVICES[name]["healthcheck"]["test"]


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_nothing_starts_before_what_it_needs_is_healthy(name: str) -> None:
    for needed, rule in (SERVICES[name].get("depends_on") or {}).items():
        assert needed in SERVICES
        if "healthcheck" in SERVICES[needed]:
            assert rule["condition"] == "service_healthy", (name, needed)
        else:
            assert rule["condition"] == "service_completed_successfully", (name, needed)
    if name in ("api", "worker"):
        assert {"temporal", "migrate"} <= set(SERVICES[name]["depends_on"])


@pytest.mark.parametrize("name", APP_SERVICES)
def test_environment_names_are_settings_the_code_reads(name: str) -> None:
    known = {field.upper() for field in Settings.model_fields}
    known |= {f"SANDBOX_{field.upper()}" for field in SandboxSettings.model_fields}
    assert set(SERVICES[name]["environment"]) <= known


def test_secrets_come_from_the_environment_and_fail_fast() -> None:
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    for secret in SECRETS:
        assert re.search(rf"\$\{{{secret}:\?", text), secret
    for name in APP_SERVICES:
        for key, value in SERVICES[name]["environment"].items():
            if key in SECRETS:
                assert str(value).startswith("${"), (name, key)


def test_ports_match_the_code() -> None:
    assert SERVICES["api"]["environment"]["API_PORT"] == str(Settings.model_fields["api_port"].default)
    assert SERVICES["sandbox"]["environment"]["SANDBOX_PORT"] == str(SandboxSettings().port)
    assert SERVICES["temporal-ui"]["ports"] == ["8233:8080"]
    assert SERVICES["api"]["environment"]["DEPARTMENTS_URL"].endswith(":8001")


def with_secrets(environment: dict[str, str]) -> dict[str, str]:
    """A service's environment as it starts: each `${NAME:?...}` given a strong value of its kind."""

    def strong(name: str) -> str:
        return (
            "k1:" + base64.b64encode(os.urandom(32)).decode() if name.endswith("_KEYS") else secrets.token_urlsafe(32)
        )

    return {key: re.sub(r"\$\{(\w+):\?[^}]*\}", lambda m: strong(m[1]), str(v)) for key, v in environment.items()}


@pytest.mark.parametrize("name", ["api", "worker", "migrate"])
def test_production_runs_with_production_settings(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert SERVICES[name]["environment"]["APP_ENV"] == "production"
    for field in Settings.model_fields:
        monkeypatch.delenv(field.upper(), raising=False)
    for key, value in with_secrets(SERVICES[name]["environment"]).items():
        monkeypatch.setenv(key, value)
    settings = Settings()  # refused if the service lacked a secret production will not default
    assert settings.app_env == "production" and not settings.is_development


def test_the_web_ui_passes_the_operators_token_to_the_codec() -> None:
    environment = SERVICES["temporal-ui"]["environment"]
    assert environment["TEMPORAL_CODEC_ENDPOINT"].endswith(":8000/codec")
    assert environment["TEMPORAL_CODEC_PASS_ACCESS_TOKEN"] == "true"
    assert environment["TEMPORAL_CORS_ORIGINS"] in Settings.model_fields["temporal_ui_origins"].default


def database_user(url: str) -> str:
    return url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[0]


def test_migrations_run_as_the_owner_and_the_processes_as_the_application_role() -> None:
    owner = SERVICES["postgresql"]["environment"]["POSTGRES_USER"]
    migrate = SERVICES["migrate"]["environment"]
    assert database_user(migrate["MIGRATION_DATABASE_URL"]) == owner
    app_role = database_user(migrate["DATABASE_URL"])  # the role the migration creates and grants
    assert app_role != owner
    for name in ("api", "worker"):
        environment = SERVICES[name]["environment"]
        assert database_user(environment["DATABASE_URL"]) == app_role, name
        assert "MIGRATION_DATABASE_URL" not in environment, name
        assert not [key for key, value in environment.items() if "POSTGRES_PASSWORD" in str(value)], name


def test_search_attributes_match_the_local_run() -> None:
    command = " ".join(SERVICES["temporal-search-attributes"]["command"])
    local = temporal_args(Path("temporal.sqlite"), 7233, 8233, None)
    registered = [local[i + 1] for i, flag in enumerate(local) if flag == "--search-attribute"]
    assert len(registered) == len(search_attributes.ALL) == 10  # the permit's eight, the follow-up's two
    for attribute in registered:
        assert attribute in command
