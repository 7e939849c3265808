"""Operator admin for agencies: licence number (normalised and validated), its expiry and
verification, default fee rate and refund tiers; members with audited changes."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency, AgencyMember
from agencies.validators import (
    validate_invoice_registration_number,
    validate_license_number,
    validate_refund_tiers,
)
from careerrelay.core.admin import save_member_formset_with_audit
from careerrelay.core.audit import audit_record


class RefundTiersField(forms.JSONField):
    """Refund tiers typed as JSON, e.g. [[30, 50], [90, 30], [180, 10]]."""

    def prepare_value(self, value: Any) -> str:
        if isinstance(value, list):
            return json.dumps(value)
        return super().prepare_value(value)


class AgencyAdminForm(forms.ModelForm):
    refund_tiers = RefundTiersField(
        label=_("返金規定"),
        help_text=_(
            "[入社後の日数, 返金率(%)] の組を日数の小さい順に並べます。"
            "例: [[30, 50], [90, 30], [180, 10]]（30日以内50%、90日以内30%、180日以内10%）"
        ),
    )
    verify_license = forms.BooleanField(
        label=_("許可番号を確認済みにする"),
        required=False,
        help_text=_(
            "厚生労働省の人材サービス総合サイトなどで許可番号と有効期限を確認したら"
            "チェックしてください。"
        ),
    )

    class Meta:
        model = Agency
        fields = (
            "name",
            "slug",
            "license_number",
            "license_expires_on",
            "default_fee_rate",
            "refund_tiers",
            "invoice_registration_number",
            "contact_email",
            "address",
            "privacy_policy_url",
        )

    def clean_license_number(self) -> str:
        value = self.cleaned_data.get("license_number", "")
        return validate_license_number(value) if value.strip() else ""

    def clean_invoice_registration_number(self) -> str:
        value = self.cleaned_data.get("invoice_registration_number", "")
        return validate_invoice_registration_number(value) if value.strip() else ""

    def clean_refund_tiers(self) -> list[list[int]]:
        return validate_refund_tiers(self.cleaned_data.get("refund_tiers"))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("verify_license"):
            if not data.get("license_number"):
                raise ValidationError({"verify_license": _("許可番号を入力してください。")})
            expires = data.get("license_expires_on")
            if expires is None or expires < timezone.localdate():
                raise ValidationError(
                    {"license_expires_on": _("有効期限が切れているため確認済みにできません。")}
                )
        return data


class AgencyMemberInline(admin.TabularInline):
    model = AgencyMember
    extra = 0
    autocomplete_fields = ("user",)
    fields = ("user", "role", "created_at")
    readonly_fields = ("created_at",)


class LicenceStatusFilter(admin.SimpleListFilter):
    title = _("許可の状態")
    parameter_name = "licence"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("verified", _("確認済み・有効")),
            ("unverified", _("未確認")),
            ("expired", _("期限切れ")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Agency]) -> QuerySet[Agency]:
        today = timezone.localdate()
        if self.value() == "verified":
            return queryset.filter(license_verified_at__isnull=False, license_expires_on__gte=today)
        if self.value() == "unverified":
            return queryset.filter(license_verified_at__isnull=True)
        if self.value() == "expired":
            return queryset.filter(license_expires_on__lt=today)
        return queryset


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    form = AgencyAdminForm
    list_display = (
        "name",
        "slug",
        "license_number",
        "license_expires_on",
        "license_verified_at",
        "default_fee_rate",
    )
    list_filter = (LicenceStatusFilter,)
    search_fields = ("name", "slug", "license_number")
    readonly_fields = ("license_verified_at", "created_at")
    inlines = (AgencyMemberInline,)
    actions = ("mark_verified",)
    fieldsets = (
        (None, {"fields": ("name", "slug", "contact_email", "address", "privacy_policy_url")}),
        (
            _("有料職業紹介事業の許可"),
            {
                "fields": (
                    "license_number",
                    "license_expires_on",
                    "verify_license",
                    "license_verified_at",
                )
            },
        ),
        (
            _("手数料と返金規定"),
            {"fields": ("default_fee_rate", "refund_tiers", "invoice_registration_number")},
        ),
        (_("記録"), {"fields": ("created_at",)}),
    )

    @transaction.atomic
    def save_model(self, request: HttpRequest, obj: Agency, form: Any, change: bool) -> None:
        licence_changed = "license_number" in form.changed_data
        if form.cleaned_data.get("verify_license"):
            obj.license_verified_at = timezone.now()
        elif licence_changed:
            # A new licence number has not been checked yet.
            obj.license_verified_at = None
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,
            tenant=obj,
            action="agency.changed_by_operator" if change else "agency.created_by_operator",
            target=obj,
            data={
                "fields": sorted(form.changed_data),
                "license_number": obj.license_number,
                "license_expires_on": str(obj.license_expires_on or ""),
            },
        )
        if form.cleaned_data.get("verify_license"):
            audit_record(
                actor=request.user,
                tenant=obj,
                action="agency.license_verified",
                target=obj,
                data={"license_number": obj.license_number},
            )

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is AgencyMember:
            save_member_formset_with_audit(request, formset, form.instance)
        else:
            super().save_formset(request, form, formset, change)

    @admin.action(description=_("許可番号を確認済みにする"))
    def mark_verified(self, request: HttpRequest, queryset: QuerySet[Agency]) -> None:
        today = timezone.localdate()
        done, skipped = 0, 0
        for agency in queryset:
            try:
                validate_license_number(agency.license_number)
            except ValidationError:
                skipped += 1
                continue
            if agency.license_expires_on is None or agency.license_expires_on < today:
                skipped += 1
                continue
            with transaction.atomic():
                agency.license_verified_at = timezone.now()
                agency.save(update_fields=["license_verified_at"])
                audit_record(
                    actor=request.user,
                    tenant=agency,
                    action="agency.license_verified",
                    target=agency,
                    data={"license_number": agency.license_number},
                )
            done += 1
        messages.info(
            request,
            _("%(done)d社を確認済みにしました（対象外: %(skipped)d社）。")
            % {"done": done, "skipped": skipped},
        )
