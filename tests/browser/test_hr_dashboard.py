"""Playwright drives Chromium through the HR dashboard as each demo HR user: sign-in, the home
numbers against the API, the charts, creating a link and copying its snippet, the English
switch. Screenshots of the main pages go to test-artifacts/ (part of the test output)."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from referrals.rollups import tokyo_today

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
DEMO_PASSWORD = "careerrelay-demo"  # the published demo-only password (seed_demo prints it)
HR_USERS = ("startup-a", "maker-b", "it-c")


@pytest.fixture
def demo(transactional_db: Any) -> None:
    call_command("seed_demo", stdout=io.StringIO())


def _wide_period() -> str:
    today = tokyo_today()
    return f"start={today - dt.timedelta(days=1000)}&end={today}"


def _kpi(page: Any, name: str) -> int:
    text = page.locator(f'[data-kpi="{name}"]').inner_text()
    return int(re.sub(r"[^\d-]", "", text))


def _sign_in(browser: Any, live_server: Any, slug: str) -> tuple[Any, Any]:
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 1280, "height": 900},
        locale="ja-JP",
    )
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.fill('input[name="login"]', f"hr@{slug}.example")
    page.fill('input[name="password"]', DEMO_PASSWORD)
    page.locator('form button[type="submit"], form input[type="submit"]').last.click()
    page.wait_for_url(re.compile(r".*/app/$"))
    return context, page


def _api(page: Any, path: str) -> Any:
    response = page.request.get(path)
    assert response.ok, f"{path}: {response.status}"
    return response.json()


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _check_home(browser: Any, live_server: Any, slug: str) -> None:
    context, page = _sign_in(browser, live_server, slug)
    try:
        page.goto(f"/app/?{_wide_period()}")
        credits = _api(page, "/api/v1/credits/")["results"]
        qualified_api = _api(page, "/api/v1/referrals/?status=qualified")["count"]

        assert _kpi(page, "free_hires_available") == sum(r["free_hires_available"] for r in credits)
        earned = sum(r["free_hires_earned"] for r in credits)
        used = sum(r["free_hires_redeemed"] for r in credits)
        assert f"獲得 {earned} 件・利用済み {used} 件" in page.inner_text(
            '[data-testid="credit-totals"]'
        )
        assert _kpi(page, "rebate_balance_jpy") == sum(r["rebate_balance_jpy"] for r in credits)
        # The funnel (all registrations of the period) agrees with the referral list and the API.
        assert _kpi(page, "qualified") == qualified_api
        assert _kpi(page, "qualified") == sum(r["qualified_referrals"] for r in credits)
        for partnership in credits:
            row = page.locator(f'tr[data-partnership="{partnership["partnership"]}"]')
            meter = row.locator("progress")
            assert int(meter.get_attribute("value")) == max(
                int(meter.get_attribute("max")) - partnership["points_to_next_free_hire"], 0
            )

        # Both charts are server-rendered, labelled images, there without JavaScript.
        for chart in ("funnel-chart", "trend-chart"):
            svg = page.locator(f"svg#{chart}")
            assert svg.get_attribute("role") == "img"
            assert page.locator(f"#{chart}-title").count() == 1
            assert svg.locator("text").count() > 4
        if slug == "maker-b":
            assert earned == 2
            assert qualified_api == 20
        _shot(page, f"hr-{slug}-home")

        page.goto(f"/app/referrals/?{_wide_period()}&status=qualified")
        assert page.locator("tr[data-referral]").count() == min(qualified_api, 50)
        assert "@" not in page.inner_text("main")
        _shot(page, f"hr-{slug}-referrals")
        page.goto(f"/app/insights/?{_wide_period()}")
        assert page.locator("svg#leadtime-chart").count() == 1
        _shot(page, f"hr-{slug}-insights")
        page.goto("/app/settings/")
        _shot(page, f"hr-{slug}-settings")
    finally:
        context.close()


def test_every_demo_hr_user_sees_home_numbers_that_agree_with_the_api(browser, live_server, demo):
    """One seeding (a slow step) for the three users: the figures, the charts, the screenshots."""
    for slug in HR_USERS:
        _check_home(browser, live_server, slug)


def test_create_a_link_copy_its_snippet_and_switch_to_english(browser, live_server, demo):
    _create_link_and_copy(browser, live_server)
    _english_switch(browser, live_server)


def _create_link_and_copy(browser: Any, live_server: Any) -> None:
    context, page = _sign_in(browser, live_server, "maker-b")
    try:
        page.goto("/app/links/")
        _shot(page, "hr-maker-b-links")
        page.select_option('select[name="kind"]', "campaign")
        page.fill('input[name="label"]', "ブラウザテスト 2026年12月 採用")
        page.locator('form[action="/app/links/"] button[type="submit"]').click()
        page.wait_for_load_state()
        if not page.locator("#snippet-ja").count():
            page.get_by_role("link", name="ブラウザテスト 2026年12月 採用").first.click()
        url = page.input_value("#link-url")
        assert re.search(r"/r/[A-Za-z0-9_-]{16,}/$", url), url
        snippet = page.input_value("#snippet-ja")
        assert url in snippet
        page.locator('button[data-copy-target="snippet-ja"]').click()
        page.wait_for_function(
            "document.querySelector('.copy-status').textContent.length > 0", timeout=5000
        )
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied == snippet
        _shot(page, "hr-maker-b-link-detail")
    finally:
        context.close()


def _english_switch(browser: Any, live_server: Any) -> None:
    context, page = _sign_in(browser, live_server, "maker-b")
    try:
        assert page.locator("html").get_attribute("lang") == "ja"
        assert page.locator("h1").first.inner_text() == "ダッシュボード"
        page.locator('.lang-switch button[value="en"]').first.click()
        page.wait_for_function("document.documentElement.lang === 'en'")
        assert page.locator("h1").first.inner_text() == "Dashboard"
        assert "Referral funnel" in page.inner_text("main")
        assert page.locator("#funnel-chart-title").text_content().startswith("Referral funnel")
        _shot(page, "hr-maker-b-home-en")
        page.goto("/app/?start=2999-01-01&end=2999-01-02")
        assert "The start date cannot be in the future." in page.inner_text("main")
        page.locator('.lang-switch button[value="ja"]').first.click()
        page.wait_for_function("document.documentElement.lang === 'ja'")
    finally:
        context.close()
