"""The production shape on loopback: its own Redis, its own PostgreSQL database on the shared
server, gunicorn, a Celery worker and beat. Every process is started in its own session so that
it (and only it) can be stopped or killed as a group."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(
    port: int, *, timeout: float = 30.0, proc: subprocess.Popen[Any] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process {proc.args!r} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def stop_group(
    proc: subprocess.Popen[Any] | None, *, kill: bool = False, timeout: float = 20
) -> None:
    """Stop the process group the harness started (never anything else)."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGKILL if kill else signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


# --- /proc helpers (no psutil needed) ---------------------------------------------------------


def _status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return 0
    return 0


def rss_mb(pid: int) -> float:
    return _status_kb(pid, "VmRSS") / 1024


def peak_rss_mb(pid: int) -> float:
    """VmHWM: the peak resident set size of the process since it started."""
    return _status_kb(pid, "VmHWM") / 1024


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        # The command name is in parentheses and may contain spaces: split after the last ')'.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def mem_total_gb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 1024 / 1024, 1)
    return 0.0


# --- services ---------------------------------------------------------------------------------


@dataclass
class Redis:
    port: int
    proc: subprocess.Popen[Any] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, workdir: Path) -> None:
        self.proc = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(workdir),
                "--loglevel",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_port(self.port, proc=self.proc)

    def stop(self) -> None:
        stop_group(self.proc)


@dataclass
class Database:
    """A database of its own on the shared PostgreSQL server: created fresh, dropped after."""

    admin_url: str
    name: str

    @property
    def url(self) -> str:
        parts = urllib.parse.urlsplit(self.admin_url)
        return urllib.parse.urlunsplit(parts._replace(path="/" + self.name))

    def _admin(self) -> Any:
        import psycopg

        parts = urllib.parse.urlsplit(self.admin_url)
        url = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
        return psycopg.connect(url, autocommit=True)

    def create(self) -> None:
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{self.name}"')

    def drop(self) -> None:
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            # The application role of create_app_role: its grants went with the database.
            conn.execute(f'DROP ROLE IF EXISTS "{self.name.lower()}_app"')

    def create_app_role(self) -> str:
        """After `migrate` (run as the owner, on self.url): the application's login role on this
        database, exactly as `manage.py db_app_role` makes it (neither owner nor superuser, no
        BYPASSRLS, row access to every table and sequence). Returns the DATABASE_URL that
        connects as it: give it to gunicorn, the worker and beat together with
        DATABASE_RLS=enforce (production's default) and without DATABASE_RLS_ALLOW_BYPASS.
        Idempotent; the role (`<database>_app`, cluster-wide) outlives the database."""
        import secrets

        import psycopg

        from careerrelay.core import rls

        role = f"{self.name}_app".lower()
        password = secrets.token_urlsafe(24)
        with psycopg.connect(self.url, autocommit=True) as conn:
            owner = conn.execute(
                "SELECT tableowner FROM pg_tables WHERE tablename = 'django_migrations'"
            ).fetchone()
            if owner is None:
                raise RuntimeError("migrate the bench database before creating the app role")
            for statement in rls.app_role_statements(role=role, owner=owner[0], database=self.name):
                conn.execute(statement)
            psycopg.ClientCursor(conn).execute(f'ALTER ROLE "{role}" PASSWORD %s', [password])
            problems = rls.role_problems(psycopg.ClientCursor(conn), role)
            if problems:
                raise RuntimeError("; ".join(problems))
        parts = urllib.parse.urlsplit(self.url)
        host = parts.hostname or "127.0.0.1"
        netloc = f"{role}:{password}@{host}:{parts.port or 5432}"
        return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


@dataclass
class Stack:
    """gunicorn + Celery worker (+ beat) on the bench settings."""

    env: dict[str, str]
    workdir: Path
    web_port: int = field(default_factory=free_port)
    web_workers: int = max(2, 2 * (os.cpu_count() or 1) + 1)
    worker_concurrency: int = max(2, os.cpu_count() or 1)
    web: subprocess.Popen[Any] | None = None
    worker: subprocess.Popen[Any] | None = None
    beat: subprocess.Popen[Any] | None = None
    worker_starts: int = 0

    def _log(self, name: str) -> Any:
        return (self.workdir / f"{name}.log").open("ab")

    def start_web(self) -> None:
        self.web = subprocess.Popen(
            [
                str(BIN / "python"),
                "-m",
                "gunicorn",
                "careerrelay.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.web_port}",
                "--workers",
                str(self.web_workers),
                "--worker-class",
                "sync",
                "--backlog",
                "2048",
                "--timeout",
                "60",
                "--worker-tmp-dir",
                "/dev/shm" if Path("/dev/shm").is_dir() else str(self.workdir),  # noqa: S108
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self._log("gunicorn"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_port(self.web_port, proc=self.web)
        # The master listens before its workers have imported Django; wait for all of them.
        deadline = time.monotonic() + 60
        while len(self.web_worker_pids()) < self.web_workers and time.monotonic() < deadline:
            time.sleep(0.2)

    def web_worker_pids(self) -> list[int]:
        return children(self.web.pid) if self.web and self.web.poll() is None else []

    def start_worker(self, *, timeout: float = 60.0) -> None:
        self.worker_starts += 1
        self.worker = subprocess.Popen(
            [
                str(BIN / "python"),
                "-m",
                "celery",
                "-A",
                "careerrelay",
                "worker",
                "-l",
                "warning",
                "--pool",
                "prefork",
                "--concurrency",
                str(self.worker_concurrency),
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"bench{self.worker_starts}-{os.getpid()}@%h",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self._log("worker"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        from careerrelay.celery import app

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.worker.poll() is not None:
                raise RuntimeError("the Celery worker exited during start-up (see worker.log)")
            if app.control.ping(timeout=0.5):
                return
        raise RuntimeError("the Celery worker did not answer a ping in time")

    def worker_pids(self) -> list[int]:
        if not self.worker or self.worker.poll() is not None:
            return []
        return [self.worker.pid, *children(self.worker.pid)]

    def kill_worker(self) -> None:
        """A crash: SIGKILL to the worker and its pool children, no chance to clean up."""
        stop_group(self.worker, kill=True)

    def stop_worker(self) -> None:
        stop_group(self.worker)

    def start_beat(self) -> None:
        self.beat = subprocess.Popen(
            [
                str(BIN / "python"),
                "-m",
                "celery",
                "-A",
                "careerrelay",
                "beat",
                "-l",
                "warning",
                "-s",
                str(self.workdir / "celerybeat-schedule"),
                "--pidfile",
                "",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self._log("beat"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop_beat(self) -> None:
        stop_group(self.beat)
        self.beat = None

    def stop_all(self) -> None:
        self.stop_beat()
        stop_group(self.worker)
        stop_group(self.web)
