"""Referral links, clicks, candidates (PII encrypted at rest), referrals and consent receipts."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from careerrelay.core.tenancy_models import TenantOwned


class LinkKind(models.TextChoices):
    CAMPAIGN = "campaign", _("キャンペーン（求人・採用期ごと）")
    PERSONAL = "personal", _("個別（候補者ごと）")


class ReferralLink(TenantOwned):
    tenant_fields: ClassVar[tuple[str, ...]] = ("company", "agency")
    company = models.ForeignKey(
        "companies.Company", on_delete=models.PROTECT, related_name="+", verbose_name=_("企業")
    )
    agency = models.ForeignKey(
        "agencies.Agency", on_delete=models.PROTECT, related_name="+", verbose_name=_("紹介会社")
    )
    partnership = models.ForeignKey(
        "companies.Partnership",
        on_delete=models.PROTECT,
        related_name="links",
        verbose_name=_("提携"),
    )
    kind = models.CharField(
        _("種類"), max_length=10, choices=LinkKind.choices, default=LinkKind.CAMPAIGN
    )
    label = models.CharField(_("ラベル"), max_length=120)
    token = models.CharField(_("トークン"), max_length=32, unique=True)
    # Personal links: the candidate's email, encrypted, and its keyed hash for de-duplication.
    candidate_name_enc = models.TextField(_("候補者名（暗号化）"), blank=True)
    candidate_email_enc = models.TextField(_("候補者のメールアドレス（暗号化）"), blank=True)
    candidate_email_hash = models.CharField(
        _("候補者のメールアドレスのハッシュ"), max_length=64, blank=True
    )
    is_active = models.BooleanField(_("有効"), default=True)
    expires_at = models.DateTimeField(_("有効期限"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("作成者"),
    )
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)

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
    company = models.ForeignKey(
        "companies.Company", on_delete=models.CASCADE, related_name="+", verbose_name=_("企業")
    )
    agency = models.ForeignKey(
        "agencies.Agency", on_delete=models.CASCADE, related_name="+", verbose_name=_("紹介会社")
    )
    partnership = models.ForeignKey(
        "companies.Partnership", on_delete=models.CASCADE, related_name="+", verbose_name=_("提携")
    )
    label = models.CharField(_("ラベル"), max_length=120)
    filename = models.CharField(_("ファイル名"), max_length=200, blank=True)
    # Link ids in file order (a row repeated in the file repeats its link).
    link_ids = models.JSONField(_("リンクID（ファイルの順）"), default=list)
    created_count = models.PositiveIntegerField(_("新規作成数"), default=0)
    existing_count = models.PositiveIntegerField(_("既存リンク数"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("作成者"),
    )
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("リンクの一括作成")
        verbose_name_plural = pgettext_lazy("plural", "リンクの一括作成")

    def __str__(self) -> str:
        return f"batch #{self.pk}"


class ClickClass(models.TextChoices):
    HUMAN = "human", _("人")
    BOT = "bot", _("ボット")
    SCANNER = "scanner", _("メールセキュリティのスキャン")
    HEAD = "head", _("HEAD リクエスト")


class Click(TenantOwned):
    """One view of a landing page, drained from Redis in batches. `uid` is minted on the
    request (it rides in the first-party cookie) and makes the drain idempotent; it is a
    time-ordered UUID (version 7, clicks.new_uid), so a batch's entries in its unique index land
    on a few neighbouring pages."""

    tenant_fields: ClassVar[tuple[str, ...]] = ("company", "agency")
    uid = models.UUIDField(_("クリックID"), unique=True)
    # No single-column index on company or link: the two composite indexes below lead with them.
    # Every index costs each drained click a random-page write (bench/NOTES.md).
    company = models.ForeignKey(
        "companies.Company",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("企業"),
        db_index=False,
    )
    agency = models.ForeignKey(
        "agencies.Agency", on_delete=models.CASCADE, related_name="+", verbose_name=_("紹介会社")
    )
    link = models.ForeignKey(
        ReferralLink,
        on_delete=models.CASCADE,
        related_name="clicks",
        verbose_name=_("紹介リンク"),
        db_index=False,
    )
    clicked_at = models.DateTimeField(_("クリック日時"))
    classification = models.CharField(
        _("分類"), max_length=10, choices=ClickClass.choices, default=ClickClass.HUMAN
    )
    is_unique = models.BooleanField(_("ユニーク"), default=True)
    visitor_hash = models.CharField(_("訪問者のハッシュ"), max_length=32)

    class Meta:
        indexes: ClassVar = [
            models.Index(fields=["company", "clicked_at"], name="click_co_time_idx"),
            # The drain's unique-view probe (services._unique_views_before) reads only a pair's
            # unique views: with is_unique before the time, one visitor's thousand repeat views of
            # a link cost the probe nothing, where they cost ~0.1 ms a probe (bench/NOTES.md).
            models.Index(
                fields=["link", "visitor_hash", "is_unique", "clicked_at"],
                name="click_visitor_unique_idx",
            ),
        ]
        verbose_name = _("クリック")
        verbose_name_plural = pgettext_lazy("plural", "クリック")

    def __str__(self) -> str:
        return str(self.uid)


class Candidate(TenantOwned):
    """A job seeker as held by one agency. Contact data is encrypted at rest; look-ups and
    de-duplication use keyed HMACs of the normalised values. Erasure blanks the PII."""

    tenant_fields: ClassVar[tuple[str, ...]] = ("agency",)
    agency = models.ForeignKey(
        "agencies.Agency", on_delete=models.PROTECT, related_name="+", verbose_name=_("紹介会社")
    )
    name_enc = models.TextField(_("氏名（暗号化）"), blank=True)
    email_enc = models.TextField(_("メールアドレス（暗号化）"), blank=True)
    email_hash = models.CharField(_("メールアドレスのハッシュ"), max_length=64, blank=True)
    phone_enc = models.TextField(_("電話番号（暗号化）"), blank=True)
    phone_hash = models.CharField(_("電話番号のハッシュ"), max_length=64, blank=True)
    desired_role = models.CharField(_("希望職種"), max_length=100, blank=True)
    prefecture = models.CharField(_("希望勤務地（都道府県）"), max_length=10, blank=True)
    email_verified_at = models.DateTimeField(_("メール確認日時"), null=True, blank=True)
    erased_at = models.DateTimeField(_("消去日時"), null=True, blank=True)
    # The language the candidate registered in: their emails are written in it.
    language = models.CharField(_("言語"), max_length=8, default="ja")
    consent_withdrawn_at = models.DateTimeField(_("同意撤回日時"), null=True, blank=True)
    created_at = models.DateTimeField(_("登録日時"), auto_now_add=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["agency", "email_hash"],
                condition=~Q(email_hash=""),
                name="candidate_one_per_agency_email",
            )
        ]
        verbose_name = _("候補者")
        verbose_name_plural = pgettext_lazy("plural", "候補者")

    def __str__(self) -> str:
        return f"candidate #{self.pk}"


class ReferralStatus(models.TextChoices):
    # Own context: the bare "有効"/"無効" also label links, API keys and partnerships, where
    # English reads "Active"/"Inactive"; a referral is "Qualified"/"Disqualified".
    NEW = "new", pgettext_lazy("referral status", "新規")
    QUALIFIED = "qualified", pgettext_lazy("referral status", "有効")
    DISQUALIFIED = "disqualified", pgettext_lazy("referral status", "無効")
    DUPLICATE = "duplicate", pgettext_lazy("referral status", "重複")
    HELD = "held", pgettext_lazy("referral status", "確認待ち")
    WITHDRAWN = "withdrawn", pgettext_lazy("referral status", "同意撤回")


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
    company = models.ForeignKey(
        "companies.Company", on_delete=models.PROTECT, related_name="+", verbose_name=_("企業")
    )
    agency = models.ForeignKey(
        "agencies.Agency", on_delete=models.PROTECT, related_name="+", verbose_name=_("紹介会社")
    )
    partnership = models.ForeignKey(
        "companies.Partnership",
        on_delete=models.PROTECT,
        related_name="referrals",
        verbose_name=_("提携"),
    )
    link = models.ForeignKey(
        ReferralLink,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="referrals",
        verbose_name=_("紹介リンク"),
    )
    candidate = models.ForeignKey(
        Candidate, on_delete=models.PROTECT, related_name="referrals", verbose_name=_("候補者")
    )
    click = models.ForeignKey(
        Click,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("クリック"),
    )
    click_uid = models.UUIDField(_("クリックID"), null=True, blank=True)
    status = models.CharField(
        _("状態"), max_length=14, choices=ReferralStatus.choices, default=ReferralStatus.NEW
    )
    stage = models.CharField(
        _("段階"), max_length=12, choices=ReferralStage.choices, default=ReferralStage.NEW
    )
    hold_reason = models.CharField(_("確認待ちの理由"), max_length=200, blank=True)
    disqualify_reason = models.CharField(_("無効の理由"), max_length=300, blank=True)
    duplicate_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("重複元の紹介"),
    )
    qualification_count = models.PositiveIntegerField(_("有効判定の回数"), default=0)
    qualified_at = models.DateTimeField(_("有効判定日時"), null=True, blank=True)
    disqualified_at = models.DateTimeField(_("無効判定日時"), null=True, blank=True)
    seconds_to_register = models.PositiveIntegerField(_("登録までの秒数"), null=True, blank=True)
    attributed_at = models.DateTimeField(_("クリック紐付け日時"), null=True, blank=True)
    notes = models.TextField(_("メモ"), blank=True)
    created_at = models.DateTimeField(_("登録日時"), auto_now_add=True)

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
    company = models.ForeignKey(
        "companies.Company", on_delete=models.PROTECT, related_name="+", verbose_name=_("企業")
    )
    agency = models.ForeignKey(
        "agencies.Agency", on_delete=models.PROTECT, related_name="+", verbose_name=_("紹介会社")
    )
    candidate = models.ForeignKey(
        Candidate, on_delete=models.PROTECT, related_name="consents", verbose_name=_("候補者")
    )
    referral = models.ForeignKey(
        Referral, on_delete=models.PROTECT, related_name="consents", verbose_name=_("紹介")
    )
    privacy_version = models.CharField(_("プライバシーポリシーの版"), max_length=20)
    third_party_version = models.CharField(_("第三者提供の同意文の版"), max_length=20)
    text_sha256 = models.CharField(_("同意文のハッシュ（SHA-256）"), max_length=64)
    agency_name = models.CharField(_("提供先の紹介会社名"), max_length=200)
    agency_license_number = models.CharField(_("提供先の許可番号"), max_length=20)
    consented_at = models.DateTimeField(_("同意日時"))
    ip_hash = models.CharField(_("IPアドレスのハッシュ"), max_length=64, blank=True)
    retain_until = models.DateField(_("記録の保存期限"))
    withdrawn_at = models.DateTimeField(_("撤回日時"), null=True, blank=True)

    class Meta:
        ordering = ["-consented_at"]
        verbose_name = _("同意の記録")
        verbose_name_plural = pgettext_lazy("plural", "同意の記録")

    def __str__(self) -> str:
        return f"consent #{self.pk}"


class DailyStat(TenantOwned):
    """Rollup per link and day (Asia/Tokyo), kept current by Celery, read by dashboards so no
    page scans clicks or referrals."""

    tenant_fields: ClassVar[tuple[str, ...]] = ("company", "agency")
    company = models.ForeignKey(
        "companies.Company", on_delete=models.CASCADE, related_name="+", verbose_name=_("企業")
    )
    agency = models.ForeignKey(
        "agencies.Agency", on_delete=models.CASCADE, related_name="+", verbose_name=_("紹介会社")
    )
    partnership = models.ForeignKey(
        "companies.Partnership", on_delete=models.CASCADE, related_name="+", verbose_name=_("提携")
    )
    link = models.ForeignKey(
        ReferralLink,
        on_delete=models.CASCADE,
        related_name="daily_stats",
        verbose_name=_("紹介リンク"),
    )
    day = models.DateField(_("日付"))
    clicks = models.PositiveIntegerField(_("クリック数"), default=0)
    unique_clicks = models.PositiveIntegerField(_("ユニーククリック数"), default=0)
    filtered_clicks = models.PositiveIntegerField(_("除外したクリック数"), default=0)
    registrations = models.PositiveIntegerField(_("登録数"), default=0)
    verified = models.PositiveIntegerField(_("メール確認数"), default=0)
    qualified = models.PositiveIntegerField(_("有効紹介数"), default=0)
    placed = models.PositiveIntegerField(_("入社数"), default=0)
    register_seconds_sum = models.BigIntegerField(default=0)
    register_timed = models.PositiveIntegerField(default=0)
    qualify_seconds_sum = models.BigIntegerField(default=0)
    qualify_timed = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["link", "day"], name="dailystat_link_day")
        ]
        indexes: ClassVar = [models.Index(fields=["company", "day"], name="dailystat_co_day_idx")]
        verbose_name = _("日次集計")
        verbose_name_plural = pgettext_lazy("plural", "日次集計")

    def __str__(self) -> str:
        return f"{self.link_id} {self.day}"
