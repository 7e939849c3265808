"""Read-side selectors of the HR dashboard. Every function takes the company explicitly and runs a
fixed number of queries whatever the data size: counts come from the DailyStat rollups that
Celery keeps current (referrals/rollups.py) and from ledger account balances, never from scanning
clicks or referrals."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.paginator import Page, Paginator
from django.db.models import BigIntegerField, Case, Count, F, Max, Q, QuerySet, Sum, When
from django.db.models.functions import Floor, TruncMonth

from agencies.models import Placement, PlacementStatus
from companies.models import Partnership
from referrals.models import DailyStat, Referral, ReferralStatus
from referrals.rollups import day_start

if TYPE_CHECKING:
    from companies.models import Company

MAX_PERIOD_DAYS = 3 * 366
LINKS_SHOWN = 50
REFERRALS_PER_PAGE = 50

SUM_FIELDS = (
    "clicks",
    "unique_clicks",
    "filtered_clicks",
    "registrations",
    "verified",
    "qualified",
    "placed",
    "register_seconds_sum",
    "register_timed",
    "qualify_seconds_sum",
    "qualify_timed",
)


@dataclass(frozen=True)
class Period:
    """Inclusive range of Tokyo days."""

    start: dt.date
    end: dt.date

    @property
    def months(self) -> list[dt.date]:
        first = self.start.replace(day=1)
        out = []
        while first <= self.end:
            out.append(first)
            first = (first + dt.timedelta(days=32)).replace(day=1)
        return out

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass
class Counts:
    clicks: int = 0
    unique_clicks: int = 0
    filtered_clicks: int = 0
    registrations: int = 0
    verified: int = 0
    qualified: int = 0
    placed: int = 0
    register_seconds_sum: int = 0
    register_timed: int = 0
    qualify_seconds_sum: int = 0
    qualify_timed: int = 0

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Counts:
        return cls(**{name: int(row.get(name) or 0) for name in SUM_FIELDS})

    @property
    def avg_register_seconds(self) -> int | None:
        if not self.register_timed:
            return None
        return self.register_seconds_sum // self.register_timed

    @property
    def avg_qualify_seconds(self) -> int | None:
        if not self.qualify_timed:
            return None
        return self.qualify_seconds_sum // self.qualify_timed

    @property
    def registration_rate(self) -> float | None:
        return _rate(self.registrations, self.unique_clicks)

    @property
    def qualification_rate(self) -> float | None:
        return _rate(self.qualified, self.registrations)

    @property
    def placement_rate(self) -> float | None:
        return _rate(self.placed, self.qualified)


def _rate(part: int, whole: int) -> float | None:
    return None if not whole else round(100 * part / whole, 1)


@dataclass
class Funnel:
    counts: Counts
    updated_at: dt.datetime | None


@dataclass
class MonthRow:
    month: dt.date
    counts: Counts


@dataclass
class LinkRow:
    link_id: int
    label: str
    agency_name: str
    counts: Counts


@dataclass
class AgencyRow:
    """One partnership seen from the company: ledger balances and what was paid and saved."""

    partnership_id: int
    agency_name: str
    status: str
    status_label: str
    referrals_per_free_hire: int
    qualified_referrals: int = 0
    points_balance: int = 0
    points_to_next_free_hire: int = 0
    free_hires_earned: int = 0
    free_hires_redeemed: int = 0
    free_hires_available: int = 0
    rebate_balance_jpy: int = 0
    fees_paid_jpy: int = 0
    paid_placements: int = 0
    waived_fees_jpy: int = 0
    free_placements: int = 0

    @property
    def points_towards_next(self) -> int:
        """Points on the meter (0 while a negative balance is being paid back)."""
        return max(self.referrals_per_free_hire - self.points_to_next_free_hire, 0)

    @property
    def estimated_saving_jpy(self) -> int:
        return self.waived_fees_jpy + self.rebate_balance_jpy


@dataclass
class Overview:
    agencies: list[AgencyRow] = field(default_factory=list)

    def _sum(self, name: str) -> int:
        return sum(getattr(row, name) for row in self.agencies)

    @property
    def free_hires_earned(self) -> int:
        return self._sum("free_hires_earned")

    @property
    def free_hires_available(self) -> int:
        return self._sum("free_hires_available")

    @property
    def free_hires_redeemed(self) -> int:
        return self._sum("free_hires_redeemed")

    @property
    def rebate_balance_jpy(self) -> int:
        return self._sum("rebate_balance_jpy")

    @property
    def fees_paid_jpy(self) -> int:
        return self._sum("fees_paid_jpy")

    @property
    def waived_fees_jpy(self) -> int:
        return self._sum("waived_fees_jpy")

    @property
    def estimated_saving_jpy(self) -> int:
        return self._sum("estimated_saving_jpy")

    @property
    def saving_share_percent(self) -> float | None:
        """The estimated saving as a share of the fees paid, computed from this company's data."""
        return _rate(self.estimated_saving_jpy, self.fees_paid_jpy)


def _stats(*, tenant: Company, period: Period) -> QuerySet[DailyStat]:
    return DailyStat.objects.for_tenant(tenant).filter(day__gte=period.start, day__lte=period.end)


def _sums() -> dict[str, Sum]:
    return {name: Sum(name) for name in SUM_FIELDS}


def funnel_totals(*, tenant: Company, period: Period) -> Funnel:
    """Totals of the period and the time of the newest rollup. One query."""
    row = _stats(tenant=tenant, period=period).aggregate(**_sums(), updated_at=Max("updated_at"))
    return Funnel(counts=Counts.from_row(row), updated_at=row["updated_at"])


