"""The system as separate processes, as it runs in production: for `make run`, bench, chaos and scale.

`LocalStack` starts, in order, the Temporal dev server (SQLite file), PostgreSQL
(a given DATABASE_URL, or a private pgserver instance that can be stopped and
started), the migrations, the department sandbox, worker(s) and the API, each
logging to its own file. Any part can be killed and started again.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from store.db import url_as
from workflows.search_attributes import cli_flags

ROOT = Path(__file__).resolve().parent.parent
# The role the API and the worker connect as; the migration, as the owner, creates it (store/db.py).
APP_ROLE = "permit_app"
BIN = Path(sys.executable).parent


def client_limits(max_connections: int = 100) -> httpx.Limits:
    """Connection limits for the drivers' HTTP clients.

    uvicorn closes idle keep-alive connections after 5 s, httpx's default expiry; a client
    reusing one just then gets a ReadError. Expiring ours sooner avoids the race.
    """
    return httpx.Limits(max_connections=max_connections, keepalive_expiry=2.0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def port_in_use(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_for_port(port: int, what: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with code {proc.returncode}; see its log")
        if port_in_use(port):
            return
        time.sleep(0.1)
    raise SystemExit(f"{what} did not open port {port} within {timeout:.0f}s")


def memory_mb(pid: int) -> tuple[float, float]:
    """(current RSS, peak RSS) of a live process, in MiB, from /proc."""
    values = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of a process and its live descendants (0 once it is gone)."""
    stats = _process_stats()
    children: dict[int, list[int]] = {}
    for child, (parent, _) in stats.items():
        children.setdefault(parent, []).append(child)
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        if current in stats:
            total += stats[current][1]
            todo += children.get(current, [])
    return total


def _process_stats() -> dict[int, tuple[int, float]]:
    """pid -> (parent pid, user + system CPU seconds) of every live process, from /proc."""
    ticks_per_s = os.sysconf("SC_CLK_TCK")
    stats = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            line = (entry / "stat").read_text(encoding="ascii", errors="replace")
        except OSError:  # it ended meanwhile
            continue
        # After "pid (command) ": state, ppid, ... utime and stime are the 14th and 15th fields.
        fields = line[line.rindex(")") + 2 :].split()
        stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / ticks_per_s)
    return stats


def database_roles(owner_url: str, app_password: str) -> dict[str, str]:
    """The migration's database settings: the owner's URL to migrate with, and the URL of the
    application's role, which the migration creates (or gives `app_password` again) and the
    processes connect with."""
    return {"MIGRATION_DATABASE_URL": owner_url, "DATABASE_URL": url_as(owner_url, APP_ROLE, app_password)}


def temporal_args(db_file: Path, port: int, ui_port: int, codec_url: str | None) -> list[str]:
    """The dev server on a SQLite file (WAL), with the project's search attributes."""
    args = [
        str(BIN / "temporal"),
        "server",
        "start-dev",
        "--db-filename",
        str(db_file),
        "--sqlite-pragma",
        "journal_mode=wal",
        "--sqlite-pragma",
        "synchronous=1",
        "--port",
        str(port),
        "--ui-port",
        str(ui_port),
        "--ip",
        "127.0.0.1",
        "--ui-disable-news-fetch",
        "--log-level",
        "warn",
    ]
    if codec_url:
        args += ["--ui-codec-endpoint", codec_url]
    for name, kind in cli_flags().items():
        args += ["--search-attribute", f"{name}={kind}"]
    return args


class Processes:
    """Named child processes, each in its own session and with its own log file."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.running: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        with open(self.log_dir / f"{name.split('#', maxsplit=1)[0]}.log", "ab") as log:
            proc = subprocess.Popen(
                args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.running[name] = proc
        return proc

    def kill(self, name: str, sig: int = signal.SIGKILL, timeout: float = 25) -> None:
        """Send `sig` to the process group; SIGKILL if it has not exited within `timeout`."""
        proc = self.running.pop(name)
        if proc.poll() is None:
            os.killpg(proc.pid, sig)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def exited(self) -> list[tuple[str, int]]:
        return [(name, proc.returncode) for name, proc in self.running.items() if proc.poll() is not None]

    def stop_all(self) -> None:
        for name in reversed(list(self.running)):
            proc = self.running[name]
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for name in reversed(list(self.running)):
            self.kill(name, signal.SIGTERM)


def _pg_ctl() -> Callable[..., str]:
    """pgserver's pg_ctl runner (pgserver makes its command functions at import, untyped)."""
    from pgserver._commands import create_command_function

    return create_command_function("pg_ctl")


class PrivatePostgres:
    """A PostgreSQL server of our own (pgserver's binaries) that a drill may stop and start."""

    def __init__(self, pgdata: Path) -> None:
        from pgserver.postgres_server import get_server

        self.server = get_server(pgdata, cleanup_mode="stop")
        self.pgdata = pgdata
        self._start_args = self._recorded_start_args()

    def uri(self) -> str:
        return self.server.get_uri("postgres")

    def _recorded_start_args(self) -> list[str]:
        info = self.server.get_postmaster_info()
        return ["-w", "-o", '-h ""', "-o", f"-k {info.socket_dir}", "-l", str(self.server.log), "start"]

    def stop(self) -> None:
        _pg_ctl()(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self.server.system_user)

    def start(self) -> None:
        _pg_ctl()(self._start_args, pgdata=self.pgdata, user=self.server.system_user, timeout=30)

    def close(self) -> None:
        self.server._cleanup()
        if (self.pgdata / "postmaster.pid").exists():  # started again by `start`, which pgserver does not know of
            self.stop()


