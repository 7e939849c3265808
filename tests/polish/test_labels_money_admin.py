"""English labels that used to read wrong (referral status, placement title, refund schedule,
link URL heading), one yen format per language, the HR link form in the house style, and the
operator admin: Japanese field names, the read-only credits section and its statement PDF."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.utils import timezone, translation

from agencies.models import Placement
from careerrelay.core.templatetags.money import format_yen
from credits import services as credit_services
from credits.models import LedgerTransaction, Statement
from referrals.services import link_create
from tests.credits.helpers import make_referrals
from tests.factories import UserFactory
from tests.settlement.helpers import backdate_referral, make_referral


def english(client: Any) -> Any:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_yen_rule_per_language() -> None:
    with translation.override("ja"):
        assert format_yen(1234567) == "1,234,567円"
        assert format_yen(-500) == "-500円"
        assert format_yen(None) == "0円"
    with translation.override("en"):
        assert format_yen(1234567) == "¥1,234,567"
        assert format_yen(-500) == "-¥500"


@pytest.mark.django_db
def test_referral_status_reads_qualified_not_active_in_english(
    client_for: Any, hr_user: Any, recruiter: Any, partnership: Any
) -> None:
    make_referrals(partnership, 1, status="qualified")
    make_referrals(partnership, 1, status="disqualified")
    hr = english(client_for(hr_user))
    page = hr.get("/app/referrals/").content.decode()
    assert ">Qualified<" in page
    assert ">Disqualified<" in page
    assert ">Active<" not in page
    assert ">Inactive<" not in page
    # Japanese is unchanged.
    hr.cookies[settings.LANGUAGE_COOKIE_NAME] = "ja"
    assert ">有効<" in hr.get("/app/referrals/").content.decode()
    inbox = english(client_for(recruiter)).get("/partner/").content.decode()
    assert ">Qualified<" in inbox
    assert ">Active<" not in inbox


@pytest.mark.django_db
def test_placement_detail_title_money_and_refund_schedule_in_both_languages(
    client_for: Any, recruiter: Any, partnership: Any, other_company: Any
) -> None:
    referral = make_referral(partnership)
    backdate_referral(referral, 300)
    portal = client_for(recruiter)
    created = portal.post(
        "/partner/placements/new/",
        {
            "referral": referral.pk,
            "hiring_company_name": other_company.name,
            "annual_salary_jpy": 6_000_000,
            "start_date": (timezone.localdate() - dt.timedelta(days=10)).isoformat(),
        },
    )
    assert created.status_code == 302
    placement = Placement.objects.unscoped().get()
    number = f"P-{placement.pk:06d}"
    ja = portal.get(created["Location"]).content.decode()
    assert f"<h1>成約 {number}</h1>" in ja
    assert "6,000,000円" in ja
    assert "2,100,000円" in ja
    assert "30日以内 50%、90日以内 30%、180日以内 10%" in ja
    en = english(portal).get(created["Location"]).content.decode()
    assert f"<h1>Placement {number}</h1>" in en
    assert "¥6,000,000" in en
    assert "¥2,100,000" in en
    assert "円" not in en.split("<main", 1)[1]
    assert "、" not in en.split("<main", 1)[1]
    listing = portal.get("/partner/placements/").content.decode()
    assert "¥2,100,000" in listing


@pytest.mark.django_db
def test_statement_list_uses_the_yen_rule(client_for: Any, hr_user: Any, company: Any) -> None:
    Statement.objects.unscoped().create(
        period="2026-10",
        kind="company",
        company=company,
        total_jpy=441_000,
        tax_jpy=44_100,
        issued_on=dt.date(2026, 11, 1),
    )
    hr = client_for(hr_user)
    ja = hr.get("/app/statements/").content.decode()
    assert "441,000円" in ja
    assert "44,100円" in ja
    en = english(hr).get("/app/statements/").content.decode()
    assert "¥441,000" in en
    assert "¥44,100" in en


@pytest.mark.django_db
def test_hr_link_form_in_house_style_and_link_heading_singular(
    client_for: Any, hr_user: Any, partnership: Any
) -> None:
    hr = client_for(hr_user)
    page = hr.get("/app/links/").content.decode()
    assert ":</label>" not in page
    assert "：</label>" not in page
    label_field = page.split('for="id_label"', 1)[1].split("</label>", 1)[0]
    assert 'class="required-mark"' in label_field  # the required Label field is marked
    assert '<div class="table-wrap">' in page
    assert 'id="links-title"' in page
    created = hr.post(
        "/app/links/", {"partnership": partnership.pk, "kind": "campaign", "label": "秋採用"}
    )
    assert created.status_code == 302
    empty = hr.post("/app/links/", {"partnership": partnership.pk, "kind": "campaign"})
    assert 'class="errorlist"' in empty.content.decode()
    detail = english(hr).get(created["Location"]).content.decode()
    assert ">Link URL</label>" in detail


@pytest.fixture
def operator(client: Any) -> Any:
    user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_admin_field_names_in_japanese_and_batches_plural_in_english(
    operator: Any, partnership: Any
) -> None:
    make_referrals(partnership, 1)
    link_create(partnership=partnership, label="秋採用")
    operator.cookies[settings.LANGUAGE_COOKIE_NAME] = "ja"
    assert operator.get("/admin/referrals/referral/add/").status_code == 403
    consent_cols = operator.get("/admin/referrals/candidate/").content.decode()
    assert "メール確認日時" in consent_cols
    assert "Email verified at" not in consent_cols
    index_en = english(operator).get("/admin/").content.decode()
    assert "Link batches" in index_en
    assert "Link batchs" not in index_en
    assert "Outbox messages" in index_en
    assert (
        "Deactivate the selected links"
        in operator.get("/admin/referrals/referrallink/").content.decode()
    )


@pytest.mark.django_db
def test_credits_admin_is_read_only_and_serves_the_statement_pdf(
    operator: Any, partnership: Any, company: Any
) -> None:
    referral = make_referrals(partnership, 1)[0]
    credit_services.referral_qualify(referral=referral)
    statement = Statement.objects.unscoped().create(
        period="2026-10",
        kind="company",
        company=company,
        total_jpy=441_000,
        tax_jpy=44_100,
        issued_on=dt.date(2026, 11, 1),
    )
    statement.pdf.save("s.pdf", ContentFile(b"%PDF-1.4 test"), save=True)
    listing = operator.get("/admin/credits/statement/").content.decode()
    assert "441,000円" in listing
    assert f"/admin/credits/statement/{statement.pk}/pdf/" in listing
    pdf = operator.get(f"/admin/credits/statement/{statement.pk}/pdf/")
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")
    for model in ("ledgeraccount", "ledgertransaction", "settlementrun", "statement"):
        assert operator.get(f"/admin/credits/{model}/").status_code == 200
        assert operator.get(f"/admin/credits/{model}/add/").status_code == 403
    assert operator.post(f"/admin/credits/statement/{statement.pk}/delete/").status_code == 403
    assert Statement.objects.unscoped().filter(pk=statement.pk).exists()
    # The qualification's ledger transaction shows with its entries, and cannot be changed.
    tx = LedgerTransaction.objects.unscoped().get()
    shown = operator.get(f"/admin/credits/ledgertransaction/{tx.pk}/change/")
    assert shown.status_code == 200
    assert "有効紹介ポイント" in shown.content.decode()  # an inline entry's account
    assert operator.post(f"/admin/credits/ledgertransaction/{tx.pk}/change/", {}).status_code == 403
    staff = UserFactory(is_staff=True)
    operator.force_login(staff)
    assert operator.get(f"/admin/credits/statement/{statement.pk}/pdf/").status_code == 403
