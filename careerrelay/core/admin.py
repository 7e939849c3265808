"""Operator admin for cross-cutting rows. The audit log is read-only and exportable as CSV."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterable, Iterator
from typing import Any

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from careerrelay.core.apikeys import api_key_revoke
from careerrelay.core.models import ApiKey, AuditEvent, Invitation, Notification, OutboxMessage

admin.site.site_header = _("キャリアリレー 運営管理")
admin.site.site_title = _("キャリアリレー 運営管理")
admin.site.index_title = _("運営メニュー")

CSV_COLUMNS = [
    "created_at_utc",
    "action",
    "actor",
    "organisation_kind",
    "organisation",
    "target_type",
    "target_id",
    "data",
    "ip_hash",
]


class _Echo:
    """A file-like object whose write returns the line, for streaming CSV."""

    def write(self, value: str) -> str:
        return value


def audit_csv_rows(events: Iterable[AuditEvent]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # BOM: spreadsheet software then reads the Japanese text as UTF-8
    yield writer.writerow(CSV_COLUMNS)
    for event in events:
        org = event.company or event.agency
        yield writer.writerow(
            [
                event.created_at.astimezone(dt.UTC).isoformat(),
                event.action,
                event.actor.email if event.actor else "",
                "company" if event.company_id else ("agency" if event.agency_id else ""),
                org.slug if org else "",
                event.target_type,
                event.target_id,
                json.dumps(event.data, ensure_ascii=False, sort_keys=True),
                event.ip_hash,
            ]
        )


def audit_csv_response(queryset: QuerySet[AuditEvent]) -> StreamingHttpResponse:
    events = queryset.select_related("actor", "company", "agency").iterator(chunk_size=2000)
    response = StreamingHttpResponse(audit_csv_rows(events), content_type="text/csv")
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    return response


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "action",
        "actor",
        "company",
        "agency",
        "target_type",
        "target_id",
    )
    list_filter = ("action", ("created_at", admin.DateFieldListFilter))
    search_fields = ("action", "actor__email", "company__slug", "agency__slug", "target_id")
    list_select_related = ("actor", "company", "agency")
    date_hierarchy = "created_at"
    readonly_fields = (
        "created_at",
        "action",
        "actor",
        "company",
        "agency",
        "target_type",
        "target_id",
        "data",
        "ip_hash",
    )
    actions = ("export_selected_csv",)
    change_list_template = "admin/core/auditevent/change_list.html"

    def get_urls(self) -> list:
        export = path(
            "export/",
            self.admin_site.admin_view(self.export_view),
            name="core_auditevent_export",
        )
        return [export, *super().get_urls()]

    def export_view(self, request: HttpRequest) -> HttpResponse:
        """Everything the change list currently shows (filters and search applied)."""
        if not self.has_view_permission(request):
            return HttpResponse(status=403)
        changelist = self.get_changelist_instance(request)
        return audit_csv_response(changelist.get_queryset(request))

    @admin.action(description=_("選択した監査ログをCSVで書き出す"))
    def export_selected_csv(
        self, request: HttpRequest, queryset: QuerySet[AuditEvent]
    ) -> StreamingHttpResponse:
        return audit_csv_response(queryset.order_by("created_at", "id"))


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
    list_display = (
        "name",
        "prefix",
        "company",
        "agency",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix", "company__slug", "agency__slug")
    list_select_related = ("company", "agency")
    readonly_fields = (
        "name",
        "prefix",
        "company",
        "agency",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    exclude = ("key_hash",)
    actions = ("revoke",)

    @admin.action(description=_("選択したAPIキーを失効させる"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for key in queryset.filter(revoked_at__isnull=True):
            api_key_revoke(key=key, actor=request.user)
        messages.success(request, _("APIキーを失効させました。"))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Needed for the revoke action; every field stays read-only.
        return request.user.is_superuser


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    list_display = ("email", "role", "company", "agency", "created_at", "expires_at", "accepted_at")
    list_filter = ("role", "accepted_at", "revoked_at")
    search_fields = ("email", "company__slug", "agency__slug")
    exclude = ("token_hash",)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("message", "company", "agency", "created_at", "read_at")
    search_fields = ("message", "key")


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ("key", "task_name", "created_at", "sent_at", "attempts")
    list_filter = ("task_name", "sent_at")
    search_fields = ("key", "task_name")


def save_member_formset_with_audit(request: HttpRequest, formset: Any, tenant: Any) -> None:
    """Save an inline formset of memberships, writing one audit row per change (operators'
    membership and role changes are audited like everybody else's)."""
    from careerrelay.core.audit import audit_record

    with transaction.atomic():
        before = {
            form.instance.pk: form.initial.get("role")
            for form in formset.initial_forms
            if form.instance.pk
        }
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            audit_record(
                actor=request.user,
                tenant=tenant,
                action="membership.removed",
                target=obj,
                data={"user": obj.user.email, "role": obj.role, "by": "operator"},
            )
            obj.delete()
        for obj in instances:
            is_new = obj.pk is None
            obj.save()
            if is_new:
                action, data = "membership.created", {"role": obj.role}
            elif before.get(obj.pk) != obj.role:
                action, data = (
                    "membership.role_changed",
                    {"from": before.get(obj.pk), "to": obj.role},
                )
            else:
                continue
            audit_record(
                actor=request.user,
                tenant=tenant,
                action=action,
                target=obj,
                data={"user": obj.user.email, "by": "operator", **data},
            )
        formset.save_m2m()