@dataclass
class LocalStack:
    """The whole system on free ports under `data_dir`; every part can be stopped and started again."""

    data_dir: Path
    database_url: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    sandbox_env: dict[str, str] = field(default_factory=dict)
    temporal_port: int = field(default_factory=free_port)
    temporal_ui_port: int = field(default_factory=free_port)
    sandbox_port: int = field(default_factory=free_port)
    api_port: int = field(default_factory=free_port)
    app_password: str = field(default_factory=lambda: secrets.token_urlsafe(24))

    @classmethod
    def fresh(cls, data_dir: Path, **kwargs: object) -> LocalStack:
        """A stack on an empty `data_dir`: whatever an earlier run left there is removed."""
        shutil.rmtree(data_dir, ignore_errors=True)
        return cls(data_dir, **kwargs)  # type: ignore[arg-type]

    def __post_init__(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.processes = Processes(self.data_dir / "logs")
        self.postgres: PrivatePostgres | None = None
        self.workers = 0
        self.api_ports = [self.api_port]

    @property
    def api_url(self) -> str:
        """The first API process (the one the sandbox calls back)."""
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def api_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.api_ports]

    @property
    def sandbox_url(self) -> str:
        return f"http://127.0.0.1:{self.sandbox_port}"

    @property
    def running_database_url(self) -> str:
        """The database in use once started: the one given, or the private PostgreSQL."""
        if self.database_url is None:
            raise RuntimeError("the stack has not started its database")
        return self.database_url

    @property
    def temporal_address(self) -> str:
        return f"127.0.0.1:{self.temporal_port}"

    def roles(self) -> dict[str, str]:
        """Migrations as the owner (`running_database_url`), the processes as the application's role."""
        return database_roles(self.running_database_url, self.app_password)

    def service_env(self) -> dict[str, str]:
        return {
            **os.environ,
            "APP_ENV": "development",
            "LOG_LEVEL": "WARNING",
            "DATABASE_URL": self.roles()["DATABASE_URL"] if self.database_url else "",
            "TEMPORAL_ADDRESS": self.temporal_address,
            "DEPARTMENTS_URL": self.sandbox_url,
            "API_PORT": str(self.api_port),
            "WORKER_METRICS_BIND": "",
            **self.env,
        }

    def start(self, workers: int = 1, apis: int = 1) -> None:
        self.start_temporal()
        if self.database_url is None:
            self.postgres = PrivatePostgres(self.data_dir / "postgres")
            self.database_url = self.postgres.uri()
        migration_env = {**self.service_env(), **self.roles()}
        subprocess.run([sys.executable, "-m", "store", "migrate"], cwd=ROOT, env=migration_env, check=True)
        self.start_sandbox()
        for _ in range(workers):
            self.start_worker()
        self.api_ports += [free_port() for _ in range(apis - len(self.api_ports))]
        for index in range(apis):
            self.start_api(index)

    def start_temporal(self) -> None:
        args = temporal_args(self.data_dir / "temporal.sqlite", self.temporal_port, self.temporal_ui_port, None)
        proc = self.processes.start("temporal", args, dict(os.environ))
        wait_for_port(self.temporal_port, "the Temporal dev server", proc)

    def start_sandbox(self) -> None:
        env = {
            **os.environ,
            "SANDBOX_PORT": str(self.sandbox_port),
            "SANDBOX_CALLBACK_BASE_URL": self.api_url,
            "SANDBOX_VEHICLE_ADMIN_DELAY_S": "0",
            "SANDBOX_COURIER_DELAY_S": "0",
            **self.sandbox_env,
        }
        proc = self.processes.start("sandbox", [sys.executable, "-m", "sandbox"], env)
        wait_for_port(self.sandbox_port, "the sandbox", proc)

    def start_worker(self) -> str:
        name = f"worker#{self.workers}"
        self.workers += 1
        self.processes.start(name, [sys.executable, "-m", "workers"], self.service_env())
        return name

    def start_api(self, index: int = 0) -> str:
        """Start API process `index` on its own port (the same port when it is started again)."""
        name, port = f"api#{index}", self.api_ports[index]
        env = {**self.service_env(), "API_PORT": str(port)}
        proc = self.processes.start(name, [sys.executable, "-m", "api"], env)
        wait_for_port(port, f"API process {index}", proc)
        return name

    def cpu_by_part(self) -> dict[str, float]:
        """CPU seconds used so far by each part of the stack (PostgreSQL only when private)."""
        parts = {name.split("#")[0]: 0.0 for name in self.processes.running}
        for name, proc in self.processes.running.items():
            parts[name.split("#")[0]] += cpu_seconds(proc.pid)
        if self.postgres is not None and (pid := self.postgres.server.get_pid()):
            parts["postgres"] = cpu_seconds(pid)
        return parts

    def worker_pids(self) -> list[int]:
        return [proc.pid for name, proc in self.processes.running.items() if name.startswith("worker#")]

    def stop(self) -> None:
        self.processes.stop_all()
        if self.postgres is not None:
            self.postgres.close()
