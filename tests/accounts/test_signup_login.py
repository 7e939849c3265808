"""Sign-up with email verification, company creation, sign-in routing, rate limits, audit."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail

from careerrelay.core.models import AuditEvent
from careerrelay.users.models import User
from companies.models import Company, CompanyMember
from tests.factories import AgencyMemberFactory, UserFactory

SIGNUP = {
    "email": "new.hr@newco.example",
    "password1": "Kx9!long-pass",
    "password2": "Kx9!long-pass",
}


def _verified(user: User) -> User:
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def test_signup_verifies_email_then_creates_the_company(client, db):
    response = client.post("/accounts/signup/", SIGNUP)
    assert response.status_code == 302
    user = User.objects.get(email="new.hr@newco.example")
    assert not EmailAddress.objects.get(user=user).verified
    # Mandatory verification: the confirmation link arrives by email, in Japanese.
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    link = re.search(r"https?://[^\s]+/accounts/confirm-email/[^\s]+/", message.body).group(0)
    path = link.split("testserver", 1)[-1] if "testserver" in link else "/" + link.split("/", 3)[3]
    response = client.post(path)
    assert response.status_code == 302
    assert EmailAddress.objects.get(user=user).verified
    # Signed in now, without an organisation: routed to onboarding.
    response = client.get("/after-login/")
    assert response["Location"] == "/app/onboarding/"
    page = client.get("/app/onboarding/")
    assert "はじめに、会社を登録しましょう" in page.content.decode()
    response = client.post(
        "/app/onboarding/",
        {
            "name": "株式会社ニューコ",
            "slug": "newco",
            "website": "",
            "invoice_registration_number": "",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/app/"
    company = Company.objects.get(slug="newco")
    assert CompanyMember.objects.get(company=company, user=user).role == "owner"
    assert client.get("/app/").status_code == 200
    actions = set(AuditEvent.objects.for_tenant(company).values_list("action", flat=True))
    assert {"company.created", "membership.created"} <= actions


def test_signup_with_a_taken_email_is_refused_and_writes_nothing(client, hr_user):
    users_before = User.objects.count()
    response = client.post("/accounts/signup/", {**SIGNUP, "email": "HR@acme.example"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "field-error" in body
    assert "このメールアドレスでアカウント登録済みです" in body
    assert User.objects.count() == users_before
    assert len(mail.outbox) == 0


def test_onboarding_slug_taken_is_a_field_error(client_for, db, company):
    user = UserFactory(email="someone@else.example")
    client = client_for(user)
    response = client.post("/app/onboarding/", {"name": "別会社", "slug": company.slug})
    assert response.status_code == 400
    assert "この識別子はすでに使われています。" in response.content.decode()
    assert not CompanyMember.objects.filter(user=user).exists()


def test_onboarding_without_slug_makes_one(client_for, db):
    user = UserFactory(email="auto@slug.example")
    response = client_for(user).post("/app/onboarding/", {"name": "株式会社オート"})
    assert response.status_code == 302
    member = CompanyMember.objects.get(user=user)
    assert member.company.slug.startswith("company-")


def test_login_lands_hr_on_app_and_agency_users_on_partner(client, db, company, agency):
    from tests.factories import CompanyMemberFactory

    hr = _verified(UserFactory(email="hr2@acme.example"))
    CompanyMemberFactory(company=company, user=hr)
    agent = _verified(UserFactory(email="agent2@agency.example"))
    AgencyMemberFactory(agency=agency, user=agent)
    for user, landing in ((hr, "/app/"), (agent, "/partner/")):
        client.logout()
        response = client.post(
            "/accounts/login/", {"login": user.email, "password": "test-password-123"}, follow=True
        )
        assert response.redirect_chain[-1][0] == landing
        assert response.status_code == 200


def test_failed_sign_ins_are_audited_and_rate_limited(client, db):
    user = _verified(UserFactory(email="victim@acme.example"))
    for _ in range(5):
        response = client.post("/accounts/login/", {"login": user.email, "password": "wrong"})
        assert response.status_code == 200
        assert "メールアドレスもしくはパスワードが正しくありません" in response.content.decode()
    failures = AuditEvent.objects.unscoped().filter(action="auth.login_failed")
    assert failures.count() == 5
    assert failures.first().data["login"] == user.email
    # The sixth attempt is refused by the rate limit, even with the right password.
    response = client.post(
        "/accounts/login/", {"login": user.email, "password": "test-password-123"}
    )
    assert "_auth_user_id" not in client.session
    assert "ログイン失敗が連続しています" in response.content.decode()


@pytest.mark.parametrize(
    "path", ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"]
)
def test_account_pages_use_the_site_layout_in_japanese(client, db, path):
    body = client.get(path).content.decode()
    assert '<html lang="ja">' in body
    assert "/static/css/app.css" in body
    assert 'class="lang-switch"' in body


def test_password_reset_sends_a_mail(client, db):
    _verified(UserFactory(email="forgot@acme.example"))
    response = client.post("/accounts/password/reset/", {"email": "forgot@acme.example"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_two_factor_page_is_reachable_from_the_user_menu(client_for, hr_user):
    client = client_for(hr_user)
    assert 'href="/accounts/2fa/"' in client.get("/app/").content.decode()
    response = client.get("/accounts/2fa/")
    assert response.status_code == 200
    assert "二段階認証" in response.content.decode() or "2段階認証" in response.content.decode()