def monthly_trend(*, tenant: Company, period: Period) -> list[MonthRow]:
    """One row per calendar month of the period, months without data included. One query."""
    found = {
        row["month"]: Counts.from_row(row)
        for row in _stats(tenant=tenant, period=period)
        .annotate(month=TruncMonth("day"))
        .values("month")
        .annotate(**_sums())
        .order_by("month")
    }
    found = {(m.date() if isinstance(m, dt.datetime) else m): c for m, c in found.items()}
    return [MonthRow(month=m, counts=found.get(m, Counts())) for m in period.months]


def link_rows(*, tenant: Company, period: Period, limit: int = LINKS_SHOWN) -> list[LinkRow]:
    """The links with the most registrations in the period (then clicks). One query."""
    rows = (
        _stats(tenant=tenant, period=period)
        .values("link_id", "link__label", "agency__name")
        .annotate(**_sums())
        .order_by("-registrations", "-unique_clicks", "link_id")[:limit]
    )
    return [
        LinkRow(
            link_id=row["link_id"],
            label=row["link__label"],
            agency_name=row["agency__name"],
            counts=Counts.from_row(row),
        )
        for row in rows
    ]


def _get(row: Any, name: str, default: Any = 0) -> Any:
    if isinstance(row, Mapping):
        return row.get(name, default)
    return getattr(row, name, default)


def _credit_summaries(*, tenant: Company) -> list[Any]:
    from credits.selectors import credit_summaries

    return list(credit_summaries(tenant=tenant))


def agency_overview(*, tenant: Company) -> Overview:
    """Per partnership: ledger balances (the ledger's own selector), fees the company paid the
    agency (net of refunds) and fees waived by free hires (each free-hire placement's fee at the
    agency's rate: theoretical annual salary × fee rate). Fixed number of queries."""
    partnerships = list(
        Partnership.objects.for_tenant(tenant)
        .select_related("agency")
        .order_by("agency__name", "id")
    )
    rows = {
        p.pk: AgencyRow(
            partnership_id=p.pk,
            agency_name=p.agency.name,
            status=p.status,
            status_label=p.get_status_display(),
            referrals_per_free_hire=p.referrals_per_free_hire,
            points_to_next_free_hire=p.referrals_per_free_hire,
        )
        for p in partnerships
    }
    for summary in _credit_summaries(tenant=tenant):
        partnership = _get(summary, "partnership", None)
        pk = getattr(partnership, "pk", partnership)
        row = rows.get(pk)
        if row is None:
            continue
        for name in (
            "qualified_referrals",
            "points_balance",
            "points_to_next_free_hire",
            "free_hires_earned",
            "free_hires_redeemed",
            "free_hires_available",
            "rebate_balance_jpy",
        ):
            setattr(row, name, int(_get(summary, name, getattr(row, name)) or 0))
    # The waived fee the agency recorded; if it recorded none, salary × its fee rate.
    waived = Case(
        When(waived_fee_jpy__gt=0, then=F("waived_fee_jpy")),
        default=Floor(F("annual_salary_jpy") * F("fee_rate") / 100),
        output_field=BigIntegerField(),
    )
    free = Q(free_hire=True) & ~Q(status=PlacementStatus.LEFT_EARLY)
    # Fees are paid per agency; an ended partnership and a later one with the same agency share
    # them, shown on the open one.
    by_agency: dict[int, AgencyRow] = {}
    for p in partnerships:
        if p.agency_id not in by_agency or p.status != "ended":
            by_agency[p.agency_id] = rows[p.pk]
    fees = (
        Placement.objects.unscoped()
        .filter(hiring_company=tenant)
        .values("agency_id")
        .annotate(
            paid=Sum(F("fee_jpy") - F("refund_jpy"), filter=Q(free_hire=False)),
            paid_n=Count("id", filter=Q(free_hire=False)),
            waived=Sum(waived, filter=free),
            free_n=Count("id", filter=free),
        )
        .order_by()
    )
    for fee in fees:
        row = by_agency.get(fee["agency_id"])
        if row is None:
            continue
        row.fees_paid_jpy = int(fee["paid"] or 0)
        row.paid_placements = fee["paid_n"]
        row.waived_fees_jpy = int(fee["waived"] or 0)
        row.free_placements = fee["free_n"]
    return Overview(agencies=list(rows.values()))


def referral_page(
    *, tenant: Company, period: Period, status: str = "", page: int | str = 1
) -> Page:
    """The company's referrals registered in the period, newest first: stage and status only,
    never the candidate's contact data or where they were hired. Two queries (count, page)."""
    qs = (
        Referral.objects.for_tenant(tenant)
        .filter(
            created_at__gte=day_start(period.start),
            created_at__lt=day_start(period.end + dt.timedelta(days=1)),
        )
        .select_related("agency", "link")
        .only(
            "id",
            "status",
            "stage",
            "created_at",
            "qualified_at",
            "agency__name",
            "link__label",
            "partnership_id",
        )
        .order_by("-created_at", "-id")
    )
    if status in ReferralStatus.values:
        qs = qs.filter(status=status)
    return Paginator(qs, REFERRALS_PER_PAGE).get_page(page)


def link_totals(*, tenant: Company, link_id: int) -> Counts:
    """All-time totals of one of the company's links (another company's link: zeros). One
    query."""
    row = DailyStat.objects.for_tenant(tenant).filter(link_id=link_id).aggregate(**_sums())
    return Counts.from_row(row)
