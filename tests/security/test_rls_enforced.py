"""The application under DATABASE_RLS=enforce with DATABASE_APP_ROLE, in a subprocess: its
connections run as the app role without bypass, and the tenant context comes from the signed-in
member (middleware) or the API key (authentication)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

pytestmark = pytest.mark.skipif(not settings.USING_POSTGRES, reason="RLS is PostgreSQL's")
ROOT = Path(__file__).resolve().parents[2]


def _sql(query: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(query)


ENFORCED_PROBE = """
import json, django
django.setup()
from django.db import connection
from django.test import Client
from careerrelay.core import rls
from companies.models import Company, Partnership
from referrals.models import Referral
cur = connection.cursor()
cur.execute("select current_user, session_user, current_setting('app.bypass', true)")
who = cur.fetchone()
out = {"who": list(who), "bare": Partnership.all_objects.count()}
co = Company.objects.get(slug="rls-co-a")
with rls.tenant_context(co):
    out["ctx"] = Partnership.all_objects.count()
with rls.bypass_context():
    out["bypass"] = Partnership.all_objects.count()
out["after"] = Partnership.all_objects.count()
from careerrelay.users.models import User
c = Client()
c.force_login(User.objects.get(email="rls-hr@example.jp"))
r = c.get("/api/v1/partnerships/")
out["api_status"] = r.status_code
out["api_ids"] = sorted(row["id"] for row in r.json()["results"])
r = c.get("/app/")
out["page_status"] = r.status_code
from careerrelay.core.apikeys import api_key_create
with rls.bypass_context():
    _, key = api_key_create(tenant=co, name="rls")
k = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
r = k.get("/api/v1/partnerships/")
out["key_status"] = r.status_code
out["key_ids"] = sorted(row["id"] for row in r.json()["results"])
print(json.dumps(out))
"""

APP_ROLE = "careerrelay_app_rls_test"


def test_the_application_runs_enforced_as_the_app_role(transactional_db: Any) -> None:
    """DATABASE_RLS=enforce + DATABASE_APP_ROLE: connections run as the app role with no
    bypass; the tenant context comes from the signed-in member or the API key."""
    from tests.factories import (
        AgencyFactory,
        CompanyFactory,
        CompanyMemberFactory,
        PartnershipFactory,
        UserFactory,
    )

    co_a = CompanyFactory(slug="rls-co-a")
    co_b = CompanyFactory(slug="rls-co-b")
    agency = AgencyFactory(slug="rls-ag")
    own = PartnershipFactory(company=co_a, agency=agency)
    PartnershipFactory(company=co_b, agency=agency)
    CompanyMemberFactory(company=co_a, user=UserFactory(email="rls-hr@example.jp"))
    db = connection.settings_dict["NAME"]
    _sql(
        f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') "
        f"THEN CREATE ROLE {APP_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS; END IF; END $$"
    )
    _sql(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}")
    _sql(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP_ROLE}")
    _sql(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}")
    d = connection.settings_dict
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="careerrelay.settings.test",
        DATABASE_URL=f"postgres://{d['USER']}@{d['HOST'] or '127.0.0.1'}:{d['PORT'] or 5432}/{db}",
        DATABASE_RLS="enforce",
        DATABASE_APP_ROLE=APP_ROLE,
    )
    try:
        result = subprocess.run(  # noqa: S603
            [sys.executable, "-c", ENFORCED_PROBE],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        out = json.loads(result.stdout.strip().splitlines()[-1])
    finally:
        _sql(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {APP_ROLE}")
        _sql(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {APP_ROLE}")
        _sql(f"REVOKE ALL ON SCHEMA public FROM {APP_ROLE}")
    assert out["who"][0] == APP_ROLE
    assert out["who"][2] in (None, "")
    assert out["bare"] == 0
    assert out["ctx"] == 1
    assert out["bypass"] == 2
    assert out["after"] == 0
    assert out["api_status"] == 200
    assert out["api_ids"] == [own.pk]
    assert out["page_status"] == 200
    assert out["key_status"] == 200
    assert out["key_ids"] == [own.pk]
