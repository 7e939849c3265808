"""TOTP two-factor authentication (allauth.mfa) on the site's own styled pages."""

from __future__ import annotations

import re

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    SECRET_SESSION_KEY,
    format_hotp_value,
    hotp_value,
    yield_hotp_counters_from_time,
)

from tests.factories import CompanyMemberFactory, UserFactory


def _code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))


def test_activate_totp_then_sign_in_needs_the_code(client, company):
    user = UserFactory(email="mfa@acme.example")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    CompanyMemberFactory(company=company, user=user)
    response = client.post(
        "/accounts/login/", {"login": user.email, "password": "test-password-123"}
    )
    assert response["Location"] == "/after-login/"

    # Activating a second factor asks for the password again first.
    page = client.get("/accounts/2fa/totp/activate/")
    assert page["Location"].startswith("/accounts/reauthenticate/")
    assert "/static/css/app.css" in client.get(page["Location"]).content.decode()
    response = client.post(page["Location"], {"password": "test-password-123"})
    assert response["Location"] == "/accounts/2fa/totp/activate/"
    page = client.get("/accounts/2fa/totp/activate/")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'class="qr-code"' in body
    assert "/static/css/app.css" in body
    secret = client.session[SECRET_SESSION_KEY]
    response = client.post("/accounts/2fa/totp/activate/", {"code": _code(secret)})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()

    client.logout()
    response = client.post(
        "/accounts/login/", {"login": user.email, "password": "test-password-123"}
    )
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert "_auth_user_id" not in client.session
    wrong = client.post("/accounts/2fa/authenticate/", {"code": "000000"})
    assert wrong.status_code == 200
    assert "_auth_user_id" not in client.session
    response = client.post("/accounts/2fa/authenticate/", {"code": _code(secret)}, follow=True)
    assert response.redirect_chain[-1][0] == "/app/"
    assert re.search(r"二段階認証|2段階認証", client.get("/accounts/2fa/").content.decode())


def test_account_management_pages_render(client_for, hr_user):
    client = client_for(hr_user)
    for path in ("/accounts/email/", "/accounts/password/change/", "/accounts/2fa/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "管理画面へ戻る" in response.content.decode()
