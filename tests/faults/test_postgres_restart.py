"""PostgreSQL restarted under load: on a throwaway cluster of our own (port 5440, created with
pg_createcluster and dropped afterwards; the shared server on 5432 is never touched).

While the database restarts, requests must fail cleanly (an error page within 2 s, never a
hang); afterwards every request succeeds again without restarting the web or worker processes,
and every click the landing page accepted reaches the database exactly once."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.faults.harness import ROOT, Browser, RedisServer, Stack, wait_for

CLUSTER = ("15", "crfault")
PORT = 5440
DB_URL = f"postgres://postgres@127.0.0.1:{PORT}/careerrelay_fault"


def _ready() -> bool:
    return (
        subprocess.run(  # noqa: S603
            ["pg_isready", "-q", "-h", "127.0.0.1", "-p", str(PORT)],  # noqa: S607
            timeout=10,
        ).returncode
        == 0
    )


pytestmark = [
    pytest.mark.worker,
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("pg_createcluster") is None or os.geteuid() != 0,
        reason="needs Debian's pg_createcluster as root (the CI image has it)",
    ),
]


def _run(*argv: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(  # noqa: S603
        list(argv), capture_output=True, text=True, timeout=300, env=env, cwd=ROOT
    )
    assert result.returncode == 0, f"{argv}: {result.stdout[-2000:]} {result.stderr[-3000:]}"
    return result.stdout


@pytest.fixture
def cluster() -> Any:
    version, name = CLUSTER
    subprocess.run(["pg_dropcluster", "--stop", version, name], capture_output=True)  # noqa: S603, S607
    _run(
        "pg_createcluster", version, name, "-p", str(PORT), "--start",
        "--", "--auth=trust", "--no-sync",
    )  # fmt: skip
    try:
        _run("psql", "-h", "127.0.0.1", "-p", str(PORT), "-U", "postgres", "-c",
             "CREATE DATABASE careerrelay_fault")  # fmt: skip
        yield
    finally:
        subprocess.run(["pg_dropcluster", "--stop", version, name], capture_output=True)  # noqa: S603, S607


SEED = """
import django
django.setup()
from tests.factories import AgencyFactory, CompanyFactory, CompanyMemberFactory
from tests.factories import PartnershipFactory, UserFactory
from referrals.models import ReferralLink
from allauth.account.models import EmailAddress
co = CompanyFactory(slug="pg-co"); ag = AgencyFactory(slug="pg-ag")
p = PartnershipFactory(company=co, agency=ag)
ReferralLink.all_objects.create(company=co, agency=ag, partnership=p, label="pg",
                                token="pgrestarttoken0123456789abcd")
u = UserFactory(email="hr@pg.example")
CompanyMemberFactory(company=co, user=u)
EmailAddress.objects.create(user=u, email=u.email, verified=True, primary=True)
"""

COUNT = """
import django
django.setup()
from referrals.models import Click
print(Click.all_objects.count(), Click.all_objects.values("uid").distinct().count())
"""


def test_postgres_restart_under_load_fails_cleanly_and_recovers(
    cluster: None, tmp_path: Path
) -> None:
    redis = RedisServer(tmp_path)
    redis.start()
    # The load sends ~20 candidate-page views a second from one address, above the flood limit.
    stack = Stack(
        redis=redis,
        tmp=tmp_path,
        database_url=DB_URL,
        extra_env={"CLICK_FLOOD_PER_MINUTE": "100000"},
    )
    env = {**stack.env(), "CONN_MAX_AGE": "60"}  # persistent connections, as in production
    try:
        _run(sys.executable, "manage.py", "migrate", "--noinput", env=env)
        _run(sys.executable, "-c", SEED, env=env)
        os.environ["CONN_MAX_AGE"] = "60"
        try:
            stack.start_web()
            stack.start_worker()
            stack.start_beat()
        finally:
            os.environ.pop("CONN_MAX_AGE", None)
        base = f"http://127.0.0.1:{stack.web_port}"
        hr = Browser(base)
        hr.get("/accounts/login/")
        status, _, _ = hr.post(
            "/accounts/login/", {"login": "hr@pg.example", "password": "test-password-123"}
        )
        assert status == 302

        results: list[tuple[float, str, int, float]] = []
        stop = threading.Event()

        def load(path: str, browser: Browser) -> None:
            while not stop.is_set():
                try:
                    status, _, took = browser.request("GET", path, timeout=10)
                except Exception:  # a hang past 10 s or a reset connection
                    status, took = -1, 10.0
                results.append((time.monotonic(), path, status, took))
                time.sleep(0.05)

        threads = [
            threading.Thread(target=load, args=("/r/pgrestarttoken0123456789abcd/", Browser(base))),
            threading.Thread(target=load, args=("/app/", hr)),
            threading.Thread(target=load, args=("/api/v1/partnerships/", hr)),
        ]
        for t in threads:
            t.start()
        time.sleep(3)
        restart_at = time.monotonic()
        _run("pg_ctlcluster", *CLUSTER, "restart", "-m", "fast")
        assert wait_for(_ready, timeout=60, interval=0.5)
        back_at = time.monotonic()
        time.sleep(8)
        stop.set()
        for t in threads:
            t.join(timeout=20)

        during = [r for r in results if restart_at <= r[0] <= back_at + 1]
        # Recovered: once the server accepts connections again (pg_isready), every request a
        # few seconds later succeeds, without restarting web or worker.
        after = [r for r in results if r[0] > back_at + 3]
        assert results
        hung = [r for r in results if r[2] == -1 or r[3] > 2.0]
        assert not hung, hung[:10]
        assert all(r[2] in (200, 500, 503) for r in during), during[:10]
        assert after
        failed_after = [r for r in after if r[2] != 200]
        assert not failed_after, failed_after[:10]

        # Every landing page that answered 200 captured a click: all of them arrive, once.
        served = sum(1 for r in results if r[1].startswith("/r/") and r[2] == 200)

        def arrived() -> bool:
            stack.supervise()
            out = _run(sys.executable, "-c", COUNT, env=env).split()
            return int(out[0]) >= served

        assert wait_for(arrived, timeout=60, interval=2), stack.log("worker")[-2000:]
        total, unique = (int(x) for x in _run(sys.executable, "-c", COUNT, env=env).split())
        errors = sum(1 for r in during if r[2] != 200)
        print(  # noqa: T201
            f"\npostgres restart: {len(results)} requests, {errors} clean errors during the "
            f"restart, {len(after)} after (all 200), clicks {total}/{served}, restarts "
            f"{stack.restarts}"
        )
        assert total == served
        assert unique == total
    finally:
        stack.stop_all()
        redis.stop()
