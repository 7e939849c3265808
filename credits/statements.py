"""Monthly statements (明細書) as PDF: one per company (rebates and free hires earned and used,
by referral number, never naming the hiring company) and one per agency (rebates owed, fees
waived for free hires). Rendered with weasyprint, a Japanese font embedded, amounts
tax-exclusive with the 10 % consumption tax and the qualified-invoice fields (適格請求書).

Rendering is a separate step after the settlement's postings; it is idempotent (a statement
that has its PDF is left alone) and each finished statement is announced once by email.
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import re
import secrets
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from agencies.models import Agency
from careerrelay.core.models import Notification
from careerrelay.core.money import consumption_tax
from careerrelay.core.templatetags.money import format_yen as yen
from companies.models import Company
from credits.models import (
    AccountName,
    EntryKind,
    LedgerEntry,
    SettlementRun,
    Statement,
    StatementKind,
)
from credits.settlement import period_bounds
from credits.statement_fonts import FAMILY, cell_width, installed_face, statement_font_file

logger = logging.getLogger(__name__)

REGISTRATION_NUMBER_RE = re.compile(r"^T\d{13}$")
# Above this many owed lines, an agency statement lists one line per company and kind.
AGENCY_DETAIL_LINES = 200
# Line items are laid out on a grid of half-width cells (credits.statement_fonts): this many
# cells per line: at 9.5 pt they fill most of the A4 text width (statement_pdf.css).
LINE_CELLS = 102
STYLESHEET = Path(__file__).resolve().parent / "templates" / "credits" / "statement_pdf.css"


# --- what a statement says ------------------------------------------------------------------


def referral_number(referral_id: int | None) -> str:
    return f"R-{referral_id:06d}" if referral_id else "—"


def registration_number(value: str) -> str:
    value = (value or "").strip().upper()
    return value if REGISTRATION_NUMBER_RE.match(value) else ""


@dataclass
class StatementData:
    kind: str
    org_id: int
    lines: list[dict[str, Any]] = field(default_factory=list)

    @property
    def total_jpy(self) -> int:
        return sum(line["amount_jpy"] for line in self.lines if line["taxable"])


def _tax(amount: int) -> int:
    """Consumption tax on a tax-exclusive amount; a negative total gets the negative tax."""
    rate = settings.CONSUMPTION_TAX_PERCENT
    return consumption_tax(amount, rate) if amount >= 0 else -consumption_tax(-amount, rate)


def _month_range(period: str) -> tuple[dt.datetime, dt.datetime]:
    start, end = period_bounds(period)
    tz = timezone.get_default_timezone()
    begin = timezone.make_aware(dt.datetime.combine(start, dt.time.min), tz)
    finish = timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min), tz)
    return begin, finish


def statement_data_for_period(period: str) -> dict[tuple[str, int], StatementData]:
    """Every statement of the period, keyed by (kind, organisation id), from a few set-based
    queries over the ledger. Company lines carry referral numbers and agency names only."""
    data: dict[tuple[str, int], StatementData] = {}

    def bucket(kind: str, org_id: int) -> StatementData:
        key = (kind, org_id)
        if key not in data:
            data[key] = StatementData(kind=kind, org_id=org_id)
        return data[key]

    rebates = (
        LedgerEntry.objects.unscoped()
        .filter(
            account_name=AccountName.REBATE_JPY,
            transaction__period=period,
            kind__in=[EntryKind.REBATE, EntryKind.REFUND_ADJUST],
        )
        .order_by("company_id", "transaction__placement__referral_id", "pk")
        .values_list(
            "company_id",
            "agency_id",
            "kind",
            "amount",
            "transaction__placement_id",
            "transaction__placement__referral_id",
            "transaction__placement__hiring_company_name",
        )
    )
    for company_id, agency_id, kind, amount, placement_id, referral_id, hiring in rebates:
        label = _("手数料還元") if kind == EntryKind.REBATE else _("返金による還元の調整")
        bucket(StatementKind.COMPANY, company_id).lines.append(
            {
                "section": "rebate",
                "label": label,
                "referral": referral_number(referral_id),
                "month": period,
                "agency_id": agency_id,
                "amount_jpy": int(amount),
                "taxable": True,
            }
        )
        bucket(StatementKind.AGENCY, agency_id).lines.append(
            {
                "section": "owed",
                "label": label,
                "referral": referral_number(referral_id),
                "month": period,
                "company_id": company_id,
                "placement": placement_id,
                "hiring_company": hiring or "",
                "amount_jpy": int(amount),
                "taxable": True,
            }
        )

    begin, finish = _month_range(period)
    free_hires = (
        LedgerEntry.objects.unscoped()
        .filter(
            account_name=AccountName.FREE_HIRES,
            created_at__gte=begin,
            created_at__lt=finish,
            kind__in=[EntryKind.CONVERT, EntryKind.REDEEM, EntryKind.RESTORE],
        )
        .order_by("created_at", "pk")
        .values_list(
            "company_id",
            "agency_id",
            "kind",
            "amount",
            "created_at",
            "transaction__referral_id",
            "transaction__placement_id",
            "transaction__placement__referral_id",
            "transaction__placement__waived_fee_jpy",
            "transaction__placement__hiring_company_name",
        )
    )
    labels = {
        EntryKind.CONVERT: _("無料採用枠の獲得"),
        EntryKind.REDEEM: _("無料採用枠の利用"),
        EntryKind.RESTORE: _("早期退職による無料採用枠の復元"),
    }
    for row in free_hires:
        company_id, agency_id, kind, amount, created, ref_id, placement_id, p_ref, waived, name = (
            row
        )
        month = timezone.localtime(created).strftime("%Y-%m")
        bucket(StatementKind.COMPANY, company_id).lines.append(
            {
                "section": "free_hire",
                "label": labels[kind],
                "referral": referral_number(p_ref or ref_id),
                "month": month,
                "agency_id": agency_id,
                "count": int(amount),
                "amount_jpy": 0,
                "taxable": False,
            }
        )
        if kind != EntryKind.CONVERT:
            waived_jpy = int(waived or 0) if kind == EntryKind.REDEEM else -int(waived or 0)
            bucket(StatementKind.AGENCY, agency_id).lines.append(
                {
                    "section": "waived",
                    "label": labels[kind],
                    "referral": referral_number(p_ref),
                    "month": month,
                    "company_id": company_id,
                    "placement": placement_id,
                    "hiring_company": name or "",
                    "count": -int(amount),
                    "amount_jpy": waived_jpy,
                    "taxable": False,
                }
            )
    for item in data.values():
        if item.kind == StatementKind.AGENCY:
            item.lines = _summarised_owed(item.lines)
    return data


def _summarised_owed(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """An agency with very many placements in a month gets one owed line per referring
    company and kind (count and sum) instead of one per placement, so its statement stays a
    few pages; the per-placement detail is in the portal and the API."""
    owed = [line for line in lines if line["section"] == "owed"]
    if len(owed) <= AGENCY_DETAIL_LINES:
        return lines
    groups: dict[tuple[int, str], dict[str, Any]] = {}
    for line in owed:
        key = (line["company_id"], line["label"])
        group = groups.setdefault(
            key,
            {
                **line,
                "referral": "",
                "placement": None,
                "hiring_company": "",
                "amount_jpy": 0,
                "count": 0,
            },
        )
        group["amount_jpy"] += line["amount_jpy"]
        group["count"] += 1
    for group in groups.values():
        group["referral"] = _("%(n)d件") % {"n": group["count"]}
    return list(groups.values()) + [line for line in lines if line["section"] != "owed"]


# --- rendering ------------------------------------------------------------------------------

# A column of the line-item grid: (heading, width in cells or 0 for the rest, right-aligned).
Column = tuple[str, int, bool]


def _fit(text: str, width: int) -> tuple[str, int]:
    """`text` cut to at most `width` cells (an ellipsis marks the cut), and its width."""
    text = " ".join(str(text).split()).replace("—", "―")  # the em dash is not cell-wide
    used = cell_width(text)
    if used > width:
        ellipsis = cell_width("…")
        while text and used + ellipsis > width:
            used -= cell_width(text[-1])
            text = text[:-1]
        text, used = text + "…", used + ellipsis
    return text, used


def _grid_line(columns: list[Column], values: list[str]) -> str:
    """One line of the grid: left columns padded on the right, right columns on the left,
    one blank cell between columns; the flexible column (width 0) takes what is left."""
    fixed = sum(width for _heading, width, _right in columns)
    out = []
    for (_heading, width, right), value in zip(columns, values, strict=True):
        width = width or LINE_CELLS - fixed
        text, used = _fit(value, width - 1)
        out.append(" " * (width - used) + text if right else text + " " * (width - used))
    return "".join(out).rstrip()


def _grid(columns: list[Column], rows: list[list[str]]) -> dict[str, str]:
    return {
        "head": _grid_line(columns, [heading for heading, _width, _right in columns]),
        "rows": "\n".join(_grid_line(columns, row) for row in rows),
    }


def _section_grids(is_company: bool, rebates: list[dict], free_hires: list[dict]) -> dict:
    """The section's two lists as grid text: rebates (or owed rebates) and free hires."""
    ref, month = (_("紹介番号"), 10, False), (_("対象月"), 9, False)
    if is_company:
        rebate_columns = [ref, month, (_("内容"), 0, False), (_("金額（税抜）"), 16, True)]
        rebate_rows = [
            [r["referral"], r["month"], r["label"], yen(r["amount_jpy"])] for r in rebates
        ]
        free_columns = [ref, month, (_("内容"), 0, False), (_("件数"), 8, True)]
        free_rows = [[r["referral"], r["month"], r["label"], str(r["count"])] for r in free_hires]
    else:
        hiring = (_("入社先"), 0, False)
        rebate_columns = [ref, month, (_("内容"), 24, False), hiring, (_("金額（税抜）"), 16, True)]
        rebate_rows = [
            [r["referral"], r["month"], r["label"], r["hiring_company"], yen(r["amount_jpy"])]
            for r in rebates
        ]
        free_columns = [
            ref,
            month,
            (_("内容"), 32, False),
            hiring,
            (_("件数"), 6, True),
            (_("免除額"), 14, True),
        ]
        free_rows = [
            [
                r["referral"],
                r["month"],
                r["label"],
                r["hiring_company"],
                str(r["count"]),
                yen(r["amount_jpy"]),
            ]
            for r in free_hires
        ]
    subtotal = _grid_line(
        [(_("小計（10%対象・税抜）"), 0, False), ("", 24, True)],
        [_("小計（10%対象・税抜）"), yen(sum(r["amount_jpy"] for r in rebates))],
    )
    return {
        "rebate_grid": {**_grid(rebate_columns, rebate_rows), "subtotal": subtotal},
        "free_hire_grid": _grid(free_columns, free_rows),
    }


