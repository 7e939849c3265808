"""Start and stop a real Celery worker subprocess for integration tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from careerrelay.celery import app

ROOT = Path(__file__).resolve().parent.parent


def worker_env() -> dict[str, str]:
    env = dict(os.environ)
    db = connection.settings_dict
    if settings.USING_POSTGRES:
        env["DATABASE_URL"] = (
            f"postgres://{db['USER']}:{db.get('PASSWORD') or ''}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        )
    env["DJANGO_SETTINGS_MODULE"] = "careerrelay.settings.test"
    env["CELERY_TASK_ALWAYS_EAGER"] = "false"
    return env


def start_worker(*, concurrency: int = 2, timeout: float = 30.0) -> subprocess.Popen[Any]:
    if not settings.REDIS_URL or not settings.USING_POSTGRES:
        pytest.skip("a real worker needs REDIS_URL and PostgreSQL (always set in CI)")
    app.conf.task_always_eager = False
    app.control.purge()
    proc = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
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
            str(concurrency),
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"test-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=worker_env(),
        start_new_session=True,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the Celery worker exited during start-up")
        replies = app.control.ping(timeout=0.5)
        if replies:
            return proc
    stop_worker(proc)
    raise RuntimeError("the Celery worker did not answer a ping in time")


def stop_worker(proc: subprocess.Popen[Any], *, kill: bool = False) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL if kill else signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER
