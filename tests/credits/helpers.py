"""Bulk test data for the ledger proofs: many referrals in a handful of queries."""

from __future__ import annotations

import itertools
from typing import Any

from django.db.models import F, Q, Sum

from credits.models import EntryKind, LedgerAccount, LedgerEntry, LedgerTransaction
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


def bare_transaction(
    partnership: Any, key: str, *, kind: str = EntryKind.QUALIFY, **parents: Any
) -> LedgerTransaction:
    """A ledger transaction row written directly, without entries or the posting service."""
    return LedgerTransaction.objects.create(
        partnership=partnership,
        company_id=partnership.company_id,
        agency_id=partnership.agency_id,
        kind=kind,
        idempotency_key=key,
        **parents,
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
    assert_totals_and_keys_match(partnership)


def assert_totals_and_keys_match(partnership: Any = None) -> None:
    """Every account's per-kind running totals equal the sums of its entries per kind, and
    every entry's copied keys (partnership, company, agency, account name, unit) equal its
    account's and its transaction's: the database no longer checks them per row with foreign
    keys, so this proves the writers keep them consistent."""
    accounts = LedgerAccount.objects.unscoped()
    entries = LedgerEntry.objects.unscoped()
    if partnership is not None:
        accounts = accounts.filter(partnership=partnership)
        entries = entries.filter(account__partnership=partnership)
    sums: dict[int, dict[str, int]] = {}
    for account_id, kind, total in (
        entries.values_list("account_id", "kind").annotate(total=Sum("amount")).order_by()
    ):
        sums.setdefault(account_id, {})[kind] = int(total)
    for pk, totals in accounts.values_list("pk", "totals"):
        nonzero = {kind: int(v) for kind, v in totals.items() if int(v)}
        assert nonzero == {k: v for k, v in sums.get(pk, {}).items() if v}, (pk, totals)
    mismatched = entries.filter(
        ~Q(partnership_id=F("account__partnership_id"))
        | ~Q(company_id=F("account__company_id"))
        | ~Q(agency_id=F("account__agency_id"))
        | ~Q(account_name=F("account__name"))
        | ~Q(unit=F("account__unit"))
        | ~Q(partnership_id=F("transaction__partnership_id"))
        | ~Q(company_id=F("transaction__company_id"))
        | ~Q(agency_id=F("transaction__agency_id"))
    )
    assert not mismatched.exists()
