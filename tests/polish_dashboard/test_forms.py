"""The placement and onboarding forms show every field's error at once (QA #11, #22), and still
write nothing until the input is valid."""

from __future__ import annotations

import re
from typing import Any

from agencies.models import Placement
from companies.models import Company
from tests.factories import CompanyFactory, UserFactory


def _errors(html: str) -> dict[str, list[str]]:
    """{input id: [messages]} of the error lists rendered next to the fields."""
    found: dict[str, list[str]] = {}
    for field_id, items in re.findall(
        r'<ul class="errorlist" id="id_(\w+)_error">(.*?)</ul>', html, flags=re.S
    ):
        found[field_id] = re.findall(r"<li>(.*?)</li>", items)
    return found


def test_placement_form_shows_every_field_error_at_once(
    client_for: Any, recruiter: Any, agency: Any, partnership: Any
) -> None:
    client = client_for(recruiter)
    response = client.post(
        "/partner/placements/new/",
        {
            "referral": "",
            "candidate_name": "",
            "hiring_company": "",
            "hiring_company_name": "",
            "annual_salary_jpy": "-5",
            "fee_rate": "150",
            "start_date": "2026-12-01",
        },
    )
    assert response.status_code == 400
    errors = _errors(response.content.decode())
    assert errors["annual_salary_jpy"] == ["理論年収は1円以上で入力してください。"]
    assert errors["fee_rate"] == ["手数料率は0%より大きく100%以下で入力してください。"]
    assert errors["referral"] == ["紹介を選択するか、候補者名を入力してください。"]
    assert errors["hiring_company_name"] == ["入社先企業名を入力してください。"]
    assert not Placement.objects.for_tenant(agency).exists()


def test_placement_form_in_english_and_a_valid_post_still_creates(
    client_for: Any, recruiter: Any, agency: Any, partnership: Any
) -> None:
    client = client_for(recruiter)
    client.cookies["django_language"] = "en"
    bad = {
        "candidate_name": "山田 花子",
        "hiring_company_name": "株式会社テスト",
        "annual_salary_jpy": "0",
        "fee_rate": "35.123",
        "start_date": "2026-12-01",
    }
    errors = _errors(client.post("/partner/placements/new/", bad).content.decode())
    assert set(errors) == {"annual_salary_jpy", "fee_rate"}
    assert not Placement.objects.for_tenant(agency).exists()
    good = {**bad, "annual_salary_jpy": "6000000", "fee_rate": "35"}
    response = client.post("/partner/placements/new/", good)
    assert response.status_code == 302
    placement = Placement.objects.for_tenant(agency).get()
    assert placement.fee_jpy == 2_100_000


def test_onboarding_shows_a_taken_identifier_together_with_the_other_errors(
    client_for: Any, db: Any
) -> None:
    CompanyFactory(slug="maker-b")
    user = UserFactory(email="new-hr@example.jp")
    client = client_for(user)
    response = client.post(
        "/app/onboarding/",
        {
            "name": "株式会社ニュー",
            "slug": "maker-b",
            "website": "",
            "invoice_registration_number": "T123",
        },
    )
    assert response.status_code == 400
    errors = _errors(response.content.decode())
    assert errors["slug"] == ["この識別子はすでに使われています。"]
    assert "invoice_registration_number" in errors
    assert not Company.objects.filter(name="株式会社ニュー").exists()

    response = client.post(
        "/app/onboarding/",
        {"name": "株式会社ニュー", "slug": "new-co", "invoice_registration_number": ""},
    )
    assert response.status_code == 302
    assert Company.objects.filter(slug="new-co", name="株式会社ニュー").exists()


def test_placement_api_reports_every_field_error_at_once(
    api_client_for: Any, agency: Any, partnership: Any
) -> None:
    api = api_client_for(agency)
    response = api.post(
        "/api/v1/placements/",
        {"annual_salary_jpy": -5, "fee_rate": "150", "start_date": "2026-12-01"},
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["annual_salary_jpy"] == ["理論年収は1円以上で入力してください。"]
    assert body["fee_rate"] == ["手数料率は0%より大きく100%以下で入力してください。"]
    assert body["referral"] == ["紹介を選択するか、候補者名を入力してください。"]
    assert body["hiring_company_name"] == ["入社先企業名を入力してください。"]
    assert not Placement.objects.for_tenant(agency).exists()
