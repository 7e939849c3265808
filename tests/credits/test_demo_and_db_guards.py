"""The demo step, and the database's own guards checked at a real COMMIT."""

from __future__ import annotations

from importlib import import_module
from typing import Any

import pytest
from django.db import IntegrityError, InternalError, connection, transaction

from credits import demo
from credits.models import AccountName, EntryKind, LedgerAccount, LedgerEntry, LedgerTransaction
from credits.services import ledger_post, referral_qualify
from referrals.models import Referral
from tests.credits.helpers import balances, bare_transaction, make_referrals
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


def _entry(tx: LedgerTransaction, account: LedgerAccount, amount: int, **keys: Any) -> LedgerEntry:
    fields = {
        "partnership_id": account.partnership_id,
        "company_id": account.company_id,
        "agency_id": account.agency_id,
        "account_name": account.name,
        "unit": account.unit,
        **keys,
    }
    return LedgerEntry(
        transaction=tx,
        account_id=account.pk,
        amount=amount,
        kind=tx.kind,
        idempotency_key=f"{tx.idempotency_key}:{account.name}:{amount}",
        **fields,
    )


def _points_accounts(partnership: Any) -> tuple[LedgerAccount, LedgerAccount]:
    ledger_post(
        partnership=partnership,
        kind=EntryKind.QUALIFY,
        idempotency_key=f"qualify:setup-{partnership.pk}",
        legs=[(AccountName.POINTS, 1), (AccountName.POINTS_ISSUED, -1)],
    )
    accounts = LedgerAccount.objects.unscoped().filter(partnership=partnership)
    return (accounts.get(name=AccountName.POINTS), accounts.get(name=AccountName.POINTS_ISSUED))


@pg_only
def test_an_entry_whose_copied_keys_differ_from_its_account_is_refused(partnership: Any) -> None:
    points, issued = _points_accounts(partnership)
    elsewhere = CompanyFactory()
    forgeries = [
        {"company_id": elsewhere.pk},  # another tenant's key on a balanced posting
        {"account_name": AccountName.FREE_HIRES},
        {"unit": "jpy"},
    ]
    for n, keys in enumerate(forgeries):
        tx = bare_transaction(partnership, f"qualify:forged-{n}")
        with (
            pytest.raises(IntegrityError, match="does not match its account"),
            transaction.atomic(),
        ):
            LedgerEntry.objects.bulk_create([_entry(tx, points, 1, **keys), _entry(tx, issued, -1)])
    tx = bare_transaction(partnership, "qualify:forged-missing-account")
    ghost = LedgerAccount(
        pk=issued.pk + 10_000,
        **{
            f: getattr(issued, f)
            for f in ("partnership_id", "company_id", "agency_id", "name", "unit")
        },
    )
    with pytest.raises(IntegrityError, match="does not match its account"), transaction.atomic():
        LedgerEntry.objects.bulk_create([_entry(tx, points, 1), _entry(tx, ghost, -1)])
    assert LedgerEntry.objects.unscoped().filter(partnership=partnership).count() == 2


@pg_only
def test_an_entry_on_another_partnerships_account_than_its_transaction_is_refused(
    partnership: Any,
) -> None:
    other = PartnershipFactory(agency=partnership.agency)
    points, issued = _points_accounts(other)
    tx = bare_transaction(partnership, "qualify:wrong-partnership")
    with (
        pytest.raises(IntegrityError, match="does not match its transaction"),
        transaction.atomic(),
    ):
        LedgerEntry.objects.bulk_create([_entry(tx, points, 1), _entry(tx, issued, -1)])
    assert balances(other)["points"] == 1


@pg_only
def test_a_transaction_split_over_two_inserts_is_refused_at_the_first(partnership: Any) -> None:
    # The balance is checked once per INSERT statement: a posting writes all its legs at once.
    points, issued = _points_accounts(partnership)
    tx = bare_transaction(partnership, "qualify:split")

    def first_leg_alone() -> None:
        with transaction.atomic():
            LedgerEntry.objects.bulk_create([_entry(tx, points, 1)])

    with pytest.raises(IntegrityError, match="does not balance"):
        first_leg_alone()
    LedgerEntry.objects.bulk_create([_entry(tx, points, 1), _entry(tx, issued, -1)])
    assert LedgerEntry.objects.unscoped().filter(transaction=tx).count() == 2


@pg_only
@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM credits_ledgeraccount WHERE id = %s",
        "UPDATE credits_ledgeraccount SET company_id = company_id + 1 WHERE id = %s",
        "UPDATE credits_ledgeraccount SET name = 'free_hires' WHERE id = %s",
    ],
)
def test_a_ledger_account_is_never_deleted_or_repointed(partnership: Any, sql: str) -> None:
    points, _issued = _points_accounts(partnership)
    with (
        pytest.raises(IntegrityError, match="ledger account"),
        transaction.atomic(),
        connection.cursor() as cur,
    ):
        cur.execute(sql, [points.pk])
    points.refresh_from_db()
    assert (points.company_id, points.name, points.balance) == (
        partnership.company_id,
        AccountName.POINTS,
        1,
    )


def test_running_totals_backfill_rebuilds_them_from_the_entries(partnership: Any) -> None:
    from django.apps import apps as global_apps

    backfill = import_module("credits.migrations.0006_account_totals").backfill
    for r in make_referrals(partnership, 12):
        referral_qualify(referral=r)
    expected = dict(
        LedgerAccount.objects.unscoped()
        .filter(partnership=partnership)
        .values_list("name", "totals")
    )
    assert expected["points"] == {"qualify": 12, "convert": -10}
    assert expected["free_hires"] == {"convert": 1}
    LedgerAccount.objects.unscoped().update(totals={})
    with connection.schema_editor() as editor:
        backfill(global_apps, editor)
    assert (
        dict(
            LedgerAccount.objects.unscoped()
            .filter(partnership=partnership)
            .values_list("name", "totals")
        )
        == expected
    )
