"""Session-wide real parts: Temporal servers from the venv's PyPI binaries and PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment

from tests.support_settings import settings_for_tests
from tests.support_temporal import BIN
from workers.temporal import data_converter
from workflows import search_attributes


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
