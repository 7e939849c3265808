"""The landing page /r/<token>/: 200 / 404 / 410 / closed, cheap GET (no database, one Redis
write), the click cookie, escaping, and nothing forbidden or money-like on the page."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st

from companies.models import PartnershipStatus
from referrals import clicks, selectors
from referrals.models import Click, Referral, ReferralLink
from tests.referrals.conftest import form_data, landing_link_copy

PHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1"
)


def queued() -> list[dict]:
    conn = clicks.client()
    return [json.loads(raw) for raw in conn.lrange(clicks.PENDING_KEY, 0, -1)]


def test_landing_shows_company_agency_fields_and_consents(client, link, company, agency) -> None:
    company.landing_message = "ご応募ありがとうございました。\n<script>alert('x')</script>"
    company.save()
    selectors.landing_link_forget(link.token)
    r = client.get(f"/r/{link.token}/", HTTP_USER_AGENT=PHONE_UA)
    assert r.status_code == 200
    page = r.content.decode()
    assert company.name in page
    assert agency.name in page
    assert agency.license_number in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "<script>alert" not in page
    for name in ("name", "email", "phone", "desired_role", "prefecture"):
        assert f'name="{name}"' in page
    assert 'name="consent_privacy"' in page
    assert 'name="consent_third_party"' in page
    assert 'name="website"' in page  # honeypot
    assert "csrfmiddlewaretoken" in page
    assert page.count("<option") == 48  # 47 prefectures + the prompt
    assert "2026-11-01" in page  # privacy notice version
    assert "ご登録後の流れ" in page
    assert "<script" not in page  # works without JavaScript
    for forbidden in ("本籍", "出生地", "宗教", "信条", "労働組合", "支持政党"):
        assert forbidden not in page
    for money in ("プレゼント", "ギフト", "謝礼", "キャッシュバック", "Amazon", "円分", "ポイント"):
        assert money not in page


def test_landing_get_touches_no_table_and_queues_one_click(
    client, link, django_assert_num_queries
) -> None:
    client.get(f"/r/{link.token}/", HTTP_USER_AGENT=PHONE_UA)  # warms the link cache
    with django_assert_num_queries(0):
        r = client.get(f"/r/{link.token}/", HTTP_USER_AGENT=PHONE_UA, REMOTE_ADDR="203.0.113.9")
    assert r.status_code == 200
    events = queued()
    assert len(events) == 2
    event = events[-1]
    assert event["l"] == link.pk
    assert (event["c"], event["a"]) == (link.company_id, link.agency_id)
    assert event["k"] == "human"
    assert len(event["v"]) == 32
    assert Click.all_objects.count() == 0  # drained later, not on the request
    cookie = r.cookies[clicks.COOKIE_NAME]
    assert cookie.value == event["u"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == "/r/"


def test_shared_cache_serves_other_processes(client, link, django_assert_num_queries) -> None:
    client.get(f"/r/{link.token}/")
    selectors.clear_local_cache()  # as in a fresh worker process: only the shared copy is warm
    with django_assert_num_queries(0):
        assert client.get(f"/r/{link.token}/").status_code == 200


@pytest.mark.parametrize(
    "token", ["A" * 22, "short", "x" * 40, "bad%20token!!!!!!!!!!!", "..%2F..%2Fetc%2Fpasswd"]
)
def test_unknown_or_malformed_token_is_404(client, link, token) -> None:
    assert client.get(f"/r/{token}/").status_code == 404
    assert client.post(f"/r/{token}/", form_data()).status_code == 404
    assert queued() == []
    assert Referral.all_objects.count() == 0


def test_deactivated_link_is_410_with_agency_contact(client, link, agency) -> None:
    ReferralLink.all_objects.filter(pk=link.pk).update(is_active=False)
    r = client.get(f"/r/{link.token}/")
    assert r.status_code == 410
    page = r.content.decode()
    assert agency.name in page
    assert agency.contact_email in page
    assert 'name="email"' not in page
    assert client.post(f"/r/{link.token}/", form_data()).status_code == 410
    assert Referral.all_objects.count() == 0


def test_expired_link_is_410(client, partnership) -> None:
    from referrals import services

    link, _ = services.link_create(
        partnership=partnership,
        label="期限付き",
        expires_at=timezone.now() + dt.timedelta(seconds=30),
    )
    ReferralLink.all_objects.filter(pk=link.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert client.get(f"/r/{link.token}/").status_code == 410


@pytest.mark.parametrize("problem", ["partnership", "unverified", "expired"])
def test_closed_registration_says_why_and_takes_nothing(
    client, link, partnership, agency, problem
) -> None:
    if problem == "partnership":
        partnership.status = PartnershipStatus.ENDED
        partnership.save()
        reason = "提携は現在有効ではありません"
    elif problem == "unverified":
        agency.license_verified_at = None
        agency.save()
        reason = "許可が確認されていません"
    else:
        agency.license_expires_on = timezone.localdate() - dt.timedelta(days=1)
        agency.save()
        reason = "有効期限が切れています"
    r = client.get(f"/r/{link.token}/")
    assert r.status_code == 200
    page = r.content.decode()
    assert "受け付けていません" in page
    assert reason in page
    assert 'name="email"' not in page
    r = client.post(f"/r/{link.token}/", form_data())
    assert r.status_code == 409
    assert Referral.all_objects.count() == 0


def test_closing_is_enforced_even_while_the_page_cache_is_warm(client, link, partnership) -> None:
    client.get(f"/r/{link.token}/")  # cached as open
    partnership.status = PartnershipStatus.ENDED
    partnership.save()
    r = client.post(f"/r/{link.token}/", form_data())
    assert r.status_code == 409
    assert Referral.all_objects.count() == 0


def test_english_switch(client, link) -> None:
    r = client.get(f"/r/{link.token}/", HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 200
    assert 'lang="en"' in r.content.decode()


@pytest.mark.parametrize("change", ["company", "agency", "partnership", "link"])
def test_a_change_reaches_every_process_on_its_next_view(
    client, link, company, agency, partnership, change, django_capture_on_commit_callbacks
) -> None:
    """Every save of what the page shows moves the landing version when it commits; a process
    still holding the old copy sees the new version in its click capture and reads the link
    again before rendering."""
    client.get(f"/r/{link.token}/")
    stale = selectors._local.get(selectors._cache_key(link.token))
    assert stale is not None
    with django_capture_on_commit_callbacks(execute=True):
        if change == "company":
            company.landing_message = "新しいメッセージ"
            company.save()
        elif change == "agency":
            agency.name = "新しい紹介会社"
            agency.save()
        elif change == "partnership":
            partnership.status = PartnershipStatus.ENDED
            partnership.save()
        else:
            ReferralLink.all_objects.get(pk=link.pk).save()
    # Another web process still has the copy it read before the change.
    selectors._local.set(selectors._cache_key(link.token), stale, 600)
    before = len(queued())
    page = client.get(f"/r/{link.token}/").content.decode()
    # The stale copy's capture recorded nothing; the fresh one's records the view once, unless
    # the page now takes no registrations.
    assert len(queued()) - before == (0 if change == "partnership" else 1)
    expected = {
        "company": "新しいメッセージ",
        "agency": "新しい紹介会社",
        "partnership": "受け付けていません",
        "link": company.name,
    }[change]
    assert expected in page
    fresh = selectors._local.get(selectors._cache_key(link.token))
    assert fresh.version == selectors.landing_version() != stale.version


def test_a_new_link_moves_no_version(partnership, django_capture_on_commit_callbacks) -> None:
    from referrals import services

    before = selectors.landing_version()
    with django_capture_on_commit_callbacks(execute=True):
        services.link_create(partnership=partnership, label="新規")
    assert selectors.landing_version() == before


def test_admin_lists_referral_rows_without_pii(client, link, django_user_model) -> None:
    from referrals.models import Candidate

    client.post(f"/r/{link.token}/", form_data())
    admin = django_user_model.objects.create_superuser(email="op@example.com", password="x" * 12)
    client.force_login(admin)
    for path in (
        "/admin/referrals/referral/",
        "/admin/referrals/referrallink/",
        "/admin/referrals/click/",
        "/admin/referrals/consent/",
        "/admin/referrals/candidate/",
        f"/admin/referrals/candidate/{Candidate.all_objects.get().pk}/change/",
    ):
        r = client.get(path)
        assert r.status_code == 200, path
        assert "taro@example.jp" not in r.content.decode()


LINK_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=60
).filter(str.strip)


@examples(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    company=LINK_TEXT,
    agency=LINK_TEXT,
    license_number=LINK_TEXT,
    message=st.one_of(st.just(""), LINK_TEXT, st.just("一行目\n\n<b>二段落目</b> & 'x'\n三行目")),
    logo=st.sampled_from(["", "/media/logos/a.png", '/media/x".png?a=1&b=<2>']),
    language=st.sampled_from(["ja", "en"]),
)
def test_the_page_filled_from_its_skeleton_equals_a_direct_render(
    company: str, agency: str, license_number: str, message: str, logo: str, language: str
) -> None:
    """The landing page is rendered once per language as a skeleton and filled per request
    (referrals/views.py): for any company, agency, licence, message and logo — markup, quotes,
    ampersands, percent signs, emoji — the filled page is byte for byte the template's own
    render with the link's fields (the CSRF token aside)."""
    from django.template.loader import render_to_string
    from django.test import RequestFactory
    from django.utils import translation

    from referrals import views

    link = landing_link_copy(
        company_name=company,
        company_logo_url=logo,
        company_message=message,
        agency_name=agency,
        agency_license_number=license_number,
    )
    request = RequestFactory().get(f"/r/{link.token}/")
    token_value = re.compile(r'name="csrfmiddlewaretoken" value="[A-Za-z0-9]{64}"')
    with translation.override(language):
        filled = views._landing_html(request, link)
        context = views._context(link, with_form=True)
        context["csrf_token"] = "x" * 64
        direct = render_to_string("referrals/landing.html", context, request=request)
    assert token_value.sub("TOKEN", filled) == token_value.sub("TOKEN", direct)


