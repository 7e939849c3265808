"""seed_demo (every step): the contract's figures after all steps, believable dates (QA #12),
and a second run changes nothing."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command
from django.db.models import Min
from django.utils import timezone

from companies.models import Company, Partnership
from credits.models import LedgerEntry
from referrals.models import Click, Referral, ReferralLink
from tests.credits.helpers import balances

pytestmark = pytest.mark.django_db


def _snapshot() -> dict[str, Any]:
    return {
        "referrals": sorted(
            Referral.all_objects.values_list("pk", "status", "created_at", "qualified_at")
        ),
        "links": sorted(ReferralLink.all_objects.values_list("pk", "created_at")),
        "partnerships": sorted(Partnership.all_objects.values_list("pk", "created_at")),
        "entries": LedgerEntry.all_objects.count(),
    }


def test_demo_figures_dates_and_a_rerun_that_changes_nothing() -> None:
    call_command("seed_demo", stdout=io.StringIO())
    first = _snapshot()
    call_command("seed_demo", stdout=io.StringIO())
    assert _snapshot() == first

    now = timezone.now()
    # slug: (qualified referrals, free hires earned so far, points towards the next: "7 / 10")
    expected = {"maker-b": (20, 2, 0), "startup-a": (7, 0, 7), "it-c": (3, 0, 3)}
    for slug, (qualified_count, earned, points) in expected.items():
        company = Company.objects.get(slug=slug)
        referrals = Referral.objects.for_tenant(company)
        qualified = list(referrals.filter(status="qualified"))
        assert len(qualified) == qualified_count, slug
        partnership = Partnership.objects.for_tenant(company).get()
        b = balances(partnership)
        assert (b["points"], b["free_hires"] + (1 if slug == "maker-b" else 0)) == (points, earned)

        # Qualified days to weeks after registering, at different times, never in the future.
        lead_days = [(r.qualified_at - r.created_at).total_seconds() / 86400 for r in qualified]
        assert all(0 < d <= 46 for d in lead_days), (slug, lead_days)
        assert all(r.qualified_at < now for r in qualified)
        assert len({r.qualified_at.date() for r in qualified}) > 1, slug
        if qualified_count >= 5:
            assert sorted(lead_days)[len(lead_days) // 2] >= 2, (slug, lead_days)

        # Links and the partnership exist before the first referral or click through them.
        for partnership in Partnership.objects.for_tenant(company):
            first_referral = referrals.filter(partnership=partnership).aggregate(
                first=Min("created_at")
            )["first"]
            assert partnership.created_at <= first_referral, slug
        for link in ReferralLink.objects.for_tenant(company):
            first = Referral.all_objects.filter(link=link).aggregate(first=Min("created_at"))[
                "first"
            ]
            first_click = Click.all_objects.filter(link=link).aggregate(first=Min("clicked_at"))[
                "first"
            ]
            for when in (first, first_click):
                if when is not None:
                    assert link.created_at <= when, (slug, link.label)
