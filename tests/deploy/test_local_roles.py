"""`make run` and the drills' local stack, like compose: migrations as the database's owner, the
API and the worker as the application's role, which the migration creates (store/db.py)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from devstack.processes import APP_ROLE, LocalStack, database_roles

OWNER_URL = "postgresql://postgres:@/postgres?host=/tmp/pgserver"  # pgserver's form


def test_migrations_connect_as_the_owner_and_the_processes_as_the_application_role() -> None:
    roles = database_roles(OWNER_URL, "fresh-password")
    assert roles["MIGRATION_DATABASE_URL"] == OWNER_URL
    app = urlsplit(roles["DATABASE_URL"])
    assert (app.username, app.password) == (APP_ROLE, "fresh-password")
    assert roles["DATABASE_URL"].endswith("@/postgres?host=/tmp/pgserver")


def test_the_local_stack_starts_its_processes_as_the_application_role(tmp_path: Path) -> None:
    stack = LocalStack(tmp_path, database_url=OWNER_URL)
    processes = stack.service_env()
    assert urlsplit(processes["DATABASE_URL"]).username == APP_ROLE
    assert processes.get("MIGRATION_DATABASE_URL") != OWNER_URL
    assert stack.roles() == {"MIGRATION_DATABASE_URL": OWNER_URL, "DATABASE_URL": processes["DATABASE_URL"]}
    assert stack.roles() == stack.roles()  # one password for the stack's life: a restarted process signs in again
