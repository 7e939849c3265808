"""The DailyStat rollups: Tokyo days, bot filtering, cohort counts, lead time, idempotency."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.core.cache import cache
from django.utils import timezone

from referrals.models import Click, DailyStat, Referral
from referrals.rollups import (
    WATERMARK_KEY,
    rollup_rebuild,
    rollup_refresh,
    tokyo_today,
)
from tests.dashboard.helpers import add_clicks, add_placement, add_referral, make_link, tokyo

pytestmark = pytest.mark.django_db


def _day(days_ago: int) -> dt.date:
    return tokyo_today() - dt.timedelta(days=days_ago)


def _at(day: dt.date, hh: int = 12, mm: int = 0) -> dt.datetime:
    return tokyo(day.year, day.month, day.day, hh, mm)


def _row(link, day) -> DailyStat:
    return DailyStat.objects.unscoped().get(link=link, day=day)


def test_clicks_roll_up_per_tokyo_day_with_bots_and_repeats_filtered(partnership):
    link = make_link(partnership)
    day = _day(10)
    add_clicks(link, _at(day, 23, 30), human=3, repeat=2, bots=4, scanners=1)
    # 00:10 in Tokyo is still the previous day in UTC; it belongs to the next Tokyo day.
    add_clicks(link, _at(day + dt.timedelta(days=1), 0, 10), human=1)

    rollup_rebuild(days=30)

    first = _row(link, day)
    assert (first.clicks, first.unique_clicks, first.filtered_clicks) == (10, 3, 5)
    second = _row(link, day + dt.timedelta(days=1))
    assert (second.clicks, second.unique_clicks, second.filtered_clicks) == (1, 1, 0)
    assert first.company_id == partnership.company_id
    assert first.partnership_id == partnership.pk


def test_referrals_roll_up_by_registration_day_with_current_status_and_lead_time(
    partnership, company, agency
):
    link = make_link(partnership)
    day = _day(5)
    registered = _at(day, 10)
    a = add_referral(
        link,
        registered,
        click_at=registered - dt.timedelta(minutes=30),
        verified=True,
        qualified_at=registered + dt.timedelta(days=2),
    )
    add_referral(link, registered, click_at=registered - dt.timedelta(hours=2), verified=True)
    add_referral(link, registered, status="disqualified")
    add_placement(a, agency=agency, hiring_company=company, free_hire=True)

    rollup_rebuild(days=30)

    row = _row(link, day)
    assert row.registrations == 3
    assert row.verified == 2
    assert row.qualified == 1
    assert row.placed == 1
    assert row.register_timed == 2
    assert row.register_seconds_sum == 30 * 60 + 2 * 3600
    assert row.qualify_timed == 1
    assert row.qualify_seconds_sum == 2 * 86400 + 30 * 60
    # The two sample clicks belong to the same day as well.
    assert row.unique_clicks == 2


def test_rebuild_is_idempotent_and_removes_rows_whose_sources_vanished(partnership):
    link = make_link(partnership)
    other = make_link(partnership, "別のリンク")
    add_clicks(link, _at(_day(3)), human=2)
    add_clicks(other, _at(_day(3)), human=1)

    rollup_rebuild(days=30)
    first = sorted(
        DailyStat.objects.unscoped().values_list("link_id", "day", "clicks", "unique_clicks")
    )
    rollup_rebuild(days=30)
    again = sorted(
        DailyStat.objects.unscoped().values_list("link_id", "day", "clicks", "unique_clicks")
    )
    assert first == again
    assert len(first) == 2

    Click.all_objects.filter(link=other).delete()
    rollup_rebuild(days=30)
    assert not DailyStat.objects.unscoped().filter(link=other).exists()
    assert _row(link, _day(3)).clicks == 2


def test_rollup_is_scoped_to_the_link_company(partnership, other_partnership):
    mine = make_link(partnership)
    theirs = make_link(other_partnership)
    add_clicks(mine, _at(_day(2)), human=1)
    add_clicks(theirs, _at(_day(2)), human=7)

    rollup_rebuild(days=30)

    assert DailyStat.objects.for_tenant(partnership.company).get().unique_clicks == 1
    assert DailyStat.objects.for_tenant(other_partnership.company).get().unique_clicks == 7


def test_refresh_updates_recent_days_and_older_cohorts_that_changed(partnership):
    link = make_link(partnership)
    old_day = _day(40)
    referral = add_referral(link, _at(old_day))
    add_clicks(link, _at(_day(0)), human=1)
    cache.delete(WATERMARK_KEY)
    # Without a watermark: the recent days of every company.
    rollup_refresh()
    assert _row(link, tokyo_today()).unique_clicks == 1
    assert not DailyStat.objects.unscoped().filter(day=old_day).exists()
    rollup_rebuild(days=60)
    assert _row(link, old_day).qualified == 0

    # A click drained late (clicked 5 days ago), new clicks, and an old cohort's qualification.
    add_clicks(link, _at(_day(5)), human=4)
    add_clicks(link, timezone.now(), human=2)
    Referral.all_objects.filter(pk=referral.pk).update(
        status="qualified", qualified_at=timezone.now()
    )

    result = rollup_refresh()

    assert _row(link, old_day).qualified == 1
    assert _row(link, _day(5)).unique_clicks == 4
    assert _row(link, tokyo_today()).unique_clicks == 3
    assert result.rows_written >= 3
    # Nothing changed since: a second refresh leaves the same figures.
    rollup_refresh()
    assert _row(link, old_day).qualified == 1
    assert _row(link, tokyo_today()).unique_clicks == 3


def test_refresh_leaves_untouched_companies_alone(partnership, other_partnership, monkeypatch):
    from referrals import rollups

    # Without the look-back for late commits, only the new click's (company, day) is redone.
    monkeypatch.setattr(rollups, "ID_OVERLAP", 0)
    mine = make_link(partnership)
    theirs = make_link(other_partnership)
    add_clicks(mine, _at(_day(1)), human=1)
    add_clicks(theirs, _at(_day(1)), human=1)
    rollup_refresh()
    add_clicks(mine, _at(_day(1)), human=1)

    result = rollup_refresh()

    assert result.rows_written == 1
    assert _row(mine, _day(1)).unique_clicks == 2
    assert _row(theirs, _day(1)).unique_clicks == 1


@pytest.mark.worker
def test_the_celery_task_refreshes_rollups_on_a_real_worker(live_worker, partnership):
    from referrals.rollups import rollup_refresh_task

    link = make_link(partnership)
    add_clicks(link, timezone.now(), human=3, bots=2)

    rollup_refresh_task.delay()

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        row = DailyStat.objects.unscoped().filter(link=link).first()
        if row is not None:
            break
        time.sleep(0.2)
    assert row is not None, "the worker did not write the rollup"
    assert (row.clicks, row.unique_clicks, row.filtered_clicks) == (5, 3, 2)


def test_a_full_rebuild_reaches_back_to_the_earliest_activity(partnership):
    link = make_link(partnership)
    add_referral(link, _at(_day(900)), verified=True)
    add_clicks(link, _at(_day(1000)), human=2)

    rollup_rebuild()
    assert not DailyStat.objects.unscoped().filter(day__lt=_day(400)).exists()

    result = rollup_rebuild(days=None)

    assert result.days == 1001
    assert _row(link, _day(900)).registrations == 1
    assert _row(link, _day(1000)).unique_clicks == 2
