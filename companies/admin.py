"""Operator admin for companies, their members and partnerships. Partnerships are created and
ended through the services, so the business rules and the audit trail are the same as in the
product."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from careerrelay.core.admin import save_member_formset_with_audit
from careerrelay.core.audit import audit_record
from careerrelay.core.errors import ApplicationError
from companies.models import Company, CompanyMember, Partnership, PartnershipStatus
from companies.selectors import agency_is_verified
from companies.services import partnership_create_by_operator, partnership_end


class CompanyMemberInline(admin.TabularInline):
    model = CompanyMember
    extra = 0
    autocomplete_fields = ("user",)
    fields = ("user", "role", "created_at")
    readonly_fields = ("created_at",)


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "invoice_registration_number", "created_at")
    search_fields = ("name", "slug")
    inlines = (CompanyMemberInline,)
    readonly_fields = ("created_at",)

    def save_model(self, request: HttpRequest, obj: Company, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,
            tenant=obj,
            action="company.changed_by_operator" if change else "company.created_by_operator",
            target=obj,
            data={"fields": sorted(form.changed_data)},
        )

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is CompanyMember:
            save_member_formset_with_audit(request, formset, form.instance)
        else:
            super().save_formset(request, form, formset, change)


class PartnershipAdminForm(forms.ModelForm):
    class Meta:
        model = Partnership
        fields = ("company", "agency", "referrals_per_free_hire", "rebate_rate", "payout_mode")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        agency, company = data.get("agency"), data.get("company")
        if self.instance.pk is not None or agency is None or company is None:
            return data
        if not agency_is_verified(agency):
            raise ValidationError(
                {"agency": _("許可番号が確認済みで有効期限内の紹介会社とだけ提携できます。")}
            )
        if (
            Partnership.objects.for_tenant(company)
            .filter(agency=agency)
            .exclude(status=PartnershipStatus.ENDED)
            .exists()
        ):
            raise ValidationError({"agency": _("この組み合わせはすでに提携中、または提案中です。")})
        return data


@admin.register(Partnership)
class PartnershipAdmin(admin.ModelAdmin):
    form = PartnershipAdminForm
    list_display = (
        "company",
        "agency",
        "status",
        "referrals_per_free_hire",
        "rebate_rate",
        "payout_mode",
        "activated_at",
        "ended_at",
    )
    list_filter = ("status", "payout_mode")
    search_fields = ("company__name", "company__slug", "agency__name", "agency__slug")
    list_select_related = ("company", "agency")
    autocomplete_fields = ("company", "agency")
    actions = ("end_partnerships",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        base = ("status", "proposed_by", "created_at", "activated_at", "ended_at")
        return ("company", "agency", *base) if obj is not None else ()

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = ["company", "agency", "referrals_per_free_hire", "rebate_rate", "payout_mode"]
        if obj is not None:
            fields += ["status", "proposed_by", "created_at", "activated_at", "ended_at"]
        return fields

    def save_model(self, request: HttpRequest, obj: Partnership, form: Any, change: bool) -> None:
        if not change:
            try:
                created = partnership_create_by_operator(
                    company=obj.company,
                    agency=obj.agency,
                    actor=request.user,
                    referrals_per_free_hire=obj.referrals_per_free_hire,
                    rebate_rate=obj.rebate_rate,
                    payout_mode=obj.payout_mode,
                )
            except ApplicationError as exc:
                # The form validated this; a concurrent change can still refuse it.
                messages.error(request, exc.message)
                return
            obj.pk = created.pk
            obj.refresh_from_db()
            return
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            data = {name: str(form.cleaned_data.get(name)) for name in form.changed_data}
            for tenant in (obj.company, obj.agency):
                audit_record(
                    actor=request.user,
                    tenant=tenant,
                    action="partnership.changed_by_operator",
                    target=obj,
                    data=data,
                )

    @admin.action(description=_("選択した提携を終了する"))
    def end_partnerships(self, request: HttpRequest, queryset: QuerySet[Partnership]) -> None:
        for partnership in queryset.exclude(status=PartnershipStatus.ENDED):
            partnership_end(partnership=partnership, actor=request.user)
        messages.success(request, _("提携を終了しました。"))
