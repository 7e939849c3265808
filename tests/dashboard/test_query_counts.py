"""Every dashboard page runs the same number of queries with a little data and with 100 times
more: pages read the DailyStat rollups and ledger balances, never scan clicks."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from credits.services import referral_qualify
from referrals.models import Candidate, Click, Referral
from referrals.rollups import rollup_rebuild, tokyo_today
from tests.dashboard.helpers import add_placement, make_link, tokyo

pytestmark = pytest.mark.django_db

PAGES = (
    "/app/",
    "/app/?range=30d",
    "/app/referrals/",
    "/app/referrals/?status=qualified&page=2",
    "/app/insights/",
    "/app/export/funnel.csv",
    "/app/export/trend.csv",
    "/app/export/links.csv",
    "/app/export/agencies.csv",
    "/app/settings/",
)


def _seed(partnership, *, links: int, referrals_per_link: int, clicks_per_link: int) -> None:
    today = tokyo_today()
    clicks, referrals = [], []
    for n in range(links):
        link = make_link(partnership, f"リンク {n}")
        for i in range(clicks_per_link):
            day = today - dt.timedelta(days=(n * 7 + i) % 300)
            clicks.append(
                Click(
                    uid=uuid.uuid4(),
                    company_id=link.company_id,
                    agency_id=link.agency_id,
                    link=link,
                    clicked_at=tokyo(day.year, day.month, day.day, 9),
                    classification="bot" if i % 5 == 0 else "human",
                    is_unique=i % 5 != 0,
                    visitor_hash=secrets.token_hex(8),
                )
            )
        for _i in range(referrals_per_link):
            candidate = Candidate.objects.create(
                agency_id=link.agency_id, email_hash=secrets.token_hex(16)
            )
            referrals.append(
                Referral(
                    company_id=link.company_id,
                    agency_id=link.agency_id,
                    partnership_id=link.partnership_id,
                    link=link,
                    candidate=candidate,
                    seconds_to_register=600,
                )
            )
    Click.objects.bulk_create(clicks)
    created = Referral.objects.bulk_create(referrals)
    for referral in created[: len(created) // 2]:
        referral_qualify(referral=referral)
    add_placement(
        created[0], agency=partnership.agency, hiring_company=partnership.company, free_hire=False
    )
    rollup_rebuild(days=400)


def _query_counts(client) -> dict[str, int]:
    counts = {}
    for url in PAGES:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200, url
        counts[url] = len(ctx.captured_queries)
    return counts


def test_query_count_is_the_same_with_100_times_the_data(
    client_for, hr_user, partnership, other_partnership
):
    client = client_for(hr_user)
    _seed(partnership, links=1, referrals_per_link=3, clicks_per_link=10)
    _seed(other_partnership, links=1, referrals_per_link=3, clicks_per_link=10)
    small = _query_counts(client)

    _seed(partnership, links=100, referrals_per_link=3, clicks_per_link=10)
    big = _query_counts(client)

    assert Click.objects.for_tenant(partnership.company).count() == 1010
    assert Referral.objects.for_tenant(partnership.company).count() == 303
    assert big == small
    # And the numbers are small, not merely stable.
    assert max(big.values()) <= 15, big


def test_query_count_is_the_same_with_the_demo_data_and_100_times_more(client):
    """The issue's own check: maker-b's pages with the demo data, then with every click and
    referral of the demo copied 100 times (and more of them qualified through the ledger)."""
    import io

    from django.core.management import call_command

    from careerrelay.users.models import User
    from companies.models import Company

    call_command("seed_demo", stdout=io.StringIO())
    company = Company.objects.get(slug="maker-b")
    client.force_login(User.objects.get(email="hr@maker-b.example"))
    demo = _query_counts(client)

    clicks = list(Click.objects.for_tenant(company))
    referrals = list(Referral.objects.for_tenant(company).select_related("candidate"))
    copies_clicks, copies_referrals = [], []
    for _n in range(100):
        copies_clicks += [
            Click(
                uid=uuid.uuid4(),
                company_id=c.company_id,
                agency_id=c.agency_id,
                link_id=c.link_id,
                clicked_at=c.clicked_at,
                classification=c.classification,
                is_unique=c.is_unique,
                visitor_hash=secrets.token_hex(8),
            )
            for c in clicks
        ]
        for r in referrals:
            candidate = Candidate.objects.create(
                agency_id=r.agency_id, email_hash=secrets.token_hex(16)
            )
            copies_referrals.append(
                Referral(
                    company_id=r.company_id,
                    agency_id=r.agency_id,
                    partnership_id=r.partnership_id,
                    link_id=r.link_id,
                    candidate=candidate,
                    seconds_to_register=r.seconds_to_register,
                )
            )
    Click.objects.bulk_create(copies_clicks, batch_size=5000)
    created = Referral.objects.bulk_create(copies_referrals, batch_size=2000)
    for referral in created[:200]:
        referral_qualify(referral=referral)
    rollup_rebuild(days=None)
    assert Referral.objects.for_tenant(company).count() == 101 * len(referrals)

    assert _query_counts(client) == demo
