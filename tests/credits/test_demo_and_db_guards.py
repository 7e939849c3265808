"""The demo step, and the database's own guards checked at a real COMMIT."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, InternalError, connection, transaction

from credits import demo
from credits.models import AccountName, EntryKind, LedgerAccount, LedgerEntry, LedgerTransaction
from credits.services import ledger_post, referral_qualify
from referrals.models import Referral
from tests.credits.helpers import balances, make_referrals
from tests.factories import AgencyFactory, CompanyFactory, PartnershipFactory


def test_demo_step_qualifies_the_promised_referrals_and_is_idempotent(db: Any) -> None:
    agency = AgencyFactory(slug="relay-agent")
    ctx: dict[str, Any] = {"referrals": {}}
    partnerships = {}
    for slug, n in (("maker-b", 24), ("startup-a", 9), ("it-c", 5)):
        p = PartnershipFactory(company=CompanyFactory(slug=slug), agency=agency)
        partnerships[slug] = p
        ctx["referrals"][slug] = make_referrals(p, n)
    demo.seed(ctx)
    demo.seed(ctx)
    # The agencies step (after this one) qualifies 2 startup-a and 1 it-c candidates of its own:
    # the demo totals are maker-b 20, startup-a 7, it-c 3 (tests/polish_dashboard/test_demo.py).
    expected = {"maker-b": (20, 2, 0), "startup-a": (5, 0, 5), "it-c": (2, 0, 2)}
    for slug, (qualified, free_hires, points) in expected.items():
        p = partnerships[slug]
        assert Referral.objects.for_tenant(p.company).filter(status="qualified").count() == (
            qualified
        )
        b = balances(p)
        assert (b["free_hires"], b["points"]) == (free_hires, points), slug


def test_demo_step_skips_quietly_without_referrals(db: Any) -> None:
    demo.seed({})
    assert not LedgerTransaction.objects.unscoped().exists()


pg_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL triggers")


@pg_only
def test_an_unbalanced_transaction_is_refused_at_commit(transactional_db: Any) -> None:
    partnership = PartnershipFactory()
    tx = ledger_post(
        partnership=partnership,
        kind=EntryKind.QUALIFY,
        idempotency_key="qualify:commit-test",
        legs=[(AccountName.POINTS, 1), (AccountName.POINTS_ISSUED, -1)],
    )
    account = LedgerAccount.objects.for_tenant(partnership.company).get(name=AccountName.POINTS)

    def forge() -> None:
        with transaction.atomic():
            LedgerEntry.objects.create(
                transaction=tx,
                account=account,
                partnership=partnership,
                company_id=partnership.company_id,
                agency_id=partnership.agency_id,
                account_name=AccountName.POINTS,
                unit="points",
                amount=5,
                kind=EntryKind.QUALIFY,
                idempotency_key="qualify:commit-test:forged",
            )

    with pytest.raises((IntegrityError, InternalError), match="does not balance"):
        forge()
    assert LedgerEntry.objects.for_tenant(partnership.company).count() == 2
    assert balances(partnership)["points"] == 1


@pg_only
def test_raw_update_and_delete_are_refused_after_commit(transactional_db: Any) -> None:
    partnership = PartnershipFactory()
    for r in make_referrals(partnership, 1):
        referral_qualify(referral=r)

    def run(sql: str) -> None:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql)

    for sql in (
        "UPDATE credits_ledgerentry SET amount = 100",
        "DELETE FROM credits_ledgerentry",
        "UPDATE credits_ledgertransaction SET kind = 'redeem'",
        "DELETE FROM credits_ledgertransaction",
    ):
        with pytest.raises(Exception, match="append-only"):
            run(sql)
    assert sorted(
        LedgerEntry.objects.for_tenant(partnership.company).values_list("amount", flat=True)
    ) == [-1, 1]


@pg_only
def test_database_refuses_a_negative_free_hire_balance(partnership: Any) -> None:
    for r in make_referrals(partnership, 10):
        referral_qualify(referral=r)

    def overdraw() -> None:
        with transaction.atomic():
            LedgerAccount.objects.for_tenant(partnership.company).filter(
                name=AccountName.FREE_HIRES
            ).update(balance=-1)

    with pytest.raises(IntegrityError, match="credits_free_hires_not_negative"):
        overdraw()
    assert balances(partnership)["free_hires"] == 1
