"""The acceptance flow of the contract, over HTTP only: a company makes a link, candidates
register through the landing page, the agency qualifies them through the API (one request
retried), and GET /api/v1/credits/ shows exactly the expected points and free hires;
disqualifying twice takes back one point."""

from __future__ import annotations

from typing import Any

from django.test import Client

N_CANDIDATES = 23


def _register(token: str, i: int) -> None:
    browser = Client(enforce_csrf_checks=True, REMOTE_ADDR=f"198.51.100.{i + 1}")
    page = browser.get(f"/r/{token}/")
    assert page.status_code == 200
    response = browser.post(
        f"/r/{token}/",
        {
            "name": f"候補 太郎{i}",
            "email": f"candidate{i}@example.jp",
            "phone": f"090-1234-{i:04d}",
            "desired_role": "営業",
            "prefecture": "東京都",
            "consent_privacy": "on",
            "consent_third_party": "on",
            "csrfmiddlewaretoken": browser.cookies["csrftoken"].value,
        },
    )
    assert response.status_code == 302, response.content.decode()[:500]


def _credits(client: Any, partnership_id: int) -> dict[str, Any]:
    response = client.get("/api/v1/credits/")
    assert response.status_code == 200
    (row,) = [r for r in response.json()["results"] if r["partnership"] == partnership_id]
    return row


def test_acceptance_flow_over_http(
    partnership: Any, other_agency: Any, api_client_for: Any
) -> None:
    company_api = api_client_for(partnership.company)
    agency_api = api_client_for(partnership.agency)

    link = company_api.post(
        "/api/v1/links/",
        {"partnership": partnership.pk, "label": "2026年秋 営業職", "kind": "campaign"},
        format="json",
    )
    assert link.status_code == 201, link.json()
    token = link.json()["token"]

    for i in range(N_CANDIDATES):
        _register(token, i)

    inbox = agency_api.get("/api/v1/referrals/?status=new")
    assert inbox.status_code == 200
    referral_ids = [r["id"] for r in inbox.json()["results"]]
    assert len(referral_ids) == N_CANDIDATES

    # A company cannot qualify its own referrals, another agency cannot see them.
    assert company_api.post(f"/api/v1/referrals/{referral_ids[0]}/qualify/").status_code == 404
    other = api_client_for(other_agency)
    assert other.post(f"/api/v1/referrals/{referral_ids[0]}/qualify/").status_code == 404

    for rid in referral_ids:
        response = agency_api.post(f"/api/v1/referrals/{rid}/qualify/")
        assert response.status_code == 200
        assert response.json()["status"] == "qualified"
    # A retried request (e.g. after a timeout) changes nothing.
    retried = agency_api.post(f"/api/v1/referrals/{referral_ids[5]}/qualify/")
    assert retried.status_code == 200

    row = _credits(company_api, partnership.pk)
    assert row["qualified_referrals"] == 23
    assert row["points_balance"] == 3
    assert row["points_to_next_free_hire"] == 7
    assert row["free_hires_earned"] == 2
    assert row["free_hires_redeemed"] == 0
    assert row["free_hires_available"] == 2
    assert _credits(agency_api, partnership.pk) == row

    # Disqualifying needs a reason; twice takes back exactly one point.
    no_reason = agency_api.post(f"/api/v1/referrals/{referral_ids[0]}/disqualify/", {})
    assert no_reason.status_code == 400
    assert "reason" in no_reason.json()
    for _ in range(2):
        response = agency_api.post(
            f"/api/v1/referrals/{referral_ids[0]}/disqualify/",
            {"reason": "面談に来られず連絡が取れないため"},
            format="json",
        )
        assert response.status_code == 200
        assert response.json()["status"] == "disqualified"
    row = _credits(company_api, partnership.pk)
    assert row["qualified_referrals"] == 22
    assert row["points_balance"] == 2
    assert row["points_to_next_free_hire"] == 8
    assert row["free_hires_earned"] == 2
    assert row["free_hires_available"] == 2

    ledger = company_api.get("/api/v1/ledger/?kind=disqualify").json()
    assert ledger["count"] == 1
    assert ledger["results"][0]["amount"] == -1
