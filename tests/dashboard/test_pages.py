"""The HR dashboard pages: figures from the rollups and the ledger, period validation,
tenant isolation, the referral list without contact data, CSV exports and htmx sign-out."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest

from credits.services import referral_qualify
from referrals.rollups import rollup_rebuild, tokyo_today
from tests.dashboard.helpers import add_clicks, add_placement, add_referral, make_link, tokyo

pytestmark = pytest.mark.django_db


def _at(days_ago: int, hh: int = 12) -> dt.datetime:
    day = tokyo_today() - dt.timedelta(days=days_ago)
    return tokyo(day.year, day.month, day.day, hh)


def kpi(html: str, name: str) -> str:
    match = re.search(rf'data-kpi="{name}">([^<]*)<', html)
    assert match, f"KPI {name} not on the page"
    return match.group(1)


@pytest.fixture
def activity(partnership, company, agency):
    """12 registrations (10 qualified: one free hire), 40 unique clicks, 6 bot clicks."""
    link = make_link(partnership)
    add_clicks(link, _at(20), human=28, repeat=3, bots=4, scanners=2)
    referrals = [
        add_referral(link, _at(15), click_at=_at(15, 10), verified=i < 11) for i in range(12)
    ]
    for referral in referrals[:10]:
        referral_qualify(referral=referral)
    add_placement(referrals[0], agency=agency, hiring_company=company, salary=6_000_000)
    rollup_rebuild(days=60)
    return link


def test_home_shows_the_period_figures_and_the_ledger(client_for, hr_user, activity):
    response = client_for(hr_user).get("/app/")
    assert response.status_code == 200
    html = response.content.decode()
    # 28 + 12 unique human clicks; repeats, bots and scanners filtered.
    assert kpi(html, "unique_clicks") == "40"
    assert kpi(html, "registrations") == "12"
    assert kpi(html, "verified") == "11"
    assert kpi(html, "qualified") == "10"
    assert kpi(html, "placed") == "1"
    assert kpi(html, "free_hires_available") == "1"
    assert "0 / 10" in html
    assert 'role="img"' in html
    assert '<title id="funnel-chart-title">' in html
    assert '<title id="trend-chart-title">' in html
    # A paid placement of 6,000,000 × 35 %.
    assert "2,100,000円" in html
    # No marketing claims, only computed figures.
    assert "1.5" not in html
    assert "40 %" not in html


def test_home_agrees_with_the_credits_api(client_for, hr_user, activity):
    client = client_for(hr_user)
    api = client.get("/api/v1/credits/").json()
    rows = api["results"] if isinstance(api, dict) else api
    assert len(rows) == 1
    html = client.get("/app/").content.decode()
    assert kpi(html, "qualified") == str(rows[0]["qualified_referrals"])
    assert kpi(html, "free_hires_available") == str(rows[0]["free_hires_available"])
    assert f"{rows[0]['free_hires_available']} / {rows[0]['free_hires_earned']} / " in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("start=2020-01-01&end=2999-01-01", "終了日に未来の日付は指定できません"),
        ("start=2026-05-01&end=2026-04-01", "終了日は開始日と同じか、それより後の日付"),
        ("start=2026-05-01", "開始日と終了日の両方を入力してください"),
        ("start=not-a-date&end=2026-04-01", "年-月-日で入力してください"),
    ],
)
def test_a_bad_period_says_why_and_shows_the_default_period(
    client_for, hr_user, activity, query, message
):
    response = client_for(hr_user).get(f"/app/?{query}")
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert 'aria-invalid="true"' in html
    # The figures are those of the default period (last 12 months).
    assert kpi(html, "registrations") == "12"


def test_a_bad_period_on_a_csv_export_is_a_400_with_the_reason(client_for, hr_user):
    response = client_for(hr_user).get("/app/export/funnel.csv?start=2026-05-01&end=2026-04-01")
    assert response.status_code == 400
    assert "終了日は開始日と同じか" in response.content.decode()


def test_a_chosen_period_narrows_the_figures(client_for, hr_user, activity):
    day = tokyo_today() - dt.timedelta(days=15)
    html = client_for(hr_user).get(f"/app/?start={day}&end={day}").content.decode()
    assert kpi(html, "registrations") == "12"
    assert kpi(html, "unique_clicks") == "12"
    earlier = tokyo_today() - dt.timedelta(days=20)
    html = client_for(hr_user).get(f"/app/?start={earlier}&end={earlier}").content.decode()
    assert kpi(html, "registrations") == "0"
    assert kpi(html, "unique_clicks") == "28"


def test_another_company_sees_none_of_it(client_for, other_hr_user, activity):
    html = client_for(other_hr_user).get("/app/").content.decode()
    assert kpi(html, "unique_clicks") == "0"
    assert kpi(html, "registrations") == "0"
    html = client_for(other_hr_user).get("/app/referrals/").content.decode()
    assert "R-" not in html


def test_referral_list_shows_stage_and_status_but_no_contact_data(
    client_for, hr_user, activity, company
):
    response = client_for(hr_user).get("/app/referrals/")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("data-referral=") == 12
    assert html.count('data-status="qualified"') == 10
    assert "12 件" in html
    assert "@" not in re.sub(r"<header.*?</header>", "", html, flags=re.S).split("<main")[1]
    assert company.name not in html.split("<main")[1].replace(company.name + "</span>", "")
    qualified = client_for(hr_user).get("/app/referrals/?status=qualified").content.decode()
    assert qualified.count("data-referral=") == 10


def test_referral_list_agrees_with_the_api(client_for, hr_user, activity):
    client = client_for(hr_user)
    api = client.get("/api/v1/referrals/?status=qualified").json()
    html = client.get("/app/referrals/?status=qualified").content.decode()
    assert api["count"] == html.count("data-referral=") == 10
    home = client.get("/app/").content.decode()
    assert kpi(home, "qualified") == str(api["count"])


def test_csv_exports_carry_the_chart_numbers(client_for, hr_user, activity):
    client = client_for(hr_user)
    response = client.get("/app/export/funnel.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    rows = dict(csv.reader(io.StringIO(text)))
    assert rows["クリック（ユニーク）"] == "40"
    assert rows["登録"] == "12"
    assert rows["有効紹介"] == "10"
    trend = list(
        csv.reader(io.StringIO(client.get("/app/export/trend.csv").content.decode("utf-8-sig")))
    )
    assert len(trend) == 1 + 12
    assert sum(int(r[3]) for r in trend[1:]) == 12
    links = list(
        csv.reader(io.StringIO(client.get("/app/export/links.csv").content.decode("utf-8-sig")))
    )
    assert links[1][0] == "2026年度 中途採用"
    # Registered 2 hours after the click on average.
    assert links[1][6] == str(2 * 3600)
    agencies = list(
        csv.reader(io.StringIO(client.get("/app/export/agencies.csv").content.decode("utf-8-sig")))
    )
    assert agencies[1][4] == "1"  # free hires earned
    assert client.get("/app/export/nope.csv").status_code == 404


def test_insights_show_lead_time_by_month_and_link(client_for, hr_user, activity):
    html = client_for(hr_user).get("/app/insights/").content.decode()
    assert kpi(html, "avg_register") == "2時間 0分"
    assert "2026年度 中途採用" in html
    assert 'id="leadtime-chart"' in html


def test_pages_need_a_company_member(client, client_for, recruiter):
    for url in ("/app/", "/app/referrals/", "/app/insights/", "/app/settings/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    agency_client = client_for(recruiter)
    for url in ("/app/", "/app/referrals/", "/app/export/funnel.csv", "/app/settings/"):
        assert agency_client.get(url).status_code == 404


def test_a_stale_htmx_request_after_sign_out_is_sent_to_sign_in(client_for, hr_user):
    client = client_for(hr_user)
    client.post("/accounts/logout/")
    response = client.get("/app/referrals/?page=2", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response["HX-Redirect"].startswith("/accounts/login/")


def test_a_preset_period_ignores_leftover_dates(client_for, hr_user, activity):
    response = client_for(hr_user).get("/app/?range=30d&start=2999-01-01&end=2999-01-02")
    html = response.content.decode()
    assert 'aria-invalid="true"' not in html
    assert kpi(html, "registrations") == "12"
    start = tokyo_today() - dt.timedelta(days=29)
    assert f'value="{start}"' in html


def test_a_link_page_shows_the_link_funnel(client_for, hr_user, activity):
    html = client_for(hr_user).get(f"/app/links/{activity.pk}/").content.decode()
    assert f'id="link-funnel-{activity.pk}"' in html
    assert "有効紹介: 10（前段からの割合 83.3 %）" in html


def test_another_company_link_page_is_404(client_for, other_hr_user, activity):
    assert client_for(other_hr_user).get(f"/app/links/{activity.pk}/").status_code == 404


def test_without_celery_beat_the_dashboard_refreshes_the_rollups_itself(
    client_for, hr_user, partnership, settings
):
    settings.DASHBOARD_REFRESH_ON_VIEW = True
    link = make_link(partnership)
    add_clicks(link, _at(0), human=3)
    html = client_for(hr_user).get("/app/").content.decode()
    assert kpi(html, "unique_clicks") == "3"
    settings.DASHBOARD_REFRESH_ON_VIEW = False
    add_clicks(link, _at(0), human=2)
    html = client_for(hr_user).get("/app/").content.decode()
    assert kpi(html, "unique_clicks") == "3"
