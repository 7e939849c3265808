"""Partner-portal writes: placements (成約), early leave (早期退職), the referral pipeline and
recruiter notes. One function per use case, transactional; the ledger is written only through
the credits services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Agency, Placement, PlacementStatus, ReferralNote
from careerrelay.core.audit import audit_record
from careerrelay.core.errors import ApplicationError
from careerrelay.core.money import yen_floor
from companies.models import Company, Partnership, PartnershipStatus
from referrals.models import Referral, ReferralStage, ReferralStatus

# A theoretical annual salary above this is a typo, not a hire (10 億円).
MAX_ANNUAL_SALARY_JPY = 1_000_000_000
# Referral statuses that cannot be placed: the candidate is not (or no longer) ours to place.
UNPLACEABLE_STATUSES = (ReferralStatus.DISQUALIFIED, ReferralStatus.WITHDRAWN)


def _user(actor: Any) -> Any:
    """The signed-in User behind a request, or None (an API key is not a user row)."""
    from django.contrib.auth import get_user_model

    return actor if isinstance(actor, get_user_model()) and actor.pk else None


# --- refund schedule (返金規定) ----------------------------------------------------------------


def refund_tiers_normalised(tiers: Any) -> list[list[int]]:
    """[[days, percent], ...] sorted by days; raises ApplicationError on a malformed schedule."""
    try:
        rows = sorted([int(days), int(pct)] for days, pct in tiers)
    except (TypeError, ValueError) as exc:
        raise ApplicationError(
            _("紹介会社の返金規定が正しく設定されていません。"), field="refund_tiers"
        ) from exc
    if not rows or any(days <= 0 or not 0 <= pct <= 100 for days, pct in rows):
        raise ApplicationError(
            _("紹介会社の返金規定が正しく設定されていません。"), field="refund_tiers"
        )
    return rows


def guarantee_end(*, start_date: dt.date, tiers: list[list[int]]) -> dt.date:
    """The guarantee period ends when the last refund tier ends."""
    return start_date + dt.timedelta(days=tiers[-1][0])


def refund_percent(*, start_date: dt.date, left_on: dt.date, tiers: list[list[int]]) -> int:
    """The refund percent of the first tier whose day limit the stay did not exceed."""
    days = (left_on - start_date).days
    for limit, pct in tiers:
        if days <= limit:
            return pct
    return 0


# --- placements ---------------------------------------------------------------------------------


def _salary(value: Any) -> int:
    try:
        salary = int(value)
    except (TypeError, ValueError) as exc:
        raise ApplicationError(
            _("理論年収は円単位の整数で入力してください。"), field="annual_salary_jpy"
        ) from exc
    if salary <= 0:
        raise ApplicationError(
            _("理論年収は1円以上で入力してください。"), field="annual_salary_jpy"
        )
    if salary > MAX_ANNUAL_SALARY_JPY:
        raise ApplicationError(
            _("理論年収が大きすぎます（10億円以下で入力してください）。"),
            field="annual_salary_jpy",
        )
    return salary


def _fee_rate(value: Any, *, agency: Agency) -> Decimal:
    if value in (None, ""):
        return Decimal(agency.default_fee_rate)
    try:
        rate = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ApplicationError(_("手数料率は数値で入力してください。"), field="fee_rate") from exc
    if not rate.is_finite() or rate <= 0 or rate > 100:
        raise ApplicationError(
            _("手数料率は0%より大きく100%以下で入力してください。"), field="fee_rate"
        )
    if rate != rate.quantize(Decimal("0.01")):
        raise ApplicationError(
            _("手数料率は小数点以下2桁までで入力してください。"), field="fee_rate"
        )
    return rate


def placement_input_check(
    *,
    annual_salary_jpy: Any,
    fee_rate: Any = None,
    referral_id: Any = None,
    candidate_name: str = "",
    hiring_company_slug: str = "",
    hiring_company_name: str = "",
) -> dict[str, str]:
    """The placement rules that depend on the input alone, each one checked: {field: message}
    for every field that breaks its rule (empty when all pass). No side effects. Lets a form or
    serializer show every error at once; `placement_create` applies the same rules and those
    that need the database (ownership, dates against the referral, free hires)."""
    errors: dict[str, str] = {}
    try:
        _salary(annual_salary_jpy)
    except ApplicationError as exc:
        errors["annual_salary_jpy"] = exc.message
    if fee_rate not in (None, ""):
        try:
            _fee_rate(fee_rate, agency=None)  # type: ignore[arg-type] - only a blank rate reads it
        except ApplicationError as exc:
            errors["fee_rate"] = exc.message
    if referral_id in (None, "") and not (candidate_name or "").strip():
        errors["referral"] = str(_("紹介を選択するか、候補者名を入力してください。"))
    if not (hiring_company_slug or "").strip() and not (hiring_company_name or "").strip():
        errors["hiring_company_name"] = str(_("入社先企業名を入力してください。"))
    return errors


def _agency_referral(*, agency: Agency, referral_id: Any) -> Referral:
    """The agency's own referral, locked. Unknown and another agency's referral read alike."""
    not_found = ApplicationError(_("指定された紹介が見つかりません。"), field="referral")
    try:
        pk = int(referral_id)
    except (TypeError, ValueError) as exc:
        raise not_found from exc
    referral = (
        Referral.objects.for_tenant(agency)
        .select_related("company", "partnership")
        .select_for_update(of=("self",))
        .filter(pk=pk)
        .first()
    )
    if referral is None:
        raise not_found
    return referral


def _partnered_company(*, agency: Agency, slug: str) -> Company:
    """A platform company the agency has (or had) a partnership with, by slug."""
    company_ids = Partnership.objects.for_tenant(agency).values("company_id")
    company = Company.objects.filter(slug=slug, pk__in=company_ids).first()
    if company is None:
        raise ApplicationError(_("指定された入社先企業が見つかりません。"), field="hiring_company")
    return company


@transaction.atomic
def placement_create(
    *,
    agency: Agency,
    actor: Any = None,
    referral_id: Any = None,
    candidate_name: str = "",
    hiring_company_slug: str = "",
    hiring_company_name: str = "",
    annual_salary_jpy: Any,
    fee_rate: Any = None,
    start_date: dt.date,
    free_hire: bool = False,
) -> Placement:
    """Record a hire reported by the agency.

    fee = floor(salary × rate); the agency's refund schedule is snapshotted and the guarantee
    ends with its last tier. `free_hire=True` at a company holding a free hire with this
    agency redeems it (fee 0, the fee that would have been charged is kept as waived).

    Side effects: a Placement row; the referral's stage set to 入社; with `free_hire`, a
    `redeem:<placement>` ledger posting; an audit row. Raises ApplicationError (nothing
    written) on bad input.
    """
    actor = _user(actor)
    from credits.services import free_hire_redeem

    salary = _salary(annual_salary_jpy)
    rate = _fee_rate(fee_rate, agency=agency)
    tiers = refund_tiers_normalised(agency.refund_tiers)
    if not isinstance(start_date, dt.date):
        raise ApplicationError(_("入社日を正しく入力してください。"), field="start_date")

    referral: Referral | None = None
    candidate_name = (candidate_name or "").strip()[:100]
    if referral_id not in (None, ""):
        referral = _agency_referral(agency=agency, referral_id=referral_id)
        if referral.status in UNPLACEABLE_STATUSES:
            raise ApplicationError(
                _("無効または同意撤回済みの紹介は成約報告できません。"), field="referral"
            )
        already = (
            Placement.objects.for_tenant(agency)
            .filter(referral=referral)
            .exclude(status=PlacementStatus.LEFT_EARLY)
            .exists()
        )
        if already:
            raise ApplicationError(_("この紹介はすでに成約報告されています。"), field="referral")
        referred_on = timezone.localdate(referral.created_at)
        if start_date < referred_on:
            raise ApplicationError(
                _("入社日が紹介日（%(date)s）より前になっています。")
                % {"date": referred_on.isoformat()},
                field="start_date",
            )
    elif not candidate_name:
        raise ApplicationError(
            _("紹介を選択するか、候補者名を入力してください。"), field="referral"
        )

    hiring_company: Company | None = None
    hiring_company_name = (hiring_company_name or "").strip()[:200]
    if hiring_company_slug:
        hiring_company = _partnered_company(agency=agency, slug=hiring_company_slug.strip())
        hiring_company_name = hiring_company_name or hiring_company.name
    elif referral is not None and hiring_company_name == referral.company.name:
        hiring_company = referral.company
    if not hiring_company_name:
        raise ApplicationError(_("入社先企業名を入力してください。"), field="hiring_company_name")

    fee = yen_floor(salary, rate)
    partnership: Partnership | None = referral.partnership if referral else None
    if free_hire:
        if hiring_company is None:
            raise ApplicationError(
                _("無料採用枠は、枠を保有するプラットフォーム上の企業でのみ使えます。"),
                field="free_hire",
            )
        partnership = (
            Partnership.objects.for_tenant(agency)
            .filter(company=hiring_company)
            .exclude(status=PartnershipStatus.ENDED)
            .first()
        )
        if partnership is None:
            raise ApplicationError(
                _("この企業とは提携がないため、無料採用枠は使えません。"),
                field="free_hire",
            )

    placement = Placement.objects.create(
        agency=agency,
        referral=referral,
        company=referral.company if referral else None,
        partnership=partnership,
        candidate_name="" if referral else candidate_name,
        hiring_company=hiring_company,
        hiring_company_name=hiring_company_name,
        annual_salary_jpy=salary,
        fee_rate=rate,
        fee_jpy=0 if free_hire else fee,
        waived_fee_jpy=fee if free_hire else 0,
        start_date=start_date,
        guarantee_ends_on=guarantee_end(start_date=start_date, tiers=tiers),
        refund_tiers=tiers,
        free_hire=bool(free_hire),
        created_by=actor,
    )
    if free_hire:
        free_hire_redeem(placement=placement)
    if referral is not None and referral.stage != ReferralStage.PLACED:
        referral.stage = ReferralStage.PLACED
        referral.save(update_fields=["stage"])
    audit_record(
        actor=actor,
        tenant=agency,
        action="placement.created",
        target=placement,
        data={"fee_jpy": placement.fee_jpy, "free_hire": placement.free_hire},
    )
    return placement


@transaction.atomic
def placement_early_leave(
    *, placement: Placement, left_on: dt.date, actor: Any = None
) -> Placement:
    """Report that the placed candidate left within the guarantee period (早期退職).

    refund = floor(fee × tier percent) by days since the start date. A redeemed free hire is
    restored. If the rebate of this placement was already settled, the next settlement posts
    a negative adjustment (`refund_adjust:<placement>`).

    Side effects: the Placement updated; with a free hire, a `restore:<placement>` posting; an
    audit row. Raises ApplicationError (nothing written) on a date before the start, after the
    guarantee, in the future, or a second report.
    """
    actor = _user(actor)
    from credits.services import free_hire_restore

    placement = (
        Placement.objects.for_tenant(placement.agency)
        .select_for_update()
        .select_related("agency")
        .get(pk=placement.pk)
    )
    if placement.status == PlacementStatus.LEFT_EARLY:
        raise ApplicationError(_("早期退職はすでに報告されています。"), field="left_on")
    if not isinstance(left_on, dt.date):
        raise ApplicationError(_("退職日を正しく入力してください。"), field="left_on")
    if left_on < placement.start_date:
        raise ApplicationError(_("退職日が入社日より前になっています。"), field="left_on")
    if left_on > timezone.localdate():
        raise ApplicationError(_("退職日に未来の日付は指定できません。"), field="left_on")
    if left_on > placement.guarantee_ends_on:
        raise ApplicationError(
            _("退職日が返金保証期間（%(date)sまで）を過ぎているため、返金の対象外です。")
            % {"date": placement.guarantee_ends_on.isoformat()},
            field="left_on",
        )
    pct = refund_percent(
        start_date=placement.start_date, left_on=left_on, tiers=placement.refund_tiers
    )
    placement.status = PlacementStatus.LEFT_EARLY
    placement.left_on = left_on
    placement.refund_jpy = yen_floor(int(placement.fee_jpy), pct)
    placement.left_reported_at = timezone.now()
    placement.adjustment_pending = bool(placement.rebate_period)
    placement.save(
        update_fields=[
            "status",
            "left_on",
            "refund_jpy",
            "left_reported_at",
            "adjustment_pending",
        ]
    )
    if placement.free_hire:
        free_hire_restore(placement=placement)
    audit_record(
        actor=actor,
        tenant=placement.agency,
        action="placement.left_early",
        target=placement,
        data={"left_on": left_on.isoformat(), "refund_percent": pct},
    )
    return placement


# --- the referral pipeline ----------------------------------------------------------------------


def _locked_referral(*, agency: Agency, referral: Referral) -> Referral:
    return Referral.objects.for_tenant(agency).select_for_update(of=("self",)).get(pk=referral.pk)


@transaction.atomic
def referral_stage_set(
    *, agency: Agency, referral: Referral, stage: str, actor: Any = None
) -> Referral:
    """Move a referral along the agency's pipeline (新規 → 連絡済み → … → 入社 / 終了).

    Side effects: Referral.stage updated; an audit row when it changed."""
    actor = _user(actor)
    if stage not in ReferralStage.values:
        raise ApplicationError(_("選択された段階は存在しません。"), field="stage")
    referral = _locked_referral(agency=agency, referral=referral)
    if referral.status == ReferralStatus.WITHDRAWN:
        raise ApplicationError(_("同意が撤回された候補者の段階は変更できません。"), field="stage")
    if referral.stage != stage:
        previous = referral.stage
        referral.stage = stage
        referral.save(update_fields=["stage"])
        audit_record(
            actor=actor,
            tenant=agency,
            action="referral.stage",
            target=referral,
            data={"from": previous, "to": stage},
        )
    return referral


@transaction.atomic
def referral_stage_bulk_set(
    *, agency: Agency, referral_ids: list[int], stage: str, actor: Any = None
) -> int:
    """Set the stage of several referrals of this agency at once (others' ids are ignored).

    Side effects: Referral.stage updated, one audit row per changed referral. Returns how many
    changed."""
    actor = _user(actor)
    if stage not in ReferralStage.values:
        raise ApplicationError(_("選択された段階は存在しません。"), field="stage")
    if not referral_ids:
        raise ApplicationError(_("候補者を1人以上選択してください。"), field="referrals")
    rows = list(
        Referral.objects.for_tenant(agency)
        .filter(pk__in=referral_ids)
        .exclude(status=ReferralStatus.WITHDRAWN)
        .exclude(stage=stage)
        .order_by("pk")
        .select_for_update(of=("self",))
    )
    for referral in rows:
        audit_record(
            actor=actor,
            tenant=agency,
            action="referral.stage",
            target=referral,
            data={"from": referral.stage, "to": stage},
        )
    Referral.all_objects.filter(pk__in=[r.pk for r in rows]).update(stage=stage)
    return len(rows)


@transaction.atomic
def referral_note_add(
    *, agency: Agency, referral: Referral, body: str, actor: Any = None
) -> ReferralNote:
    """Add a recruiter's note to a referral. Side effects: a ReferralNote row."""
    actor = _user(actor)
    body = (body or "").strip()
    if not body:
        raise ApplicationError(_("メモを入力してください。"), field="body")
    if len(body) > 2000:
        raise ApplicationError(_("メモは2000文字以内で入力してください。"), field="body")
    return ReferralNote.objects.create(
        agency=agency,
        referral=referral,
        body=body,
        author=actor,
    )