def _pdf_context(statement: Statement, org: Company | Agency) -> dict[str, Any]:
    lines = statement.lines
    is_company = statement.kind == StatementKind.COMPANY
    agency_ids = {line["agency_id"] for line in lines if "agency_id" in line}
    company_ids = {line["company_id"] for line in lines if "company_id" in line}
    agencies = {a.pk: a for a in Agency.objects.filter(pk__in=agency_ids)}
    companies = {c.pk: c for c in Company.objects.filter(pk__in=company_ids)}
    groups: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for line in lines:
        other = line.get("agency_id") or line.get("company_id")
        groups[other].append(line)
    sections = []
    for other_id, rows in sorted(groups.items()):
        other = agencies.get(other_id) if "agency_id" in rows[0] else companies.get(other_id)
        rebate_rows = [r for r in rows if r["section"] in ("rebate", "owed")]
        free_hire_rows = [r for r in rows if r["section"] in ("free_hire", "waived")]
        sections.append(
            {
                "name": other.name if other else "",
                "registration_number": registration_number(
                    getattr(other, "invoice_registration_number", "")
                ),
                "rebates": rebate_rows,
                "free_hires": free_hire_rows,
                "subtotal": sum(r["amount_jpy"] for r in rebate_rows),
                **_section_grids(is_company, rebate_rows, free_hire_rows),
            }
        )
    total = int(statement.total_jpy)
    return {
        "statement": statement,
        "org": org,
        "org_registration_number": registration_number(org.invoice_registration_number),
        "is_company": is_company,
        "sections": sections,
        "total": total,
        "tax": int(statement.tax_jpy),
        "total_with_tax": total + int(statement.tax_jpy),
        "tax_rate": settings.CONSUMPTION_TAX_PERCENT,
        "issuer_name": settings.PLATFORM_INVOICE_NAME,
        "issuer_registration_number": settings.PLATFORM_INVOICE_REGISTRATION_NUMBER,
    }


