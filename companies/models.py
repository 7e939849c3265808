"""Hiring companies (採用企業), their members, and partnerships with agencies."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from careerrelay.core.tenancy_models import Organization, Role, TenantOwned


class Company(Organization):
    kind: ClassVar[str] = "company"
    logo = models.ImageField(_("ロゴ"), upload_to="logos/", blank=True)
    landing_message = models.TextField(
        _("候補者へのメッセージ"),
        blank=True,
        max_length=2000,
        help_text=_("お見送りした候補者へ、ランディングページで表示するメッセージです。"),
    )
    email_domains = models.CharField(
        _("自社のメールドメイン"),
        max_length=300,
        blank=True,
        help_text=_("自社社員による自己紹介を防ぐため、カンマ区切りで入力します。"),
    )
    website = models.URLField(_("ウェブサイト"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("採用企業")
        verbose_name_plural = _("採用企業")


class CompanyMember(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="company_memberships"
    )
    role = models.CharField(_("権限"), max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["company", "user"], name="company_member_unique")
        ]
        verbose_name = _("企業メンバー")
        verbose_name_plural = _("企業メンバー")

    def __str__(self) -> str:
        return f"{self.user} @ {self.company}"


class PartnershipStatus(models.TextChoices):
    PROPOSED = "proposed", _("提案中")
    ACTIVE = "active", _("有効")
    ENDED = "ended", _("終了")


class Partnership(TenantOwned):
    """The contract between a company and an agency (紹介提携)."""

    tenant_fields: ClassVar[tuple[str, ...]] = ("company", "agency")
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="partnerships")
    agency = models.ForeignKey(
        "agencies.Agency", on_delete=models.PROTECT, related_name="partnerships"
    )
    status = models.CharField(
        _("状態"),
        max_length=10,
        choices=PartnershipStatus.choices,
        default=PartnershipStatus.PROPOSED,
    )
    referrals_per_free_hire = models.PositiveIntegerField(
        _("無料採用1件に必要な有効紹介数"),
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
    )
    rebate_rate = models.DecimalField(
        _("還元率（%）"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("10.00"),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )
    payout_mode = models.BooleanField(
        _("現金での支払い"),
        default=False,
        help_text=_("運営者のみ変更できます。通常、還元は手数料クレジットとして扱います。"),
    )
    proposed_by = models.CharField(max_length=10, default="company")
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["company__name", "agency__name"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["company", "agency"],
                condition=~Q(status="ended"),
                name="partnership_one_open_per_pair",
            )
        ]
        verbose_name = _("提携")
        verbose_name_plural = _("提携")

    def __str__(self) -> str:
        return f"{self.company} ⇄ {self.agency}"
