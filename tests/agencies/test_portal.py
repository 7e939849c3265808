"""The partner portal over HTTP: the inbox (search through keyed hashes, filters, pagination,
bulk stage changes with and without htmx), candidate detail (stage, notes, qualify and
disqualify through the ledger, consent receipt), the placement form and early leave, and
another agency's rows answering 404."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from agencies.models import Placement, ReferralNote
from credits.models import LedgerTransaction
from referrals.models import Referral
from referrals.services import candidate_register, link_create
from tests.settlement.helpers import backdate_referral, make_referral


def register(partnership, name: str, email: str, phone: str = "090-1234-5678") -> Referral:
    link, _ = link_create(partnership=partnership, label="テスト求人")
    return candidate_register(
        link_id=link.pk,
        name=name,
        email=email,
        phone=phone,
        desired_role="営業",
        prefecture="東京都",
        consent_privacy=True,
        consent_third_party=True,
    ).referral


@pytest.fixture
def portal(client_for, recruiter):
    return client_for(recruiter)


def test_inbox_lists_only_the_agencys_candidates_and_finds_them_by_email_phone_and_number(
    portal, partnership, other_partnership
):
    mine = register(partnership, "山田 花子", "hanako@example.jp", "090-5555-0001")
    register(partnership, "田中 次郎", "jiro@example.jp", "090-5555-0002")
    theirs = make_referral(other_partnership, name="他社 太郎", email="other@example.jp")

    page = portal.get("/partner/").content.decode()
    assert "山田 花子" in page
    assert "田中 次郎" in page
    assert "他社 太郎" not in page
    assert theirs.number not in page

    by_email = portal.get("/partner/", {"q": "ＨＡＮＡＫＯ@example.jp"}).content.decode()
    assert "山田 花子" in by_email
    assert "田中 次郎" not in by_email
    by_phone = portal.get("/partner/", {"q": "09055550002"}).content.decode()
    assert "田中 次郎" in by_phone
    assert "山田 花子" not in by_phone
    by_number = portal.get("/partner/", {"q": mine.number}).content.decode()
    assert "山田 花子" in by_number
    assert "田中 次郎" not in by_number
    foreign = portal.get("/partner/", {"q": "other@example.jp"}).content.decode()
    assert "他社 太郎" not in foreign
    assert "山田 花子" not in foreign


def test_inbox_filters_by_status_company_date_and_verification_and_paginates(
    portal, partnership, agency
):
    from tests.factories import CompanyFactory, PartnershipFactory

    second = PartnershipFactory(company=CompanyFactory(name="株式会社セカンド"), agency=agency)
    old = make_referral(partnership, name="古い 候補者")
    backdate_referral(old, 30)
    qualified = make_referral(second, name="有効 候補者", status="qualified")
    unverified = make_referral(partnership, name="未確認 候補者")
    unverified.candidate.email_verified_at = None
    unverified.candidate.save()

    def names(**params) -> str:
        return portal.get("/partner/", params).content.decode()

    assert "有効 候補者" in names(status="qualified")
    assert "古い 候補者" not in names(status="qualified")
    only_second = names(company=second.company.slug)
    assert "有効 候補者" in only_second
    assert "古い 候補者" not in only_second
    recent = names(date_from=(timezone.localdate() - dt.timedelta(days=3)).isoformat())
    assert "古い 候補者" not in recent
    assert "有効 候補者" in recent
    assert "古い 候補者" in names(
        date_to=(timezone.localdate() - dt.timedelta(days=20)).isoformat()
    )
    unverified_page = names(verified="no")
    assert "未確認 候補者" in unverified_page
    assert "有効 候補者" not in unverified_page
    assert qualified.number in names(verified="yes")

    for i in range(30):
        make_referral(partnership, name=f"多数 {i:02d}")
    first, second_page = portal.get("/partner/"), portal.get("/partner/", {"page": 2})
    assert first.content.decode().count('name="referrals"') == 25
    assert second_page.content.decode().count('name="referrals"') == 33 - 25


def test_htmx_filter_answers_only_the_table(portal, partnership):
    make_referral(partnership, name="山田 花子")
    partial = portal.get("/partner/", {"status": "new"}, HTTP_HX_REQUEST="true")
    assert partial.status_code == 200
    body = partial.content.decode()
    assert "山田 花子" in body
    assert "<html" not in body


def test_bulk_stage_change_without_js_changes_own_rows_only(portal, partnership, other_partnership):
    a, b = make_referral(partnership), make_referral(partnership)
    foreign = make_referral(other_partnership)
    r = portal.post(
        "/partner/referrals/bulk-stage/",
        {"stage": "contacted", "referrals": [a.pk, b.pk, foreign.pk], "query": "status=new"},
    )
    assert r.status_code == 302
    assert r["Location"] == "/partner/?status=new"
    stages = dict(Referral.objects.unscoped().values_list("pk", "stage"))
    assert stages[a.pk] == stages[b.pk] == "contacted"
    assert stages[foreign.pk] == "new"
    bad = portal.post("/partner/referrals/bulk-stage/", {"stage": "nonsense", "referrals": [a.pk]})
    assert bad.status_code == 302
    assert Referral.objects.unscoped().get(pk=a.pk).stage == "contacted"


def test_candidate_detail_shows_contact_and_consent_and_works_the_pipeline(
    portal, partnership, recruiter
):
    referral = register(partnership, "山田 花子", "hanako@example.jp")
    url = f"/partner/referrals/{referral.pk}/"
    page = portal.get(url).content.decode()
    assert "山田 花子" in page
    assert "hanako@example.jp" in page
    assert 'data-testid="consent"' in page
    assert partnership.agency.license_number in page

    assert portal.post(f"{url}stage/", {"stage": "contacted"}).status_code == 302
    assert Referral.objects.unscoped().get(pk=referral.pk).stage == "contacted"
    assert portal.post(f"{url}stage/", {"stage": "bogus"}).status_code == 400

    assert portal.post(f"{url}notes/", {"body": "初回面談は来週火曜日"}).status_code == 302
    note = ReferralNote.objects.unscoped().get()
    assert (note.body, note.author, note.referral_id) == (
        "初回面談は来週火曜日",
        recruiter,
        referral.pk,
    )
    assert "初回面談は来週火曜日" in portal.get(url).content.decode()
    assert portal.post(f"{url}notes/", {"body": "  "}).status_code == 400
    assert ReferralNote.objects.unscoped().count() == 1

    assert portal.post(f"{url}qualify/").status_code == 302
    assert Referral.objects.unscoped().get(pk=referral.pk).status == "qualified"
    assert LedgerTransaction.objects.unscoped().filter(kind="qualify").count() == 1
    portal.post(f"{url}qualify/")  # idempotent
    assert LedgerTransaction.objects.unscoped().filter(kind="qualify").count() == 1

    empty = portal.post(f"{url}disqualify/", {"reason": ""})
    assert empty.status_code == 400
    assert Referral.objects.unscoped().get(pk=referral.pk).status == "qualified"
    assert portal.post(f"{url}disqualify/", {"reason": "重複登録"}).status_code == 302
    row = Referral.objects.unscoped().get(pk=referral.pk)
    assert (row.status, row.disqualify_reason) == ("disqualified", "重複登録")
    assert LedgerTransaction.objects.unscoped().filter(kind="disqualify").count() == 1


def test_another_agencys_candidate_is_404_everywhere(portal, other_partnership):
    foreign = make_referral(other_partnership)
    base = f"/partner/referrals/{foreign.pk}/"
    assert portal.get(base).status_code == 404
    for action, data in [
        ("stage/", {"stage": "contacted"}),
        ("notes/", {"body": "x"}),
        ("qualify/", {}),
        ("disqualify/", {"reason": "x"}),
    ]:
        assert portal.post(base + action, data).status_code == 404
    row = Referral.objects.unscoped().get(pk=foreign.pk)
    assert (row.stage, row.status) == ("new", "new")
    assert not ReferralNote.objects.unscoped().exists()


def test_placement_form_and_early_leave_in_the_portal(portal, partnership, other_company):
    referral = make_referral(partnership)
    backdate_referral(referral, 300)
    start = timezone.localdate() - dt.timedelta(days=50)
    form = portal.get(f"/partner/placements/new/?referral={referral.pk}")
    assert form.status_code == 200
    bad = portal.post(
        "/partner/placements/new/",
        {
            "referral": referral.pk,
            "hiring_company_name": other_company.name,
            "annual_salary_jpy": 0,
            "start_date": start.isoformat(),
        },
    )
    assert bad.status_code == 400
    assert "理論年収は1円以上" in bad.content.decode()
    assert not Placement.objects.unscoped().exists()
    ok = portal.post(
        "/partner/placements/new/",
        {
            "referral": referral.pk,
            "hiring_company_name": other_company.name,
            "annual_salary_jpy": 6_000_000,
            "start_date": start.isoformat(),
        },
    )
    assert ok.status_code == 302
    placement = Placement.objects.unscoped().get()
    assert placement.fee_jpy == 2_100_000
    detail = portal.get(ok["Location"]).content.decode()
    assert "2,100,000円" in detail
    assert other_company.name in portal.get("/partner/placements/").content.decode()

    early = portal.post(ok["Location"], {"left_on": (start - dt.timedelta(days=1)).isoformat()})
    assert early.status_code == 400
    assert portal.post(ok["Location"], {"left_on": start.isoformat()}).status_code == 302
    placement.refresh_from_db()
    assert (placement.status, placement.refund_jpy) == ("left_early", 1_050_000)


def test_companies_holding_free_hires_are_listed(portal, partnership, company):
    from credits.services import referral_qualify

    for _ in range(10):
        referral_qualify(referral=make_referral(partnership))
    page = portal.get("/partner/").content.decode()
    assert 'data-testid="free-hire-holders"' in page
    assert company.name in page


def test_portal_pages_are_for_agencies_only(client_for, hr_user, partnership):
    referral = make_referral(partnership)
    hr = client_for(hr_user)
    for url in ("/partner/", f"/partner/referrals/{referral.pk}/", "/partner/placements/"):
        assert hr.get(url).status_code == 404


def test_portal_pages_render_in_english(portal, partnership, other_company):
    referral = make_referral(partnership)
    backdate_referral(referral, 300)
    portal.post(
        "/partner/placements/new/",
        {
            "referral": referral.pk,
            "hiring_company_name": other_company.name,
            "annual_salary_jpy": 6_000_000,
            "start_date": (timezone.localdate() - dt.timedelta(days=5)).isoformat(),
        },
    )
    placement = Placement.objects.unscoped().get()
    pages = {
        "/partner/": "Clear filters",
        f"/partner/referrals/{referral.pk}/": "Consent receipt",
        "/partner/placements/": "Report a placement",
        "/partner/placements/new/": "Theoretical annual salary (JPY)",
        f"/partner/placements/{placement.pk}/": "within 30 days 50%",
        "/partner/statements/": "No statements yet.",
    }
    for url, text in pages.items():
        page = portal.get(url, HTTP_ACCEPT_LANGUAGE="en")
        assert page.status_code == 200, url
        assert text in page.content.decode(), url


def test_bulk_stage_change_with_htmx_answers_the_refreshed_table(portal, partnership):
    a, b = make_referral(partnership), make_referral(partnership)
    r = portal.post(
        "/partner/referrals/bulk-stage/",
        {"stage": "interviewed", "referrals": [a.pk], "query": "stage=new"},
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code == 200
    body = r.content.decode()
    assert "<html" not in body
    assert 'role="status"' in body
    # The table keeps the filter (stage = new): the changed candidate has left it.
    assert f'value="{b.pk}"' in body
    assert f'value="{a.pk}"' not in body
    assert Referral.objects.unscoped().get(pk=a.pk).stage == "interviewed"
    bad = portal.post(
        "/partner/referrals/bulk-stage/", {"stage": "interviewed"}, HTTP_HX_REQUEST="true"
    )
    assert 'role="alert"' in bad.content.decode()
