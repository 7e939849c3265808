"""Operator admin for the credit ledger, settlement runs and statements: read-only. The ledger is
append-only (corrections are reversing transactions posted by services), so no row can be added,
changed or deleted here. Column labels are given here because the credit models carry no
verbose names of their own."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from careerrelay.core.templatetags.money import format_yen
from credits import statements
from credits.models import (
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    SettlementRun,
    Statement,
    Unit,
)


class _ReadOnly:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _amount(unit: str, amount: int) -> str:
    return format_yen(amount) if unit == Unit.JPY else f"{amount:+d}"


@admin.register(LedgerAccount)
class LedgerAccountAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = ("account", "company", "agency", "unit_label", "balance_label")
    list_filter = ("name", "company", "agency")
    search_fields = ("company__name", "agency__name")
    list_select_related = ("company", "agency")
    fields = ("account", "partnership", "company", "agency", "unit_label", "balance_label")
    readonly_fields = fields

    @admin.display(description=_("勘定"), ordering="name")
    def account(self, obj: LedgerAccount) -> str:
        return obj.get_name_display()

    @admin.display(description=_("単位"))
    def unit_label(self, obj: LedgerAccount) -> str:
        return obj.get_unit_display()

    @admin.display(description=_("残高"), ordering="balance")
    def balance_label(self, obj: LedgerAccount) -> str:
        return format_yen(obj.balance) if obj.unit == Unit.JPY else str(obj.balance)


class LedgerEntryInline(_ReadOnly, admin.TabularInline):
    model = LedgerEntry
    fk_name = "transaction"
    extra = 0
    can_delete = False
    fields = ("account_label", "amount_label", "created_at")
    readonly_fields = fields

    @admin.display(description=_("勘定"))
    def account_label(self, obj: LedgerEntry) -> str:
        return obj.get_account_name_display()

    @admin.display(description=_("金額・数量"))
    def amount_label(self, obj: LedgerEntry) -> str:
        return _amount(obj.unit, obj.amount)


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = ("created_at", "kind_label", "company", "agency", "period", "referral")
    list_filter = ("kind", "company", "agency")
    search_fields = ("idempotency_key", "memo", "company__name", "agency__name")
    list_select_related = ("company", "agency", "referral")
    date_hierarchy = "created_at"
    fields = (
        "kind_label",
        "company",
        "agency",
        "partnership",
        "referral",
        "placement",
        "period",
        "memo",
        "idempotency_key",
        "created_at",
    )
    readonly_fields = fields
    inlines = (LedgerEntryInline,)

    @admin.display(description=_("種類"), ordering="kind")
    def kind_label(self, obj: LedgerTransaction) -> str:
        return obj.get_kind_display()


@admin.register(SettlementRun)
class SettlementRunAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = (
        "period",
        "status",
        "started_at",
        "finished_at",
        "rebates_posted",
        "adjustments_posted",
        "statements_rendered",
    )
    list_filter = ("status",)
    readonly_fields = list_display


@admin.register(Statement)
class StatementAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = ("period", "kind", "organisation", "total_label", "tax_label", "pdf_link")
    list_filter = ("period", "kind")
    search_fields = ("company__name", "agency__name", "period")
    list_select_related = ("company", "agency")
    fields = (
        "period",
        "kind",
        "organisation",
        "total_label",
        "tax_label",
        "issued_on",
        "created_at",
        "pdf_link",
    )
    readonly_fields = fields

    @admin.display(description=_("宛先"))
    def organisation(self, obj: Statement) -> str:
        return str(obj.company or obj.agency)

    @admin.display(description=_("金額（税抜）"), ordering="total_jpy")
    def total_label(self, obj: Statement) -> str:
        return format_yen(obj.total_jpy)

    @admin.display(description=_("消費税"), ordering="tax_jpy")
    def tax_label(self, obj: Statement) -> str:
        return format_yen(obj.tax_jpy)

    @admin.display(description=_("PDF"))
    def pdf_link(self, obj: Statement) -> str:
        if not obj.pdf:
            return str(_("作成中"))
        url = reverse("admin:credits_statement_pdf", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("ダウンロード"))

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<int:pk>/pdf/",
                self.admin_site.admin_view(self.pdf_view),
                name="credits_statement_pdf",
            ),
            *super().get_urls(),
        ]

    def pdf_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        statement = get_object_or_404(Statement.all_objects, pk=pk)
        return statements.statement_pdf_response(statement)
