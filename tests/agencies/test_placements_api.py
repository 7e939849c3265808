"""Placements over the API: fee and guarantee, free-hire redemption, early leave and refunds,
and every kind of bad input answered per field with nothing written."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from agencies.models import Placement
from careerrelay.core.models import AuditEvent
from credits.models import LedgerTransaction
from credits.services import referral_qualify
from tests.factories import PartnershipFactory
from tests.settlement.helpers import backdate_referral, make_referral

URL = "/api/v1/placements/"


@pytest.fixture
def referral(partnership):
    referral = make_referral(partnership)
    backdate_referral(referral, 400)
    return referral


@pytest.fixture
def api(api_client_for, agency):
    return api_client_for(agency)


def _days_ago(n: int) -> str:
    return (timezone.localdate() - dt.timedelta(days=n)).isoformat()


def test_placement_fee_is_floor_of_salary_times_default_rate_and_guarantee_follows_tiers(
    api, referral, other_company
):
    start = timezone.localdate() - dt.timedelta(days=10)
    r = api.post(
        URL,
        {
            "referral": referral.pk,
            "hiring_company_name": other_company.name,
            "annual_salary_jpy": 6_543_211,
            "start_date": start.isoformat(),
            "free_hire": False,
        },
        format="json",
    )
    assert r.status_code == 201, r.json()
    body = r.json()
    # 6,543,211 × 35 % = 2,290,123.85 -> floor
    assert body["fee_jpy"] == 2_290_123
    assert body["fee_rate"] == "35.00"
    assert body["guarantee_ends_on"] == (start + dt.timedelta(days=180)).isoformat()
    assert body["status"] == "active"
    assert body["referral"] == referral.pk
    referral.refresh_from_db()
    assert referral.stage == "placed"
    detail = api.get(f"{URL}{body['id']}/")
    assert detail.status_code == 200
    assert detail.json()["fee_jpy"] == 2_290_123
    assert api.get(URL).json()["count"] == 1


def test_fee_rate_given_overrides_agency_default(api, referral, other_company):
    r = api.post(
        URL,
        {
            "referral": referral.pk,
            "hiring_company_name": other_company.name,
            "annual_salary_jpy": 5_000_000,
            "fee_rate": "30.5",
            "start_date": _days_ago(1),
        },
        format="json",
    )
    assert r.status_code == 201, r.json()
    assert r.json()["fee_jpy"] == 1_525_000
    assert Placement.objects.unscoped().get().fee_rate == Decimal("30.50")


def _earn_free_hire(partnership) -> None:
    for _ in range(partnership.referrals_per_free_hire):
        referral_qualify(referral=make_referral(partnership))


def test_free_hire_at_the_holding_company_is_redeemed_with_fee_zero_and_restored_on_early_leave(
    api, partnership, company, agency
):
    _earn_free_hire(partnership)
    credits = lambda: api.get("/api/v1/credits/").json()["results"][0]  # noqa: E731
    assert credits()["free_hires_available"] == 1
    r = api.post(
        URL,
        {
            "candidate_name": "佐藤 花子",
            "hiring_company": company.slug,
            "annual_salary_jpy": 6_000_000,
            "start_date": _days_ago(40),
            "free_hire": True,
        },
        format="json",
    )
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["fee_jpy"] == 0
    assert body["waived_fee_jpy"] == 2_100_000
    assert body["free_hire"] is True
    assert credits()["free_hires_available"] == 0
    assert LedgerTransaction.objects.unscoped().filter(idempotency_key=f"redeem:{body['id']}")

    left = api.post(f"{URL}{body['id']}/early-leave/", {"left_on": _days_ago(5)}, format="json")
    assert left.status_code == 200, left.json()
    assert left.json()["status"] == "left_early"
    assert left.json()["refund_jpy"] == 0
    assert credits()["free_hires_available"] == 1


def test_free_hire_the_company_does_not_hold_is_refused_and_nothing_is_written(
    api, partnership, company
):
    r = api.post(
        URL,
        {
            "candidate_name": "佐藤 花子",
            "hiring_company": company.slug,
            "annual_salary_jpy": 6_000_000,
            "start_date": _days_ago(3),
            "free_hire": True,
        },
        format="json",
    )
    assert r.status_code == 400
    assert "free_hire" in r.json()
    assert not Placement.objects.unscoped().exists()
    assert not LedgerTransaction.objects.unscoped().exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"annual_salary_jpy": 0}, "annual_salary_jpy"),
        ({"annual_salary_jpy": -5}, "annual_salary_jpy"),
        ({"annual_salary_jpy": 1_000_000_001}, "annual_salary_jpy"),
        ({"annual_salary_jpy": "たくさん"}, "annual_salary_jpy"),
        ({"referral": 987654}, "referral"),
        ({"referral": "OTHER"}, "referral"),
        ({"referral": None, "candidate_name": ""}, "referral"),
        ({"start_date": "BEFORE"}, "start_date"),
        ({"start_date": "2026-02-30"}, "start_date"),
        ({"fee_rate": "0"}, "fee_rate"),
        ({"fee_rate": "150"}, "fee_rate"),
        ({"hiring_company": "no-such-company"}, "hiring_company"),
        ({"hiring_company_name": ""}, "hiring_company_name"),
        ({"free_hire": True, "hiring_company": None}, "free_hire"),
    ],
)
def test_bad_placement_input_answers_per_field_and_writes_nothing(
    api, referral, other_partnership, other_company, change, field
):
    other_referral = make_referral(other_partnership)
    payload = {
        "referral": referral.pk,
        "hiring_company_name": other_company.name,
        "annual_salary_jpy": 6_000_000,
        "start_date": _days_ago(1),
    }
    payload.update(change)
    if payload.get("referral") == "OTHER":
        payload["referral"] = other_referral.pk  # another agency's referral reads as unknown
    if payload.get("start_date") == "BEFORE":
        payload["start_date"] = _days_ago(401)  # the referral was made 400 days ago
    audits = AuditEvent.all_objects.count()
    r = api.post(URL, payload, format="json")
    assert r.status_code == 400, r.content
    assert field in r.json(), r.json()
    assert r.json()[field]
    assert not Placement.objects.unscoped().exists()
    assert not LedgerTransaction.objects.unscoped().exists()
    assert AuditEvent.all_objects.count() == audits
    referral.refresh_from_db()
    assert referral.stage == "new"


def test_same_referral_cannot_be_placed_twice(api, referral, other_company):
    payload = {
        "referral": referral.pk,
        "hiring_company_name": other_company.name,
        "annual_salary_jpy": 6_000_000,
        "start_date": _days_ago(1),
    }
    assert api.post(URL, payload, format="json").status_code == 201
    again = api.post(URL, payload, format="json")
    assert again.status_code == 400
    assert "referral" in again.json()
    assert Placement.objects.unscoped().count() == 1


@pytest.fixture
def placement(api, referral, other_company):
    r = api.post(
        URL,
        {
            "referral": referral.pk,
            "hiring_company_name": other_company.name,
            "annual_salary_jpy": 6_000_000,  # fee 2,100,000
            "start_date": _days_ago(170),
        },
        format="json",
    )
    assert r.status_code == 201
    return r.json()


@pytest.mark.parametrize(
    ("days_after_start", "refund"),
    [(0, 1_050_000), (30, 1_050_000), (31, 630_000), (90, 630_000), (91, 210_000), (160, 210_000)],
)
def test_early_leave_refund_follows_the_tier_of_the_days_since_start(
    api, placement, days_after_start, refund
):
    start = dt.date.fromisoformat(placement["start_date"])
    left_on = start + dt.timedelta(days=days_after_start)
    r = api.post(
        f"{URL}{placement['id']}/early-leave/", {"left_on": left_on.isoformat()}, format="json"
    )
    assert r.status_code == 200, r.json()
    assert r.json()["refund_jpy"] == refund
    assert r.json()["left_on"] == left_on.isoformat()


@pytest.mark.parametrize("when", ["before_start", "future", "garbage", "after_guarantee"])
def test_bad_early_leave_answers_per_field_and_changes_nothing(
    api, placement, referral, other_company, when
):
    pid = placement["id"]
    if when == "after_guarantee":
        old = make_referral(referral.partnership)
        backdate_referral(old, 500)
        made = api.post(
            URL,
            {
                "referral": old.pk,
                "hiring_company_name": other_company.name,
                "annual_salary_jpy": 6_000_000,
                "start_date": _days_ago(300),
            },
            format="json",
        ).json()
        pid, left_on = made["id"], _days_ago(2)
    else:
        start = dt.date.fromisoformat(placement["start_date"])
        left_on = {
            "before_start": (start - dt.timedelta(days=1)).isoformat(),
            "future": _days_ago(-3),
            "garbage": "昨日",
        }[when]
    r = api.post(f"{URL}{pid}/early-leave/", {"left_on": left_on}, format="json")
    assert r.status_code == 400, r.json()
    assert "left_on" in r.json()
    row = Placement.objects.unscoped().get(pk=pid)
    assert row.status == "active"
    assert row.left_on is None
    assert row.refund_jpy == 0


def test_early_leave_twice_is_refused(api, placement):
    url = f"{URL}{placement['id']}/early-leave/"
    assert api.post(url, {"left_on": _days_ago(5)}, format="json").status_code == 200
    again = api.post(url, {"left_on": _days_ago(4)}, format="json")
    assert again.status_code == 400
    assert "left_on" in again.json()
    assert Placement.objects.unscoped().get().left_on == timezone.localdate() - dt.timedelta(5)


def test_another_agencys_placement_is_404_and_companies_cannot_use_placements(
    placement, api_client_for, other_agency, company
):
    other = api_client_for(other_agency)
    assert other.get(f"{URL}{placement['id']}/").status_code == 404
    assert other.get(URL).json()["count"] == 0
    left = other.post(
        f"{URL}{placement['id']}/early-leave/", {"left_on": _days_ago(1)}, format="json"
    )
    assert left.status_code == 404
    assert Placement.objects.unscoped().get().status == "active"
    assert api_client_for(company).get(URL).status_code == 404


def test_placement_at_the_referring_company_is_recorded(api, referral, company):
    r = api.post(
        URL,
        {
            "referral": referral.pk,
            "hiring_company": company.slug,
            "annual_salary_jpy": 6_000_000,
            "start_date": _days_ago(1),
        },
        format="json",
    )
    assert r.status_code == 201, r.json()
    assert r.json()["hiring_company"] == company.slug
    assert r.json()["hiring_company_name"] == company.name


def test_hiring_company_slug_of_a_company_not_partnered_is_unknown(api, referral):
    stranger = PartnershipFactory().company  # partnered with some other agency only
    r = api.post(
        URL,
        {
            "referral": referral.pk,
            "hiring_company": stranger.slug,
            "annual_salary_jpy": 6_000_000,
            "start_date": _days_ago(1),
        },
        format="json",
    )
    assert r.status_code == 400
    assert "hiring_company" in r.json()
