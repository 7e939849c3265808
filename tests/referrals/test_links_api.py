"""POST/GET /api/v1/links/ and GET/PATCH /api/v1/links/<id>/ per the contract (company only)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from companies.models import PartnershipStatus
from referrals.models import ReferralLink


def test_company_creates_a_campaign_link(api_client_for, company, partnership) -> None:
    api = api_client_for(company)
    r = api.post(
        "/api/v1/links/", {"partnership": partnership.pk, "label": "秋採用", "kind": "campaign"}
    )
    assert r.status_code == 201, r.json()
    body = r.json()
    assert set(body) >= {"id", "token", "url", "is_active"}
    assert body["url"] == f"http://127.0.0.1:8000/r/{body['token']}/"
    assert body["is_active"] is True
    assert len(body["token"]) == 22
    listed = api.get("/api/v1/links/").json()
    assert listed["count"] == 1
    assert listed["results"][0]["id"] == body["id"]


def test_personal_link_needs_email_and_is_idempotent(api_client_for, company, partnership) -> None:
    api = api_client_for(company)
    r = api.post(
        "/api/v1/links/", {"partnership": partnership.pk, "label": "個別", "kind": "personal"}
    )
    assert r.status_code == 400
    assert "candidate_email" in r.json()
    payload = {
        "partnership": partnership.pk,
        "label": "個別",
        "kind": "personal",
        "candidate_email": "Hanako@Example.jp",
    }
    first = api.post("/api/v1/links/", payload)
    assert first.status_code == 201
    again = api.post("/api/v1/links/", {**payload, "candidate_email": "ｈａｎａｋｏ@example.jp"})
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert ReferralLink.all_objects.filter(kind="personal").count() == 1


def test_patch_label_and_deactivate(api_client_for, company, partnership, link) -> None:
    api = api_client_for(company)
    r = api.patch(
        f"/api/v1/links/{link.pk}/", {"label": "新ラベル", "is_active": False}, format="json"
    )
    assert r.status_code == 200, r.json()
    assert r.json()["is_active"] is False
    row = ReferralLink.all_objects.get(pk=link.pk)
    assert (row.label, row.is_active) == ("新ラベル", False)
    # The token cannot be changed through PATCH.
    api.patch(f"/api/v1/links/{link.pk}/", {"token": "x" * 22}, format="json")
    assert ReferralLink.all_objects.get(pk=link.pk).token == link.token


def test_links_are_company_only_and_tenant_scoped(
    api_client_for, agency, other_company, link, other_partnership
) -> None:
    assert api_client_for(agency).get("/api/v1/links/").status_code == 404
    other = api_client_for(other_company)
    assert other.get(f"/api/v1/links/{link.pk}/").status_code == 404
    assert other.patch(f"/api/v1/links/{link.pk}/", {"is_active": False}).status_code == 404
    assert other.get("/api/v1/links/").json()["count"] == 0
    # A partnership of another company is refused as an input.
    r = other.post("/api/v1/links/", {"partnership": link.partnership_id, "label": "x"})
    assert r.status_code == 400
    assert "partnership" in r.json()
    assert ReferralLink.all_objects.get(pk=link.pk).is_active is True


def test_no_link_on_inactive_partnership_or_unlicensed_agency(
    api_client_for, company, partnership, agency
) -> None:
    api = api_client_for(company)
    partnership.status = PartnershipStatus.PROPOSED
    partnership.save()
    r = api.post("/api/v1/links/", {"partnership": partnership.pk, "label": "x"})
    assert r.status_code == 400
    assert "partnership" in r.json()
    partnership.status = PartnershipStatus.ACTIVE
    partnership.save()
    agency.license_expires_on = timezone.localdate() - dt.timedelta(days=1)
    agency.save()
    r = api.post("/api/v1/links/", {"partnership": partnership.pk, "label": "x"})
    assert r.status_code == 400
    assert "有効期限" in r.json()["message"]
    agency.license_expires_on = timezone.localdate() + dt.timedelta(days=30)
    agency.license_verified_at = None
    agency.save()
    assert (
        api.post("/api/v1/links/", {"partnership": partnership.pk, "label": "x"}).status_code == 400
    )
    assert ReferralLink.all_objects.count() == 0


def test_hr_pages_create_copy_and_deactivate(
    client_for, hr_user, partnership, other_hr_user
) -> None:
    client = client_for(hr_user)
    r = client.post(
        "/app/links/", {"partnership": partnership.pk, "kind": "campaign", "label": "<b>秋</b>"}
    )
    assert r.status_code == 302
    link = ReferralLink.all_objects.get()
    page = client.get(r["Location"]).content.decode()
    assert f"/r/{link.token}/" in page
    assert "&lt;b&gt;秋&lt;/b&gt;" in page
    assert "<b>秋</b>" not in page
    assert "お祈り" in page or "選考にご応募いただき" in page
    assert "Thank you very much for your interest" in page
    assert 'data-copy-target="snippet-ja"' in page
    assert "js/copy.js" in page
    assert "<textarea" in page  # selectable without JavaScript
    r = client.post(f"/app/links/{link.pk}/toggle/", {"is_active": "0"})
    assert r.status_code == 302
    assert ReferralLink.all_objects.get(pk=link.pk).is_active is False
    listing = client.get("/app/links/").content.decode()
    assert "&lt;b&gt;秋&lt;/b&gt;" in listing
    client.force_login(other_hr_user)
    assert client.get(f"/app/links/{link.pk}/").status_code == 404
    assert client.post(f"/app/links/{link.pk}/toggle/", {"is_active": "1"}).status_code == 404
    assert ReferralLink.all_objects.get(pk=link.pk).is_active is False