_fonts = threading.local()


def _stylesheet() -> tuple[Any, Any]:
    """The statement's stylesheet (with its @font-face) and FontConfiguration, parsed once per
    thread: the font and the CSS are the same for every statement."""
    cached = getattr(_fonts, "value", None)
    if cached is None:
        import weasyprint
        from weasyprint.text.fonts import FontConfiguration

        font_config = FontConfiguration()
        built = statement_font_file()
        if built:
            url = Path(built).as_uri()
            face = f'@font-face {{ font-family: "CareerRelayJP"; src: url("{url}"); }}'
        else:
            installed_face()  # fails loudly when no Japanese font is installed at all
            face = ""
        css = face + STYLESHEET.read_text(encoding="utf-8").replace("__FAMILY__", FAMILY)
        cached = _fonts.value = (weasyprint.CSS(string=css, font_config=font_config), font_config)
        # Drop it before interpreter teardown, when its __del__ could no longer clean up.
        atexit.register(_fonts.__dict__.clear)
    return cached


def statement_pdf_bytes(statement: Statement) -> bytes:
    """Render the statement's PDF (Japanese, the font embedded as a subset)."""
    import weasyprint

    org = statement.company if statement.kind == StatementKind.COMPANY else statement.agency
    with translation.override("ja"):
        html = render_to_string("credits/statement_pdf.html", _pdf_context(statement, org))
    stylesheet, font_config = _stylesheet()
    return weasyprint.HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf(
        stylesheets=[stylesheet], font_config=font_config
    )


