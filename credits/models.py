"""The double-entry, append-only credit ledger, settlement runs and statements.

For each partnership the company holds `points`, `free_hires` and `rebate_jpy` accounts and the
agency holds the matching issuer accounts; every transaction's entries sum to zero per unit.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from careerrelay.core.tenancy_models import TenantOwned


class Unit(models.TextChoices):
    POINTS = "points", _("ポイント")
    FREE_HIRES = "free_hires", _("無料採用枠")
    JPY = "jpy", _("円")


class AccountName(models.TextChoices):
    POINTS = "points", _("有効紹介ポイント")
    FREE_HIRES = "free_hires", _("無料採用枠")
    REBATE_JPY = "rebate_jpy", _("還元クレジット（円）")
    POINTS_ISSUED = "points_issued", _("発行ポイント")
    FREE_HIRES_ISSUED = "free_hires_issued", _("付与した無料採用枠")
    REBATE_OWED = "rebate_owed", _("還元債務（円）")


ACCOUNT_UNIT = {
    AccountName.POINTS: Unit.POINTS,
    AccountName.POINTS_ISSUED: Unit.POINTS,
    AccountName.FREE_HIRES: Unit.FREE_HIRES,
    AccountName.FREE_HIRES_ISSUED: Unit.FREE_HIRES,
    AccountName.REBATE_JPY: Unit.JPY,
    AccountName.REBATE_OWED: Unit.JPY,
}


class EntryKind(models.TextChoices):
    QUALIFY = "qualify", _("有効紹介")
    DISQUALIFY = "disqualify", _("紹介の無効化")
    CONVERT = "convert", _("無料採用枠への交換")
    REDEEM = "redeem", _("無料採用枠の利用")
    RESTORE = "restore", _("早期退職による無料採用枠の復元")
    REBATE = "rebate", _("手数料還元")
    REFUND_ADJUST = "refund_adjust", _("返金による還元の調整")
    REVERSE = "reverse", _("取消")


class LedgerAccount(TenantOwned):
    tenant_fields: ClassVar[tuple[str, ...]] = ("company", "agency")
    partnership = models.ForeignKey(
        "companies.Partnership",
        on_delete=models.PROTECT,
        related_name="accounts",
        verbose_name=_("提携"),
    )
    company = models.ForeignKey(
        "companies.Company", on_delete=models.PROTECT, related_name="+", verbose_name=_("企業")
    )
    agency = models.ForeignKey(
        "agencies.Agency", on_delete=models.PROTECT, related_name="+", verbose_name=_("紹介会社")
    )
    name = models.CharField(_("勘定"), max_length=20, choices=AccountName.choices)
    unit = models.CharField(_("単位"), max_length=12, choices=Unit.choices)
    # Cached sum of entries, updated in the posting transaction under a row lock.
    balance = models.BigIntegerField(_("残高"), default=0)
    # Cached sums of entries per entry kind ({"qualify": 12, "convert": -10, ...}), kept with
    # `balance` under the same row lock, so the credit summary reads the accounts only and does
    # not grow with the ledger's history.
    totals = models.JSONField(_("種類ごとの累計"), default=dict, blank=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["partnership", "name"], name="account_unique_name")
        ]
        verbose_name = _("勘定")
        verbose_name_plural = _("勘定")

    def __str__(self) -> str:
        return f"{self.partnership_id}:{self.name}"


# The tenant keys of transactions and entries (partnership, company, agency) are copies of the
# account's, kept on the rows for tenant scoping (and Citus). They carry no database foreign key
# of their own: a foreign-key check per key and row at COMMIT was most of settlement's time.
# The ledger's statement trigger (migration 0007) instead refuses any entry whose keys, account
# name or unit differ from its account's, or whose keys differ from its transaction's; accounts
# (which keep real foreign keys) can be neither deleted nor re-pointed.
_TENANT_KEY = {"on_delete": models.PROTECT, "related_name": "+", "db_constraint": False}


class _LedgerRow(TenantOwned):
    """The copied tenant keys of transactions and entries. Not indexed on their own: conversions
    are counted through credits_tx_convert_idx (migration 0004), scoped entry reads go through
    entry_co_time_idx / entry_ag_time_idx."""

    tenant_fields: ClassVar[tuple[str, ...]] = ("company", "agency")
    partnership = models.ForeignKey(
        "companies.Partnership", db_index=False, verbose_name=_("提携"), **_TENANT_KEY
    )
    company = models.ForeignKey(
        "companies.Company", db_index=False, verbose_name=_("企業"), **_TENANT_KEY
    )
    agency = models.ForeignKey(
        "agencies.Agency", db_index=False, verbose_name=_("紹介会社"), **_TENANT_KEY
    )

    class Meta:
        abstract = True


class LedgerTransaction(_LedgerRow):
    kind = models.CharField(_("種類"), max_length=16, choices=EntryKind.choices)
    idempotency_key = models.CharField(_("冪等キー"), max_length=120, unique=True)
    # Referral and placement are checked (and locked FOR KEY SHARE) once per INSERT statement by
    # the ledger's transaction trigger, and kept from deletion by triggers on their tables
    # (migration 0010), not by a deferred foreign-key check per row at COMMIT. Indexed: the
    # deletion guards and the reads by referral or placement go through them.
    referral = models.ForeignKey(
        "referrals.Referral",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        verbose_name=_("対象の紹介"),
    )
    placement = models.ForeignKey(
        "agencies.Placement",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        verbose_name=_("成約"),
    )
    period = models.CharField(_("精算期間"), max_length=7, blank=True)
    memo = models.CharField(_("メモ"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("取引")
        verbose_name_plural = _("取引")

    def __str__(self) -> str:
        return self.idempotency_key


class LedgerEntry(_LedgerRow):
    # The statement trigger checks that the transaction exists (and shares the entry's keys);
    # transactions are never updated or deleted (migration 0003), so no per-row foreign-key
    # check at COMMIT is needed to keep it so.
    transaction = models.ForeignKey(
        LedgerTransaction,
        on_delete=models.PROTECT,
        related_name="entries",
        db_constraint=False,
        verbose_name=_("取引"),
    )
    # Checked by the ledger's statement trigger, not per row at COMMIT (see _TENANT_KEY). Not
    # indexed: the flows per account are the account's running totals, not a scan of entries.
    account = models.ForeignKey(
        LedgerAccount,
        on_delete=models.PROTECT,
        related_name="entries",
        db_constraint=False,
        db_index=False,
        verbose_name=_("勘定"),
    )
    account_name = models.CharField(_("勘定"), max_length=20, choices=AccountName.choices)
    unit = models.CharField(_("単位"), max_length=12, choices=Unit.choices)
    amount = models.BigIntegerField(_("金額・数量"))
    kind = models.CharField(_("種類"), max_length=16, choices=EntryKind.choices)
    idempotency_key = models.CharField(_("冪等キー"), max_length=140, unique=True)
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("仕訳")
        verbose_name_plural = _("仕訳")
        indexes: ClassVar = [
            models.Index(fields=["company", "created_at"], name="entry_co_time_idx"),
            models.Index(fields=["agency", "created_at"], name="entry_ag_time_idx"),
        ]

    def __str__(self) -> str:
        return self.idempotency_key


class SettlementRun(models.Model):
    """One per period. A second trigger finds the row and resumes or does nothing."""

    class Status(models.TextChoices):
        RUNNING = "running", _("実行中")
        DONE = "done", _("完了")

    period = models.CharField(_("精算期間"), max_length=7, unique=True)
    status = models.CharField(
        _("状態"), max_length=10, choices=Status.choices, default=Status.RUNNING
    )
    started_at = models.DateTimeField(_("開始日時"), auto_now_add=True)
    finished_at = models.DateTimeField(_("完了日時"), null=True, blank=True)
    rebates_posted = models.PositiveIntegerField(_("計上した還元"), default=0)
    adjustments_posted = models.PositiveIntegerField(_("計上した調整"), default=0)
    statements_rendered = models.PositiveIntegerField(_("作成した明細書"), default=0)

    class Meta:
        ordering = ["-period"]
        verbose_name = _("精算")
        verbose_name_plural = _("精算")

    def __str__(self) -> str:
        return self.period


class StatementKind(models.TextChoices):
    COMPANY = "company", _("企業向け明細")
    AGENCY = "agency", _("紹介会社向け明細")


class Statement(TenantOwned):
    tenant_fields: ClassVar[tuple[str, ...]] = ("company", "agency")
    period = models.CharField(_("対象期間"), max_length=7, db_index=True)
    kind = models.CharField(_("種類"), max_length=10, choices=StatementKind.choices)
    company = models.ForeignKey(
        "companies.Company",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("企業"),
    )
    agency = models.ForeignKey(
        "agencies.Agency",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("紹介会社"),
    )
    total_jpy = models.BigIntegerField(_("合計（円）"), default=0)
    tax_jpy = models.BigIntegerField(_("消費税（円）"), default=0)
    lines = models.JSONField(_("明細行"), default=list)
    pdf = models.FileField("PDF", upload_to="statements/", blank=True)
    issued_on = models.DateField(_("交付日"))
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)

    class Meta:
        ordering = ["-period", "kind", "id"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["period", "company"],
                condition=Q(kind="company"),
                name="statement_one_per_company_period",
            ),
            models.UniqueConstraint(
                fields=["period", "agency"],
                condition=Q(kind="agency"),
                name="statement_one_per_agency_period",
            ),
        ]
        verbose_name = _("明細書")
        verbose_name_plural = _("明細書")

    def __str__(self) -> str:
        return f"{self.period} {self.kind}"
