"""Placement agencies (人材紹介会社), their members, and placements (成約)."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from careerrelay.core.tenancy_models import Organization, Role, TenantOwned


def default_refund_tiers() -> list[list[int]]:
    # (days after start, refund percent): within 30 days 50 %, 90 days 30 %, 180 days 10 %.
    return [[30, 50], [90, 30], [180, 10]]


class Agency(Organization):
    kind: ClassVar[str] = "agency"
    license_number = models.CharField(
        _("有料職業紹介事業許可番号"),
        max_length=20,
        blank=True,
        help_text=_("例: 13-ユ-123456（全角数字・長音記号は自動で半角に揃えます）"),
    )
    license_expires_on = models.DateField(_("許可の有効期限"), null=True, blank=True)
    license_verified_at = models.DateTimeField(_("許可確認日時"), null=True, blank=True)
    default_fee_rate = models.DecimalField(
        _("標準手数料率（%）"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("35.00"),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )
    refund_tiers = models.JSONField(_("返金規定"), default=default_refund_tiers)
    contact_email = models.EmailField(_("連絡先メールアドレス"), blank=True)
    address = models.CharField(_("所在地"), max_length=300, blank=True)
    privacy_policy_url = models.URLField(_("個人情報の取扱い"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("人材紹介会社")
        verbose_name_plural = _("人材紹介会社")


class AgencyMember(models.Model):
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agency_memberships"
    )
    role = models.CharField(_("権限"), max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["agency", "user"], name="agency_member_unique")
        ]
        verbose_name = _("紹介会社メンバー")
        verbose_name_plural = _("紹介会社メンバー")

    def __str__(self) -> str:
        return f"{self.user} @ {self.agency}"


class PlacementStatus(models.TextChoices):
    ACTIVE = "active", _("在籍中（保証期間内）")
    LEFT_EARLY = "left_early", _("早期退職")
    SETTLED = "settled", _("精算済み")


class Placement(TenantOwned):
    """A hire reported by an agency. `company` is the referring company (if the candidate
    came through a referral); `hiring_company` is where the candidate was placed."""

    tenant_fields: ClassVar[tuple[str, ...]] = ("agency",)
    # Indexed together with created_at (placement_agency_created_idx); a second index on the
    # key alone would only slow down settlement's bulk updates.
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="placements", db_index=False
    )
    referral = models.ForeignKey(
        "referrals.Referral",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="placements",
    )
    # Neither key below is indexed: no read selects placements by them, and every index is
    # rewritten when settlement marks 100,000 placements settled (no HOT update: the marker
    # is in the predicate of placement_unsettled_idx).
    company = models.ForeignKey(
        "companies.Company",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The referring company, from the referral.",
        db_index=False,
    )
    partnership = models.ForeignKey(
        "companies.Partnership",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="placements",
        db_index=False,
    )
    candidate_name = models.CharField(_("候補者名"), max_length=100, blank=True)
    hiring_company = models.ForeignKey(
        "companies.Company",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    hiring_company_name = models.CharField(_("入社先企業名"), max_length=200, blank=True)
    annual_salary_jpy = models.PositiveBigIntegerField(_("理論年収（円）"))
    fee_rate = models.DecimalField(_("手数料率（%）"), max_digits=5, decimal_places=2)
    fee_jpy = models.PositiveBigIntegerField(_("紹介手数料（円）"))
    start_date = models.DateField(_("入社日"))
    guarantee_ends_on = models.DateField(_("返金保証期間の終了日"))
    refund_tiers = models.JSONField(default=list)
    free_hire = models.BooleanField(_("無料採用枠を使用"), default=False)
    status = models.CharField(
        max_length=12, choices=PlacementStatus.choices, default=PlacementStatus.ACTIVE
    )
    left_on = models.DateField(_("退職日"), null=True, blank=True)
    refund_jpy = models.PositiveBigIntegerField(default=0)
    # The fee the agency would have charged for a free-hire placement (shown as waived).
    waived_fee_jpy = models.PositiveBigIntegerField(default=0)
    # Settlement bookkeeping, written in the same transaction as the ledger postings.
    rebate_jpy = models.BigIntegerField(default=0)
    rebate_period = models.CharField(max_length=7, blank=True)
    adjustment_pending = models.BooleanField(default=False)
    adjustment_jpy = models.BigIntegerField(default=0)
    adjustment_period = models.CharField(max_length=7, blank=True)
    left_reported_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes: ClassVar = [
            models.Index(fields=["agency", "created_at"], name="placement_agency_created_idx"),
            # Settlement scans only what no settlement has taken yet (the only read by
            # guarantee_ends_on, so there is no index on it for all placements).
            models.Index(
                fields=["guarantee_ends_on"],
                condition=models.Q(rebate_period=""),
                name="placement_unsettled_idx",
            ),
            models.Index(
                fields=["id"],
                condition=models.Q(adjustment_pending=True),
                name="placement_adjust_pending_idx",
            ),
        ]
        verbose_name = _("成約")
        verbose_name_plural = _("成約")

    def __str__(self) -> str:
        return f"#{self.pk} {self.fee_jpy:,}円"

    @property
    def net_fee_jpy(self) -> int:
        return int(self.fee_jpy) - int(self.refund_jpy)


class ReferralNote(TenantOwned):
    """A recruiter's note on a referred candidate (agency-only; the company never sees it)."""

    tenant_fields: ClassVar[tuple[str, ...]] = ("agency",)
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="+")
    referral = models.ForeignKey(
        "referrals.Referral", on_delete=models.CASCADE, related_name="agency_notes"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    body = models.TextField(_("メモ"), max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("候補者メモ")
        verbose_name_plural = _("候補者メモ")

    def __str__(self) -> str:
        return f"note #{self.pk}"
