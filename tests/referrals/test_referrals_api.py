"""GET /api/v1/referrals/ per the contract and the agency's qualify / disqualify actions."""

from __future__ import annotations

from referrals.models import Referral
from tests.referrals.conftest import form_data


def seed(client, link) -> None:
    for i, email in enumerate(["taro@example.jp", "hanako@example.jp"]):
        client.post(f"/r/{link.token}/", form_data(email=email, name=f"候補者{i}"))
    Referral.all_objects.filter(candidate__email_hash__isnull=False).order_by("pk").first()


def test_company_sees_its_referrals_without_contact_data(
    client, link, api_client_for, company, other_company
) -> None:
    seed(client, link)
    body = api_client_for(company).get("/api/v1/referrals/").json()
    assert body["count"] == 2
    row = body["results"][0]
    assert {"id", "status", "partnership", "created_at"} <= set(row)
    assert row["partnership"] == link.partnership_id
    for contact in ("name", "email", "phone"):
        assert contact not in row
    assert "example.jp" not in str(body)
    assert api_client_for(other_company).get("/api/v1/referrals/").json()["count"] == 0
    first_id = row["id"]
    assert api_client_for(other_company).get(f"/api/v1/referrals/{first_id}/").status_code == 404


def test_agency_sees_the_candidate_and_filters(
    client, link, api_client_for, agency, other_agency
) -> None:
    seed(client, link)
    api = api_client_for(agency)
    body = api.get("/api/v1/referrals/").json()
    assert body["count"] == 2
    emails = {row["email"] for row in body["results"]}
    assert emails == {"taro@example.jp", "hanako@example.jp"}
    assert {row["phone"] for row in body["results"]} == {"09012345678"}
    by_email = api.get("/api/v1/referrals/", {"email": "ＨＡＮＡＫＯ@example.jp"}).json()
    assert by_email["count"] == 1
    assert by_email["results"][0]["name"] == "候補者1"
    assert api.get("/api/v1/referrals/", {"status": "new"}).json()["count"] == 2
    assert api.get("/api/v1/referrals/", {"status": "qualified"}).json()["count"] == 0
    assert api.get("/api/v1/referrals/", {"status": "bogus"}).status_code == 400
    assert api_client_for(other_agency).get("/api/v1/referrals/").json()["count"] == 0


def test_company_cannot_qualify(client, link, api_client_for, company) -> None:
    seed(client, link)
    referral = Referral.all_objects.first()
    api = api_client_for(company)
    assert api.post(f"/api/v1/referrals/{referral.pk}/qualify/").status_code == 404
    assert (
        api.post(f"/api/v1/referrals/{referral.pk}/disqualify/", {"reason": "x"}).status_code == 404
    )
    assert Referral.all_objects.get(pk=referral.pk).status == "new"


def test_other_agency_cannot_qualify(client, link, api_client_for, other_agency) -> None:
    seed(client, link)
    referral = Referral.all_objects.first()
    r = api_client_for(other_agency).post(f"/api/v1/referrals/{referral.pk}/qualify/")
    assert r.status_code == 404
    assert Referral.all_objects.get(pk=referral.pk).status == "new"


def test_agency_qualifies_and_disqualifies_through_the_api(
    client, link, api_client_for, agency
) -> None:
    seed(client, link)
    referral = Referral.all_objects.order_by("pk").first()
    api = api_client_for(agency)
    r = api.post(f"/api/v1/referrals/{referral.pk}/qualify/")
    assert r.status_code == 200, r.json()
    assert r.json()["status"] == "qualified"
    again = api.post(f"/api/v1/referrals/{referral.pk}/qualify/")
    assert again.status_code == 200
    assert again.json()["status"] == "qualified"
    assert Referral.all_objects.get(pk=referral.pk).qualification_count == 1  # idempotent
    missing_reason = api.post(f"/api/v1/referrals/{referral.pk}/disqualify/", {})
    assert missing_reason.status_code == 400
    assert "reason" in missing_reason.json()
    assert Referral.all_objects.get(pk=referral.pk).status == "qualified"
    r = api.post(f"/api/v1/referrals/{referral.pk}/disqualify/", {"reason": "連絡がつかない"})
    assert r.status_code == 200, r.json()
    assert r.json()["status"] == "disqualified"
    assert r.json()["disqualify_reason"] == "連絡がつかない"
