"""The referral and placement of a ledger transaction: checked per INSERT statement and kept
from deletion by the database's triggers (migration credits 0010), as the foreign keys did."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction

from agencies.models import Placement
from credits.models import EntryKind, LedgerTransaction
from referrals.models import Referral
from tests.credits.helpers import bare_transaction, make_referrals
from tests.settlement.helpers import make_placements

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL triggers")


def _tx(partnership: Any, key: str, **parents: Any) -> LedgerTransaction:
    return bare_transaction(partnership, key, kind=EntryKind.REBATE, **parents)


def _placement(partnership: Any, other_company: Any) -> Placement:
    ends = dt.date(2026, 1, 31)
    return make_placements(
        partnership, 1, hiring_company=other_company, fee_jpy=1_000_000, guarantee_ends_on=ends
    )[0]


def test_a_transaction_naming_a_missing_referral_or_placement_is_refused(
    partnership: Any, other_company: Any
) -> None:
    placement = _placement(partnership, other_company)
    for key, parents, message in [
        ("rebate:ghost-referral", {"referral_id": 10**12}, "missing referral"),
        ("rebate:ghost-placement", {"placement_id": 10**12}, "missing placement"),
        (
            "rebate:one-ghost",
            {"referral_id": placement.referral_id, "placement_id": 10**12},
            "missing placement",
        ),
    ]:
        with pytest.raises(IntegrityError, match=message), transaction.atomic():
            _tx(partnership, key, **parents)
    _tx(partnership, "rebate:real", referral_id=placement.referral_id, placement=placement)
    assert list(LedgerTransaction.objects.unscoped().values_list("idempotency_key", flat=True)) == [
        "rebate:real"
    ]


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM {table} WHERE id = %s",
        "UPDATE {table} SET id = id + 1000000 WHERE id = %s",
    ],
)
def test_a_referral_or_placement_in_the_ledger_is_never_deleted_or_renumbered(
    partnership: Any, other_company: Any, sql: str
) -> None:
    placement = _placement(partnership, other_company)
    _tx(partnership, "rebate:kept", referral_id=placement.referral_id, placement=placement)
    referral = make_referrals(partnership, 1)[0]
    _tx(partnership, "qualify:kept", referral=referral)
    for table, pk in [
        ("agencies_placement", placement.pk),
        ("referrals_referral", referral.pk),
    ]:
        with (
            pytest.raises(IntegrityError, match="referred to by the ledger"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql.format(table=table), [pk])
    assert Placement.objects.unscoped().filter(pk=placement.pk).exists()
    assert Referral.objects.unscoped().filter(pk=referral.pk).exists()


def test_a_referral_outside_the_ledger_may_still_be_deleted(partnership: Any) -> None:
    referral = make_referrals(partnership, 1)[0]
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM referrals_referral WHERE id = %s", [referral.pk])
    assert not Referral.objects.unscoped().filter(pk=referral.pk).exists()