def _upsert_statement(period: str, item: StatementData, issued_on: dt.date) -> Statement:
    is_company = item.kind == StatementKind.COMPANY
    lookup = {"period": period, "kind": item.kind}
    lookup["company_id" if is_company else "agency_id"] = item.org_id
    statement = Statement.objects.unscoped().filter(**lookup).first()
    if statement is None:
        try:
            with transaction.atomic():
                statement = Statement.objects.create(
                    **lookup,
                    total_jpy=item.total_jpy,
                    tax_jpy=_tax(item.total_jpy),
                    lines=item.lines,
                    issued_on=issued_on,
                )
        except IntegrityError:
            statement = Statement.objects.unscoped().get(**lookup)
    return statement


def statement_render(*, statement_id: int) -> Statement:
    """Render one statement's PDF if it has none yet (idempotent).

    Side effects: the PDF file stored on the Statement; after commit, an outbox message that
    emails the organisation once."""
    import credits.tasks  # noqa: F401 - registers the email task for eager (in-process) runs
    from careerrelay.core.outbox import outbox_enqueue

    with transaction.atomic():
        statement = (
            Statement.objects.unscoped()
            .select_for_update(of=("self",))
            .select_related("company", "agency")
            .get(pk=statement_id)
        )
        if statement.pdf:
            return statement
        content = statement_pdf_bytes(statement)
        org = statement.company or statement.agency
        name = f"{statement.period}/{statement.kind}-{org.slug}-{secrets.token_hex(8)}.pdf"
        statement.pdf.save(name, ContentFile(content), save=True)
        outbox_enqueue(
            key=f"statement-mail:{statement.pk}",
            task_name="credits.statement_email",
            kwargs={"statement_id": statement.pk},
        )
    return statement


