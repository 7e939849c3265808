from __future__ import annotations

from tests.factories import AgencyMemberFactory


def test_top_page_renders_in_japanese_with_language_switch(client):
    response = client.get("/")
    body = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="ja">' in body
    assert "お見送りの連絡を、次のキャリアへのバトンに。" in body
    assert 'action="/i18n/setlang/"' in body
    assert "/static/vendor/htmx.min.js" in body


def test_hr_layout_shows_the_dashboard_navigation(client_for, hr_user):
    body = client_for(hr_user).get("/app/").content.decode()
    for href in (
        "/app/links/",
        "/app/referrals/",
        "/app/credits/",
        "/app/statements/",
        "/app/partners/",
        "/app/team/",
        "/app/api-keys/",
        "/app/settings/",
    ):
        assert f'href="{href}"' in body
    assert 'href="/app/" aria-current="page"' in body
    assert 'href="/accounts/2fa/"' in body


def test_organisation_switcher_appears_with_several_memberships(client_for, hr_user, agency):
    client = client_for(hr_user)
    assert 'action="/org/switch/"' not in client.get("/app/").content.decode()
    AgencyMemberFactory(agency=agency, user=hr_user, role="member")
    body = client.get("/app/").content.decode()
    assert 'action="/org/switch/"' in body
    assert agency.name in body
