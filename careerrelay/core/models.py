"""Cross-cutting rows: audit log, API keys, invitations, in-app notices, the task outbox."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from careerrelay.core.tenancy_models import Role, TenantOwned


class OrgOwned(TenantOwned):
    """A row that belongs to exactly one organisation: a company or an agency."""

    tenant_fields: ClassVar[tuple[str, ...]] = ("company", "agency")
    company = models.ForeignKey(
        "companies.Company", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    agency = models.ForeignKey(
        "agencies.Agency", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        abstract = True

    @property
    def organisation(self):
        return self.company or self.agency


def one_org_constraint(name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=(
            Q(company__isnull=False, agency__isnull=True)
            | Q(company__isnull=True, agency__isnull=False)
        ),
        name=name,
    )


class AuditEvent(TenantOwned):
    """Append-only record of a security- or money-relevant action (who, tenant, what, when)."""

    tenant_fields: ClassVar[tuple[str, ...]] = ("company", "agency")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("実行者"),
    )
    company = models.ForeignKey(
        "companies.Company", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    agency = models.ForeignKey(
        "agencies.Agency", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(_("操作"), max_length=80, db_index=True)
    target_type = models.CharField(_("対象の種類"), max_length=80, blank=True)
    target_id = models.CharField(_("対象ID"), max_length=64, blank=True)
    data = models.JSONField(_("内容"), default=dict, blank=True)
    ip_hash = models.CharField(_("IPアドレスのハッシュ"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("日時"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("監査ログ")
        verbose_name_plural = _("監査ログ")

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action}"


class ApiKey(OrgOwned):
    """An organisation's API key. Only a SHA-256 hash of the secret is stored."""

    name = models.CharField(_("名前"), max_length=100)
    prefix = models.CharField(_("プレフィックス"), max_length=12, unique=True)
    key_hash = models.CharField(_("キーのハッシュ"), max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("作成者"),
    )
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("最終使用日時"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("失効日時"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints: ClassVar = [one_org_constraint("apikey_one_org")]
        verbose_name = _("APIキー")
        verbose_name_plural = _("APIキー")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class Invitation(OrgOwned):
    """An email invitation to join an organisation with a role."""

    email = models.EmailField(_("メールアドレス"))
    role = models.CharField(_("権限"), max_length=10, choices=Role.choices, default=Role.MEMBER)
    token_hash = models.CharField(_("トークンのハッシュ"), max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("招待者"),
    )
    created_at = models.DateTimeField(_("招待日時"), auto_now_add=True)
    expires_at = models.DateTimeField(_("有効期限"))
    accepted_at = models.DateTimeField(_("承諾日時"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("取消日時"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints: ClassVar = [one_org_constraint("invitation_one_org")]
        verbose_name = _("招待")
        verbose_name_plural = _("招待")

    def __str__(self) -> str:
        return self.email


class Notification(OrgOwned):
    """An in-app notice for an organisation (e.g. a free hire earned). Unique per cause."""

    key = models.CharField(_("キー"), max_length=120, unique=True)
    message = models.CharField(_("メッセージ"), max_length=300)
    url = models.CharField(_("URL"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)
    read_at = models.DateTimeField(_("既読日時"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints: ClassVar = [one_org_constraint("notification_one_org")]
        verbose_name = _("お知らせ")
        verbose_name_plural = pgettext_lazy("plural", "お知らせ")

    def __str__(self) -> str:
        return self.message


class OutboxMessage(models.Model):
    """A task that must not be lost when the broker is down: written in the business
    transaction, relayed to Celery by a periodic task, deduplicated by `key`."""

    key = models.CharField(_("キー"), max_length=160, unique=True)
    task_name = models.CharField(_("タスク名"), max_length=120)
    kwargs = models.JSONField(_("引数"), default=dict)
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)
    sent_at = models.DateTimeField(_("送信日時"), null=True, blank=True, db_index=True)
    attempts = models.PositiveIntegerField(_("試行回数"), default=0)

    class Meta:
        ordering = ["id"]
        verbose_name = _("送信待ちタスク")
        verbose_name_plural = pgettext_lazy("plural", "送信待ちタスク")

    def __str__(self) -> str:
        return self.key


class TaskReceipt(models.Model):
    """A side effect that must happen at most once (an email), claimed by its key before it is
    performed: a task delivered twice (a publish that timed out but landed, plus the caller's
    fallback) finds the receipt and does nothing. See careerrelay/core/outbox.py."""

    key = models.CharField(_("キー"), max_length=200, unique=True)
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)

    def __str__(self) -> str:
        return self.key
