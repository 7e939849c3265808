"""The posting primitive: balanced, idempotent, append-only, balances equal sums of entries."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models import Sum

from careerrelay.core.models import AuditEvent
from credits.models import AccountName, EntryKind, LedgerAccount, LedgerEntry, LedgerTransaction
from credits.services import LedgerImbalanceError, account_balances, ledger_post, ledger_reverse

A = AccountName


def _post(partnership: Any, key: str, amount: int = 1) -> LedgerTransaction:
    return ledger_post(
        partnership=partnership,
        kind=EntryKind.QUALIFY,
        idempotency_key=key,
        legs=[(A.POINTS, amount), (A.POINTS_ISSUED, -amount)],
    )


def test_posting_writes_balanced_entries_and_updates_cached_balances(partnership: Any) -> None:
    tx = _post(partnership, "qualify:test-1")
    entries = {e.account_name: e for e in tx.entries.all()}
    assert {name: e.amount for name, e in entries.items()} == {"points": 1, "points_issued": -1}
    assert entries["points"].idempotency_key == "qualify:test-1:points"
    assert entries["points"].company_id == partnership.company_id
    assert entries["points"].agency_id == partnership.agency_id
    assert account_balances(partnership=partnership)["points"] == 1
    assert account_balances(partnership=partnership)["points_issued"] == -1
    # All six accounts exist once the partnership has posted anything.
    assert LedgerAccount.objects.for_tenant(partnership.company).count() == 6
    assert AuditEvent.objects.for_tenant(partnership.company).filter(action="ledger.post").count()
    assert AuditEvent.objects.for_tenant(partnership.agency).filter(action="ledger.post").count()


def test_same_idempotency_key_posts_once(partnership: Any) -> None:
    first = _post(partnership, "qualify:test-2")
    again = _post(partnership, "qualify:test-2", amount=5)
    assert again.pk == first.pk
    assert LedgerEntry.objects.for_tenant(partnership.company).count() == 2
    assert account_balances(partnership=partnership)["points"] == 1


@pytest.mark.parametrize(
    "legs",
    [
        [(A.POINTS, 1)],
        [(A.POINTS, 1), (A.FREE_HIRES_ISSUED, -1)],
        [(A.POINTS, 1), (A.POINTS, -1)],
        [],
    ],
)
def test_unbalanced_legs_are_refused_before_anything_is_written(
    partnership: Any, legs: list[tuple[str, int]]
) -> None:
    with pytest.raises(LedgerImbalanceError):
        ledger_post(
            partnership=partnership, kind=EntryKind.QUALIFY, idempotency_key="bad", legs=legs
        )
    assert not LedgerTransaction.objects.for_tenant(partnership.company).exists()


def test_reverse_posts_the_mirror_image_once(partnership: Any) -> None:
    _post(partnership, "qualify:test-3", amount=3)
    rev = ledger_reverse(idempotency_key="qualify:test-3")
    assert rev.idempotency_key == "reverse:qualify:test-3"
    assert ledger_reverse(idempotency_key="qualify:test-3").pk == rev.pk
    assert account_balances(partnership=partnership)["points"] == 0
    assert LedgerTransaction.objects.for_tenant(partnership.company).count() == 2


def test_cached_balances_equal_the_sum_of_entries(partnership: Any) -> None:
    for i in range(5):
        _post(partnership, f"qualify:sum-{i}", amount=i + 1)
    sums = dict(
        LedgerEntry.objects.for_tenant(partnership.company)
        .values_list("account_name")
        .annotate(total=Sum("amount"))
    )
    for account in LedgerAccount.objects.for_tenant(partnership.company):
        assert account.balance == sums.get(account.name, 0)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL triggers")
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE credits_ledgerentry SET amount = amount + 1",
        "DELETE FROM credits_ledgerentry",
        "UPDATE credits_ledgertransaction SET memo = 'x'",
        "DELETE FROM credits_ledgertransaction",
    ],
)
def test_database_refuses_update_and_delete_of_ledger_rows(partnership: Any, sql: str) -> None:
    _post(partnership, "qualify:raw")
    with (
        pytest.raises(Exception, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cur,
    ):
        cur.execute(sql)
    assert LedgerEntry.objects.for_tenant(partnership.company).filter(amount=1).count() == 1


def _forge_entry(tx: LedgerTransaction, account: LedgerAccount, partnership: Any) -> None:
    with transaction.atomic():
        LedgerEntry.objects.create(
            transaction=tx,
            account=account,
            partnership=partnership,
            company_id=partnership.company_id,
            agency_id=partnership.agency_id,
            account_name=A.POINTS,
            unit="points",
            amount=7,
            kind=EntryKind.QUALIFY,
            idempotency_key="forged",
        )
        # The check is deferred to commit; inside the test's transaction force it now.
        with connection.cursor() as cur:
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL triggers")
def test_database_refuses_an_unbalanced_transaction_at_commit(partnership: Any) -> None:
    tx = _post(partnership, "qualify:base")
    account = LedgerAccount.objects.for_tenant(partnership.company).get(name=A.POINTS)
    with pytest.raises(Exception, match="does not balance"):
        _forge_entry(tx, account, partnership)
    assert not LedgerEntry.objects.for_tenant(partnership.company).filter(amount=7).exists()
