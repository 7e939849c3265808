"""Referral fraud (self-referral by staff email or domain, disposable domains, a velocity cap,
one count per agency) through the real landing page, with the reason visible to the agency and
operators; and the audit trail of credit, membership and key changes, exported by operators."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from careerrelay.core.apikeys import api_key_create, api_key_revoke
from careerrelay.core.models import AuditEvent
from careerrelay.users.models import User
from companies.models import CompanyMember
from referrals.models import Referral, ReferralLink, ReferralStatus
from tests.factories import (
    AgencyFactory,
    CompanyFactory,
    CompanyMemberFactory,
    PartnershipFactory,
    UserFactory,
)


@pytest.fixture
def setting(db: Any) -> Any:
    company = CompanyFactory(
        slug="fraud-co", email_domains="fraud-co.example", website="https://www.fraudco.co.jp/"
    )
    agency = AgencyFactory(slug="fraud-ag")
    partnership = PartnershipFactory(company=company, agency=agency)
    link = ReferralLink.all_objects.create(
        company=company,
        agency=agency,
        partnership=partnership,
        label="f",
        token=f"frd{uuid.uuid4().hex[:24]}",
    )
    staff = UserFactory(email="hr.staff@gmail.com")
    CompanyMemberFactory(company=company, user=staff)
    return company, agency, partnership, link


def _register(link: Any, email: str, n: int) -> Any:
    return Client().post(
        f"/r/{link.token}/",
        {
            "name": f"候補 {n}",
            "email": email,
            "phone": f"070-2222-{n:04d}",
            "desired_role": "企画",
            "prefecture": "京都府",
            "consent_privacy": "on",
            "consent_third_party": "on",
            "website": "",
        },
        REMOTE_ADDR=f"10.20.{n // 250}.{n % 250}",
    )


@pytest.mark.parametrize(
    ("email", "reason_part"),
    [
        ("HR.Staff@gmail.com", "担当者"),  # a member of the referring company
        ("someone@fraud-co.example", "社員ドメイン"),  # a declared company domain
        ("someone@mail.fraud-co.example", "社員ドメイン"),  # a subdomain of it
        ("someone@fraudco.co.jp", "社員ドメイン"),  # the company website's domain
        ("x@mailinator.com", "使い捨て"),
        ("x@sub.yopmail.com", "使い捨て"),
    ],
)
def test_suspicious_registrations_are_held_with_a_reason(
    setting: Any, email: str, reason_part: str
) -> None:
    _company, agency, _, link = setting
    response = _register(link, email, 1)
    assert response.status_code == 302
    referral = Referral.all_objects.get(link=link)
    assert referral.status == ReferralStatus.HELD
    assert reason_part in referral.hold_reason
    # The agency sees why (API and portal); the company does not see contact data.
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(tenant=agency, name='a')[1]}")
    row = api.get(f"/api/v1/referrals/{referral.pk}/").json()
    assert row["status"] == "held"
    assert reason_part in row["hold_reason"]
    recruiter = UserFactory(email="rec@fraud-ag.example")
    from agencies.models import AgencyMember

    AgencyMember.objects.create(agency=agency, user=recruiter, role="owner")
    portal = Client()
    portal.force_login(recruiter)
    page = portal.get(f"/partner/referrals/{referral.pk}/")
    assert page.status_code == 200
    assert reason_part in page.content.decode()
    # Operators see it in the admin.
    operator = User.objects.create_superuser("ops@careerrelay.example", "ops-password-1")
    admin = Client()
    admin.force_login(operator)
    listing = admin.get("/admin/referrals/referral/")
    assert listing.status_code == 200
    assert reason_part in listing.content.decode()


def test_a_genuine_registration_is_not_held(setting: Any) -> None:
    _, _, _, link = setting
    assert _register(link, "hanako.yamada@gmail.com", 1).status_code == 302
    assert Referral.all_objects.get(link=link).status == ReferralStatus.NEW


def test_a_burst_above_the_velocity_cap_is_held(setting: Any, settings: Any) -> None:
    settings.REFERRAL_VELOCITY_CAP_PER_HOUR = 3
    settings.REFERRAL_REGISTER_RATE = (100, 600)
    _, _, _, link = setting
    for n in range(5):
        assert _register(link, f"burst{n}@example.jp", n).status_code == 302
    statuses = list(
        Referral.all_objects.filter(link=link).order_by("id").values_list("status", "hold_reason")
    )
    assert [s for s, _ in statuses] == ["new", "new", "new", "held", "held"]
    assert "上限" in statuses[-1][1]


def test_a_candidate_counts_once_per_agency(setting: Any) -> None:
    _, agency, _, link = setting
    other_company = CompanyFactory(slug="fraud-co-2")
    other_partnership = PartnershipFactory(company=other_company, agency=agency)
    other_link = ReferralLink.all_objects.create(
        company=other_company,
        agency=agency,
        partnership=other_partnership,
        label="g",
        token=f"frd2{uuid.uuid4().hex[:24]}",
    )
    assert _register(link, "same.person@example.jp", 1).status_code == 302
    assert _register(other_link, "Same.Person@example.jp", 2).status_code == 302
    first = Referral.all_objects.get(link=link)
    second = Referral.all_objects.get(link=other_link)
    assert first.status == ReferralStatus.NEW
    assert second.status == ReferralStatus.DUPLICATE
    assert second.candidate_id == first.candidate_id


def test_key_and_membership_changes_are_audited_and_operators_export_them(db: Any) -> None:
    company = CompanyFactory(slug="audit-co")
    owner = UserFactory(email="owner@audit.example")
    CompanyMemberFactory(company=company, user=owner, role="owner")
    member = CompanyMemberFactory(
        company=company, user=UserFactory(email="member@audit.example"), role="member"
    )
    key, _ = api_key_create(tenant=company, name="ci", created_by=owner)
    api_key_revoke(key=key, actor=owner)
    client = Client()
    client.force_login(owner)
    response = client.post(f"/app/team/members/{member.pk}/role/", {"role": "admin"})
    assert response.status_code in (200, 302)
    assert CompanyMember.objects.get(pk=member.pk).role == "admin"
    actions = list(
        AuditEvent.objects.for_tenant(company).order_by("id").values_list("action", flat=True)
    )
    assert "api_key.created" in actions
    assert "api_key.revoked" in actions
    assert any("role" in a or "member" in a for a in actions), actions
    for event in AuditEvent.objects.for_tenant(company):
        assert event.created_at is not None
        assert event.company_id == company.pk

    # Operators read and export; nobody else can.
    operator = User.objects.create_superuser("ops@careerrelay.example", "ops-password-1")
    admin = Client()
    admin.force_login(operator)
    assert admin.get("/admin/core/auditevent/").status_code == 200
    export = admin.get("/admin/core/auditevent/export/")
    assert export.status_code == 200
    body = b"".join(export.streaming_content) if export.streaming else export.content
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert len(rows) >= 1 + len(actions)
    flat = "\n".join(",".join(r) for r in rows)
    assert "api_key.revoked" in flat
    assert client.get("/admin/core/auditevent/export/").status_code == 302
