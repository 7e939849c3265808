"""A candidate on a phone (Chromium, 390x844) opens the link, registers, receives the
verification email and verifies; the registration reaches the agency, attributed to the click.
Screenshots go to test-artifacts/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core import mail

from referrals.models import Candidate, Click, Referral
from referrals.tasks import click_drain

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1"
)


def test_candidate_registers_and_verifies_on_a_phone(
    chromium, live_server, link, company, agency, api_client_for
) -> None:
    company.landing_message = "選考へのご参加、誠にありがとうございました。"
    company.save()
    ARTIFACTS.mkdir(exist_ok=True)
    context = chromium.new_context(
        viewport={"width": 390, "height": 844},
        user_agent=IPHONE,
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
        locale="ja-JP",
        java_script_enabled=False,  # the page must work without JavaScript
    )
    page = context.new_page()
    response = page.goto(f"{live_server.url}/r/{link.token}/")
    assert response.status == 200
    assert page.locator("h1").inner_text() == "次のキャリアを、プロと一緒に探しませんか"
    assert agency.license_number in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    page.fill("#id_name", "山田 太郎")
    page.fill("#id_email", "taro@example.jp")
    page.fill("#id_phone", "090-1234-5678")
    page.fill("#id_desired_role", "法人営業")
    page.select_option("#id_prefecture", "大阪府")
    page.check("#id_consent_privacy")
    page.check("#id_consent_third_party")
    page.screenshot(path=str(ARTIFACTS / "candidate-landing-phone.png"), full_page=True)
    page.locator("button.c-submit").click()
    page.wait_for_url(re.compile(r"/thanks/"))
    assert "ご登録ありがとうございます" in page.content()
    page.screenshot(path=str(ARTIFACTS / "candidate-thanks-phone.png"), full_page=True)

    assert len(mail.outbox) == 1
    verify_path = re.search(r"https?://[^/\s]+(/r/verify/\S+/)", mail.outbox[0].body)[1]
    page.goto(f"{live_server.url}{verify_path}")
    page.locator("button.c-submit").click()
    page.wait_for_selector("text=メールアドレスの確認が完了しました")
    page.screenshot(path=str(ARTIFACTS / "candidate-verified-phone.png"), full_page=True)
    context.close()

    candidate = Candidate.all_objects.get()
    assert candidate.email_verified_at is not None
    # The click waits in Redis until the drain; the drain attributes the waiting referral.
    assert click_drain() >= 1
    referral = Referral.all_objects.get()
    click = Click.all_objects.get()
    assert referral.click_id == click.pk
    assert click.classification == "human"
    assert referral.seconds_to_register is not None
    rows = api_client_for(agency).get("/api/v1/referrals/").json()["results"]
    assert [(r["name"], r["email"], r["email_verified"]) for r in rows] == [
        ("山田 太郎", "taro@example.jp", True)
    ]
