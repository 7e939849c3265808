"""Monthly rebate settlement and statements: the Done-when flow over HTTP, exactly-once
settlement, refund adjustments, PDFs (Japanese font embedded, no hiring-company name) and
tenant-scoped statement downloads."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import threading

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agencies.models import Placement
from credits.models import LedgerEntry, LedgerTransaction, SettlementRun, Statement
from credits.settlement import previous_period, settle_period
from credits.statements import statements_render_period
from tests.settlement.helpers import (
    assert_ledger_consistent,
    backdate_referral,
    make_placements,
    make_referral,
    rebate_balance,
)

pytestmark = pytest.mark.skipif(
    not (shutil.which("pdftotext") and shutil.which("pdffonts")), reason="needs poppler-utils"
)


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "s.pdf"
    path.write_bytes(data)
    return subprocess.run(  # noqa: S603
        [shutil.which("pdftotext") or "pdftotext", "-layout", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def pdf_fonts(data: bytes, tmp_path) -> str:
    path = tmp_path / "f.pdf"
    path.write_bytes(data)
    return subprocess.run(  # noqa: S603
        [shutil.which("pdffonts") or "pdffonts", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def _start_for_guarantee_ending_in(period: str) -> dt.date:
    """A start date whose 180-day guarantee ends on the 15th of the period."""
    year, month = map(int, period.split("-"))
    return dt.date(year, month, 15) - dt.timedelta(days=180)


def ledger_snapshot() -> tuple:
    return (
        sorted(LedgerTransaction.objects.unscoped().values_list("idempotency_key", flat=True)),
        sorted(LedgerEntry.objects.unscoped().values_list("idempotency_key", "amount")),
        sorted(Statement.objects.unscoped().values_list("pk", "total_jpy", "tax_jpy", "pdf")),
        sorted(Placement.objects.unscoped().values_list("pk", "status", "rebate_jpy")),
    )


def test_done_when_rebate_settled_once_and_statement_pdf_in_japanese_without_hiring_company(
    partnership,
    company,
    agency,
    other_company,
    hr_user,
    other_hr_user,
    api_client_for,
    client_for,
    tmp_path,
    django_capture_on_commit_callbacks,
):
    referral = make_referral(partnership)
    backdate_referral(referral, 400)
    period = previous_period()
    agency_api = api_client_for(agency)
    made = agency_api.post(
        "/api/v1/placements/",
        {
            "referral": referral.pk,
            "hiring_company_name": other_company.name,
            "annual_salary_jpy": 7_777_777,
            "start_date": _start_for_guarantee_ending_in(period).isoformat(),
        },
        format="json",
    )
    assert made.status_code == 201, made.json()
    fee = made.json()["fee_jpy"]
    assert fee == 2_722_221  # floor(7,777,777 × 35 %)
    expected = 272_222  # floor(2,722,221 × 10 %)

    with django_capture_on_commit_callbacks(execute=True):
        call_command("settle_rebates", period=period)
    assert rebate_balance(partnership) == expected
    assert_ledger_consistent()
    tx = LedgerTransaction.objects.unscoped().get(kind="rebate")
    assert tx.idempotency_key == f"rebate:{made.json()['id']}"
    assert tx.period == period
    run = SettlementRun.objects.get(period=period)
    assert (run.status, run.rebates_posted) == ("done", 1)
    before = ledger_snapshot()

    # A second run (command or task) changes nothing.
    call_command("settle_rebates", period=period)
    settle_period(period=period)
    assert ledger_snapshot() == before
    assert rebate_balance(partnership) == expected

    # The company sees its statement over the API, filtered by period, and downloads it.
    hr_api = api_client_for(company)
    listed = hr_api.get(f"/api/v1/statements/?period={period}").json()
    assert listed["count"] == 1
    row = listed["results"][0]
    assert (row["period"], row["kind"], row["total_jpy"]) == (period, "company", expected)
    assert hr_api.get("/api/v1/statements/?period=2001-01").json()["count"] == 0
    assert hr_api.get("/api/v1/statements/?period=2026-13").status_code == 400
    download = hr_api.get(row["pdf_url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment")
    assert download["X-Content-Type-Options"] == "nosniff"
    pdf = b"".join(download.streaming_content)
    text = pdf_text(pdf, tmp_path)
    assert f"{expected:,}円" in text
    assert "還元明細書" in text
    assert "R-" + f"{referral.pk:06d}" in text
    assert f"{expected // 10:,}円" in text  # consumption tax 10 %
    assert "T1234567890123" in text  # issuer's registration number
    assert other_company.name not in text
    fonts = pdf_fonts(pdf, tmp_path)
    embedded = [line for line in fonts.splitlines()[2:] if line.split()[-5] == "yes"]
    assert embedded, fonts
    assert any("CID" in line for line in embedded), fonts

    # Another company cannot list or download it (404), nor can the agency download it.
    stranger = api_client_for(other_company)
    assert stranger.get("/api/v1/statements/").json()["count"] == 0
    assert stranger.get(row["pdf_url"]).status_code == 404
    statement_id = row["id"]
    assert api_client_for(agency).get(f"/api/v1/statements/{statement_id}/pdf/").status_code == 404

    # The agency's statement shows what it owes, and it may name the hiring company.
    agency_rows = agency_api.get("/api/v1/statements/").json()["results"]
    assert [(r["kind"], r["total_jpy"]) for r in agency_rows] == [("agency", expected)]
    agency_pdf = b"".join(agency_api.get(agency_rows[0]["pdf_url"]).streaming_content)
    assert f"{expected:,}円" in pdf_text(agency_pdf, tmp_path)

    # Both portals list and serve the PDFs; each organisation was told once by email.
    browser = client_for(hr_user)
    page = browser.get("/app/statements/")
    assert page.status_code == 200
    assert f"/app/statements/{statement_id}/pdf/" in page.content.decode()
    assert browser.get(f"/app/statements/{statement_id}/pdf/").status_code == 200
    assert client_for(other_hr_user).get(f"/app/statements/{statement_id}/pdf/").status_code == 404
    recipients = sorted(addr for m in mail.outbox for addr in m.to)
    assert hr_user.email in recipients
    assert agency.contact_email in recipients
    assert len(mail.outbox) == 2
    with django_capture_on_commit_callbacks(execute=True):
        statements_render_period(period=period)
    assert len(mail.outbox) == 2
    assert "明細書" in mail.outbox[0].subject


def test_placement_at_the_referring_company_itself_earns_no_rebate(partnership, company):
    period = previous_period()
    ends = dt.date.fromisoformat(f"{period}-10")
    make_placements(
        partnership, 3, hiring_company=company, fee_jpy=2_000_000, guarantee_ends_on=ends
    )
    run = settle_period(period=period)
    assert run.rebates_posted == 0
    assert not LedgerTransaction.objects.unscoped().exists()
    assert set(Placement.objects.unscoped().values_list("status", flat=True)) == {"settled"}


def test_placements_whose_guarantee_ended_by_the_period_end_are_settled_later_ones_wait(
    partnership, other_company
):
    period = previous_period()
    first = dt.date.fromisoformat(f"{period}-01")
    inside = make_placements(
        partnership, 2, hiring_company=other_company, fee_jpy=1_000_001, guarantee_ends_on=first
    )
    # Reported late: its guarantee ended before the period and no settlement took it yet.
    late = make_placements(
        partnership,
        1,
        hiring_company=other_company,
        fee_jpy=1_000_000,
        guarantee_ends_on=first - dt.timedelta(days=40),
    )
    (waiting,) = make_placements(
        partnership,
        1,
        hiring_company=other_company,
        fee_jpy=1_000_000,
        guarantee_ends_on=first + dt.timedelta(days=40),
    )
    settle_period(period=period)
    keys = set(LedgerTransaction.objects.unscoped().values_list("idempotency_key", flat=True))
    assert keys == {f"rebate:{p.pk}" for p in inside + late}
    assert rebate_balance(partnership) == 2 * 100_000 + 100_000  # floor(1,000,001 × 10 %) …
    waiting.refresh_from_db()
    assert (waiting.status, waiting.rebate_period) == ("active", "")
    assert set(
        Placement.objects.unscoped().exclude(pk=waiting.pk).values_list("rebate_period", flat=True)
    ) == {period}


def test_the_orm_path_writes_the_same_ledger_rows_as_the_sql_path(
    partnership, other_company, monkeypatch
):
    """The embedded SQLite demo posts through the ORM; prove both paths agree on PostgreSQL."""
    from django.db import connection as conn

    from credits import settlement

    period = previous_period()
    ends = dt.date.fromisoformat(f"{period}-09")
    made = make_placements(
        partnership, 5, hiring_company=other_company, fee_jpy=1_234_567, guarantee_ends_on=ends
    )
    monkeypatch.setattr(conn, "vendor", "sqlite")
    settlement.settle_period(period=period, chunk_size=2)
    monkeypatch.undo()
    rows = sorted(
        LedgerEntry.objects.unscoped().values_list(
            "idempotency_key", "account_name", "unit", "amount", "kind", "company_id", "agency_id"
        )
    )
    ids = (partnership.company_id, partnership.agency_id)
    expected = sorted(
        (f"rebate:{p.pk}:{name}", name, "jpy", amount, "rebate", *ids)
        for p in made
        for name, amount in (("rebate_jpy", 123_456), ("rebate_owed", -123_456))
    )
    assert rows == expected
    assert rebate_balance(partnership) == 5 * 123_456
    assert set(Placement.objects.unscoped().values_list("rebate_jpy", "status")) == {
        (123_456, "settled")
    }
    assert_ledger_consistent()


def test_refund_after_settlement_posts_a_negative_adjustment_in_the_next_settlement(
    partnership, other_company, agency, api_client_for
):
    today = timezone.localdate()
    first_of_month = today.replace(day=1)
    prev_first = (first_of_month - dt.timedelta(days=1)).replace(day=1)
    older = (prev_first - dt.timedelta(days=1)).strftime("%Y-%m")  # two months ago
    ends = dt.date.fromisoformat(f"{older}-20")
    (placement,) = make_placements(
        partnership, 1, hiring_company=other_company, fee_jpy=2_000_000, guarantee_ends_on=ends
    )
    settle_period(period=older)
    assert rebate_balance(partnership) == 200_000

    # The early leave (inside the guarantee) is reported only after that settlement.
    left_on = placement.start_date + dt.timedelta(days=100)  # 10 % tier: refund 200,000
    r = api_client_for(agency).post(
        f"/api/v1/placements/{placement.pk}/early-leave/",
        {"left_on": left_on.isoformat()},
        format="json",
    )
    assert r.status_code == 200, r.json()
    assert r.json()["refund_jpy"] == 200_000
    assert rebate_balance(partnership) == 200_000  # nothing moves until the next settlement

    nxt = previous_period()
    run = settle_period(period=nxt)
    assert run.adjustments_posted == 1
    adj = LedgerTransaction.objects.unscoped().get(kind="refund_adjust")
    assert (adj.idempotency_key, adj.period) == (f"refund_adjust:{placement.pk}", nxt)
    assert rebate_balance(partnership) == 180_000  # floor(1,800,000 × 10 %)
    assert_ledger_consistent()
    statements_render_period(period=nxt)
    company_statement = Statement.objects.unscoped().get(period=nxt, kind="company")
    assert company_statement.total_jpy == -20_000
    assert company_statement.tax_jpy == -2_000
    settle_period(period=nxt)
    assert LedgerTransaction.objects.unscoped().filter(kind="refund_adjust").count() == 1


@pytest.mark.parametrize("bad", ["2026-13", "202610", "26-10", "2026-1", "abc", "", "1999-12"])
def test_settle_rebates_refuses_a_malformed_period_and_writes_nothing(db, bad):
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("settle_rebates", period=bad)
    assert not SettlementRun.objects.exists()


def test_settlement_query_count_does_not_grow_with_placements(agency, other_company):
    from tests.factories import CompanyFactory, PartnershipFactory

    period = previous_period()
    ends = dt.date.fromisoformat(f"{period}-28")
    partnerships = [PartnershipFactory(company=CompanyFactory(), agency=agency) for _ in range(5)]
    for p in partnerships:
        make_placements(
            p, 60, hiring_company=other_company, fee_jpy=1_234_567, guarantee_ends_on=ends
        )
    with CaptureQueriesContext(connection) as queries:
        run = settle_period(period=period, chunk_size=1000)
    assert run.rebates_posted == 300
    assert len(queries) < 40, len(queries)
    for p in partnerships:
        assert rebate_balance(p) == 60 * 123_456
    assert_ledger_consistent()


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_of_a_period_settle_every_placement_once(partnership, other_company):
    period = previous_period()
    ends = dt.date.fromisoformat(f"{period}-05")
    placements = make_placements(
        partnership, 120, hiring_company=other_company, fee_jpy=1_000_000, guarantee_ends_on=ends
    )
    errors: list[BaseException] = []

    def run() -> None:
        try:
            settle_period(period=period, chunk_size=7)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    keys = list(LedgerTransaction.objects.unscoped().values_list("idempotency_key", flat=True))
    assert sorted(keys) == sorted(f"rebate:{p.pk}" for p in placements)
    assert rebate_balance(partnership) == 120 * 100_000
    assert SettlementRun.objects.get(period=period).rebates_posted == 120
    assert_ledger_consistent()


def test_partner_portal_lists_agency_statements(
    partnership, other_company, agency, recruiter, client_for, other_recruiter
):
    period = previous_period()
    ends = dt.date.fromisoformat(f"{period}-12")
    make_placements(
        partnership, 1, hiring_company=other_company, fee_jpy=1_000_000, guarantee_ends_on=ends
    )
    call_command("settle_rebates", period=period)
    statement = Statement.objects.unscoped().get(kind="agency")
    browser = client_for(recruiter)
    page = browser.get("/partner/statements/")
    assert page.status_code == 200
    assert "100,000円" in page.content.decode()
    pdf = browser.get(f"/partner/statements/{statement.pk}/pdf/")
    assert pdf.status_code == 200
    assert pdf["Content-Disposition"].startswith("attachment")
    browser.logout()
    assert (
        client_for(other_recruiter).get(f"/partner/statements/{statement.pk}/pdf/").status_code
        == 404
    )


def test_previous_period_is_the_month_before_in_tokyo():
    assert previous_period(dt.date(2026, 1, 1)) == "2025-12"
    assert previous_period(dt.date(2026, 3, 31)) == "2026-02"


def test_a_second_beat_finds_the_redis_lock_taken_and_does_nothing(
    partnership, other_company, settings
):
    import redis

    from credits.tasks import settle_period_task, settle_previous_month_task

    if not settings.REDIS_URL:
        pytest.skip("needs Redis (always set in CI)")
    period = previous_period()
    make_placements(
        partnership,
        2,
        hiring_company=other_company,
        fee_jpy=1_000_000,
        guarantee_ends_on=dt.date.fromisoformat(f"{period}-03"),
    )
    client = redis.Redis.from_url(settings.REDIS_URL)
    held = client.lock(f"careerrelay:settlement:{period}", timeout=30)
    assert held.acquire(blocking=False)
    try:
        assert settle_previous_month_task.apply().get() == "busy"
        assert settle_period_task.apply(kwargs={"period": period}).get() == "busy"
        assert not SettlementRun.objects.filter(period=period).exists()
        assert not LedgerTransaction.objects.unscoped().exists()
    finally:
        held.release()
    assert settle_previous_month_task.apply().get() == "done"
    assert LedgerTransaction.objects.unscoped().filter(kind="rebate").count() == 2
    assert settle_previous_month_task.apply().get() == "done"
    assert LedgerTransaction.objects.unscoped().filter(kind="rebate").count() == 2
    assert not client.exists(f"careerrelay:settlement:{period}")


def test_settlement_task_refuses_a_malformed_period(db):
    from careerrelay.core.errors import ApplicationError
    from credits.tasks import settle_period_task

    with pytest.raises(ApplicationError):
        settle_period_task.apply(kwargs={"period": "2026/10"}).get()
    assert not SettlementRun.objects.exists()


def test_a_rebate_already_posted_under_its_key_is_never_posted_again(partnership, other_company):
    from credits.services import ledger_post

    period = previous_period()
    first, second = make_placements(
        partnership,
        2,
        hiring_company=other_company,
        fee_jpy=1_000_000,
        guarantee_ends_on=dt.date.fromisoformat(f"{period}-07"),
    )
    ledger_post(
        partnership=partnership,
        kind="rebate",
        idempotency_key=f"rebate:{first.pk}",
        legs=[("rebate_jpy", 100_000), ("rebate_owed", -100_000)],
        placement=first,
        period=period,
    )
    settle_period(period=period)
    keys = sorted(LedgerTransaction.objects.unscoped().values_list("idempotency_key", flat=True))
    assert keys == sorted([f"rebate:{first.pk}", f"rebate:{second.pk}"])
    assert rebate_balance(partnership) == 200_000
    assert_ledger_consistent()


def test_an_agency_with_many_placements_gets_one_owed_line_per_company(agency, other_company):
    from tests.factories import CompanyFactory, PartnershipFactory

    period = previous_period()
    ends = dt.date.fromisoformat(f"{period}-11")
    partnerships = [PartnershipFactory(company=CompanyFactory(), agency=agency) for _ in range(2)]
    for p, n in zip(partnerships, (150, 60), strict=True):
        make_placements(
            p, n, hiring_company=other_company, fee_jpy=1_000_000, guarantee_ends_on=ends
        )
    settle_period(period=period)
    statements_render_period(period=period)
    statement = Statement.objects.unscoped().get(kind="agency")
    owed = sorted(
        (line["company_id"], line["count"], line["amount_jpy"]) for line in statement.lines
    )
    assert owed == sorted(
        [
            (partnerships[0].company_id, 150, 150 * 100_000),
            (partnerships[1].company_id, 60, 60 * 100_000),
        ]
    )
    assert statement.total_jpy == 210 * 100_000
    company_statement = Statement.objects.unscoped().get(company=partnerships[0].company)
    assert len(company_statement.lines) == 150  # companies keep one line per referral
    assert statement.pdf


def test_duplicate_referrals_free_hires_and_unreferred_placements_earn_no_rebate(
    partnership, other_company
):
    from referrals.models import Referral

    period = previous_period()
    ends = dt.date.fromisoformat(f"{period}-16")
    dup, free, plain, earning = make_placements(
        partnership, 4, hiring_company=other_company, fee_jpy=1_000_000, guarantee_ends_on=ends
    )
    Referral.all_objects.filter(pk=dup.referral_id).update(status="duplicate")
    Placement.all_objects.filter(pk=free.pk).update(fee_jpy=0, waived_fee_jpy=1_000_000)
    Placement.all_objects.filter(pk=plain.pk).update(referral=None, company=None)
    run = settle_period(period=period)
    assert run.rebates_posted == 1
    keys = list(LedgerTransaction.objects.unscoped().values_list("idempotency_key", flat=True))
    assert keys == [f"rebate:{earning.pk}"]
    assert set(Placement.objects.unscoped().values_list("rebate_period", flat=True)) == {period}


def test_the_current_month_cannot_be_settled_yet(partnership, other_company):
    this_month = timezone.localdate().strftime("%Y-%m")
    make_placements(
        partnership,
        1,
        hiring_company=other_company,
        fee_jpy=1_000_000,
        guarantee_ends_on=timezone.localdate() - dt.timedelta(days=1),
    )
    with pytest.raises(CommandError, match="終了していない月"):
        call_command("settle_rebates", period=this_month)
    assert not SettlementRun.objects.exists()
    assert not LedgerTransaction.objects.unscoped().exists()
