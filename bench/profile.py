"""Profile one page in-process (full middleware stack, bench settings) with pyinstrument.

    .venv/bin/python -m bench.profile landing|baseline|compare|dashboard|credits [N]

Creates its own small data set in the database `cr_bench_profile_<pid>` (BENCH_PROFILE_DB
overrides; dropped afterwards) and its own Redis, so several engineers can profile at once, then
prints the per-request wall time and the pyinstrument tree for N requests.
"""

from __future__ import annotations

import base64
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import procs

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    which = sys.argv[1] if len(sys.argv) > 1 else "landing"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    workdir = Path(tempfile.mkdtemp(prefix="cr-profile-"))
    server = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    db = procs.Database(
        server, os.environ.get("BENCH_PROFILE_DB", f"cr_bench_profile_{os.getpid()}")
    )
    redis = procs.Redis(procs.free_port())
    redis.start(workdir)
    db.create()
    keep = False
    try:
        os.environ.update(
            DJANGO_SETTINGS_MODULE="bench.settings",
            SECRET_KEY=secrets.token_urlsafe(48),
            PII_ENCRYPTION_KEYS=base64.urlsafe_b64encode(os.urandom(32)).decode(),
            PII_HMAC_KEY=secrets.token_urlsafe(48),
            ALLOWED_HOSTS="testserver",
            # In-process, as the database owner: row-level security open on purpose (the
            # benchmark's gunicorn and worker run enforced as the application role).
            DATABASE_RLS=os.environ.get("BENCH_PROFILE_RLS", "bypass"),
            DATABASE_RLS_ALLOW_BYPASS="true",
            DATABASE_URL=db.url,
            REDIS_URL=redis.url,
            EMAIL_URL="dummymail://",
            CELERY_TASK_ALWAYS_EAGER="false",
            LOG_LEVEL="WARNING",
            MEDIA_ROOT=str(workdir / "media"),
        )
        import django

        django.setup()
        from django.core.management import call_command
        from django.test import Client
        from pyinstrument import Profiler

        from bench import datagen
        from careerrelay.users.models import User

        call_command("migrate", verbosity=0, interactive=False)
        data = datagen.generate(datagen.Sizes(float(os.environ.get("BENCH_SCALE", "0.01"))))
        if which == "data":
            print(f"kept: {db.url} (drop it with DROP DATABASE)")
            keep = True
            return 0
        if which == "pdf":
            return profile_pdf(data, n)
        if which == "qualify":
            return profile_qualify(data, n)
        if which == "settle":
            return profile_settle(data)
        if which == "ingest":
            return profile_ingest(data, n)
        client = Client(HTTP_USER_AGENT=datagen.UA_HUMAN, HTTP_X_FORWARDED_PROTO="https")
        if which.startswith("compare"):
            return compare_landing(client, data, n, cold=which.removeprefix("compare-"))
        paths = {
            "landing": [f"/r/{t}/" for t in data.landing.tokens],
            "baseline": ["/bench/baseline/"],
            "dashboard": ["/app/"],
            "credits": ["/api/v1/credits/"],
        }[which]
        if which in {"dashboard", "credits"}:
            client.force_login(User.objects.get(email=data.large.user_email))
        for i in range(50):
            client.get(paths[i % len(paths)])
        profiler = Profiler(interval=0.0005)
        started = time.perf_counter()
        profiler.start()
        for i in range(n):
            response = client.get(paths[i % len(paths)])
            assert response.status_code == 200, response.status_code
        profiler.stop()
        elapsed = time.perf_counter() - started
        print(f"{which}: {n} requests, {elapsed / n * 1000:.2f} ms each (profiled)")
        print(
            profiler.output_text(
                unicode=True, color=False, show_all=os.environ.get("PROFILE_ALL") == "1"
            )
        )
    finally:
        from django.db import connections

        connections.close_all()
        if not keep:
            db.drop()
        redis.stop()
    return 0