def test_a_flood_of_unknown_tokens_is_limited_too(client, settings) -> None:
    """The landing view counts its own floods (in the click's round trip); the pages it answers
    without a click (404, 410, closed) are counted by the same per-address window."""
    settings.CLICK_FLOOD_PER_MINUTE = 5
    statuses = [
        client.get("/r/AAAAAAAAAAAAAAAAAAAAAA/", REMOTE_ADDR="203.0.113.50").status_code
        for _ in range(8)
    ]
    assert statuses == [404] * 5 + [429] * 3


def test_without_redis_a_change_shows_on_the_next_view(
    client, link, company, settings, django_capture_on_commit_callbacks
) -> None:
    """The embedded demo has no Redis: no capture reads the landing version, so the look-up reads
    it from the local-memory cache itself, and a shared copy read before the change is not used."""
    settings.REDIS_URL = ""
    client.get(f"/r/{link.token}/")  # cached, and the click written directly
    with django_capture_on_commit_callbacks(execute=True):
        company.landing_message = "デモで変えたメッセージ"
        company.save()
    assert "デモで変えたメッセージ" in client.get(f"/r/{link.token}/").content.decode()


def test_every_answer_about_a_link_is_revalidated_by_the_browser(client, link) -> None:
    """Chromium keeps a 410 without an explicit lifetime for good: without this header a
    candidate who once saw a deactivated link kept seeing it gone after HR reactivated it."""
    assert client.get(f"/r/{link.token}/")["Cache-Control"] == "private, no-cache"
    ReferralLink.all_objects.filter(pk=link.pk).update(is_active=False)
    selectors.landing_link_forget(link.token)
    gone = client.get(f"/r/{link.token}/")
    assert gone.status_code == 410
    assert gone["Cache-Control"] == "private, no-cache"
    assert client.post(f"/r/{link.token}/", form_data())["Cache-Control"] == "private, no-cache"
