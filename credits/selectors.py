"""Ledger reads, always scoped by the tenant passed in.

A company sees its own side of the ledger (points, free hires, rebate credit); an agency sees
its issuer side (what it granted and owes). The balance figures per partnership are the same
numbers seen from either side.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from companies.models import Partnership
from credits.models import AccountName, EntryKind, LedgerAccount, LedgerEntry

COMPANY_ACCOUNTS = (AccountName.POINTS, AccountName.FREE_HIRES, AccountName.REBATE_JPY)
AGENCY_ACCOUNTS = (
    AccountName.POINTS_ISSUED,
    AccountName.FREE_HIRES_ISSUED,
    AccountName.REBATE_OWED,
)


@dataclass(frozen=True)
class CreditSummary:
    partnership: Partnership
    qualified_referrals: int
    points_balance: int
    referrals_per_free_hire: int
    free_hires_earned: int
    free_hires_redeemed: int
    free_hires_available: int
    rebate_balance_jpy: int

    @property
    def points_to_next_free_hire(self) -> int:
        # A negative balance (after disqualifications) is paid back first.
        return self.referrals_per_free_hire - self.points_balance

    @property
    def progress_points(self) -> int:
        """Points counted on the meter towards the next free hire (0 while negative)."""
        return max(self.points_balance, 0)

    @property
    def progress_percent(self) -> int:
        return min(100, self.progress_points * 100 // max(self.referrals_per_free_hire, 1))


def partnerships_for(*, tenant: Any) -> QuerySet[Partnership]:
    return (
        Partnership.objects.for_tenant(tenant)
        .select_related("company", "agency")
        .order_by("company__name", "agency__name", "pk")
    )


def credit_summaries(*, tenant: Any, partnership_id: int | None = None) -> list[CreditSummary]:
    """One summary per partnership of the tenant (company or agency), in two queries however
    many partnerships and entries there are: the flows per entry kind come from the running
    totals kept on the accounts (`LedgerAccount.totals`), not from the entries."""
    partnerships = partnerships_for(tenant=tenant)
    if partnership_id is not None:
        partnerships = partnerships.filter(pk=partnership_id)
    partnerships = list(partnerships)
    if not partnerships:
        return []
    balance: dict[tuple[int, str], int] = {}
    flows: dict[tuple[int, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for partnership_pk, name, amount, totals in (
        LedgerAccount.objects.for_tenant(tenant)
        .filter(partnership__in=[p.pk for p in partnerships])
        .values_list("partnership_id", "name", "balance", "totals")
    ):
        balance[(partnership_pk, name)] = int(amount)
        for kind, total in (totals or {}).items():
            flows[(partnership_pk, name)][kind] = int(total)

    summaries = []
    for p in partnerships:
        points = flows[(p.pk, "points")]
        free = flows[(p.pk, "free_hires")]
        available = balance.get((p.pk, "free_hires"), 0)
        redeemed = -(free[EntryKind.REDEEM] + free[EntryKind.RESTORE])
        summaries.append(
            CreditSummary(
                partnership=p,
                qualified_referrals=points[EntryKind.QUALIFY] + points[EntryKind.DISQUALIFY],
                points_balance=balance.get((p.pk, "points"), 0),
                referrals_per_free_hire=int(p.referrals_per_free_hire),
                free_hires_earned=available + redeemed,
                free_hires_redeemed=redeemed,
                free_hires_available=available,
                rebate_balance_jpy=balance.get((p.pk, "rebate_jpy"), 0),
            )
        )
    return summaries


def ledger_entries(*, tenant: Any) -> QuerySet[LedgerEntry]:
    """The tenant's side of the ledger, newest first, with each entry's cause (transaction,
    referral number, placement number) loaded."""
    names = COMPANY_ACCOUNTS if tenant.kind == "company" else AGENCY_ACCOUNTS
    return (
        LedgerEntry.objects.for_tenant(tenant)
        .filter(account_name__in=names)
        .select_related("transaction", "partnership__company", "partnership__agency")
        .order_by("-created_at", "-id")
    )
