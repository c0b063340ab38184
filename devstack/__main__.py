"""`make run`: the whole system on embedded defaults, in order, stopped cleanly by Ctrl-C.

Development only (APP_ENV=development, which `make run` sets): the development secrets and
surfaces are on, which no other environment accepts.

Temporal dev server (SQLite under .data/, WAL, search attributes, Web UI :8233) →
PostgreSQL (DATABASE_URL, else embedded pgserver under .data/) → migrations →
sandbox :8001 → one worker → API :8000. A second run resumes the same data.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from pgserver.postgres_server import PostgresServer, get_server

from config import get_settings
from devstack import data_shape
from devstack.processes import APP_ROLE, database_roles, port_in_use, temporal_args, wait_for_port
from workflows import WORKFLOW_SHAPE_VERSION

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data"

TEMPORAL_PORT = int(os.environ.get("TEMPORAL_PORT", "7233"))
TEMPORAL_UI_PORT = int(os.environ.get("TEMPORAL_UI_PORT", "8233"))
SANDBOX_PORT = int(os.environ.get("SANDBOX_PORT", "8001"))
API_PORT = int(os.environ.get("API_PORT", "8000"))


def say(text: str) -> None:
    print(f"[make run] {text}", flush=True)


class Stack:
    def __init__(self) -> None:
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.pg: PostgresServer | None = None
        (DATA / "logs").mkdir(parents=True, exist_ok=True)

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        with open(DATA / "logs" / f"{name}.log", "ab") as log:  # the child keeps its own descriptor
            proc = subprocess.Popen(
                args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.procs.append((name, proc))
        return proc

    def database_url(self) -> str:
        url = os.environ.get("DATABASE_URL")
        if url:
            say("PostgreSQL: DATABASE_URL")
            return url
        say("PostgreSQL: embedded pgserver under .data/postgres")
        self.pg = get_server(DATA / "postgres", cleanup_mode="stop")
        return str(self.pg.get_uri("postgres"))

    def stop(self) -> None:
        for _, proc in reversed(self.procs):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for name, proc in reversed(self.procs):
            try:
                proc.wait(timeout=25)
            except subprocess.TimeoutExpired:
                say(f"{name} did not stop in time; killing it")
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if self.pg is not None:
            self.pg._cleanup()
        say("stopped; data kept under .data/")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> None:
    if os.environ.get("APP_ENV") != "development":
        raise SystemExit("[make run] the local stack runs with APP_ENV=development: start it with `make run`")
    settings = get_settings()
    refused = data_shape.mismatch(DATA, WORKFLOW_SHAPE_VERSION)
    if refused:
        raise SystemExit(f"[make run] {refused}")
    data_shape.record(DATA, WORKFLOW_SHAPE_VERSION)
    for port in (TEMPORAL_PORT, TEMPORAL_UI_PORT, SANDBOX_PORT, API_PORT):
        if port_in_use(port):
            raise SystemExit(f"port {port} is already in use; is another `make run` running?")
    stack = Stack()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)
    try:
        temporal = temporal_args(
            DATA / "temporal.sqlite", TEMPORAL_PORT, TEMPORAL_UI_PORT, f"http://127.0.0.1:{API_PORT}/codec"
        )
        say("starting the Temporal dev server")
        proc = stack.start("temporal", temporal, dict(os.environ))
        wait_for_port(TEMPORAL_PORT, "Temporal", proc)

        roles = database_roles(stack.database_url(), secrets.token_urlsafe(24))
        env = {
            **{name: value for name, value in os.environ.items() if name != "MIGRATION_DATABASE_URL"},
            "APP_ENV": "development",
            "DATABASE_URL": roles["DATABASE_URL"],
            "TEMPORAL_ADDRESS": f"127.0.0.1:{TEMPORAL_PORT}",
            "DEPARTMENTS_URL": f"http://127.0.0.1:{SANDBOX_PORT}",
            "API_PORT": str(API_PORT),
            "SANDBOX_PORT": str(SANDBOX_PORT),
            "SANDBOX_CALLBACK_BASE_URL": f"http://127.0.0.1:{API_PORT}",
            "SANDBOX_STATE_FILE": str(DATA / "sandbox-state.json"),
        }
        say(f"applying migrations as the owner; the processes connect as {APP_ROLE}")
        subprocess.run([sys.executable, "-m", "store", "migrate"], cwd=ROOT, env={**env, **roles}, check=True)

        say("starting the department sandbox")
        proc = stack.start("sandbox", [sys.executable, "-m", "sandbox"], env)
        wait_for_port(SANDBOX_PORT, "sandbox", proc)
        say("starting one worker")
        stack.start("worker", [sys.executable, "-m", "workers"], env)
        say("starting the API")
        proc = stack.start("api", [sys.executable, "-m", "api"], env)
        wait_for_port(API_PORT, "API", proc)

        print(
            f"""
  API              http://127.0.0.1:{API_PORT}        (docs: /docs)
  Clerks' console  http://127.0.0.1:{API_PORT}/console
  Department sandbox http://127.0.0.1:{SANDBOX_PORT}    (docs: /docs)
  Temporal Web UI  http://127.0.0.1:{TEMPORAL_UI_PORT}
  Temporal gRPC    127.0.0.1:{TEMPORAL_PORT}
  Logs             .data/logs/
  Environment      {settings.app_env}

Ctrl-C stops everything; data stays under .data/.
""",
            flush=True,
        )
        while True:
            for name, proc in stack.procs:
                if proc.poll() is not None:
                    raise SystemExit(f"{name} exited with code {proc.returncode}; see .data/logs/{name}.log")
            time.sleep(1)
    except KeyboardInterrupt:
        say("stopping")
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
