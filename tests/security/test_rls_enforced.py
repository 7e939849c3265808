"""The application under DATABASE_RLS=enforce, connected as a real login role made by
`manage.py db_app_role` (neither owner nor superuser, no BYPASSRLS), in subprocesses: Django for
requests, a Celery worker for tasks. And the production settings that insist on it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from tests.security.world import World, build_world

pytestmark = pytest.mark.skipif(not settings.USING_POSTGRES, reason="RLS is PostgreSQL's")
ROOT = Path(__file__).resolve().parents[2]

ENFORCED_PROBE = """
import json, sys, django
django.setup()
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient
from careerrelay.core import rls
from careerrelay.core.models import AuditEvent
from careerrelay.users.models import User
from companies.models import Company
from credits.models import LedgerTransaction
from referrals.models import Referral
keys = json.loads(sys.argv[1])

def sql(query):
    with connection.cursor() as cursor:
        cursor.execute(query)
        return list(cursor.fetchone())

def context():
    return sql("select current_setting('app.company_id', true), "
               "current_setting('app.agency_id', true), current_setting('app.bypass', true)")

out = {"who": sql("select current_user, session_user"), "start": context()}
out["bare"] = Referral.all_objects.count()
co_a = Company.objects.get(slug="iso-co-a")
with rls.tenant_context(co_a):
    out["ctx"] = sorted(set(Referral.all_objects.values_list("company__slug", flat=True)))
with rls.bypass_context():
    out["bypass"] = Referral.all_objects.count()
    rid = Referral.all_objects.get(company__slug="iso-co-a", agency__slug="iso-ag-a").pk
out["after_helpers"] = [Referral.all_objects.count(), context()]

hr = Client()
hr.force_login(User.objects.get(email="coa-owner@iso.example"))
r = hr.get("/api/v1/referrals/")
out["hr_api"] = [r.status_code, sorted({row["company"] for row in r.json()["results"]})]
out["hr_api_count"] = len(r.json()["results"])
# SET LOCAL: the request's context ended with its transaction.
out["after_request"] = context()
out["hr_page"] = hr.get("/app/referrals/").status_code

agent = APIClient()
agent.force_login(User.objects.get(email="aga-owner@iso.example"))
r = agent.post(f"/api/v1/referrals/{rid}/qualify/")
out["qualify"] = r.status_code
with rls.bypass_context():
    out["qualified"] = Referral.all_objects.get(pk=rid).status
    out["postings"] = LedgerTransaction.all_objects.filter(idempotency_key=f"qualify:{rid}").count()
    out["company_audit"] = AuditEvent.all_objects.filter(
        action="ledger.post", company=co_a).count()
out["after_write"] = context()

for org, key in keys.items():
    r = APIClient(HTTP_AUTHORIZATION=f"Bearer {key}").get("/api/v1/partnerships/")
    out[f"key:{org}"] = [r.status_code, sorted({row["company"] for row in r.json()["results"]}),
                         sorted({row["agency"] for row in r.json()["results"]})]

staff = Client()
staff.force_login(User.objects.get(email="rls-operator@iso.example"))
r = staff.get("/admin/core/auditevent/export/")
body = b"".join(r.streaming_content).decode("utf-8-sig")
out["export"] = [r.status_code, body.count("iso.test")]

# The landing route's short chain has no request transaction: its link look-up (a cache miss)
# and, with Redis down, its click write each open their own (rls.public_transaction).
from django.conf import settings
from wsgiref.util import setup_testing_defaults
from careerrelay.core.wsgi import get_application
from referrals import clicks, selectors
from referrals.models import Click
application = get_application()

def landing(token):
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": f"/r/{token}/", "HTTP_HOST": "testserver"}
    setup_testing_defaults(environ)
    status = []
    body = b"".join(application(environ, lambda s, h, e=None: status.append(s)))
    return [int(status[0].split()[0]), body.decode()]

token, company_name = sys.argv[2], sys.argv[3]
selectors.landing_link_forget(token)
code, body = landing(token)
out["lean_landing"] = [code, company_name in body, context()]
def stored():
    with rls.bypass_context():
        return Click.all_objects.filter(link__token=token).count()
