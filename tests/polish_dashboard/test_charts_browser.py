"""Chromium at phone and desktop width, Japanese and English: one layout of each chart is shown,
its text renders at 11 px or more, and no label runs outside the chart (QA #6, #7). Screenshots
of the charts go to test-artifacts/."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
DEMO_PASSWORD = "careerrelay-demo"  # the published demo-only password
VIEWPORTS = {"phone": (390, 844), "desktop": (1280, 800)}
MEASURE = """() => Array.from(document.querySelectorAll('svg.chart')).map((svg) => {
  const box = svg.getBoundingClientRect();
  const scale = box.width / svg.viewBox.baseVal.width;
  let smallest = 99;
  const outside = [];
  for (const text of svg.querySelectorAll('text')) {
    if (!text.textContent.trim() || box.width === 0) continue;
    smallest = Math.min(smallest, parseFloat(getComputedStyle(text).fontSize) * scale);
    const r = text.getBoundingClientRect();
    if (r.left < box.left - 0.5 || r.right > box.right + 0.5 || r.top < box.top - 0.5
        || r.bottom > box.bottom + 0.5) outside.push(text.textContent);
  }
  return {id: svg.id, shown: box.width > 0, smallest, outside};
})"""


def test_charts_are_readable_on_a_phone_and_fit_on_a_desktop(browser: Any, live_server: Any):
    call_command("seed_demo", stdout=io.StringIO())
    ARTIFACTS.mkdir(exist_ok=True)
    for lang in ("ja", "en"):
        for size, (width, height) in VIEWPORTS.items():
            context = browser.new_context(
                base_url=live_server.url, viewport={"width": width, "height": height}
            )
            context.add_cookies(
                [{"name": "django_language", "value": lang, "url": live_server.url}]
            )
            page = context.new_page()
            try:
                page.goto("/accounts/login/")
                page.fill('input[name="login"]', "hr@maker-b.example")
                page.fill('input[name="password"]', DEMO_PASSWORD)
                page.locator('form button[type="submit"]').last.click()
                page.wait_for_url(re.compile(r".*/app/$"))
                for path, charts in (
                    ("/app/", ("funnel-chart", "trend-chart", "clicks-chart")),
                    ("/app/insights/", ("leadtime-chart",)),
                ):
                    page.goto(path)
                    measured = {m["id"]: m for m in page.evaluate(MEASURE)}
                    for chart in charts:
                        shown, hidden = (
                            (f"{chart}-narrow", chart)
                            if size == "phone"
                            else (chart, f"{chart}-narrow")
                        )
                        where = (lang, size, shown)
                        assert measured[shown]["shown"], where
                        assert not measured[hidden]["shown"], where
                        assert measured[shown]["smallest"] >= 11, (where, measured[shown])
                        assert measured[shown]["outside"] == [], (where, measured[shown])
                        page.locator(f"svg#{shown}").screenshot(
                            path=str(ARTIFACTS / f"polish-chart-{lang}-{size}-{shown}.png")
                        )
                    # Nothing on the page is wider than the screen.
                    assert page.evaluate("document.documentElement.scrollWidth") <= width
            finally:
                context.close()