def compare_landing(client: Any, data: Any, n: int, cold: str = "") -> int:
    """CPU time per request of the landing page and of the baseline, interleaved in blocks of
    100 (no profiler): the in-process counterpart of `landing_rps_ratio`, steadier on a busy
    machine because it counts this process's CPU, not wall time. `compare-local` empties the
    in-process link cache before every landing request (the link comes from Redis), `compare-db`
    empties both caches (it comes from the database): a mail-out's first views."""
    from referrals import selectors

    tokens = [f"/r/{t}/" for t in data.landing.tokens]
    cpu = {"landing": 0.0, "baseline": 0.0}
    for path in tokens[:50] + ["/bench/baseline/"] * 50:
        client.get(path)
    for block in range(max(n // 100, 1)):
        for which, paths in (("landing", tokens), ("baseline", ["/bench/baseline/"])):
            started = time.process_time()
            for i in range(100):
                path = paths[(block * 100 + i) % len(paths)]
                if which == "landing" and cold == "local":
                    selectors.clear_local_cache()
                elif which == "landing" and cold == "db":
                    selectors.landing_link_forget(path.split("/")[2])
                response = client.get(path)
                assert response.status_code == 200, response.status_code
            cpu[which] += time.process_time() - started
    requests = max(n // 100, 1) * 100
    landing, baseline = cpu["landing"] / requests * 1000, cpu["baseline"] / requests * 1000
    print(
        f"CPU per request: landing {landing:.3f} ms, baseline {baseline:.3f} ms, "
        f"baseline/landing {baseline / landing:.3f} ({requests} each, test client included)"
    )
    return 0


def profile_qualify(data: object, n: int) -> int:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from pyinstrument import Profiler

    from agencies.models import Agency
    from careerrelay.core.apikeys import api_key_create

    _key, plaintext = api_key_create(tenant=Agency.objects.get(pk=data.agency_id), name="p")  # type: ignore[attr-defined]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {plaintext}", HTTP_X_FORWARDED_PROTO="https")
    ids = data.qualify_referral_ids  # type: ignore[attr-defined]
    with CaptureQueriesContext(connection) as captured:
        client.post(f"/api/v1/referrals/{ids[0]}/qualify/", content_type="application/json")
    print(f"queries for one qualify: {len(captured.captured_queries)}")
    for q in captured.captured_queries:
        print(f"  {q['time']}s {q['sql'][:160]}")
    profiler = Profiler(interval=0.0005)
    started = time.perf_counter()
    profiler.start()
    for referral_id in ids[1 : n + 1]:
        response = client.post(
            f"/api/v1/referrals/{referral_id}/qualify/", content_type="application/json"
        )
        assert response.status_code == 200, response.content
    profiler.stop()
    print(f"qualify: {(time.perf_counter() - started) / n * 1000:.1f} ms each")
    print(
        profiler.output_text(
            unicode=True, color=False, show_all=os.environ.get("PROFILE_ALL") == "1"
        )
    )
    return 0


def profile_settle(data: object) -> int:
    from pyinstrument import Profiler

    from credits import settlement

    profiler = Profiler(interval=0.001)
    started = time.perf_counter()
    profiler.start()
    settlement.settle_period(period=data.settle_period)  # type: ignore[attr-defined]
    profiler.stop()
    print(f"settle: {time.perf_counter() - started:.2f} s")
    print(
        profiler.output_text(
            unicode=True, color=False, show_all=os.environ.get("PROFILE_ALL") == "1"
        )
    )
    return 0


def profile_ingest(data: object, n: int) -> int:
    from pyinstrument import Profiler

    from bench.datagen import UA_HUMAN
    from referrals import clicks
    from referrals.models import ReferralLink
    from referrals.tasks import click_drain

    links = list(ReferralLink.objects.unscoped().filter(company_id=data.ingest.company_id))  # type: ignore[attr-defined]
    conn = clicks.client()
    for i in range(n):
        event = clicks.new_event(
            link=links[i % len(links)],
            method="GET",
            user_agent=UA_HUMAN,
            ip=f"10.0.{i // 250}.{i % 250}",
        )
        conn.rpush(clicks.PENDING_KEY, event.to_json())
    profiler = Profiler(interval=0.0005)
    started = time.perf_counter()
    profiler.start()
    processed = 0
    while clicks.pending_count():
        processed += click_drain()
    profiler.stop()
    elapsed = time.perf_counter() - started
    print(f"ingest: {processed} events, {processed / elapsed:.0f} rows/s (profiled)")
    print(
        profiler.output_text(
            unicode=True, color=False, show_all=os.environ.get("PROFILE_ALL") == "1"
        )
    )
    return 0


def profile_pdf(data: object, n: int) -> int:
    from django.utils import timezone
    from pyinstrument import Profiler

    from credits import settlement, statements

    period = data.settle_period  # type: ignore[attr-defined]
    settlement.settle_period(period=period)
    items = sorted(statements.statement_data_for_period(period).items())
    item = next(item for _key, item in items if item.kind == "company")
    statement = statements._upsert_statement(period, item, timezone.localdate())
    statements.statement_pdf_bytes(statement)
    profiler = Profiler(interval=0.001)
    started = time.perf_counter()
    profiler.start()
    for _ in range(n):
        statements.statement_pdf_bytes(statement)
    profiler.stop()
    print(
        f"pdf ({len(item.lines)} lines): {(time.perf_counter() - started) / n * 1000:.1f} ms each"
    )
    print(
        profiler.output_text(
            unicode=True, color=False, show_all=os.environ.get("PROFILE_ALL") == "1"
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
