"""GET /api/v1/credits/, GET /api/v1/ledger/ and the HR credits page: exact figures, each
tenant sees only its own side, another tenant's rows answer 404."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agencies.models import Placement
from credits.models import AccountName, EntryKind
from credits.services import free_hire_redeem, ledger_post, referral_disqualify, referral_qualify
from tests.credits.helpers import assert_balances_match_entries, make_referrals
from tests.factories import CompanyFactory, PartnershipFactory


def _placement(partnership: Any, hiring_company: Any) -> Placement:
    start = timezone.localdate()
    return Placement.all_objects.create(
        agency=partnership.agency,
        hiring_company=hiring_company,
        hiring_company_name=hiring_company.name,
        annual_salary_jpy=6_000_000,
        fee_rate="35.00",
        fee_jpy=2_100_000,
        start_date=start,
        guarantee_ends_on=start + dt.timedelta(days=180),
        free_hire=False,
    )


@pytest.fixture
def worked_partnership(partnership: Any) -> Any:
    """23 qualified, then 1 of them disqualified, then 1 free hire redeemed."""
    referrals = make_referrals(partnership, 25)
    for r in referrals[:23]:
        referral_qualify(referral=r)
    referral_disqualify(referral=referrals[0], reason="架空の登録")
    free_hire_redeem(placement=_placement(partnership, partnership.company))
    return partnership


EXPECTED = {
    "qualified_referrals": 22,
    "points_balance": 2,
    "points_to_next_free_hire": 8,
    "free_hires_earned": 2,
    "free_hires_redeemed": 1,
    "free_hires_available": 1,
    "rebate_balance_jpy": 0,
}


def test_credits_api_shows_exact_figures_to_the_company(
    worked_partnership: Any, api_client_for: Any
) -> None:
    response = api_client_for(worked_partnership.company).get("/api/v1/credits/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    (row,) = body["results"]
    assert row["partnership"] == worked_partnership.pk
    assert {k: row[k] for k in EXPECTED} == EXPECTED


def test_credits_api_shows_the_same_figures_to_the_agency(
    worked_partnership: Any, api_client_for: Any
) -> None:
    PartnershipFactory(agency=worked_partnership.agency)  # a second, untouched partnership
    body = api_client_for(worked_partnership.agency).get("/api/v1/credits/").json()
    rows = {r["partnership"]: r for r in body["results"]}
    assert len(rows) == 2
    assert {k: rows[worked_partnership.pk][k] for k in EXPECTED} == EXPECTED
    untouched = next(r for pk, r in rows.items() if pk != worked_partnership.pk)
    assert untouched["points_balance"] == 0
    assert untouched["points_to_next_free_hire"] == 10
    assert untouched["free_hires_available"] == 0


def test_credits_api_hides_other_tenants(
    worked_partnership: Any, other_partnership: Any, api_client_for: Any
) -> None:
    for org in (other_partnership.company, other_partnership.agency):
        client = api_client_for(org)
        rows = client.get("/api/v1/credits/").json()["results"]
        assert [r["partnership"] for r in rows] == [other_partnership.pk]
        assert client.get(f"/api/v1/credits/{worked_partnership.pk}/").status_code == 404
        ledger = client.get("/api/v1/ledger/").json()
        assert ledger["count"] == 0
    own = api_client_for(worked_partnership.company)
    assert own.get(f"/api/v1/credits/{worked_partnership.pk}/").json()["points_balance"] == 2


def test_credits_api_uses_a_fixed_number_of_queries(partnership: Any, api_client_for: Any) -> None:
    client = api_client_for(partnership.company)
    for r in make_referrals(partnership, 3):
        referral_qualify(referral=r)

    def count() -> int:
        # The first request of a minute also stamps the API key's last use: measure the second.
        client.get("/api/v1/credits/")
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/api/v1/credits/").status_code == 200
        return len(ctx.captured_queries)

    before = count()
    for _ in range(4):
        p = PartnershipFactory(company=partnership.company)
        for r in make_referrals(p, 12):
            referral_qualify(referral=r)
    assert len(client.get("/api/v1/credits/").json()["results"]) == 5
    assert count() == before


def test_ledger_api_lists_each_side_of_the_entries(
    worked_partnership: Any, api_client_for: Any
) -> None:
    company = api_client_for(worked_partnership.company).get("/api/v1/ledger/").json()
    agency = api_client_for(worked_partnership.agency).get("/api/v1/ledger/").json()
    # 23 qualify + 2 convert (2 entries on the company side) + 1 disqualify + 1 redeem.
    assert company["count"] == 23 + 2 * 2 + 1 + 1
    assert agency["count"] == company["count"]
    assert {e["account"] for e in company["results"]} <= {"points", "free_hires", "rebate_jpy"}
    assert {e["account"] for e in agency["results"]} <= {
        "points_issued",
        "free_hires_issued",
        "rebate_owed",
    }
    first = company["results"][0]
    assert set(first) >= {
        "id",
        "account",
        "amount",
        "kind",
        "idempotency_key",
        "created_at",
        "partnership",
    }
    assert first["kind"] == "redeem"
    assert first["amount"] == -1
    assert first["partnership"] == worked_partnership.pk


def test_ledger_api_is_paginated_and_filterable(
    worked_partnership: Any, api_client_for: Any
) -> None:
    client = api_client_for(worked_partnership.company)
    page = client.get("/api/v1/ledger/?page=1").json()
    assert set(page) == {"count", "next", "previous", "results"}
    converts = client.get("/api/v1/ledger/?kind=convert&account=free_hires").json()
    assert converts["count"] == 2
    assert all(e["amount"] == 1 for e in converts["results"])
    assert client.get("/api/v1/ledger/?kind=nonsense").json()["count"] == 0
    assert (
        client.get(f"/api/v1/ledger/?partnership={worked_partnership.pk}&kind=qualify").json()[
            "count"
        ]
        == 23
    )


def test_credits_page_shows_the_meter_free_hires_and_history(
    worked_partnership: Any, hr_user: Any, client_for: Any
) -> None:
    client = client_for(hr_user)
    response = client.get("/app/credits/")
    assert response.status_code == 200
    html = response.content.decode()
    agency = worked_partnership.agency
    assert agency.name in html
    assert "2 / 10" in html
    assert '<meter class="meter" min="0" max="10" value="2"' in html
    assert "あと 8 件の有効紹介で無料採用枠を1件獲得できます。" in html
    # The cause of each entry: referral numbers, the placement number.
    qualified = worked_partnership.referrals.order_by("pk")[1]
    assert f"R-{qualified.pk:06d}" in html
    assert "成約 #" in html


def test_credits_page_shows_a_negative_balance_being_paid_back(
    partnership: Any, hr_user: Any, client_for: Any
) -> None:
    referrals = make_referrals(partnership, 10)
    for r in referrals:
        referral_qualify(referral=r)
    referral_disqualify(referral=referrals[0], reason="重複")
    html = client_for(hr_user).get("/app/credits/").content.decode()
    assert "0 / 10" in html
    assert "あと 11 件" in html


def test_credits_page_never_names_the_company_a_candidate_was_placed_at(
    partnership: Any, hr_user: Any, client_for: Any
) -> None:
    secret = CompanyFactory(name="秘密の転職先株式会社", slug="secret-hirer")
    placement = _placement(partnership, secret)
    ledger_post(
        partnership=partnership,
        kind=EntryKind.REBATE,
        idempotency_key=f"rebate:{placement.pk}",
        legs=[(AccountName.REBATE_JPY, 210_000), (AccountName.REBATE_OWED, -210_000)],
        placement=placement,
        period="2026-10",
    )
    html = client_for(hr_user).get("/app/credits/").content.decode()
    assert "+210,000円" in html
    assert f"成約 #{placement.pk}" in html
    assert secret.name not in html


def test_credits_page_is_for_company_members_only(
    partnership: Any, recruiter: Any, client_for: Any, client: Any
) -> None:
    assert client.get("/app/credits/").status_code == 302
    assert client_for(recruiter).get("/app/credits/").status_code == 404


def test_credits_page_filters_history_by_partnership_of_the_tenant_only(
    partnership: Any, other_partnership: Any, hr_user: Any, client_for: Any
) -> None:
    for r in make_referrals(other_partnership, 2):
        referral_qualify(referral=r)
    response = client_for(hr_user).get(f"/app/credits/?partnership={other_partnership.pk}")
    assert response.status_code == 200
    html = response.content.decode()
    assert other_partnership.agency.name not in html
    assert "まだ履歴はありません" in html


def test_credits_page_in_english(worked_partnership: Any, hr_user: Any, client_for: Any) -> None:
    client = client_for(hr_user)
    html = client.get("/app/credits/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    if "To the next free hire" not in html:
        client.cookies["django_language"] = "en"
        html = client.get("/app/credits/").content.decode()
    assert "To the next free hire" in html
    assert "8 more qualified referrals earn one free hire." in html


def test_credit_summary_reads_the_accounts_running_totals_not_the_entries(
    worked_partnership: Any,
) -> None:
    # The history behind these figures grows forever; the summary reads a fixed set of rows.
    from credits.selectors import credit_summaries

    with CaptureQueriesContext(connection) as ctx:
        (summary,) = credit_summaries(tenant=worked_partnership.company)
    assert len(ctx.captured_queries) == 2
    assert not any("credits_ledgerentry" in q["sql"] for q in ctx.captured_queries)
    figures = {k: getattr(summary, k) for k in EXPECTED}
    assert figures == EXPECTED
    assert_balances_match_entries(worked_partnership)
