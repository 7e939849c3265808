"""POST /r/<token>/: the happy path with consent receipt and verification email; every bad input
answered next to the field with nothing written; honeypot, replay, rate limit; de-duplication
and the first-touch rule."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from referrals import pii, services
from referrals.models import Candidate, Consent, Referral, ReferralStatus
from tests.factories import PartnershipFactory
from tests.referrals.conftest import form_data


def counts() -> tuple[int, int, int]:
    return (
        Candidate.all_objects.count(),
        Referral.all_objects.count(),
        Consent.all_objects.count(),
    )


def test_registration_happy_path(
    client, link, company, agency, django_capture_on_commit_callbacks
) -> None:
    client.get(f"/r/{link.token}/")
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(
            f"/r/{link.token}/", form_data(email="ＴＡＲＯ@Example.jp"), REMOTE_ADDR="198.51.100.7"
        )
    assert r.status_code == 302
    assert r["Location"].startswith(f"/r/{link.token}/thanks/?k=")
    thanks = client.get(r["Location"]).content.decode()
    assert "ご登録ありがとうございます" in thanks
    assert "/r/me/" in thanks

    candidate = Candidate.all_objects.get()
    assert candidate.agency_id == agency.pk
    assert pii.decrypt(candidate.email_enc) == "taro@example.jp"
    assert "taro" not in candidate.email_enc
    assert candidate.email_hash == pii.email_hash("taro@example.jp")
    assert pii.decrypt(candidate.phone_enc) == "09012345678"
    assert (candidate.desired_role, candidate.prefecture) == ("法人営業", "東京都")
    assert candidate.email_verified_at is None

    referral = Referral.all_objects.get()
    assert (referral.company_id, referral.agency_id, referral.link_id) == (
        company.pk,
        agency.pk,
        link.pk,
    )
    assert referral.status == ReferralStatus.NEW
    assert referral.click_uid is not None

    consent = Consent.all_objects.get()
    assert consent.referral_id == referral.pk
    assert (consent.privacy_version, consent.third_party_version) == ("2026-11-01", "2026-11-01")
    assert (consent.agency_name, consent.agency_license_number) == (
        agency.name,
        agency.license_number,
    )
    assert re.fullmatch(r"[0-9a-f]{64}", consent.text_sha256)
    assert consent.ip_hash
    assert "198.51.100.7" not in consent.ip_hash
    today = timezone.localdate()
    assert consent.retain_until == today.replace(year=today.year + 3)

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["taro@example.jp"]
    assert agency.name in message.subject
    assert "/r/verify/" in message.body
    assert "/r/me/" in message.body


def test_verification_link_confirms_by_post_only(
    client, link, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/r/{link.token}/", form_data())
    verify_url = re.search(r"http://127\.0\.0\.1:8000(/r/verify/\S+/)", mail.outbox[0].body)[1]
    page = client.get(verify_url)  # what a mail scanner does
    assert page.status_code == 200
    assert Candidate.all_objects.get().email_verified_at is None
    done = client.post(verify_url)
    assert done.status_code == 200
    assert "確認が完了しました" in done.content.decode()
    assert Candidate.all_objects.get().email_verified_at is not None
    tampered = verify_url[:-3] + "xx/"
    assert client.post(tampered).status_code == 400


def test_consent_receipt_per_receiving_agency(client, link, company, other_agency) -> None:
    from referrals.services import link_create

    second = PartnershipFactory(company=company, agency=other_agency)
    other, _ = link_create(partnership=second, label="2社目")
    client.post(f"/r/{link.token}/", form_data())
    client.post(f"/r/{other.token}/", form_data())
    receipts = Consent.all_objects.order_by("pk")
    assert [c.agency_id for c in receipts] == [link.agency_id, other_agency.pk]
    assert receipts[0].agency_name != receipts[1].agency_name
    # Each agency holds its own candidate row (per-agency tenancy).
    assert Candidate.all_objects.count() == 2


BAD_INPUTS = [
    ({"email": "not-an-email"}, "email", "メールアドレスの形式"),
    ({"email": ""}, "email", "メールアドレスを入力"),
    ({"email": "a" * 250 + "@example.jp"}, "email", "長すぎます"),
    ({"phone": "12345"}, "phone", "10〜11桁"),
    ({"phone": "090-1234-ABCD"}, "phone", "10〜11桁"),
    ({"phone": ""}, "phone", "電話番号を入力"),
    ({"name": ""}, "name", "お名前を入力"),
    ({"name": "山" * 101}, "name", "100文字以内"),
    ({"name": "<script>alert(1)</script>"}, "name", "&lt; と &gt;"),
    ({"desired_role": "<img src=x onerror=alert(1)>"}, "desired_role", "&lt; と &gt;"),
    ({"desired_role": "営" * 101}, "desired_role", "100文字以内"),
    ({"prefecture": "ニューヨーク"}, "prefecture", "一覧から選択"),
    ({"prefecture": ""}, "prefecture", "選択してください"),
    ({"consent_privacy": None}, "consent_privacy", "プライバシーポリシーへの同意"),
    ({"consent_third_party": None}, "consent_third_party", "個人情報の提供への同意"),
]


@pytest.mark.parametrize(("overrides", "field", "message"), BAD_INPUTS)
def test_bad_input_is_reported_next_to_the_field(client, link, overrides, field, message) -> None:
    r = client.post(f"/r/{link.token}/", form_data(**overrides))
    assert r.status_code == 400
    page = r.content.decode()
    error = re.search(rf'<p class="c-field-error" id="id_{field}-error">([^<]*)</p>', page)
    assert error, f"no error next to {field}"
    assert message in error[1]
    assert "<script>alert" not in page
    assert "<img src=x" not in page
    assert counts() == (0, 0, 0)
    assert mail.outbox == []


def test_errors_in_the_candidates_language(client, link) -> None:
    r = client.post(
        f"/r/{link.token}/",
        form_data(email="nope", consent_privacy=None),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert r.status_code == 400
    page = r.content.decode()
    assert 'lang="en"' in page
    assert "Please enter a valid email address" in page
    assert "You need to agree to the privacy policy" in page
    assert counts() == (0, 0, 0)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    name=st.text(max_size=120),
    email=st.text(max_size=60),
    phone=st.text(max_size=25),
    role=st.text(max_size=120),
    prefecture=st.text(max_size=6),
)
def test_any_input_is_either_registered_cleanly_or_rejected_with_nothing_written(
    client, link, name, email, phone, role, prefecture
) -> None:
    before = counts()
    data = form_data(name=name, email=email, phone=phone, desired_role=role, prefecture=prefecture)
    data = {k: v.replace("\x00", "") for k, v in data.items()}  # NUL cannot travel in a form post
    r = client.post(f"/r/{link.token}/", data)
    assert r.status_code in (302, 400, 429)
    if r.status_code != 302:
        assert counts() == before
        assert "<script" not in r.content.decode()
    else:
        candidate = Candidate.all_objects.order_by("-pk").first()
        assert pii.decrypt(candidate.email_enc) == pii.normalise_email(email)
    from django.core.cache import cache

    cache.clear()  # keep the per-IP rate limit out of this property


def test_honeypot_looks_like_success_and_writes_nothing(client, link) -> None:
    r = client.post(f"/r/{link.token}/", form_data(website="http://spam.example"))
    assert r.status_code == 302
    assert counts() == (0, 0, 0)
    assert mail.outbox == []


def test_replayed_form_writes_nothing_new(client, link, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(f"/r/{link.token}/", form_data())
        second = client.post(f"/r/{link.token}/", form_data(phone="080-0000-0000"))
    assert first.status_code == second.status_code == 302
    assert counts() == (1, 1, 1)
    assert len(mail.outbox) == 1
    assert pii.decrypt(Candidate.all_objects.get().phone_enc) == "09012345678"


@override_settings(REFERRAL_REGISTER_RATE=(3, 600))
def test_per_ip_rate_limit(client, link) -> None:
    for i in range(3):
        r = client.post(
            f"/r/{link.token}/", form_data(email=f"p{i}@example.jp"), REMOTE_ADDR="192.0.2.1"
        )
        assert r.status_code == 302
    r = client.post(f"/r/{link.token}/", form_data(email="p9@example.jp"), REMOTE_ADDR="192.0.2.1")
    assert r.status_code == 429
    assert "しばらく時間をおいて" in r.content.decode()
    assert Referral.all_objects.count() == 3
    other_ip = client.post(
        f"/r/{link.token}/", form_data(email="q@example.jp"), REMOTE_ADDR="192.0.2.2"
    )
    assert other_ip.status_code == 302


def test_csrf_is_enforced(link) -> None:
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post(f"/r/{link.token}/", form_data()).status_code == 403
    assert counts() == (0, 0, 0)


def test_first_touch_within_365_days_wins_per_agency(client, link, agency, other_company) -> None:
    from referrals.services import link_create

    second_partnership = PartnershipFactory(company=other_company, agency=agency)
    second_link, _ = link_create(partnership=second_partnership, label="B社")
    client.post(f"/r/{link.token}/", form_data())
    client.post(f"/r/{second_link.token}/", form_data(email="taro@EXAMPLE.jp"))
    first, later = Referral.all_objects.order_by("pk")
    assert first.status == ReferralStatus.NEW
    assert later.status == ReferralStatus.DUPLICATE
    assert later.duplicate_of_id == first.pk
    assert later.company_id == other_company.pk
    assert Candidate.all_objects.count() == 1  # one candidate per agency, de-duplicated by HMAC


def test_after_the_window_a_new_company_counts_again(client, link, agency, other_company) -> None:
    from referrals.services import link_create

    client.post(f"/r/{link.token}/", form_data())
    Referral.all_objects.update(created_at=timezone.now() - dt.timedelta(days=366))
    second_link, _ = link_create(
        partnership=PartnershipFactory(company=other_company, agency=agency), label="B社"
    )
    client.post(f"/r/{second_link.token}/", form_data())
    assert Referral.all_objects.order_by("-pk").first().status == ReferralStatus.NEW


def test_fraud_hold_is_stored(client, link, company) -> None:
    company.email_domains = "acme.example"
    company.save()
    client.post(f"/r/{link.token}/", form_data(email="staff@acme.example"))
    referral = Referral.all_objects.get()
    assert referral.status == ReferralStatus.HELD
    assert "自己紹介" in referral.hold_reason


def test_service_refuses_missing_consent() -> None:
    from careerrelay.core.errors import ApplicationError

    with pytest.raises(ApplicationError):
        services.candidate_register(
            link_id=1,
            name="x",
            email="x@example.jp",
            phone="0900000000",
            desired_role="",
            prefecture="東京都",
            consent_privacy=True,
            consent_third_party=False,
        )


@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_registrations_make_one_referral(partnership) -> None:
    import threading

    from django.db import connection

    link, _ = services.link_create(partnership=partnership, label="同時登録")
    barrier = threading.Barrier(6)
    outcomes: list[bool] = []

    def register() -> None:
        try:
            barrier.wait()
            registration = services.candidate_register(
                link_id=link.pk,
                name="山田 太郎",
                email="taro@example.jp",
                phone="09012345678",
                desired_role="",
                prefecture="東京都",
                consent_privacy=True,
                consent_third_party=True,
                notify=False,
            )
            outcomes.append(registration.created)
        finally:
            connection.close()

    threads = [threading.Thread(target=register) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [False] * 5 + [True]
    assert counts() == (1, 1, 1)
