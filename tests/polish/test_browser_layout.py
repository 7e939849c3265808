"""Chromium on the seeded demo: pages that used to overflow on a phone (HR link list, agent
referral detail with its consent hash), the agent inbox's scroll hint at 1280 px, the green
badge's contrast, the privacy notice reached from the consent checkbox without JavaScript, and
no console errors (CSP, favicon 404) on the candidate page and Redoc. Screenshots go to
test-artifacts/."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from referrals.models import Consent, ReferralLink

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
DEMO_PASSWORD = "careerrelay-demo"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def demo(transactional_db: Any) -> None:
    call_command("seed_demo", stdout=io.StringIO())


def _sign_in(browser: Any, live_server: Any, email: str, viewport: dict[str, int]) -> Any:
    context = browser.new_context(base_url=live_server.url, viewport=viewport, locale="ja-JP")
    page = context.new_page()
    page.goto("/accounts/login/")
    page.fill('input[name="login"]', email)
    page.fill('input[name="password"]', DEMO_PASSWORD)
    page.locator('form button[type="submit"], form input[type="submit"]').last.click()
    page.wait_for_url(re.compile(r".*/(app|partner)/$"))
    return page


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"qa-polish-{name}.png"), full_page=True)


def _page_width(page: Any) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


def _luminance(rgb: str) -> float:
    channels = [int(c) / 255 for c in re.findall(r"\d+", rgb)[:3]]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _contrast(fg: str, bg: str) -> float:
    a, b = sorted((_luminance(fg), _luminance(bg)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def test_hr_pages_fit_a_phone_and_badges_are_readable(browser, live_server, demo) -> None:
    page = _sign_in(browser, live_server, "hr@maker-b.example", PHONE)
    page.goto("/app/links/")
    assert _page_width(page) <= PHONE["width"]
    label_cell = page.locator("td.cell-text").first
    assert label_cell.bounding_box()["width"] >= 120  # not one character per line
    assert page.locator(".table-wrap table").count() == 1
    _shot(page, "hr-links-phone")

    page.goto("/app/referrals/")
    badge = page.locator(".badge-success").first
    colours = badge.evaluate(
        "el => [getComputedStyle(el).color, getComputedStyle(el).backgroundColor]"
    )
    assert _contrast(*colours) >= 4.5, colours
    page.context.close()


def test_agent_pages_fit_a_phone_and_the_inbox_hints_that_it_scrolls(
    browser, live_server, demo
) -> None:
    consent = Consent.all_objects.order_by("pk").first()
    page = _sign_in(browser, live_server, "agent@relay-agent.example", PHONE)
    page.goto(f"/partner/referrals/{consent.referral_id}/")
    assert consent.text_sha256 in page.content()
    assert _page_width(page) <= PHONE["width"]
    _shot(page, "agent-referral-phone")
    page.context.close()

    desktop = {"width": 1280, "height": 900}
    page = _sign_in(browser, live_server, "agent@relay-agent.example", desktop)
    wrap = page.locator("#inbox-table .table-wrap")
    background = wrap.evaluate("el => getComputedStyle(el).backgroundImage")
    assert background.count("radial-gradient") == 2  # the edge shadows
    metrics = wrap.evaluate("el => [el.scrollWidth, el.clientWidth]")
    # At 1280 px the whole inbox fits (long emails wrap), so the last column is not cut off.
    assert metrics[0] <= metrics[1], metrics
    assert _page_width(page) <= 1280
    _shot(page, "agent-inbox-desktop")
    page.context.close()


def test_privacy_notice_from_the_consent_checkbox_without_javascript(
    browser, live_server, demo
) -> None:
    link = ReferralLink.all_objects.filter(is_active=True).order_by("pk").first()
    context = browser.new_context(
        base_url=live_server.url, viewport=PHONE, locale="ja-JP", java_script_enabled=False
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    failed: list[str] = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    page.goto(f"/r/{link.token}/")
    with context.expect_page() as opened:
        page.locator(".c-policy-link").click()
    notice = opened.value
    notice.wait_for_load_state()
    assert notice.url.endswith("/r/privacy/")
    assert notice.locator("h1").inner_text() == "プライバシーポリシー（求職者の方へ）"
    assert _page_width(notice) <= PHONE["width"]
    _shot(notice, "privacy-phone")
    page.goto("/r/privacy/")
    page.locator(".c-lang button").click()  # the language switch is a plain form
    assert page.locator("h1").inner_text() == "Privacy policy (for candidates)"
    assert errors == []
    assert failed == []
    context.close()


def test_redoc_loads_without_console_errors(browser, live_server, demo) -> None:
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto("/api/v1/redoc/")
    page.wait_for_selector("text=API docs by Redocly", timeout=20_000)
    page.wait_for_load_state("networkidle")
    assert not [e for e in errors if "Content Security Policy" in e or "404" in e], errors
    assert page.request.get("/favicon.ico").ok  # redirected to the static icon
    context.close()
