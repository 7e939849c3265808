"""Test data for placements and settlement: referred candidates and placements in bulk."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from django.db.models import Sum
from django.utils import timezone

from agencies.models import Placement
from credits.models import LedgerAccount, LedgerEntry
from referrals import pii
from referrals.models import Candidate, Referral
from tests.credits.helpers import assert_totals_and_keys_match

_seq = itertools.count(1)


def make_referral(partnership: Any, *, name: str = "山田 太郎", email: str = "", **kw: Any):
    n = next(_seq)
    email = email or f"cand{n}-{partnership.pk}@example.jp"
    candidate = Candidate.objects.create(
        agency_id=partnership.agency_id,
        name_enc=pii.encrypt(name),
        email_enc=pii.encrypt(email),
        email_hash=pii.email_hash(email),
        phone_enc=pii.encrypt(f"090-0000-{n:04d}"),
        phone_hash=pii.phone_hash(f"090-0000-{n:04d}"),
        email_verified_at=timezone.now(),
    )
    return Referral.objects.create(
        company_id=partnership.company_id,
        agency_id=partnership.agency_id,
        partnership=partnership,
        candidate=candidate,
        **kw,
    )


def backdate_referral(referral: Referral, days: int) -> None:
    Referral.all_objects.filter(pk=referral.pk).update(
        created_at=timezone.now() - dt.timedelta(days=days)
    )


def make_placements(
    partnership: Any,
    n: int,
    *,
    hiring_company: Any,
    fee_jpy: int,
    guarantee_ends_on: dt.date,
) -> list[Placement]:
    """n referred placements at `hiring_company` whose guarantee ends on the date (bulk)."""
    start = next(_seq) * 1_000_000
    candidates = Candidate.objects.bulk_create(
        [
            Candidate(agency_id=partnership.agency_id, email_hash=f"p-{start + i:062d}"[-64:])
            for i in range(n)
        ]
    )
    referrals = Referral.objects.bulk_create(
        [
            Referral(
                company_id=partnership.company_id,
                agency_id=partnership.agency_id,
                partnership=partnership,
                candidate=c,
            )
            for c in candidates
        ]
    )
    start_date = guarantee_ends_on - dt.timedelta(days=180)
    return Placement.objects.bulk_create(
        [
            Placement(
                agency_id=partnership.agency_id,
                referral=r,
                company_id=partnership.company_id,
                partnership=partnership,
                hiring_company=hiring_company,
                hiring_company_name=hiring_company.name,
                annual_salary_jpy=fee_jpy * 100 // 35,
                fee_rate="35.00",
                fee_jpy=fee_jpy,
                start_date=start_date,
                guarantee_ends_on=guarantee_ends_on,
                refund_tiers=[[30, 50], [90, 30], [180, 10]],
            )
            for r in referrals
        ]
    )


def rebate_balance(partnership: Any) -> int:
    return int(
        LedgerAccount.objects.unscoped()
        .filter(partnership=partnership, name="rebate_jpy")
        .values_list("balance", flat=True)
        .first()
        or 0
    )


def assert_ledger_consistent() -> None:
    """Every cached balance and per-kind total equals its entries' sum, every entry's copied
    keys equal its account's and transaction's; every transaction sums to zero."""
    sums = dict(
        LedgerEntry.objects.unscoped()
        .values_list("account_id")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    for pk, balance in LedgerAccount.objects.unscoped().values_list("pk", "balance"):
        assert balance == int(sums.get(pk, 0)), (pk, balance, sums.get(pk))
    unbalanced = (
        LedgerEntry.objects.unscoped()
        .values("transaction_id", "unit")
        .annotate(total=Sum("amount"))
        .exclude(total=0)
    )
    assert not unbalanced.exists()
    assert_totals_and_keys_match()
