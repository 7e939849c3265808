"""Real processes for fault injection: our own redis-server on a spare port (never the shared
one), gunicorn, a Celery worker and beat, all reading the test database.

Every process is started in its own session and stopped by its own pid (process group)."""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def _stop(proc: subprocess.Popen[Any] | None, sig: int = signal.SIGTERM) -> None:
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


class RedisServer:
    """A private redis-server with an append-only file, so a restart keeps what it acked."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.dir = workdir
        self.proc: subprocess.Popen[Any] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(  # noqa: S603
            [
                "/usr/bin/redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.dir),
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_port(self.port)

    def kill(self) -> None:
        _stop(self.proc, signal.SIGKILL)

    def stop(self) -> None:
        _stop(self.proc)


@dataclass
class Stack:
    """Web, worker and beat processes on one Redis and the test database."""

    redis: RedisServer
    tmp: Path
    web_port: int = field(default_factory=free_port)
    procs: dict[str, subprocess.Popen[Any]] = field(default_factory=dict)
    logs: dict[str, Path] = field(default_factory=dict)
    restarts: dict[str, int] = field(default_factory=dict)
    schedulers: dict[str, str] = field(default_factory=dict)
    database_url: str = ""
    # Settings for every process, e.g. a higher flood limit for a test that sends many
    # candidate-page views from one address.
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def mail_dir(self) -> Path:
        return self.tmp / "mail"

    @property
    def mark_file(self) -> Path:
        return self.tmp / "marks.log"

    def marks(self, what: str = "effect") -> list[str]:
        """The keys of the `faults.mark` task's runs or effects ("run", "effect"), in order."""
        if not self.mark_file.exists():
            return []
        lines = [line.split() for line in self.mark_file.read_text().splitlines()]
        return [fields[1] for fields in lines if fields and fields[0] == what]

    def env(self) -> dict[str, str]:
        d = connection.settings_dict
        env = dict(os.environ)
        env.update(
            DJANGO_SETTINGS_MODULE="tests.faults.fault_settings",
            DATABASE_URL=self.database_url
            or (
                f"postgres://{d['USER']}:{d.get('PASSWORD') or ''}@{d['HOST'] or '127.0.0.1'}:"
                f"{d['PORT'] or 5432}/{d['NAME']}"
            ),
            REDIS_URL=self.redis.url,
            CELERY_TASK_ALWAYS_EAGER="false",
            FAULT_MAIL_DIR=str(self.mail_dir),
            FAULT_MARK_FILE=str(self.mark_file),
            PYTHONPATH=str(ROOT),
            BEAT_LEADER_TTL="6",
        )
        env.update(self.extra_env)
        return env

    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen[Any]:
        self.mail_dir.mkdir(exist_ok=True)
        log = self.tmp / f"{name}.log"
        self.logs[name] = log
        handle = log.open("ab")
        proc = subprocess.Popen(  # noqa: S603
            argv,
            cwd=ROOT,
            env=self.env(),
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs[name] = proc
        return proc

    def start_web(self) -> None:
        self._spawn(
            "web",
            [
                sys.executable,
                "-m",
                "gunicorn",
                "careerrelay.wsgi:application",
                "-b",
                f"127.0.0.1:{self.web_port}",
                "-w",
                "2",
                "--threads",
                "4",
                "--timeout",
                "30",
            ],
        )
        wait_port(self.web_port, timeout=30)

    def start_worker(self, name: str = "worker") -> None:
        self._spawn(
            name,
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "careerrelay",
                "worker",
                "-l",
                "info",
                "--pool",
                "prefork",
                "--concurrency",
                "2",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"{name}-{os.getpid()}@%h",
            ],
        )

    def start_beat(self, name: str = "beat", scheduler: str = "") -> None:
        self.schedulers[name] = scheduler
        extra = ["--scheduler", scheduler] if scheduler else []
        self._spawn(
            name,
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "careerrelay",
                "beat",
                "-l",
                "info",
                "-s",
                str(self.tmp / f"{name}-schedule"),
                "--pidfile",
                str(self.tmp / f"{name}.pid"),
                *extra,
            ],
        )

    def supervise(self) -> list[str]:
        """Restart a worker or beat that exited, as the process supervisor does in production
        (docker compose `restart: unless-stopped`). Returns the names restarted."""
        restarted = []
        for name, proc in list(self.procs.items()):
            if proc.poll() is None or name == "web":
                continue
            self.restarts[name] = self.restarts.get(name, 0) + 1
            if name.startswith("beat"):
                self.start_beat(name, self.schedulers.get(name, ""))
            else:
                self.start_worker(name)
            restarted.append(name)
        return restarted

    def kill(self, name: str) -> None:
        _stop(self.procs.get(name), signal.SIGKILL)

    def stop(self, name: str) -> None:
        _stop(self.procs.get(name))

    def stop_all(self) -> None:
        for name in list(self.procs):
            _stop(self.procs[name])

    def log(self, name: str) -> str:
        path = self.logs.get(name)
        return path.read_text(errors="replace") if path and path.exists() else ""

    def mails(self) -> list[str]:
        if not self.mail_dir.exists():
            return []
        out = []
        for path in sorted(self.mail_dir.iterdir()):
            text = path.read_text(errors="replace")
            out += [m for m in text.split("-" * 79) if "Subject:" in m]
        return out


class Browser:
    """A cookie-keeping HTTP client for the web process, with Django's CSRF dance."""

    def __init__(self, base: str, *, ip: str = "127.0.0.1") -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect()
        )
        self.ip = ip

    def csrf(self) -> str:
        for cookie in self.jar:
            if cookie.name == "csrftoken":
                return cookie.value or ""
        return ""

    def request(
        self, method: str, path: str, data: dict[str, Any] | None = None, timeout: float = 10
    ) -> tuple[int, str, float]:
        body = None
        headers = {"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X)"}
        if data is not None:
            form = {"csrfmiddlewaretoken": self.csrf(), **data}
            body = urllib.parse.urlencode(form, doseq=True).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = self.base + path
            headers["Origin"] = self.base
        req = urllib.request.Request(self.base + path, data=body, method=method, headers=headers)  # noqa: S310
        started = time.monotonic()
        try:
            with self.opener.open(req, timeout=timeout) as resp:
                text = resp.read().decode("utf-8", "replace")
                status = resp.status
        except urllib.error.HTTPError as exc:
            text = exc.read().decode("utf-8", "replace")
            status = exc.code
        return status, text, time.monotonic() - started

    def get(self, path: str) -> tuple[int, str, float]:
        return self.request("GET", path)

    def post(self, path: str, data: dict[str, Any]) -> tuple[int, str, float]:
        return self.request("POST", path, data)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def wait_for(predicate: Any, timeout: float, interval: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def count_lines(text: str, pattern: str) -> int:
    return len(re.findall(pattern, text))
