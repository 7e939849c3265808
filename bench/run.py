"""`make bench`: the production shape on loopback, measured against baselines of the same run.

    BENCH_SCALE=1 (default) .venv/bin/python -m bench.run

Starts its own Redis (a free port), creates its own PostgreSQL database on the server named by
DATABASE_URL (default postgres://postgres@127.0.0.1:5432, database `cr_bench`, dropped at the
end), gunicorn and a Celery worker on bench.settings (= production settings + the baseline
view), generates the data, measures, prints a table and writes bench/results.json.

Environment: BENCH_SCALE (shrinks every count and duration), BENCH_OUTPUT (results path),
BENCH_DB_NAME, BENCH_SECONDS (one wrk round), BENCH_ROUNDS, BENCH_KEEP=1 (keep the database and
the work directory for inspection), BENCH_PHASES (comma-separated method names, e.g.
`dashboards,settlement`, to run only those while investigating; the table then shows the
others as not measured).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import platform
import secrets
import signal
import statistics
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench import procs
from bench.client import MOBILE_UA, Session, burst, csrf_token, percentile, wrk

ROOT = Path(__file__).resolve().parent.parent

# key: (target description, check) — the table of the issue, in its order.
TARGETS: dict[str, tuple[str, Callable[[float], bool] | None]] = {
    "landing_rps_ratio": (">= 0.6", lambda v: v >= 0.6),
    "landing_p99_ratio": ("<= 2.0", lambda v: v <= 2.0),
    "clicks_lost": ("0", lambda v: v == 0),
    "ingest_vs_copy_ratio": (">= 0.3", lambda v: v >= 0.3),
    "register_p95_ms": ("report", None),
    "dashboard_scaling_ratio": ("<= 1.5", lambda v: v <= 1.5),
    "dashboard_queries_small": ("<= 20, = large", lambda v: v <= 20),
    "dashboard_queries_large": ("<= 20, = small", lambda v: v <= 20),
    "qualify_p95_ms": ("report", None),
    "settle_seconds_100k": ("<= 20", lambda v: v <= 20),
    "statement_pdf_ms": ("<= 300", lambda v: v <= 300),
    "settle_rerun_ratio": ("<= 0.05", lambda v: v <= 0.05),
    "web_rss_mb": ("<= 150", lambda v: v <= 150),
    "worker_rss_mb": ("<= 300", lambda v: v <= 300),
}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S', time.gmtime())}] {message}", flush=True)


class Bench:
    def __init__(self) -> None:
        self.scale = float(os.environ.get("BENCH_SCALE", "1"))
        self.output = Path(os.environ.get("BENCH_OUTPUT", ROOT / "bench" / "results.json"))
        default_seconds = 10.0 if self.scale >= 0.5 else 3.0 if self.scale >= 0.05 else 2.0
        self.seconds = float(os.environ.get("BENCH_SECONDS", default_seconds))
        self.rounds = int(os.environ.get("BENCH_ROUNDS", "5"))
        self.keep = os.environ.get("BENCH_KEEP") == "1"
        self.workdir = Path(tempfile.mkdtemp(prefix="cr-bench-"))
        self.results: dict[str, float | None] = dict.fromkeys(TARGETS)
        self.details: dict[str, Any] = {}
        self.errors: dict[str, str] = {}
        server = os.environ.get("DATABASE_URL", "")
        if not server.startswith(("postgres://", "postgresql://")):
            server = "postgres://postgres@127.0.0.1:5432/postgres"
        self.db = procs.Database(server, os.environ.get("BENCH_DB_NAME", "cr_bench"))
        self.redis = procs.Redis(procs.free_port())
        self.stack: procs.Stack | None = None
        self.kicker: DrainKicker | None = None

    # --- set-up -------------------------------------------------------------------------------

    def environment(self, web_port: int) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "CELERY_")) and key not in {"PYTEST_CURRENT_TEST"}
        }
        env.update(
            DJANGO_SETTINGS_MODULE="bench.settings",
            SECRET_KEY=secrets.token_urlsafe(48),
            PII_ENCRYPTION_KEYS=base64.urlsafe_b64encode(os.urandom(32)).decode(),
            PII_HMAC_KEY=secrets.token_urlsafe(48),
            ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
            DATABASE_URL=self.db.url,
            REDIS_URL=self.redis.url,
            EMAIL_URL="dummymail://",
            SITE_URL=f"https://127.0.0.1:{web_port}",
            CSRF_TRUSTED_ORIGINS=f"https://127.0.0.1:{web_port}",
            CELERY_TASK_ALWAYS_EAGER="false",
            MEDIA_ROOT=str(self.workdir / "media"),
            LOG_LEVEL="WARNING",
            PYTHONPATH=str(ROOT),
            # The landing flood limit stays on (its per-request counter is part of the cost) but
            # cannot trip: the load generator's one address stands for thousands of candidates.
            CLICK_FLOOD_PER_MINUTE="1000000000",
            # This process is the operator: it migrates and generates the data as the owner.
            # gunicorn and the worker run as production does (see setup()).
            DATABASE_RLS="bypass",
            DATABASE_RLS_ALLOW_BYPASS="true",
        )
        return env

    def setup(self) -> None:
        from bench import datagen

        log(f"scale {self.scale}, work directory {self.workdir}")
        self.redis.start(self.workdir)
        self.db.create()
        port = procs.free_port()
        env = self.environment(port)
        os.environ.update(env)
        os.environ.pop("PYTEST_CURRENT_TEST", None)
        import django

        django.setup()
        from django.core.management import call_command

        started = time.perf_counter()
        call_command("migrate", verbosity=0, interactive=False)
        log(f"migrated in {time.perf_counter() - started:.1f}s")
        self.sizes = datagen.Sizes(self.scale)
        started = time.perf_counter()
        self.data = datagen.generate(self.sizes, log=log)
        self.details["data_seconds"] = round(time.perf_counter() - started, 1)
        self.details["data_steps"] = self.data.timings
        from django.db import connection

        connection.close()
        # gunicorn and the Celery worker connect as production's application role: a login
        # role that is neither owner nor superuser, row-level security enforced.
        stack_env = {**env, "DATABASE_URL": self.db.create_app_role(), "DATABASE_RLS": "enforce"}
        stack_env.pop("DATABASE_RLS_ALLOW_BYPASS")
        self.stack = procs.Stack(env=stack_env, workdir=self.workdir, web_port=port)
        self.stack.start_web()
        self.stack.start_worker()
        log(
            f"gunicorn on :{port} ({self.stack.web_workers} sync workers), Celery worker "
            f"(concurrency {self.stack.worker_concurrency}), Redis on :{self.redis.port}; "
            "both as the application role, row-level security enforced"
        )
        self.kicker = DrainKicker()
        self.paths_file = self.workdir / "landing-paths.txt"
        self.paths_file.write_text("".join(f"/r/{t}/\n" for t in self.data.landing.tokens))

    @property
    def port(self) -> int:
        assert self.stack is not None
        return self.stack.web_port

    def session_for(self, email: str) -> Session:
        """A signed-in browser session of this user (the session row written in-process)."""
        from django.conf import settings
        from django.test import Client

        from careerrelay.users.models import User

        client = Client()
        client.force_login(User.objects.get(email=email))
        return Session(
            self.port, cookies={settings.SESSION_COOKIE_NAME: client.session.session_key}
        )

    # --- the measurements ---------------------------------------------------------------------

    def check_pages(self) -> None:
        """Every page the benchmark loads must answer 200 before anything is timed."""
        plain = Session(self.port)
        for path in ("/bench/baseline/", f"/r/{self.data.landing.tokens[0]}/"):
            response = plain.get(path)
            if response.status != 200:
                raise RuntimeError(f"GET {path} answered {response.status}")

    def landing_rps(self) -> None:
        landing = f"/r/{self.data.landing.tokens[0]}/"
        log("warm-up")
        wrk(port=self.port, path="/bench/baseline/", seconds=2)
        wrk(port=self.port, path=landing, seconds=2, paths_file=self.paths_file)
        ratios, rounds = [], []
        for r in range(self.rounds):
            pair = {}
            order = ("baseline", "landing") if r % 2 == 0 else ("landing", "baseline")
            for which in order:
                if which == "baseline":
                    pair[which] = wrk(port=self.port, path="/bench/baseline/", seconds=self.seconds)
                else:
                    pair[which] = wrk(
                        port=self.port,
                        path=landing,
                        seconds=self.seconds,
                        paths_file=self.paths_file,
                    )
            for which, summary in pair.items():
                if summary["non_2xx"] or summary["errors_status"]:
                    raise RuntimeError(f"{which}: {summary['non_2xx']} non-2xx answers")
            ratio = pair["landing"]["rps"] / pair["baseline"]["rps"]
            ratios.append(ratio)
            rounds.append(
                {
                    "baseline_rps": round(pair["baseline"]["rps"], 1),
                    "landing_rps": round(pair["landing"]["rps"], 1),
                    "ratio": round(ratio, 3),
                    "baseline_p99_ms": pair["baseline"]["p99_us"] / 1000,
                    "landing_p99_ms": pair["landing"]["p99_us"] / 1000,
                }
            )
            log(
                f"round {r + 1}: baseline {pair['baseline']['rps']:.0f} req/s, landing "
                f"{pair['landing']['rps']:.0f} req/s, ratio {ratio:.3f}"
            )
        self.results["landing_rps_ratio"] = round(statistics.median(ratios), 3)
        self.details["landing_rps_rounds"] = rounds

    def landing_p99(self) -> None:
        landing = f"/r/{self.data.landing.tokens[0]}/"
        hr = self.session_for(self.data.large.user_email)
        ratios, rounds = [], []
        for r in range(self.rounds):
            self.wait_for_idle_drain()
            idle = wrk(
                port=self.port, path=landing, seconds=self.seconds, paths_file=self.paths_file
            )
            loop = DashboardLoop(hr)
            assert self.kicker is not None
            self.kicker.start()
            loop.start()
            loaded = wrk(
                port=self.port, path=landing, seconds=self.seconds, paths_file=self.paths_file
            )
            loop.stop()
            self.kicker.stop()
            if loop.failures:
                raise RuntimeError(f"the dashboard loop saw {loop.failures} failed requests")
            ratio = loaded["p99_us"] / idle["p99_us"]
            ratios.append(ratio)
            rounds.append(
                {
                    "idle_p99_ms": idle["p99_us"] / 1000,
                    "loaded_p99_ms": loaded["p99_us"] / 1000,
                    "ratio": round(ratio, 3),
                    "idle_rps": round(idle["rps"], 1),
                    "loaded_rps": round(loaded["rps"], 1),
                    "dashboard_requests": loop.count,
                    "dashboard_p95_ms": round(percentile(loop.seconds, 95) * 1000, 1),
                    "drains_sent": self.kicker.sent,
                }
            )
            log(
                f"round {r + 1}: landing p99 idle {idle['p99_us'] / 1000:.1f} ms, under dashboard "
                f"loop + drain {loaded['p99_us'] / 1000:.1f} ms ({loop.count} dashboard requests)"
            )
        self.results["landing_p99_ratio"] = round(statistics.median(ratios), 3)
        self.details["landing_p99_rounds"] = rounds

    def wait_for_idle_drain(self, timeout: float = 60.0) -> None:
        """The idle round starts only when no drain runs: the one the kicker sent last may still
        be working (up to its RUN_SECONDS) and one it sent may still wait in the queue."""
        from careerrelay.celery import app
        from referrals import clicks

        conn = clicks.client()
        assert conn is not None
        queue = app.conf.task_default_queue
        deadline = time.monotonic() + timeout
        while conn.exists(clicks.LOCK_KEY) or conn.llen(queue):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the click drain was still busy after {timeout:.0f} s")
            time.sleep(0.2)

    def wait_for_worker_queue(self, timeout: float = 300.0) -> None:
        """Let the worker finish what earlier phases queued (the registrations' emails and
        attribution retries) before a phase that times the worker: it runs at background
        priority (WORKER_NICE) and gets little CPU while those phases keep the web busy."""
        from careerrelay.celery import app
        from referrals import clicks

        conn = clicks.client()
        assert conn is not None
        queue = app.conf.task_default_queue
        # One worker: answer as soon as it replies instead of waiting out the timeout.
        inspect = app.control.inspect(timeout=1.0, limit=1)

        def held() -> int:
            """Tasks the worker runs, holds (prefetched, or waiting for their countdown) or
            has yet to take from the queue."""
            held = int(conn.llen(queue))
            for view in (inspect.active, inspect.reserved, inspect.scheduled):
                held += sum(len(tasks) for tasks in (view() or {}).values())
            return held

        started = time.monotonic()
        queued = left = held()
        while left:
            if time.monotonic() - started > timeout:
                raise RuntimeError(f"the worker still held {left} tasks after {timeout:.0f} s")
            time.sleep(0.5)
            left = held()
        waited = time.monotonic() - started
        self.details.setdefault("worker_queue_waits", []).append(
            {"tasks": queued, "seconds": round(waited, 1)}
        )
        if queued:
            log(f"waited {waited:.1f}s for {queued} tasks of earlier phases")

    def clicks_burst(self) -> None:
        from referrals.models import Click

        assert self.stack is not None
        assert self.kicker is not None
        org = self.data.burst
        paths = [f"/r/{t}/" for t in org.tokens]
        total = self.sizes.burst_requests

        def stored() -> int:
            return Click.objects.unscoped().filter(company_id=org.company_id).count()

        result: dict[str, Any] = {}
        sender = threading.Thread(
            target=lambda: result.update(burst=burst(port=self.port, paths=paths, total=total))
        )
        self.kicker.start()
        sender.start()
        kill_at = max(1, int(total * 0.3))
        give_up = None
        while True:
            count = stored()
            if count >= kill_at or (not sender.is_alive() and count > 0):
                killed = self._kill_worker_mid_drain(count)
                break
            if not sender.is_alive():
                if "burst" in result and result["burst"].ok == 0:
                    raise RuntimeError(f"no landing request answered 200: {result['burst']}")
                give_up = give_up or time.monotonic() + 60
                if time.monotonic() > give_up:
                    raise RuntimeError("the burst was answered but nothing was drained in 60 s")
            time.sleep(0.05)
        sender.join()
        outcome = result["burst"]
        sent = outcome.ok
        if sent != total:
            raise RuntimeError(f"{total - sent} of {total} landing requests failed: {outcome}")
        log(
            f"burst: {sent} clicks answered 200 in {outcome.seconds:.1f}s "
            f"({sent / outcome.seconds:.0f} req/s); worker killed at {killed['stored']} stored"
        )
        # Wait for the drain to finish: until everything is stored or nothing moves for 60 s.
        last, last_change = -1, time.monotonic()
        deadline_quiet = 60.0
        started = time.monotonic()
        while True:
            count = stored()
            if count >= sent:
                break
            if count != last:
                last, last_change = count, time.monotonic()
            elif time.monotonic() - last_change > deadline_quiet:
                break
            time.sleep(0.25)
        drained_after = time.monotonic() - started
        self.kicker.stop()
        final = stored()
        self.results["clicks_lost"] = max(0, sent - final)
        self.details["burst"] = {
            "requests": total,
            "answered_200": sent,
            "statuses": dict(outcome.statuses),
            "client_errors": outcome.errors,
            "seconds": round(outcome.seconds, 2),
            "rps": round(sent / outcome.seconds, 1),
            "stored": final,
            "stored_beyond_answered": max(0, final - sent),
            "killed_with_stored": killed["stored"],
            "drain_lock_held_at_kill": killed["lock"],
            "processing_list_at_kill": killed["processing"],
            "pending_at_kill": killed["pending"],
            "seconds_to_drain_after_burst": round(drained_after, 1),
        }

    def _kill_worker_mid_drain(self, count: int) -> dict[str, Any]:
        from referrals import clicks

        assert self.stack is not None
        conn = clicks.client()
        # Kill while a drain holds its lock with a batch in flight (moved to the processing
        # list, not yet committed and trimmed): the case a reliable queue has to survive.
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if conn.exists(clicks.LOCK_KEY) and conn.llen(clicks.PROCESSING_KEY):
                break
            time.sleep(0.002)
        state = {
            "stored": count,
            "lock": bool(conn.exists(clicks.LOCK_KEY)),
            "processing": int(conn.llen(clicks.PROCESSING_KEY)),
            "pending": int(conn.llen(clicks.PENDING_KEY)),
        }
        self.stack.kill_worker()
        log(f"worker killed mid-drain ({state})")
        self.stack.start_worker()
        return state

    def ingest_vs_copy(self) -> None:
        import psycopg

        from referrals import clicks
        from referrals.models import Click
        from referrals.tasks import click_drain

        assert self.stack is not None
        assert self.kicker is not None
        self.kicker.stop()
        self.stack.stop_worker()
        conn = clicks.client()
        # Anything left from earlier phases is drained first and not timed.
        while clicks.pending_count():
            if click_drain() < 0:
                time.sleep(0.5)
        org = self.data.ingest
        total = self.sizes.ingest_rows
        # The events are made and queued by the landing view's own code (`new_event` +
        # `capture`, one RPUSH each), in-process: the landing page's speed is measured
        # elsewhere, and this keeps the phase short. Visitors vary (1 in 4 repeats a link).
        from referrals import selectors, services

        links = [selectors.landing_link(token) for token in org.tokens]
        for i in range(total):
            event = clicks.new_event(
                link=links[i % len(links)],
                method="GET",
                user_agent=MOBILE_UA,
                ip=f"10.{(i // 4) % 250}.{(i // 1000) % 250}.{i % 250}",
            )
            clicks.capture(event, write_sync=services.click_write_sync)
        queued = int(conn.llen(clicks.PENDING_KEY))
        if queued != total:
            raise RuntimeError(f"{total} clicks captured but {queued} queued")
        started = time.perf_counter()
        processed = 0
        while clicks.pending_count():
            done = click_drain()
            if done < 0:
                raise RuntimeError("another drain holds the lock")
            processed += done
        ingest_seconds = time.perf_counter() - started
        rows = Click.objects.unscoped().filter(company_id=org.company_id).count()
        if rows != total:
            raise RuntimeError(f"{total} clicks queued but {rows} stored")
        ingest_rps = rows / ingest_seconds

        # The same rows, as fast as PostgreSQL takes them: one raw COPY (new uids of the same
        # kind, minted as the landing page mints them, same table).
        import uuid

        table = Click._meta.db_table
        columns = [f.column for f in Click._meta.concrete_fields if not f.primary_key]
        with psycopg.connect(self.db.url) as raw:
            source = raw.execute(
                f"SELECT {', '.join(columns)} FROM {table} WHERE company_id = %s",
                [org.company_id],
            ).fetchall()
            uid_at = columns.index("uid")
            copies = [
                tuple(uuid.UUID(clicks.new_uid()) if i == uid_at else v for i, v in enumerate(row))
                for row in source
            ]
            max_id = raw.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}").fetchone()[0]
            started = time.perf_counter()
            sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
            with raw.cursor() as cursor, cursor.copy(sql) as copy:
                for row in copies:
                    copy.write_row(row)
            raw.commit()
            copy_seconds = time.perf_counter() - started
            raw.execute(
                f"DELETE FROM {table} WHERE id > %s AND company_id = %s", [max_id, org.company_id]
            )
            raw.commit()
        copy_rps = len(copies) / copy_seconds
        self.results["ingest_vs_copy_ratio"] = round(ingest_rps / copy_rps, 3)
        self.details["ingest"] = {
            "rows": rows,
            "processed": processed,
            "ingest_rows_per_s": round(ingest_rps),
            "copy_rows_per_s": round(copy_rps),
        }
        log(f"ingestion {ingest_rps:.0f} rows/s, raw COPY {copy_rps:.0f} rows/s")
        self.stack.start_worker()

    def registration(self) -> None:
        org = self.data.register
        path = f"/r/{org.tokens[0]}/"
        per_client = self.sizes.registrations_per_client
        run_tag = secrets.token_hex(3)

        def client(index: int) -> tuple[list[float], list[str]]:
            timings, failures = [], []
            for k in range(per_client):
                # Every candidate registers from an address of its own (127.0.0.0/8 is all
                # loopback), as real candidates do; per-IP limits apply to each one.
                session = Session(self.port, source_ip=f"127.{20 + index}.{k // 250}.{k % 250 + 2}")
                page = session.get(path)
                if page.status != 200:
                    failures.append(f"GET {page.status}")
                    continue
                form = {
                    "csrfmiddlewaretoken": csrf_token(page.text),
                    "name": f"ベンチ 花子{index}-{k}",
                    "email": f"bench-{run_tag}-{index}-{k}@example.jp",
                    "phone": f"090{index:04d}{k:04d}",
                    "desired_role": "営業",
                    "prefecture": "東京都",
                    "consent_privacy": "on",
                    "consent_third_party": "on",
                }
                answer = session.post_form(path, form)
                if answer.status not in (302, 303):
                    failures.append(f"POST {answer.status}")
                timings.append(answer.seconds)
            return timings, failures

        with ThreadPoolExecutor(16) as pool:
            outcomes = list(pool.map(client, range(16)))
        timings = [t for times, _f in outcomes for t in times]
        failures = [f for _t, fails in outcomes for f in fails]
        if failures:
            raise RuntimeError(f"{len(failures)} registrations failed, e.g. {failures[:3]}")
        self.results["register_p95_ms"] = round(percentile(timings, 95) * 1000, 1)
        self.details["register"] = {
            "posts": len(timings),
            "p50_ms": round(percentile(timings, 50) * 1000, 1),
            "concurrency": 16,
        }
        log(f"registration: {len(timings)} POSTs, p95 {self.results['register_p95_ms']} ms")

    def dashboards(self) -> None:
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        from careerrelay.users.models import User

        pages = ("/app/", "/api/v1/credits/")
        queries: dict[str, dict[str, int]] = {}
        for size in ("small", "large"):
            org = getattr(self.data, size)
            client = Client()
            client.force_login(User.objects.get(email=org.user_email))
            queries[size] = {}
            for page in pages:
                client.get(page, secure=True)  # first request: session, caches
                with CaptureQueriesContext(connection) as captured:
                    response = client.get(page, secure=True)
                if response.status_code != 200:
                    raise RuntimeError(f"{size} {page} answered {response.status_code}")
                queries[size][page] = len(captured.captured_queries)
        self.results["dashboard_queries_small"] = max(queries["small"].values())
        self.results["dashboard_queries_large"] = max(queries["large"].values())

        sessions = {
            size: self.session_for(getattr(self.data, size).user_email)
            for size in ("small", "large")
        }
        samples: dict[tuple[str, str], list[float]] = {(s, p): [] for s in sessions for p in pages}
        n = 60 if self.scale >= 0.5 else 30
        for i in range(n + 5):
            for size, session in sessions.items():
                for page in pages:
                    response = session.get(page)
                    if response.status != 200:
                        raise RuntimeError(f"{size} {page} answered {response.status}")
                    if i >= 5:
                        samples[(size, page)].append(response.seconds)
        p95 = {key: percentile(values, 95) * 1000 for key, values in samples.items()}
        ratios = {page: p95[("large", page)] / p95[("small", page)] for page in pages}
        self.results["dashboard_scaling_ratio"] = round(max(ratios.values()), 3)
        self.details["dashboard"] = {
            "p95_ms": {f"{s} {p}": round(v, 2) for (s, p), v in p95.items()},
            "ratio_per_page": {p: round(r, 3) for p, r in ratios.items()},
            "queries": queries,
            "requests_per_page": n,
        }
        log(f"dashboards: p95 {self.details['dashboard']['p95_ms']}, queries {queries}")

    def qualify(self) -> None:
        from agencies.models import Agency
        from careerrelay.core.apikeys import api_key_create
        from credits.models import AccountName, LedgerAccount

        _key, plaintext = api_key_create(
            tenant=Agency.objects.get(pk=self.data.agency_id), name="bench"
        )
        ids = self.data.qualify_referral_ids
        chunks = [ids[i::50] for i in range(50)]

        def client(chunk: list[int]) -> tuple[list[float], list[int]]:
            session = Session(self.port, headers={"Authorization": f"Bearer {plaintext}"})
            timings, bad = [], []
            for referral_id in chunk:
                response = session.post_json(f"/api/v1/referrals/{referral_id}/qualify/", {})
                if response.status != 200:
                    bad.append(response.status)
                timings.append(response.seconds)
            return timings, bad

        with ThreadPoolExecutor(50) as pool:
            outcomes = list(pool.map(client, chunks))
        timings = [t for times, _b in outcomes for t in times]
        bad = [b for _t, codes in outcomes for b in codes]
        if bad:
            raise RuntimeError(f"{len(bad)} qualifications failed: {sorted(set(bad))}")
        balances = dict(
            LedgerAccount.objects.unscoped()
            .filter(partnership_id=self.data.qualify.partnership_id)
            .values_list("name", "balance")
        )
        points = balances.get(AccountName.POINTS, 0)
        free_hires = balances.get(AccountName.FREE_HIRES, 0)
        self.results["qualify_p95_ms"] = round(percentile(timings, 95) * 1000, 1)
        self.details["qualify"] = {
            "requests": len(timings),
            "concurrency": 50,
            "p50_ms": round(percentile(timings, 50) * 1000, 1),
            "points_balance": points,
            "free_hires": free_hires,
            "ledger_exact": points + 10 * free_hires == len(ids) and free_hires == len(ids) // 10,
        }
        if not self.details["qualify"]["ledger_exact"]:
            raise RuntimeError(f"ledger is off after {len(ids)} qualifications: {balances}")
        log(
            f"qualify: {len(timings)} POSTs from 50 clients, "
            f"p95 {self.results['qualify_p95_ms']} ms"
        )

    def web_rss(self) -> None:
        assert self.stack is not None
        pids = self.stack.web_worker_pids()
        peaks = [procs.peak_rss_mb(pid) for pid in pids]
        self.results["web_rss_mb"] = round(max(peaks), 1)
        self.details["web_rss_mb_per_worker"] = [round(p, 1) for p in peaks]

    def settlement(self) -> None:
        from django.db.models import Count, Sum

        from careerrelay.celery import app
        from credits.models import LedgerTransaction

        assert self.stack is not None
        period = self.data.settle_period
        self.wait_for_worker_queue()
        # A fresh worker, so that its peak RSS is the settlement's.
        self.stack.stop_worker()
        self.stack.start_worker()
        sampler = RssSampler(self.stack.worker_pids)
        sampler.start()
        task = settlement_task_name()
        started = time.perf_counter()
        app.send_task(task, kwargs={"period": period}, ignore_result=False).get(
            timeout=1800, propagate=True
        )
        first = time.perf_counter() - started
        started = time.perf_counter()
        app.send_task(task, kwargs={"period": period}, ignore_result=False).get(
            timeout=1800, propagate=True
        )
        second = time.perf_counter() - started
        sampler.stop()
        # Each trigger queued the period's statement rendering (a separate task, excluded from
        # these figures); stop it here so it does not run under the PDF timing below.
        self.stack.kill_worker()
        app.control.purge()
        posted = (
            LedgerTransaction.objects.unscoped()
            .filter(kind="rebate", period=period)
            .aggregate(n=Count("id"))["n"]
        )
        from credits.models import LedgerEntry

        yen = (
            LedgerEntry.objects.unscoped()
            .filter(kind="rebate", account_name="rebate_jpy", transaction__period=period)
            .aggregate(total=Sum("amount"))["total"]
            or 0
        )
        expected = self.data.settle_expected_rebates
        self.results["settle_seconds_100k"] = round(first, 2)
        self.results["settle_rerun_ratio"] = round(second / first, 4)
        peak = max([sampler.peak] + [procs.peak_rss_mb(pid) for pid in self.stack.worker_pids()])
        self.results["worker_rss_mb"] = round(peak, 1)
        self.details["settlement"] = {
            "period": period,
            "placements": expected,
            "companies": self.sizes.settle_companies,
            "rebates_posted": posted,
            "rebate_jpy": yen,
            "rebate_jpy_expected": self.data.settle_expected_rebate_jpy,
            "first_seconds": round(first, 2),
            "rerun_seconds": round(second, 3),
        }
        if posted != expected or yen != self.data.settle_expected_rebate_jpy:
            raise RuntimeError(
                f"settlement posted {posted} rebates / {yen} yen, expected "
                f"{expected} / {self.data.settle_expected_rebate_jpy}"
            )
        log(f"settlement: {posted} rebates in {first:.2f}s, rerun {second:.3f}s")

    def statement_pdf(self) -> None:
        """Median render time over a seeded random sample of the period's statements (one
        per company and per agency exist; most are company statements)."""
        import random

        from django.utils import timezone

        from credits import statements
        from credits.models import Statement

        period = self.data.settle_period
        items = [
            item for _key, item in sorted(statements.statement_data_for_period(period).items())
        ]
        sample = random.Random(7).sample(items, min(len(items), 11 if self.scale >= 0.5 else 5))
        issued_on = timezone.localdate()
        timings: dict[str, list[float]] = {"company": [], "agency": []}
        warmed = False
        for item in sample:
            row = statements._upsert_statement(period, item, issued_on)
            statement = (
                Statement.objects.unscoped().select_related("company", "agency").get(pk=row.pk)
            )
            if not warmed:
                statements.statement_pdf_bytes(statement)  # fonts and templates load once
                warmed = True
            started = time.perf_counter()
            statements.statement_pdf_bytes(statement)
            timings[statement.kind].append(time.perf_counter() - started)
        every = timings["company"] + timings["agency"]
        self.results["statement_pdf_ms"] = round(statistics.median(every) * 1000, 1)
        self.details["statement_pdf"] = {
            "renders": len(every),
            "statements_in_period": len(items),
            "company_ms": [round(t * 1000) for t in timings["company"]],
            "agency_ms": [round(t * 1000) for t in timings["agency"]],
        }
        log(f"statement PDF: median {self.results['statement_pdf_ms']} ms over {len(every)}")

    # --- driver -------------------------------------------------------------------------------

    def phase(self, name: str, function: Callable[[], None]) -> None:
        wanted = os.environ.get("BENCH_PHASES")
        if wanted and function.__name__ not in wanted.split(","):
            log(f"== {name}: skipped (BENCH_PHASES)")
            return
        log(f"== {name}")
        started = time.perf_counter()
        try:
            function()
        except Exception as exc:
            self.errors[name] = f"{type(exc).__name__}: {exc}"
            log(f"!! {name} failed: {exc}")
            traceback.print_exc()
        self.details.setdefault("phase_seconds", {})[name] = round(time.perf_counter() - started, 1)

    def run(self) -> int:
        started = time.perf_counter()
        try:
            self.setup()
            self.phase("pages answer", self.check_pages)
            self.phase("landing throughput", self.landing_rps)
            self.phase("landing tail latency", self.landing_p99)
            self.phase("click burst", self.clicks_burst)
            self.phase("ingestion vs COPY", self.ingest_vs_copy)
            self.phase("registration", self.registration)
            self.phase("dashboards", self.dashboards)
            self.phase("qualify", self.qualify)
            self.phase("web memory", self.web_rss)
            self.phase("settlement", self.settlement)
            self.phase("statement PDF", self.statement_pdf)
        except Exception as exc:
            self.errors["setup"] = f"{type(exc).__name__}: {exc}"
            traceback.print_exc()
        finally:
            self.teardown()
        self.details["total_seconds"] = round(time.perf_counter() - started, 1)
        self.write()
        return 1 if self.errors or any(v is None for v in self.results.values()) else 0

    def teardown(self) -> None:
        if self.kicker is not None:
            self.kicker.stop()
        if self.stack is not None:
            self.stack.stop_all()
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: S110 - Django may never have been set up
            pass
        self.redis.stop()
        if not self.keep:
            self.db.drop()

    def write(self) -> None:
        machine = {
            "cpu": procs.cpu_model(),
            "cores": os.cpu_count(),
            "memory_gb": procs.mem_total_gb(),
            "os": platform.platform(),
            "python": platform.python_version(),
        }
        document = {
            **self.results,
            "scale": self.scale,
            "ran_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "machine": machine,
            "targets": {key: target for key, (target, _check) in TARGETS.items()},
            "details": self.details,
            "errors": self.errors,
        }
        self.output.parent.mkdir(parents=True, exist_ok=True)
        self.output.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        print()
        print(table(self.results))
        print()
        print(f"machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gb']} GB")
        print(f"scale {self.scale}; written to {self.output}")
        for name, error in self.errors.items():
            print(f"ERROR in {name}: {error}")


def table(results: dict[str, float | None]) -> str:
    lines = ["| key | value | target | met |", "| --- | ---: | --- | --- |"]
    for key, (target, check) in TARGETS.items():
        value = results.get(key)
        if value is None:
            shown, met = "—", "not measured"
        else:
            shown = f"{value:g}"
            met = "report" if check is None else ("yes" if check(value) else "NO")
            if key.startswith("dashboard_queries_") and met == "yes":
                other = "large" if key.endswith("small") else "small"
                if results.get(f"dashboard_queries_{other}") != value:
                    met = "NO (differ)"
        lines.append(f"| `{key}` | {shown} | {target} | {met} |")
    return "\n".join(lines)


def settlement_task_name() -> str:
    """The Celery task that settles one period (`period=` keyword), as the product names it."""
    from careerrelay.celery import app

    app.loader.import_default_modules()
    for name in ("credits.settle_period", "credits.settle_rebates", "credits.settlement_run"):
        if name in app.tasks:
            return name
    raise RuntimeError("no settlement task registered (looked for credits.settle_period)")


class DrainKicker:
    """Celery beat's `clicks-drain` entry (same task, interval and expiry), switched on and off
    by the harness so that the idle rounds are idle."""

    def __init__(self) -> None:
        from django.conf import settings

        entry = settings.CELERY_BEAT_SCHEDULE["clicks-drain"]
        self.task = entry["task"]
        self.interval = float(entry["schedule"])
        self.options = dict(entry.get("options", {}))
        self.sent = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        from careerrelay.celery import app

        while not self._stop.is_set():
            app.send_task(self.task, **self.options)
            self.sent += 1
            self._stop.wait(self.interval)

    def stop(self) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join()
        self._thread = None


class DashboardLoop:
    """An HR user who keeps reloading the dashboard and the credits API, back to back."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.count = 0
        self.failures = 0
        self.seconds: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _loop(self) -> None:
        pages = ("/app/", "/api/v1/credits/")
        while not self._stop.is_set():
            response = self.session.get(pages[self.count % 2])
            self.count += 1
            self.seconds.append(response.seconds)
            if response.status != 200:
                self.failures += 1

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


class RssSampler:
    """Samples the peak RSS of a set of processes (the Celery worker and its pool) every 50 ms;
    VmHWM of the survivors is read at the end as well."""

    def __init__(self, pids: Callable[[], list[int]]) -> None:
        self.pids = pids
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            for pid in self.pids():
                self.peak = max(self.peak, procs.peak_rss_mb(pid))
            self._stop.wait(0.05)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def main() -> int:
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    # A SIGTERM (a timeout, Ctrl-C from a wrapper) unwinds through `run`'s teardown, so the
    # gunicorn, worker and Redis it started (in sessions of their own) do not outlive it.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(143))
    return Bench().run()


if __name__ == "__main__":
    sys.exit(main())
