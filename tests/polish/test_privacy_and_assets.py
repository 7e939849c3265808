"""The candidates' privacy notice (/r/privacy/) and the small asset fixes: favicons on candidate
pages, /favicon.ico, and Redoc without Redocly's CDN logo."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings

from referrals import selectors, services


@pytest.fixture
def link(partnership: Any, hr_user: Any) -> Any:
    selectors.clear_local_cache()
    created, _ = services.link_create(partnership=partnership, label="秋採用", created_by=hr_user)
    return created


@pytest.mark.django_db
def test_privacy_notice_in_japanese_names_version_purposes_agency_retention_and_rights(
    client: Any,
) -> None:
    r = client.get("/r/privacy/")
    assert r.status_code == 200
    page = r.content.decode()
    assert "プライバシーポリシー（求職者の方へ）" in page
    assert f"版: {settings.PRIVACY_POLICY_VERSION}" in page
    for words in (
        "利用目的",
        "第27条",  # third-party provision with consent (APPI)
        "有料職業紹介事業の許可番号",
        f"同意の日から {settings.CONSENT_RETENTION_YEARS} 年間保存",
        "暗号化",
        "開示",
        "利用停止",
        "個人データの消去",
        "登録状況とデータの管理",
        settings.PRIVACY_CONTACT_EMAIL,
        settings.PLATFORM_INVOICE_NAME,
    ):
        assert words in page, words
    assert "<script" not in page
    assert 'rel="icon"' in page


@pytest.mark.django_db
def test_privacy_notice_in_english(client: Any) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get("/r/privacy/").content.decode()
    assert "Privacy policy (for candidates)" in page
    assert f"Version: {settings.PRIVACY_POLICY_VERSION}" in page
    for words in ("Article 27", "3 years", "encrypted", "Erase your personal data", "disclose"):
        assert words in page, words
    assert "プライバシーポリシー（求職者の方へ）" not in page


@pytest.mark.django_db
def test_landing_consent_links_to_the_notice_and_the_token_route_does_not_swallow_it(
    client: Any, link: Any
) -> None:
    page = client.get(f"/r/{link.token}/").content.decode()
    consent = page.split('id="id_consent_privacy"', 1)[1].split("consent_third_party", 1)[0]
    assert 'href="/r/privacy/"' in consent
    assert 'href="/r/privacy/"' in page.split('class="c-footer"', 1)[1]
    assert 'rel="icon"' in page
    # A POST to the notice is refused, it never reaches the landing view as a token.
    assert client.post("/r/privacy/").status_code == 405


@pytest.mark.django_db
def test_site_footer_links_to_the_notice(client: Any) -> None:
    page = client.get("/").content.decode()
    assert 'href="/r/privacy/"' in page.split('class="site-footer"', 1)[1]


@pytest.mark.django_db
def test_favicon_ico_redirects_to_the_static_icon(client: Any) -> None:
    r = client.get("/favicon.ico")
    assert r.status_code in (301, 302)
    assert r["Location"] == f"{settings.STATIC_URL}favicon.svg"


@pytest.mark.django_db
def test_redoc_uses_a_bundle_without_the_cdn_logo(client: Any) -> None:
    page = client.get("/api/v1/redoc/").content.decode()
    assert 'src="/api/v1/redoc/redoc.standalone.js"' in page
    r = client.get("/api/v1/redoc/redoc.standalone.js")
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/javascript")
    body = r.content.decode()
    assert "cdn.redoc.ly" not in body
    assert f"{settings.STATIC_URL}favicon.svg" in body
    assert len(body) > 500_000  # the whole bundle, not a stub
    assert client.get("/api/v1/docs/").status_code == 200