def statements_render_period(*, period: str) -> int:
    """Create and render the period's statements (after its settlement). Idempotent.

    Side effects: Statement rows and PDFs; the run's `statements_rendered` count; emails (via
    the outbox) for each newly rendered statement. Returns how many statements exist."""
    issued_on = timezone.localdate()
    ids = [
        _upsert_statement(period, item, issued_on).pk
        for _key, item in sorted(statement_data_for_period(period).items())
    ]
    for statement_id in ids:
        statement_render(statement_id=statement_id)
    SettlementRun.objects.filter(period=period).update(statements_rendered=len(ids))
    return len(ids)


# --- notification ---------------------------------------------------------------------------


def statement_email(*, statement_id: int) -> bool:
    """Tell the organisation its statement is ready: an in-app notice and an email to its
    members (and the agency's contact address). Once per statement, keyed by the notice.

    Side effects: a Notification row; one email. Returns False when already announced."""
    statement = (
        Statement.objects.unscoped().select_related("company", "agency").get(pk=statement_id)
    )
    org = statement.company or statement.agency
    path = "/app/statements/" if statement.kind == StatementKind.COMPANY else "/partner/statements/"
    with translation.override("ja"):
        message = _("%(period)s の明細書をご用意しました。") % {"period": statement.period}
        members = org.members.select_related("user").values_list("user__email", flat=True)
        recipients = sorted({e for e in members if e} | {getattr(org, "contact_email", "") or ""})
        recipients = [r for r in recipients if r]
        try:
            with transaction.atomic():
                # The notice is the "sent" marker: a failed send rolls it back for a retry.
                Notification.objects.create(
                    company=statement.company,
                    agency=statement.agency,
                    key=f"statement:{statement.pk}",
                    message=message,
                    url=path,
                )
                if recipients:
                    body = render_to_string(
                        "credits/statement_email.txt",
                        {"org": org, "statement": statement, "url": f"{settings.SITE_URL}{path}"},
                    )
                    send_mail(
                        _("【キャリアリレー】%(period)s の明細書のご案内")
                        % {"period": statement.period},
                        body,
                        settings.DEFAULT_FROM_EMAIL,
                        recipients,
                    )
        except IntegrityError:
            return False
    return True


# --- reads ------------------------------------------------------------------------------------


def statement_list(*, tenant: Company | Agency, period: str = "") -> Any:
    """The organisation's statements, newest period first; `period` ("YYYY-MM") filters."""
    qs = Statement.objects.for_tenant(tenant).filter(kind=tenant.kind).order_by("-period", "id")
    if period:
        period_bounds(period)
        qs = qs.filter(period=period)
    return qs


def statement_get(*, tenant: Company | Agency, pk: Any) -> Statement:
    """One of the organisation's statements; another organisation's answers 404."""
    from django.http import Http404

    try:
        pk = int(pk)
    except (TypeError, ValueError) as exc:
        raise Http404 from exc
    statement = statement_list(tenant=tenant).filter(pk=pk).first()
    if statement is None:
        raise Http404
    return statement


def statement_pdf_response(statement: Statement) -> Any:
    """The stored PDF as a download (attachment, nosniff); 404 while not rendered yet."""
    from django.http import FileResponse, Http404

    if not statement.pdf:
        raise Http404
    org = statement.company or statement.agency
    response = FileResponse(
        statement.pdf.open("rb"),
        as_attachment=True,
        filename=f"careerrelay-statement-{statement.period}-{org.slug}.pdf",
        content_type="application/pdf",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
