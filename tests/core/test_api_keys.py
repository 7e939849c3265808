"""API keys: created in the UI (shown once, stored hashed), revoked, and refused with a JSON 401
when malformed or revoked; `create_api_key` prints only the key."""

from __future__ import annotations

import hashlib
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from careerrelay.core.models import ApiKey, AuditEvent
from tests.factories import CompanyMemberFactory, UserFactory

KEY_RE = re.compile(r"cr_[0-9a-f]{8}_[A-Za-z0-9_-]{43}")


def _bearer(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.mark.parametrize("side", ["company", "agency"])
def test_key_created_in_the_ui_is_shown_once_and_works(
    client_for, hr_user, recruiter, partnership, side
):
    user, prefix = (hr_user, "/app/") if side == "company" else (recruiter, "/partner/")
    client = client_for(user)
    response = client.post(f"{prefix}api-keys/", {"name": "ATS連携"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    plaintext = KEY_RE.search(response.content.decode()).group(0)
    key = ApiKey.objects.unscoped().get(name="ATS連携")
    assert key.key_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    assert plaintext not in str(ApiKey.objects.unscoped().values_list())
    # The list never shows it again.
    assert plaintext not in client.get(f"{prefix}api-keys/").content.decode()
    answer = _bearer(plaintext).get("/api/v1/partnerships/")
    assert answer.status_code == 200
    assert answer.json()["count"] == 1
    assert (
        AuditEvent.objects.unscoped()
        .filter(action="api_key.created", target_id=str(key.pk))
        .exists()
    )


def test_revoked_key_answers_401_json(client_for, hr_user, company, partnership):
    client = client_for(hr_user)
    body = client.post("/app/api-keys/", {"name": "temp"}).content.decode()
    plaintext = KEY_RE.search(body).group(0)
    key = ApiKey.objects.for_tenant(company).get()
    assert _bearer(plaintext).get("/api/v1/partnerships/").status_code == 200
    response = client.post(f"/app/api-keys/{key.pk}/revoke/")
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None
    answer = _bearer(plaintext).get("/api/v1/partnerships/")
    assert answer.status_code == 401
    assert answer["Content-Type"].startswith("application/json")
    assert answer.json()["detail"] == "APIキーが無効か、失効しています。"
    assert AuditEvent.objects.for_tenant(company).filter(action="api_key.revoked").count() == 1


@pytest.mark.parametrize(
    "header", ["Bearer nonsense", "Bearer cr_", "Bearer a b", "Bearer " + "cr_x" * 40]
)
def test_malformed_or_unknown_keys_answer_401_json(db, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    answer = client.get("/api/v1/partnerships/")
    assert answer.status_code == 401
    assert "detail" in answer.json()


def test_another_tenants_key_cannot_be_revoked(client_for, hr_user, other_company, api_client_for):
    api_client_for(other_company)
    other_key = ApiKey.objects.for_tenant(other_company).get()
    response = client_for(hr_user).post(f"/app/api-keys/{other_key.pk}/revoke/")
    assert response.status_code == 404
    other_key.refresh_from_db()
    assert other_key.revoked_at is None


def test_members_see_keys_but_cannot_create_them(client_for, company):
    member = CompanyMemberFactory(
        company=company, user=UserFactory(email="m@acme.example"), role="member"
    ).user
    client = client_for(member)
    assert "新しいAPIキーを作成" not in client.get("/app/api-keys/").content.decode()
    assert client.post("/app/api-keys/", {"name": "x"}).status_code == 404
    assert not ApiKey.objects.for_tenant(company).exists()


def test_empty_key_name_is_a_field_error(client_for, hr_user, company):
    response = client_for(hr_user).post("/app/api-keys/", {"name": ""})
    assert response.status_code == 400
    assert "field-error" in response.content.decode()
    assert not ApiKey.objects.for_tenant(company).exists()


@pytest.mark.parametrize("org", ["company", "agency"])
def test_create_api_key_command_prints_only_the_key(company, agency, org):
    tenant = company if org == "company" else agency
    out = StringIO()
    call_command("create_api_key", "--org", tenant.slug, "--name", "夜間バッチ", stdout=out)
    printed = out.getvalue()
    assert KEY_RE.fullmatch(printed.strip())
    assert printed.count("\n") == 1
    key = ApiKey.objects.for_tenant(tenant).get()
    assert key.name == "夜間バッチ"
    assert _bearer(printed.strip()).get("/api/v1/partnerships/").status_code == 200


def test_create_api_key_command_refuses_an_unknown_slug(db):
    with pytest.raises(CommandError):
        call_command("create_api_key", "--org", "nope", stdout=StringIO())
    assert not ApiKey.objects.unscoped().exists()
