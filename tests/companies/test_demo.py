"""The demo step creates the contract's organisations, users and partnerships, idempotently."""

from __future__ import annotations

from allauth.account.models import EmailAddress

from agencies.models import Agency, AgencyMember
from agencies.validators import validate_license_number
from careerrelay.users.models import User
from companies import demo
from companies.models import Company, CompanyMember, Partnership
from companies.selectors import agency_is_verified

EMAILS = [
    "hr@startup-a.example",
    "hr@maker-b.example",
    "hr@it-c.example",
    "agent@relay-agent.example",
    "admin@careerrelay.example",
]


def _counts():
    return (
        Company.objects.count(),
        Agency.objects.count(),
        User.objects.count(),
        CompanyMember.objects.count(),
        AgencyMember.objects.count(),
        Partnership.objects.unscoped().count(),
        EmailAddress.objects.count(),
    )


def test_seed_is_idempotent_and_follows_the_contract(db, client):
    ctx = {"password": "careerrelay-demo"}
    demo.seed(ctx)
    first = _counts()
    again = {"password": "careerrelay-demo", "users": ["someone@else.example"]}
    demo.seed(again)
    assert _counts() == first == (3, 1, 5, 3, 1, 3, 5)
    assert again["users"] == ["someone@else.example", *EMAILS]
    assert ctx["users"] == EMAILS

    names = dict(Company.objects.values_list("slug", "name"))
    assert names == {"startup-a": "スタートアップA社", "maker-b": "製造業B社", "it-c": "IT企業C社"}
    agency = ctx["agency"]
    assert agency.slug == "relay-agent"
    assert validate_license_number(agency.license_number) == agency.license_number
    assert agency_is_verified(agency)
    assert agency.invoice_registration_number.startswith("T")
    assert len(agency.invoice_registration_number) == 14
    assert set(ctx["companies"]) == set(ctx["partnerships"]) == {"startup-a", "maker-b", "it-c"}
    assert {p.status for p in ctx["partnerships"].values()} == {"active"}
    assert AgencyMember.objects.get(user__email="agent@relay-agent.example").role == "owner"
    assert User.objects.get(email="admin@careerrelay.example").is_superuser

    for email, landing in [
        ("hr@maker-b.example", "/app/"),
        ("agent@relay-agent.example", "/partner/"),
    ]:
        client.logout()
        response = client.post(
            "/accounts/login/", {"login": email, "password": "careerrelay-demo"}, follow=True
        )
        assert response.redirect_chain[-1][0] == landing
