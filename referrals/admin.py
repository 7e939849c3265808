"""Operator admin for links, clicks, referrals, candidates and consent receipts. Candidate
contact data stays encrypted here: operators see hashes and states, not names or emails. Links
are deactivated through the service (audit row, landing cache dropped)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from referrals import services
from referrals.models import Candidate, Click, Consent, LinkBatch, Referral, ReferralLink


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by the product (append-only records, PII): view, never edit here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ReferralLink)
class ReferralLinkAdmin(ReadOnlyAdmin):
    list_display = ("label", "company", "agency", "kind", "is_active", "expires_at", "created_at")
    list_filter = ("kind", "is_active", "company", "agency")
    search_fields = ("label", "token", "company__name", "agency__name")
    list_select_related = ("company", "agency")
    exclude = ("candidate_name_enc", "candidate_email_enc")
    actions = ("deactivate",)

    @admin.action(description=_("選択したリンクを無効にする"))
    def deactivate(self, request: HttpRequest, queryset: QuerySet[ReferralLink]) -> None:
        for link in queryset:
            services.link_update(link=link, is_active=False, actor=request.user)
        messages.success(request, _("リンクを無効にしました。"))


@admin.register(Click)
class ClickAdmin(ReadOnlyAdmin):
    list_display = ("uid", "company", "link", "clicked_at", "classification", "is_unique")
    list_filter = ("classification", "is_unique", "company")
    list_select_related = ("company", "link")
    date_hierarchy = "clicked_at"
    show_full_result_count = False


@admin.register(Candidate)
class CandidateAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "agency", "email_verified_at", "consent_withdrawn_at", "erased_at")
    list_filter = ("agency",)
    exclude = ("name_enc", "email_enc", "phone_enc")
    list_select_related = ("agency",)


@admin.register(Referral)
class ReferralAdmin(ReadOnlyAdmin):
    list_display = ("number", "company", "agency", "status", "stage", "created_at", "hold_reason")
    list_filter = ("status", "stage", "company", "agency")
    search_fields = ("id",)
    list_select_related = ("company", "agency")
    date_hierarchy = "created_at"


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdmin):
    list_display = (
        "__str__",
        "company",
        "agency_name",
        "agency_license_number",
        "privacy_version",
        "consented_at",
        "retain_until",
        "withdrawn_at",
    )
    list_filter = ("agency", "company")
    list_select_related = ("company",)


@admin.register(LinkBatch)
class LinkBatchAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "company", "label", "created_count", "existing_count", "created_at")
    list_select_related = ("company",)
