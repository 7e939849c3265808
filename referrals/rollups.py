"""Daily rollups per referral link (Asia/Tokyo days) that dashboards read instead of scanning
clicks and referrals.

One `DailyStat` row per (link, day) holds:

- clicks by the day they happened: all recorded, unique human visitors, filtered (bots,
  mail-security scanners, HEAD requests);
- referrals by the day they registered (a cohort): registrations, verified emails, and how many
  of them are now qualified and placed, with the summed seconds from click to registration and
  from click to qualification (lead time).

Every refresh recomputes whole (link, day) rows with GROUP BY queries and upserts them
(`INSERT ... ON CONFLICT (link, day) DO UPDATE`), so running it twice changes nothing, and rows
whose sources vanished are removed. The periodic refresh recomputes only the (company, day) pairs
touched since its previous run: days of new clicks and referrals (by id watermark) and the
cohort days of referrals whose status changed (by timestamp), both with an overlap; the
watermark lives in the cache. A nightly rebuild recomputes the last 400 days as a safety net.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import zlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from celery import shared_task
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import (
    Count,
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    Sum,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from agencies.models import Placement
from referrals.models import Click, ClickClass, DailyStat, Referral, ReferralStage, ReferralStatus

TOKYO = ZoneInfo("Asia/Tokyo")
RECENT_DAYS = 2
REBUILD_DAYS = 400
REBUILD_CHUNK_DAYS = 31
WATERMARK_KEY = "referrals:rollup:watermark"
WATERMARK_OVERLAP = dt.timedelta(minutes=10)
# Ids handed out before the previous refresh may commit after it: look back this many ids.
ID_OVERLAP = 10_000
_LOCK_ID = zlib.crc32(b"referrals.rollup")

COUNTERS = (
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
class RollupResult:
    rows_written: int
    rows_removed: int
    days: int


def tokyo_today(now: dt.datetime | None = None) -> dt.date:
    return (now or timezone.now()).astimezone(TOKYO).date()


def day_start(day: dt.date) -> dt.datetime:
    """The aware instant at which the Tokyo day begins."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=TOKYO)


