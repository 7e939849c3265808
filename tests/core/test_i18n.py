"""Japanese by default; the header's switch (Django's set_language) turns pages into English."""

from __future__ import annotations

import pytest


def _switch_to_english(client, next_path="/"):
    response = client.post("/i18n/setlang/", {"language": "en", "next": next_path})
    assert response.status_code == 302
    assert response["Location"] == next_path


def test_top_page_switches_to_english(client, db):
    body = client.get("/").content.decode()
    assert "お見送りの連絡を、次のキャリアへのバトンに。" in body
    _switch_to_english(client)
    body = client.get("/").content.decode()
    assert '<html lang="en">' in body
    assert "Turn the rejection email into the start of the next career." in body
    assert "How it works" in body
    assert 'value="en" lang="en" aria-pressed="true"' in body


@pytest.mark.parametrize(
    ("path", "japanese", "english"),
    [
        ("/app/team/", "メンバーを招待", "Invite a member"),
        ("/app/api-keys/", "新しいAPIキーを作成", "Create a new API key"),
        ("/app/partners/", "提携を提案する", "Propose a partnership"),
    ],
)
def test_hr_pages_render_in_both_languages(client_for, hr_user, agency, path, japanese, english):
    client = client_for(hr_user)
    assert japanese in client.get(path).content.decode()
    _switch_to_english(client, path)
    body = client.get(path).content.decode()
    assert english in body
    assert "Main menu" in body
    assert japanese not in body


def test_partner_page_in_english(client_for, recruiter, partnership):
    client = client_for(recruiter)
    _switch_to_english(client, "/partner/partnerships/")
    body = client.get("/partner/partnerships/").content.decode()
    assert "End partnership" in body
    assert partnership.company.name in body


def test_sign_in_page_in_english(client, db):
    _switch_to_english(client, "/accounts/login/")
    body = client.get("/accounts/login/").content.decode()
    assert "Sign In" in body
    assert '<html lang="en">' in body


def test_service_errors_follow_the_language(client_for, hr_user):
    client = client_for(hr_user)
    _switch_to_english(client, "/app/team/")
    response = client.post("/app/team/invite/", {"email": "hr@acme.example", "role": "member"})
    assert "hr@acme.example is already a member of this organisation." in response.content.decode()
