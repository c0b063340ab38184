"""Session-wide real parts: Temporal servers from the venv's PyPI binaries and PostgreSQL."""

from __future__ import annotations

import base64
import os
import secrets
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.testing import WorkflowEnvironment

from config import Settings
from workers.temporal import data_converter
from workflows import search_attributes

BIN = Path(sys.executable).parent


def settings_for_tests(**overrides) -> Settings:
    return Settings(app_env="test", **overrides)


def production_settings() -> Settings:
    """Production settings with strong, random secrets."""
    return Settings(
        app_env="production",
        database_url="postgresql://db/permit",
        auth_jwt_secret=secrets.token_urlsafe(48),
        payload_keys="p1:" + base64.b64encode(os.urandom(32)).decode(),
        callback_secret_vehicle_admin=secrets.token_urlsafe(32),
        callback_secret_insurance=secrets.token_urlsafe(32),
        callback_secret_courier=secrets.token_urlsafe(32),
        data_digest_key=secrets.token_urlsafe(32),
        data_keys="d1:" + base64.b64encode(os.urandom(32)).decode(),
    )


async def register_search_attributes(env: WorkflowEnvironment) -> None:
    await env.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=env.client.namespace,
            search_attributes={
                key.name: IndexedValueType.ValueType(key.indexed_value_type) for key in search_attributes.ALL
            },
        )
    )


@pytest.fixture(scope="session")
async def dev_server_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        data_converter=data_converter(settings_for_tests()),
        dev_server_existing_path=str(BIN / "temporal"),
        dev_server_log_level="error",
        search_attributes=search_attributes.ALL,
    )
    try:
        yield env
    finally:
        await env.shutdown()


ADMIN_DSN = os.environ.get("TEST_DATABASE_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
async def database_url() -> AsyncIterator[str]:
    """A fresh database on the machine's PostgreSQL (or an embedded pgserver), dropped at the end."""
    name = f"permit_test_{uuid.uuid4().hex[:10]}"
    embedded = None
    try:
        admin = await asyncpg.connect(ADMIN_DSN, timeout=5)
    except (OSError, asyncpg.PostgresError):
        import pgserver

        embedded = pgserver.get_server(Path(".data") / "pgtest", cleanup_mode="stop")
        admin = await asyncpg.connect(embedded.get_uri("postgres"))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        base = ADMIN_DSN if embedded is None else embedded.get_uri("postgres")
        yield _with_database(base, name)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def _with_database(dsn: str, name: str) -> str:
    head, sep, query = dsn.partition("?")
    return f"{head.rsplit('/', 1)[0]}/{name}{sep}{query}"
