"""Referral links, clicks, candidates (PII encrypted at rest), referrals and consent receipts."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from careerrelay.core.tenancy_models import TenantOwned


class LinkKind(models.TextChoices):
    CAMPAIGN = "campaign", _("キャンペーン（求人・採用期ごと）")
    PERSONAL = "personal", _("個別（候補者ごと）")


class ReferralLink(TenantOwned):
    tenant_fields: ClassVar[tuple[str, ...]] = ("company", "agency")
    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="+")
    partnership = models.ForeignKey(
        "companies.Partnership", on_delete=models.PROTECT, related_name="links"
    )
    kind = models.CharField(
        _("種類"), max_length=10, choices=LinkKind.choices, default=LinkKind.CAMPAIGN
    )
    label = models.CharField(_("ラベル"), max_length=120)
    token = models.CharField(max_length=32, unique=True)
    # Personal links: the candidate's email, encrypted, and its keyed hash for de-duplication.
    candidate_name_enc = models.TextField(blank=True)
    candidate_email_enc = models.TextField(blank=True)
    candidate_email_hash = models.CharField(max_length=64, blank=True)
    is_active = models.BooleanField(_("有効"), default=True)
    expires_at = models.DateTimeField(_("有効期限"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["partnership", "candidate_email_hash"],
                condition=Q(kind="personal"),
                name="link_one_personal_per_candidate",
            )
        ]
        indexes: ClassVar = [models.Index(fields=["company", "created_at"], name="link_co_idx")]
        verbose_name = _("紹介リンク")
        verbose_name_plural = _("紹介リンク")

    def __str__(self) -> str:
        return self.label


class LinkBatch(TenantOwned):
    """One bulk upload of personal links (an ATS CSV export), so HR can download it back with one
    link per row in the original order."""

    tenant_fields: ClassVar[tuple[str, ...]] = ("company", "agency")
    company = models.ForeignKey("companies.Company", on_delete=models.CASCADE, related_name="+")
    agency = models.ForeignKey("agencies.Agency", on_delete=models.CASCADE, related_name="+")
    partnership = models.ForeignKey(
        "companies.Partnership", on_delete=models.CASCADE, related_name="+"
    )
    label = models.CharField(max_length=120)
    filename = models.CharField(max_length=200, blank=True)
    # Link ids in file order (a row repeated in the file repeats its link).
    link_ids = models.JSONField(default=list)
    created_count = models.PositiveIntegerField(default=0)
    existing_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"batch #{self.pk}"


class ClickClass(models.TextChoices):
    HUMAN = "human", _("人")
    BOT = "bot", _("ボット")
    SCANNER = "scanner", _("メールセキュリティのスキャン")
    HEAD = "head", _("HEAD リクエスト")


class Click(TenantOwned):
    """One view of a landing page, drained from Redis in batches. `uid` is minted on the
    request (it rides in the first-party cookie) and makes the drain idempotent."""

    tenant_fields: ClassVar[tuple[str, ...]] = ("company", "agency")
    uid = models.UUIDField(unique=True)
    company = models.ForeignKey("companies.Company", on_delete=models.CASCADE, related_name="+")
    agency = models.ForeignKey("agencies.Agency", on_delete=models.CASCADE, related_name="+")
    link = models.ForeignKey(ReferralLink, on_delete=models.CASCADE, related_name="clicks")
    clicked_at = models.DateTimeField()
    classification = models.CharField(
        max_length=10, choices=ClickClass.choices, default=ClickClass.HUMAN
    )
    is_unique = models.BooleanField(default=True)
    visitor_hash = models.CharField(max_length=32)

    class Meta:
        indexes: ClassVar = [
            models.Index(fields=["company", "clicked_at"], name="click_co_time_idx"),
            models.Index(fields=["link", "visitor_hash", "clicked_at"], name="click_visitor_idx"),
        ]

    def __str__(self) -> str:
        return str(self.uid)


class Candidate(TenantOwned):
    """A job seeker as held by one agency. Contact data is encrypted at rest; look-ups and
    de-duplication use keyed HMACs of the normalised values. Erasure blanks the PII."""

    tenant_fields: ClassVar[tuple[str, ...]] = ("agency",)
    agency = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="+")
    name_enc = models.TextField(blank=True)
    email_enc = models.TextField(blank=True)
    email_hash = models.CharField(max_length=64, blank=True)
    phone_enc = models.TextField(blank=True)
    phone_hash = models.CharField(max_length=64, blank=True)
    desired_role = models.CharField(_("希望職種"), max_length=100, blank=True)
    prefecture = models.CharField(_("希望勤務地（都道府県）"), max_length=10, blank=True)
    email_verified_at = models.DateTimeField(null=True, blank=True)
    erased_at = models.DateTimeField(null=True, blank=True)
    # The language the candidate registered in: their emails are written in it.
    language = models.CharField(max_length=8, default="ja")
    consent_withdrawn_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["agency", "email_hash"],
                condition=~Q(email_hash=""),
                name="candidate_one_per_agency_email",
            )
        ]

    def __str__(self) -> str:
        return f"candidate #{self.pk}"


class ReferralStatus(models.TextChoices):
    NEW = "new", _("新規")
    QUALIFIED = "qualified", _("有効")
    DISQUALIFIED = "disqualified", _("無効")
    DUPLICATE = "duplicate", _("重複")
    HELD = "held", _("確認待ち")
    WITHDRAWN = "withdrawn", _("同意撤回")


class ReferralStage(models.TextChoices):
    NEW = "new", _("新規")
    CONTACTED = "contacted", _("連絡済み")
    INTERVIEWED = "interviewed", _("面談済み")
    INTRODUCED = "introduced", _("企業へ推薦")
    OFFER = "offer", _("内定")
    PLACED = "placed", _("入社")
    CLOSED = "closed", _("終了")


class Referral(TenantOwned):
    """A candidate registered through a company's link with an agency. Tenant keys for both
    sides are kept on the row (the company sees the stage, the agency the candidate)."""

    tenant_fields: ClassVar[tuple[str, ...]] = ("company", "agency")
    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="+")
    partnership = models.ForeignKey(
        "companies.Partnership", on_delete=models.PROTECT, related_name="referrals"
    )
    link = models.ForeignKey(
        ReferralLink, null=True, blank=True, on_delete=models.SET_NULL, related_name="referrals"
    )
    candidate = models.ForeignKey(Candidate, on_delete=models.PROTECT, related_name="referrals")
    click = models.ForeignKey(
        Click, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    click_uid = models.UUIDField(null=True, blank=True)
    status = models.CharField(
        max_length=14, choices=ReferralStatus.choices, default=ReferralStatus.NEW
    )
    stage = models.CharField(
        max_length=12, choices=ReferralStage.choices, default=ReferralStage.NEW
    )
    hold_reason = models.CharField(max_length=200, blank=True)
    disqualify_reason = models.CharField(max_length=300, blank=True)
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    qualification_count = models.PositiveIntegerField(default=0)
    qualified_at = models.DateTimeField(null=True, blank=True)
    disqualified_at = models.DateTimeField(null=True, blank=True)
    seconds_to_register = models.PositiveIntegerField(null=True, blank=True)
    attributed_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["partnership", "candidate"], name="referral_one_per_partnership"
            )
        ]
        indexes: ClassVar = [
            models.Index(fields=["company", "created_at"], name="referral_co_time_idx"),
            models.Index(fields=["agency", "created_at"], name="referral_ag_time_idx"),
            models.Index(fields=["company", "status"], name="referral_co_status_idx"),
            # The drain looks up referrals still waiting for their click, batch by batch.
            models.Index(
                fields=["click_uid"],
                condition=Q(click__isnull=True, click_uid__isnull=False),
                name="referral_waiting_click_idx",
            ),
        ]
        verbose_name = _("紹介")
        verbose_name_plural = _("紹介")

    def __str__(self) -> str:
        return f"R-{self.pk:06d}" if self.pk else "R-new"

    @property
    def number(self) -> str:
        return str(self)


class Consent(TenantOwned):
    """A consent receipt per receiving agency (APPI Art. 27), kept 3 years (Art. 29/30)."""

    tenant_fields: ClassVar[tuple[str, ...]] = ("company", "agency")
    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="+")
    candidate = models.ForeignKey(Candidate, on_delete=models.PROTECT, related_name="consents")
    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="consents")
    privacy_version = models.CharField(max_length=20)
    third_party_version = models.CharField(max_length=20)
    text_sha256 = models.CharField(max_length=64)
    agency_name = models.CharField(max_length=200)
    agency_license_number = models.CharField(max_length=20)
    consented_at = models.DateTimeField()
    ip_hash = models.CharField(max_length=64, blank=True)
    retain_until = models.DateField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-consented_at"]

    def __str__(self) -> str:
        return f"consent #{self.pk}"


class DailyStat(TenantOwned):
    """Rollup per link and day (Asia/Tokyo), kept current by Celery, read by dashboards so no
    page scans clicks or referrals."""

    tenant_fields: ClassVar[tuple[str, ...]] = ("company", "agency")
    company = models.ForeignKey("companies.Company", on_delete=models.CASCADE, related_name="+")
    agency = models.ForeignKey("agencies.Agency", on_delete=models.CASCADE, related_name="+")
    partnership = models.ForeignKey(
        "companies.Partnership", on_delete=models.CASCADE, related_name="+"
    )
    link = models.ForeignKey(ReferralLink, on_delete=models.CASCADE, related_name="daily_stats")
    day = models.DateField()
    clicks = models.PositiveIntegerField(default=0)
    unique_clicks = models.PositiveIntegerField(default=0)
    filtered_clicks = models.PositiveIntegerField(default=0)
    registrations = models.PositiveIntegerField(default=0)
    verified = models.PositiveIntegerField(default=0)
    qualified = models.PositiveIntegerField(default=0)
    placed = models.PositiveIntegerField(default=0)
    register_seconds_sum = models.BigIntegerField(default=0)
    register_timed = models.PositiveIntegerField(default=0)
    qualify_seconds_sum = models.BigIntegerField(default=0)
    qualify_timed = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["link", "day"], name="dailystat_link_day")
        ]
        indexes: ClassVar = [models.Index(fields=["company", "day"], name="dailystat_co_day_idx")]

    def __str__(self) -> str:
        return f"{self.link_id} {self.day}"