before = stored()
settings.REDIS_URL = "redis://127.0.0.1:9/0"
clicks._clients.clear()
code, body = landing(token)
out["lean_landing_redis_down"] = [code, company_name in body, stored() - before]
out["end"] = context()
print(json.dumps(out))
"""


def _env(url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_APP_ROLE", "PYTEST_ADDOPTS"}}
    env.update(
        DJANGO_SETTINGS_MODULE="careerrelay.settings.test",
        DATABASE_URL=url,
        DATABASE_RLS="enforce",
        PYTHONPATH=str(ROOT),
        **extra,
    )
    return env


@pytest.fixture
def committed_world(transactional_db: Any) -> World:
    from careerrelay.users.models import User

    world = build_world()
    User.objects.create_user(
        "rls-operator@iso.example", "x-password-123", is_staff=True, is_superuser=True
    )
    return world


def test_the_application_runs_enforced_as_the_app_login_role(
    committed_world: World, app_login_role: tuple[str, str]
) -> None:
    role, url = app_login_role
    link = committed_world.of_kind("link")[0].obj
    result = subprocess.run(  # noqa: S603
        [
            sys.executable,
            "-c",
            ENFORCED_PROBE,
            json.dumps(committed_world.keys),
            link.token,
            link.company.name,
        ],
        cwd=ROOT,
        env=_env(url),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    nothing = ["", "", ""]
    assert out["who"] == [role, role]
    assert out["start"] in (nothing, [None, None, None])
    # No context, no rows; a tenant's context shows its rows only; the bypass shows all.
    assert out["bare"] == 0
    assert out["ctx"] == ["iso-co-a"]
    assert out["bypass"] == 4
    assert out["after_helpers"][0] == 0
    # A member's request sees its organisation's rows, and its context ends with it.
    assert out["hr_api"] == [200, ["iso-co-a"]]
    assert out["hr_api_count"] == 2
    assert out["after_request"] == nothing
    assert out["hr_page"] == 200
    # An agency's write that posts to the ledger and audits both sides.
    assert out["qualify"] == 200
    assert out["qualified"] == "qualified"
    assert out["postings"] == 1
    assert out["company_audit"] >= 1
    assert out["after_write"] == nothing
    # API keys: the key's organisation and nothing else.
    assert out["key:co:A"] == [200, ["iso-co-a"], ["iso-ag-a", "iso-ag-b"]]
    assert out["key:ag:A"] == [200, ["iso-co-a", "iso-co-b"], ["iso-ag-a"]]
    assert out["key:co:B"][1] == ["iso-co-b"]
    # The operator's streamed audit export carries every tenant's rows (its own transaction).
    assert out["export"] == [200, 4]
    # The landing page on its short chain: read past the policies in a transaction of its own.
    assert out["lean_landing"] == [200, True, nothing]
    assert out["lean_landing_redis_down"] == [200, True, 1]
    assert out["end"] == nothing


def test_a_celery_task_sees_rows_under_enforced_rls_as_the_app_login_role(
    committed_world: World, app_login_role: tuple[str, str], monkeypatch: Any
) -> None:
    """A real worker connected as the app role: the click drain (task_prerun's explicit
    bypass) reads the links and writes the clicks of two tenants."""
    from referrals import clicks
    from referrals.models import Click
    from referrals.tasks import click_drain
    from tests import worker

    _, url = app_login_role
    env = _env(url, CELERY_TASK_ALWAYS_EAGER="false")
    monkeypatch.setattr(worker, "worker_env", lambda: env)
    links = [o.obj for o in committed_world.of_kind("link")]
    before = Click.all_objects.count()
    proc = worker.start_worker(concurrency=1)
    try:
        conn = clicks.client()
        assert conn is not None
        # Nothing left over by other tests: no pending events, no held drain lock.
        conn.delete(clicks.PENDING_KEY, clicks.PROCESSING_KEY, clicks.LOCK_KEY)
        for link in links:
            event = clicks.new_event(
                link=link, method="GET", user_agent="Mozilla/5.0", ip="10.0.0.9"
            )
            conn.rpush(clicks.PENDING_KEY, event.to_json())
        click_drain.delay()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and Click.all_objects.count() < before + len(links):
            time.sleep(0.2)
    finally:
        worker.stop_worker(proc)
    assert Click.all_objects.count() == before + len(links)
    assert {c.company_id for c in Click.all_objects.all()} == {
        committed_world.orgs["co:A"].pk,
        committed_world.orgs["co:B"].pk,
    }


# --- production settings -------------------------------------------------------------------

PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "careerrelay.settings.production",
    "SECRET_KEY": "prod-test-" + "k" * 60,
    "ALLOWED_HOSTS": "careerrelay.example",
    "PII_ENCRYPTION_KEYS": "bXktb3duLXByb2R1Y3Rpb24ta2V5LTMyLWJ5dGVzISE=",
    "PII_HMAC_KEY": "my-own-production-hmac-key",
}
CONNECT = (
    "import django; django.setup(); from django.db import connection\n"
    "with connection.cursor() as c:\n"
    "    c.execute(\"select current_user, current_setting('app.bypass', true)\")\n"
    "    print(list(c.fetchone()))"
)


def _production(url: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_RLS", "DJANGO_")) and k != "DATABASE_APP_ROLE"
    }
    env.update(PRODUCTION, DATABASE_URL=url, PYTHONPATH=str(ROOT), **extra)
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", CONNECT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_enforces_and_refuses_a_role_that_sees_past_the_policies(
    app_login_role: tuple[str, str],
) -> None:
    role, url = app_login_role
    d = connection.settings_dict
    owner_url = f"postgres://{d['USER']}@{d['HOST'] or '127.0.0.1'}:{d['PORT'] or 5432}/{d['NAME']}"
    # The app role: enforced (no bypass at connection).
    ok = _production(url)
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert json.loads(ok.stdout.strip().replace("None", "null").replace("'", '"')) in (
        [role, None],
        [role, ""],
    )
    # The owner (here a superuser): refused at connection.
    refused = _production(owner_url)
    assert refused.returncode != 0
    assert "ImproperlyConfigured" in refused.stderr
    assert "superuser or has BYPASSRLS" in refused.stderr
    # SET ROLE at connection: the session could RESET ROLE to the owner, refused too.
    refused = _production(owner_url, DATABASE_APP_ROLE=role)
    assert refused.returncode != 0
    assert "ImproperlyConfigured" in refused.stderr
    # Policies open: refused unless explicitly accepted (the owner's migrations).
    refused = _production(url, DATABASE_RLS="bypass")
    assert refused.returncode != 0
    assert "DATABASE_RLS_ALLOW_BYPASS" in refused.stderr
    accepted = _production(owner_url, DATABASE_RLS="bypass", DATABASE_RLS_ALLOW_BYPASS="true")
    assert accepted.returncode == 0, accepted.stderr[-2000:]
    assert "'on'" in accepted.stdout
