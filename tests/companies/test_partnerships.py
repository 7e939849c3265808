"""Partnerships: a company proposes, the agency accepts or declines, either ends; proposing
twice is refused and writes nothing; the API answers per the contract and 404 for another
tenant's partnership."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from careerrelay.core.errors import ApplicationError
from careerrelay.core.models import AuditEvent
from companies.models import Partnership
from companies.services import partnership_accept, partnership_propose
from tests.factories import AgencyFactory


def test_company_proposes_and_agency_accepts(client_for, hr_user, recruiter, company, agency):
    response = client_for(hr_user).post(
        "/app/partners/",
        {"agency": agency.pk, "referrals_per_free_hire": "8", "rebate_rate": "12.5"},
    )
    assert response.status_code == 302
    partnership = Partnership.objects.for_tenant(company).get()
    assert (partnership.status, partnership.referrals_per_free_hire) == ("proposed", 8)
    assert partnership.rebate_rate == Decimal("12.50")

    agency_client = client_for(recruiter)
    page = agency_client.get("/partner/partnerships/").content.decode()
    assert company.name in page
    assert "承諾する" in page
    response = agency_client.post(f"/partner/partnerships/{partnership.pk}/accept/")
    assert response.status_code == 302
    partnership.refresh_from_db()
    assert partnership.status == "active"
    assert partnership.activated_at is not None
    for tenant in (company, agency):
        actions = set(AuditEvent.objects.for_tenant(tenant).values_list("action", flat=True))
        assert {"partnership.proposed", "partnership.accepted"} <= actions


def test_proposing_twice_is_a_clear_error_and_writes_nothing(client_for, hr_user, company, agency):
    partnership_propose(company=company, agency=agency, actor=hr_user)
    audit_before = AuditEvent.objects.unscoped().count()
    with pytest.raises(ApplicationError) as excinfo:
        partnership_propose(company=company, agency=agency, actor=hr_user)
    assert excinfo.value.field == "agency"
    assert "すでに提携中、または提案中です" in excinfo.value.message
    assert Partnership.objects.for_tenant(company).count() == 1
    assert AuditEvent.objects.unscoped().count() == audit_before
    # The page does not even offer the agency again; posting it anyway is a field error.
    response = client_for(hr_user).post(
        "/app/partners/",
        {"agency": agency.pk, "referrals_per_free_hire": "10", "rebate_rate": "10"},
    )
    assert response.status_code == 400
    assert "field-error" in response.content.decode()
    assert Partnership.objects.for_tenant(company).count() == 1


def test_unverified_or_expired_agency_cannot_accept(hr_user, recruiter, company, agency):
    partnership = partnership_propose(company=company, agency=agency, actor=hr_user)
    agency.license_expires_on = timezone.localdate() - dt.timedelta(days=1)
    agency.save()
    with pytest.raises(ApplicationError):
        partnership_accept(partnership=partnership, actor=recruiter)
    partnership.refresh_from_db()
    assert partnership.status == "proposed"


def test_agency_declines_and_company_can_propose_again(
    client_for, hr_user, recruiter, company, agency
):
    partnership = partnership_propose(company=company, agency=agency, actor=hr_user)
    client_for(recruiter).post(f"/partner/partnerships/{partnership.pk}/decline/")
    partnership.refresh_from_db()
    assert partnership.status == "ended"
    again = partnership_propose(company=company, agency=agency, actor=hr_user)
    assert again.pk != partnership.pk


def test_either_side_ends_an_active_partnership(client_for, hr_user, recruiter, partnership):
    response = client_for(hr_user).post(f"/app/partners/{partnership.pk}/end/")
    assert response.status_code == 302
    partnership.refresh_from_db()
    assert partnership.status == "ended"
    assert partnership.ended_at is not None
    assert (
        AuditEvent.objects.for_tenant(partnership.agency)
        .filter(action="partnership.ended")
        .exists()
    )


def test_other_tenants_partnership_pages_answer_404(
    client_for, hr_user, recruiter, other_partnership
):
    assert client_for(hr_user).post(f"/app/partners/{other_partnership.pk}/end/").status_code == 404
    client = client_for(recruiter)
    for action in ("accept", "decline", "end"):
        assert (
            client.post(f"/partner/partnerships/{other_partnership.pk}/{action}/").status_code
            == 404
        )
    other_partnership.refresh_from_db()
    assert other_partnership.status == "active"


@pytest.mark.parametrize("side", ["company", "agency"])
def test_partnerships_api_follows_the_contract(
    api_client_for, partnership, other_partnership, side
):
    tenant = partnership.company if side == "company" else partnership.agency
    client = api_client_for(tenant)
    listing = client.get("/api/v1/partnerships/").json()
    assert listing["count"] == 1
    assert {"count", "next", "previous", "results"} <= set(listing)
    row = listing["results"][0]
    assert row["id"] == partnership.pk
    assert row["company"] == "acme"
    assert row["agency"] == "good-agent"
    assert row["status"] == "active"
    assert row["referrals_per_free_hire"] == 10
    assert row["rebate_rate"] == "10.00"
    assert client.get(f"/api/v1/partnerships/{partnership.pk}/").json() == row
    missing = client.get(f"/api/v1/partnerships/{other_partnership.pk}/")
    assert missing.status_code == 404
    assert missing["Content-Type"].startswith("application/json")


def test_partnerships_api_with_a_browser_session(client_for, hr_user, partnership):
    response = client_for(hr_user).get("/api/v1/partnerships/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response.json()["results"][0]["company"] == "acme"


def test_partnerships_api_is_read_only(api_client_for, partnership):
    client = api_client_for(partnership.company)
    assert client.post("/api/v1/partnerships/", {}, format="json").status_code == 405
    assert client.delete(f"/api/v1/partnerships/{partnership.pk}/").status_code == 405


def test_proposal_form_offers_only_verified_agencies(client_for, hr_user, company, agency):
    AgencyFactory(slug="unverified", name="未確認エージェント", license_verified_at=None)
    page = client_for(hr_user).get("/app/partners/").content.decode()
    assert agency.name in page
    assert "未確認エージェント" not in page
