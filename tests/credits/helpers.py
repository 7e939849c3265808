"""Bulk test data for the ledger proofs: many referrals in a handful of queries."""

from __future__ import annotations

import itertools
from typing import Any

from django.db.models import Sum

from credits.models import LedgerAccount, LedgerEntry
from referrals.models import Candidate, Referral

_seq = itertools.count(1)


def make_referrals(partnership: Any, n: int, *, status: str = "new") -> list[Referral]:
    """n referrals of distinct candidates on the partnership (two bulk inserts)."""
    start = next(_seq) * 1_000_000
    candidates = Candidate.objects.bulk_create(
        [
            Candidate(agency_id=partnership.agency_id, email_hash=f"test-{start + i:064d}"[-64:])
            for i in range(n)
        ]
    )
    return Referral.objects.bulk_create(
        [
            Referral(
                company_id=partnership.company_id,
                agency_id=partnership.agency_id,
                partnership=partnership,
                candidate=candidate,
                status=status,
            )
            for candidate in candidates
        ]
    )


def balances(partnership: Any) -> dict[str, int]:
    return dict(
        LedgerAccount.objects.unscoped()
        .filter(partnership=partnership)
        .values_list("name", "balance")
    )


def entry_sums(partnership: Any) -> dict[str, int]:
    return {
        name: int(total)
        for name, total in LedgerEntry.objects.unscoped()
        .filter(partnership=partnership)
        .values_list("account_name")
        .annotate(total=Sum("amount"))
    }


def assert_balances_match_entries(partnership: Any) -> None:
    cached = balances(partnership)
    summed = entry_sums(partnership)
    for name, balance in cached.items():
        assert balance == summed.get(name, 0), (name, balance, summed.get(name, 0))
    # Double entry: the company's balances mirror the agency's issuer accounts.
    assert cached.get("points", 0) == -cached.get("points_issued", 0)
    assert cached.get("free_hires", 0) == -cached.get("free_hires_issued", 0)
    assert cached.get("rebate_jpy", 0) == -cached.get("rebate_owed", 0)
