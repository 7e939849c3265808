"""Row-level security, proven through a role that is neither owner nor superuser.

The suite itself connects as the superuser `postgres`, which PostgreSQL exempts from RLS; these
tests switch (SET LOCAL ROLE, inside the test transaction) to a fresh role with ordinary table
privileges and no BYPASSRLS, then clear the bypass the connection started with, exactly as a
DATABASE_RLS=enforce deployment connects. A last test runs the application in a subprocess with
DATABASE_RLS=enforce and DATABASE_APP_ROLE and checks pages and the API through it
(test_rls_enforced.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from careerrelay.core import rls
from referrals.models import Candidate, Referral
from tests.security.world import World

pytestmark = pytest.mark.skipif(not settings.USING_POSTGRES, reason="RLS is PostgreSQL's")
ROOT = Path(__file__).resolve().parents[2]


def _sql(query: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(query, params or [])
        return cursor.fetchall() if cursor.description else []


@pytest.fixture
def app_role(world: World, db: Any) -> Iterator[str]:
    """A transaction-local role with the application's privileges and nothing more."""
    role = f"cr_rls_test_{os.getpid()}"
    _sql(f"CREATE ROLE {role} NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT")
    _sql(f"GRANT USAGE ON SCHEMA public TO {role}")
    _sql(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}")
    _sql(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}")
    _sql(f"SET LOCAL ROLE {role}")
    _sql("SELECT set_config('app.bypass', '', true)")
    try:
        yield role
    finally:
        _sql("RESET ROLE")


def _context(**values: str) -> None:
    for name in ("app.company_id", "app.agency_id", "app.bypass"):
        _sql("SELECT set_config(%s, %s, true)", [name, values.get(name, "")])


def test_every_tenant_owned_table_has_rls_enabled_and_forced(db: Any) -> None:
    missing = []
    for model in rls.rls_models():
        row = _sql(
            "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = %s",
            [model._meta.db_table],
        )
        policies = _sql(
            "SELECT count(*) FROM pg_policies WHERE tablename = %s", [model._meta.db_table]
        )
        if not row or row[0] != (True, True) or policies[0][0] == 0:
            missing.append(model._meta.db_table)
    assert not missing, (
        f"tenant-owned tables without forced RLS: {missing}; add a migration calling "
        f"careerrelay.core.rls.install"
    )
    assert len(rls.rls_models()) >= 14


def test_the_app_role_is_neither_owner_nor_superuser(app_role: str) -> None:
    ((current, superuser, bypass),) = _sql(
        "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
    )
    assert current == app_role
    assert not superuser
    assert not bypass
    owners = {
        r[0]
        for r in _sql(
            "SELECT tableowner FROM pg_tables WHERE tablename = ANY(%s)",
            [[m._meta.db_table for m in rls.rls_models()]],
        )
    }
    assert app_role not in owners


def test_without_context_the_app_role_sees_no_tenant_row(app_role: str, world: World) -> None:
    seen = {}
    for model in rls.rls_models():
        seen[model._meta.label] = model._base_manager.count()
    assert set(seen.values()) == {0}, seen
    # The bypass the operators and tasks use shows every row again.
    _context(**{"app.bypass": "on"})
    assert Referral.all_objects.count() == 4
    assert Candidate.all_objects.count() == 4


def test_company_context_sees_only_its_rows(app_role: str, world: World) -> None:
    co_a = world.orgs["co:A"]
    _context(**{"app.company_id": str(co_a.pk)})
    referrals = list(Referral.all_objects.values_list("company_id", flat=True))
    assert referrals
    assert set(referrals) == {co_a.pk}
    # Candidates carry only the agency key: a company reads those referred to it, and only
    # those (COUNTERPARTY_READ), and may not change them.
    referred = set(Referral.all_objects.values_list("candidate_id", flat=True))
    assert set(Candidate.all_objects.values_list("pk", flat=True)) == referred
    assert len(referred) == 2
    assert Candidate.all_objects.update(desired_role="pwned") == 0
    assert {
        r.company_id for r in __import__("companies.models").models.Partnership.all_objects.all()
    } == {co_a.pk}


def test_agency_context_sees_only_its_rows_and_candidates(app_role: str, world: World) -> None:
    ag_a = world.orgs["ag:A"]
    _context(**{"app.agency_id": str(ag_a.pk)})
    assert set(Referral.all_objects.values_list("agency_id", flat=True)) == {ag_a.pk}
    assert set(Candidate.all_objects.values_list("agency_id", flat=True)) == {ag_a.pk}


def test_writes_outside_the_context_are_refused(app_role: str, world: World) -> None:
    co_a, co_b = world.orgs["co:A"], world.orgs["co:B"]
    _context(**{"app.company_id": str(co_a.pk)})
    foreign = next(o.obj for o in world.of_kind("link") if o.owners == {"co:B", "ag:B"})
    # Another tenant's row is invisible, so an UPDATE or DELETE touches nothing.
    from referrals.models import ReferralLink

    assert ReferralLink.all_objects.filter(pk=foreign.pk).update(label="pwned") == 0
    # Inserting a row for another tenant fails the policy's WITH CHECK.
    own = next(o.obj for o in world.of_kind("link") if o.owners == {"co:A", "ag:A"})
    with pytest.raises(DatabaseError), transaction.atomic():
        ReferralLink.all_objects.create(
            company=co_b,
            agency=own.agency,
            partnership=own.partnership,
            label="forged",
            token="forged-token-rls",
        )
    _context(**{"app.bypass": "on"})
    foreign.refresh_from_db()
    assert foreign.label != "pwned"


def test_tenant_context_helper_sets_the_context_per_transaction(
    app_role: str, world: World, settings: Any
) -> None:
    settings.DATABASE_RLS = "enforce"
    co_a = world.orgs["co:A"]
    with rls.tenant_context(co_a):
        assert set(Referral.all_objects.values_list("company_id", flat=True)) == {co_a.pk}
    with rls.bypass_context():
        assert Referral.all_objects.count() == 4