def _spans(days: Iterable[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Merge days into inclusive contiguous spans."""
    spans: list[tuple[dt.date, dt.date]] = []
    for day in sorted(set(days)):
        if spans and (day - spans[-1][1]).days == 1:
            spans[-1] = (spans[-1][0], day)
        else:
            spans.append((day, day))
    return spans


def _range_q(field: str, spans: list[tuple[dt.date, dt.date]]) -> Q:
    q = Q()
    for first, last in spans:
        q |= Q(
            **{
                f"{field}__gte": day_start(first),
                f"{field}__lt": day_start(last + dt.timedelta(days=1)),
            }
        )
    return q


def _day_q(spans: list[tuple[dt.date, dt.date]]) -> Q:
    q = Q()
    for first, last in spans:
        q |= Q(day__gte=first, day__lte=last)
    return q


def _seconds(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, dt.timedelta):
        return int(value.total_seconds())
    # SQLite returns durations as microseconds.
    return int(value) // 1_000_000


def _lock() -> None:
    """One rollup writes at a time (PostgreSQL); a concurrent run waits, then recomputes."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_ID])


def _aggregate(
    *, company_ids: list[int] | None, spans: list[tuple[dt.date, dt.date]]
) -> dict[tuple[int, dt.date], dict[str, Any]]:
    """Two GROUP BY queries (clicks, referrals) for the given days; rows keyed by (link, day)."""
    rows: dict[tuple[int, dt.date], dict[str, Any]] = defaultdict(
        lambda: dict.fromkeys(COUNTERS, 0)
    )

    clicks = Click.objects.unscoped().filter(_range_q("clicked_at", spans))
    if company_ids is not None:
        clicks = clicks.filter(company_id__in=company_ids)
    human_unique = Q(classification=ClickClass.HUMAN, is_unique=True)
    for r in (
        clicks.annotate(day=TruncDate("clicked_at", tzinfo=TOKYO))
        .values("link_id", "day", "company_id", "agency_id", "link__partnership_id")
        .annotate(
            n=Count("id"),
            unique=Count("id", filter=human_unique),
            filtered=Count("id", filter=~Q(classification=ClickClass.HUMAN)),
        )
        .order_by()
    ):
        row = rows[(r["link_id"], r["day"])]
        row.update(
            company_id=r["company_id"],
            agency_id=r["agency_id"],
            partnership_id=r["link__partnership_id"],
            clicks=r["n"],
            unique_clicks=r["unique"],
            filtered_clicks=r["filtered"],
        )

    referrals = Referral.objects.unscoped().filter(
        _range_q("created_at", spans), link__isnull=False
    )
    if company_ids is not None:
        referrals = referrals.filter(company_id__in=company_ids)
    qualified = Q(status=ReferralStatus.QUALIFIED)
    qualify_seconds = ExpressionWrapper(
        F("qualified_at")
        - Coalesce(F("click__clicked_at"), F("created_at"), output_field=DateTimeField()),
        output_field=DurationField(),
    )
    for r in (
        referrals.annotate(
            day=TruncDate("created_at", tzinfo=TOKYO),
            has_placement=Exists(Placement.objects.unscoped().filter(referral_id=OuterRef("pk"))),
        )
        .values("link_id", "day", "company_id", "agency_id", "link__partnership_id")
        .annotate(
            n=Count("id"),
            verified=Count("id", filter=Q(candidate__email_verified_at__isnull=False)),
            qualified=Count("id", filter=qualified),
            placed=Count("id", filter=Q(has_placement=True) | Q(stage=ReferralStage.PLACED)),
            register_seconds=Sum("seconds_to_register"),
            register_timed=Count("seconds_to_register"),
            qualify_seconds=Sum(qualify_seconds, filter=qualified & Q(qualified_at__isnull=False)),
            qualify_timed=Count("id", filter=qualified & Q(qualified_at__isnull=False)),
        )
        .order_by()
    ):
        row = rows[(r["link_id"], r["day"])]
        row.update(
            company_id=r["company_id"],
            agency_id=r["agency_id"],
            partnership_id=r["link__partnership_id"],
            registrations=r["n"],
            verified=r["verified"],
            qualified=r["qualified"],
            placed=r["placed"],
            register_seconds_sum=int(r["register_seconds"] or 0),
            register_timed=r["register_timed"],
            qualify_seconds_sum=max(_seconds(r["qualify_seconds"]), 0),
            qualify_timed=r["qualify_timed"],
        )
    return rows


@transaction.atomic
def rollup_recompute(
    *, days: Iterable[dt.date], company_ids: Iterable[int] | None = None
) -> RollupResult:
    """Recompute the DailyStat rows of the given Tokyo days (of the given companies, or all).

    Side effects: upserts one DailyStat per (link, day) that has clicks or referrals, deletes
    the rows of those days that no longer have any. Idempotent.
    """
    spans = _spans(days)
    if not spans:
        return RollupResult(0, 0, 0)
    ids = None if company_ids is None else sorted(set(company_ids))
    if ids == []:
        return RollupResult(0, 0, 0)
    _lock()
    rows = _aggregate(company_ids=ids, spans=spans)
    now = timezone.now()
    objs = [
        DailyStat(
            link_id=link_id,
            day=day,
            company_id=row["company_id"],
            agency_id=row["agency_id"],
            partnership_id=row["partnership_id"],
            updated_at=now,
            **{name: row[name] for name in COUNTERS},
        )
        for (link_id, day), row in rows.items()
    ]
    written = 0
    for start in range(0, len(objs), 1000):
        DailyStat.objects.bulk_create(
            objs[start : start + 1000],
            update_conflicts=True,
            unique_fields=["link", "day"],
            update_fields=[*COUNTERS, "updated_at"],
        )
        written += len(objs[start : start + 1000])

    existing = DailyStat.objects.unscoped().filter(_day_q(spans))
    if ids is not None:
        existing = existing.filter(company_id__in=ids)
    stale = [
        pk
        for pk, link_id, day in existing.values_list("id", "link_id", "day")
        if (link_id, day) not in rows
    ]
    removed = 0
    for start in range(0, len(stale), 1000):
        removed += (
            DailyStat.objects.unscoped().filter(id__in=stale[start : start + 1000]).delete()[0]
        )
    return RollupResult(written, removed, sum((b - a).days + 1 for a, b in spans))


def rollup_rebuild(
    *,
    company_ids: Iterable[int] | None = None,
    days: int | None = REBUILD_DAYS,
    now: dt.datetime | None = None,
) -> RollupResult:
    """Recompute the last `days` Tokyo days (default 400) for the given companies or all;
    `days=None` recomputes the whole history (from the earliest click or referral)."""
    today = tokyo_today(now)
    ids = None if company_ids is None else list(company_ids)
    if days is None:
        earliest = []
        for model, field in ((Click, "clicked_at"), (Referral, "created_at")):
            qs = model.objects.unscoped()
            if ids is not None:
                qs = qs.filter(company_id__in=ids)
            first = qs.aggregate(m=Min(field))["m"]
            if first is not None:
                earliest.append(first.astimezone(TOKYO).date())
        if not earliest:
            return RollupResult(0, 0, 0)
        days = (today - min(earliest)).days + 1
    # One transaction per month-sized window: bounded memory and short advisory-lock holds, so
    # the minute refresh is never stuck behind the whole history.
    written = removed = total_days = 0
    for offset in range(0, days, REBUILD_CHUNK_DAYS):
        window = [
            today - dt.timedelta(days=n)
            for n in range(offset, min(offset + REBUILD_CHUNK_DAYS, days))
        ]
        result = rollup_recompute(days=window, company_ids=ids)
        written += result.rows_written
        removed += result.rows_removed
        total_days += result.days
    return RollupResult(written, removed, total_days)


def _touched_cohorts(*, since: dt.datetime) -> dict[int, set[dt.date]]:
    """Registration days (per company) of referrals that changed since `since`: qualification,
    disqualification, attribution, verification, erasure or a placement all move the counts of
    their cohort day."""
    changed = (
        Q(qualified_at__gte=since)
        | Q(disqualified_at__gte=since)
        | Q(attributed_at__gte=since)
        | Q(candidate__email_verified_at__gte=since)
        | Q(candidate__erased_at__gte=since)
        | Q(
            Exists(
                Placement.objects.unscoped().filter(
                    referral_id=OuterRef("pk"), created_at__gte=since
                )
            )
        )
    )
    out: dict[int, set[dt.date]] = defaultdict(set)
    for company_id, day in (
        Referral.objects.unscoped()
        .filter(changed, link__isnull=False)
        .annotate(day=TruncDate("created_at", tzinfo=TOKYO))
        .values_list("company_id", "day")
        .distinct()
        .order_by()
    ):
        out[company_id].add(day)
    return out


def _new_rows(model: Any, field: str, *, after: int, upto: int) -> dict[int, set[dt.date]]:
    """(company, Tokyo day) of the rows with ids in (after, upto]: a primary-key range scan."""
    out: dict[int, set[dt.date]] = defaultdict(set)
    for company_id, day in (
        model.objects.unscoped()
        .filter(id__gt=after, id__lte=upto)
        .annotate(day=TruncDate(field, tzinfo=TOKYO))
        .values_list("company_id", "day")
        .distinct()
        .order_by()
    ):
        out[company_id].add(day)
    return out


def _load_state() -> dict[str, Any] | None:
    try:
        state = cache.get(WATERMARK_KEY)
    except Exception:  # without the cache the refresh falls back to the recent days
        return None
    return (
        state
        if isinstance(state, dict) and {"since", "click_id", "referral_id"} <= set(state)
        else None
    )


def rollup_refresh(*, now: dt.datetime | None = None) -> RollupResult:
    """The periodic refresh. Recomputes, per company, the Tokyo days touched since the previous
    refresh: days of new clicks and new referrals (found by id above the watermark, with an
    overlap for rows that committed late) and the cohort days of referrals whose status changed
    (by timestamp, with an overlap). Without a watermark (first run, cache lost) it recomputes
    the last RECENT_DAYS days of every company plus the changes of the last day.

    Side effects: DailyStat rows (see rollup_recompute) and the watermark in the cache."""
    now = now or timezone.now()
    state = _load_state()
    click_top = Click.objects.unscoped().aggregate(m=Max("id"))["m"] or 0
    referral_top = Referral.objects.unscoped().aggregate(m=Max("id"))["m"] or 0
    touched: dict[int, set[dt.date]] = defaultdict(set)
    written = removed = days = 0
    if state is None:
        since = now - dt.timedelta(days=1)
        today = tokyo_today(now)
        result = rollup_recompute(days=[today - dt.timedelta(days=n) for n in range(RECENT_DAYS)])
        written, removed, days = result.rows_written, result.rows_removed, result.days
    else:
        since = dt.datetime.fromisoformat(state["since"]) - WATERMARK_OVERLAP
        for model, field, seen, top in (
            (Click, "clicked_at", state["click_id"], click_top),
            (Referral, "created_at", state["referral_id"], referral_top),
        ):
            for company_id, new_days in _new_rows(
                model, field, after=max(int(seen) - ID_OVERLAP, 0), upto=top
            ).items():
                touched[company_id] |= new_days
    for company_id, cohort_days in _touched_cohorts(since=since).items():
        touched[company_id] |= cohort_days
    by_days: dict[frozenset[dt.date], list[int]] = defaultdict(list)
    for company_id, company_days in touched.items():
        by_days[frozenset(company_days)].append(company_id)
    for company_days, company_ids in by_days.items():
        result = rollup_recompute(days=company_days, company_ids=company_ids)
        written += result.rows_written
        removed += result.rows_removed
        days += result.days
    # A lost watermark only widens the next refresh.
    with contextlib.suppress(Exception):
        cache.set(
            WATERMARK_KEY,
            {"since": now.isoformat(), "click_id": click_top, "referral_id": referral_top},
            timeout=None,
        )
    return RollupResult(written, removed, days)


@shared_task(name="referrals.rollup_refresh", ignore_result=True)
def rollup_refresh_task() -> int:
    return rollup_refresh().rows_written


@shared_task(name="referrals.rollup_rebuild", ignore_result=True)
def rollup_rebuild_task() -> int:
    return rollup_rebuild().rows_written


def seed(ctx: dict[str, Any]) -> None:
    """`seed_demo` step, run last: roll up all the clicks and referrals the other steps wrote."""
    result = rollup_rebuild(days=None)
    stdout = ctx.get("stdout")
    if stdout is not None:
        stdout.write(f"Rollups: {result.rows_written} daily rows")
