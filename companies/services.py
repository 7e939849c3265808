"""Writes for companies and partnerships (紹介提携). Each service is one transaction and writes
its audit row in it."""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from agencies.models import Agency
from careerrelay.core.audit import audit_record
from careerrelay.core.errors import ApplicationError
from careerrelay.core.memberships import membership_create
from careerrelay.core.tenancy_models import Role
from companies.models import Company, Partnership, PartnershipStatus
from companies.selectors import agency_is_verified

RESERVED_SLUGS = frozenset({"admin", "api", "app", "partner", "static", "media", "accounts"})


def _unique_slug(base: str) -> str:
    base = slugify(base)[:40].strip("-")
    while True:
        candidate = f"{base or 'company'}-{secrets.token_hex(3)}"
        if not Company.objects.filter(slug=candidate).exists():
            return candidate


@transaction.atomic
def company_slug_check(*, slug: str) -> None:
    """A chosen identifier must be free and not reserved. Raises ApplicationError (field `slug`);
    no side effects. Forms call it to show this error next to the others."""
    if slug in RESERVED_SLUGS:
        raise ApplicationError(_("この識別子は使用できません。"), field="slug")
    if Company.objects.filter(slug=slug).exists() or Agency.objects.filter(slug=slug).exists():
        raise ApplicationError(_("この識別子はすでに使われています。"), field="slug")


def company_create(
    *,
    name: str,
    owner: Any,
    slug: str = "",
    website: str = "",
    invoice_registration_number: str = "",
) -> Company:
    """An HR person creates their company and becomes its owner.
    Side effects: the owner membership and two audit rows."""
    name = name.strip()
    if not name:
        raise ApplicationError(_("会社名を入力してください。"), field="name")
    slug = slug.strip().lower()
    if slug:
        company_slug_check(slug=slug)
    else:
        slug = _unique_slug(name)
    company = Company(
        name=name,
        slug=slug,
        website=website,
        invoice_registration_number=invoice_registration_number,
    )
    try:
        company.full_clean()
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise ApplicationError(messages[0], field=field) from exc
    try:
        with transaction.atomic():
            company.save()
    except IntegrityError as exc:
        raise ApplicationError(_("この識別子はすでに使われています。"), field="slug") from exc
    audit_record(
        actor=owner, tenant=company, action="company.created", target=company, data={"slug": slug}
    )
    membership_create(tenant=company, user=owner, role=Role.OWNER, actor=owner)
    return company


def _partnership_audit(partnership: Partnership, *, actor: Any, action: str, **data: Any) -> None:
    payload = {
        "company": partnership.company.slug,
        "agency": partnership.agency.slug,
        "status": partnership.status,
        **data,
    }
    # Both parties see the event in their own audit trail.
    for tenant in (partnership.company, partnership.agency):
        audit_record(actor=actor, tenant=tenant, action=action, target=partnership, data=payload)


def _check_terms(referrals_per_free_hire: int, rebate_rate: Decimal) -> None:
    if not 1 <= int(referrals_per_free_hire) <= 1000:
        raise ApplicationError(
            _("無料採用1件に必要な有効紹介数は1〜1000で入力してください。"),
            field="referrals_per_free_hire",
        )
    if not Decimal(0) <= Decimal(rebate_rate) <= Decimal(100):
        raise ApplicationError(_("還元率は0〜100%の範囲で入力してください。"), field="rebate_rate")


def _lock_pair(company: Company, agency: Agency) -> list[Partnership]:
    """Lock the open partnerships of the pair; the company row serialises concurrent proposals."""
    Company.objects.select_for_update().filter(pk=company.pk).first()
    return list(
        Partnership.objects.for_tenant(company)
        .select_for_update()
        .filter(agency=agency, status__in=[PartnershipStatus.PROPOSED, PartnershipStatus.ACTIVE])
    )


@transaction.atomic
def partnership_propose(
    *,
    company: Company,
    agency: Agency,
    actor: Any,
    referrals_per_free_hire: int = 10,
    rebate_rate: Decimal = Decimal("10.00"),
) -> Partnership:
    """A company proposes a partnership to an agency. Refuses (nothing written) if the pair
    already has a proposed or active partnership. Side effects: audit rows for both parties."""
    _check_terms(referrals_per_free_hire, rebate_rate)
    if _lock_pair(company, agency):
        raise ApplicationError(
            _("%(agency)s とはすでに提携中、または提案中です。") % {"agency": agency.name},
            field="agency",
        )
    if not agency_is_verified(agency):
        raise ApplicationError(
            _("許可番号が確認済みで有効期限内の紹介会社にだけ提案できます。"), field="agency"
        )
    partnership = Partnership.objects.create(
        company=company,
        agency=agency,
        status=PartnershipStatus.PROPOSED,
        referrals_per_free_hire=referrals_per_free_hire,
        rebate_rate=Decimal(rebate_rate),
        proposed_by="company",
    )
    _partnership_audit(
        partnership,
        actor=actor,
        action="partnership.proposed",
        referrals_per_free_hire=referrals_per_free_hire,
        rebate_rate=str(rebate_rate),
    )
    return partnership


@transaction.atomic
def partnership_create_by_operator(
    *,
    company: Company,
    agency: Agency,
    actor: Any,
    referrals_per_free_hire: int = 10,
    rebate_rate: Decimal = Decimal("10.00"),
    payout_mode: bool = False,
) -> Partnership:
    """An operator creates an active partnership directly (from the admin). The agency must be
    verified. Side effects: audit rows for both parties."""
    _check_terms(referrals_per_free_hire, rebate_rate)
    if not agency_is_verified(agency):
        raise ApplicationError(
            _("許可番号が確認済みで有効期限内の紹介会社とだけ提携できます。"), field="agency"
        )
    if _lock_pair(company, agency):
        raise ApplicationError(
            _("%(agency)s とはすでに提携中、または提案中です。") % {"agency": agency.name},
            field="agency",
        )
    partnership = Partnership.objects.create(
        company=company,
        agency=agency,
        status=PartnershipStatus.ACTIVE,
        referrals_per_free_hire=referrals_per_free_hire,
        rebate_rate=Decimal(rebate_rate),
        payout_mode=payout_mode,
        proposed_by="operator",
        activated_at=timezone.now(),
    )
    _partnership_audit(partnership, actor=actor, action="partnership.created_by_operator")
    return partnership


def _locked(partnership: Partnership) -> Partnership:
    return (
        Partnership.objects.unscoped()
        .select_for_update()
        .select_related("company", "agency")
        .get(pk=partnership.pk)
    )


@transaction.atomic
def partnership_accept(*, partnership: Partnership, actor: Any) -> Partnership:
    """The agency accepts a proposal: proposed → active. The agency's licence must be verified
    and unexpired. Side effects: audit rows for both parties."""
    partnership = _locked(partnership)
    if partnership.status == PartnershipStatus.ACTIVE:
        return partnership
    if partnership.status != PartnershipStatus.PROPOSED:
        raise ApplicationError(_("この提携は終了しているため承諾できません。"))
    if not agency_is_verified(partnership.agency):
        raise ApplicationError(
            _(
                "許可番号が運営者により確認され、有効期限内である必要があります。運営者にお問い合わせください。"
            )
        )
    partnership.status = PartnershipStatus.ACTIVE
    partnership.activated_at = timezone.now()
    partnership.save(update_fields=["status", "activated_at"])
    _partnership_audit(partnership, actor=actor, action="partnership.accepted")
    return partnership


@transaction.atomic
def partnership_decline(*, partnership: Partnership, actor: Any) -> Partnership:
    """The agency declines a proposal: proposed → ended. Side effects: audit rows."""
    partnership = _locked(partnership)
    if partnership.status != PartnershipStatus.PROPOSED:
        raise ApplicationError(_("提案中の提携だけを辞退できます。"))
    partnership.status = PartnershipStatus.ENDED
    partnership.ended_at = timezone.now()
    partnership.save(update_fields=["status", "ended_at"])
    _partnership_audit(partnership, actor=actor, action="partnership.declined")
    return partnership


@transaction.atomic
def partnership_end(*, partnership: Partnership, actor: Any) -> Partnership:
    """Either party ends a proposed or active partnership (idempotent): its links stop taking
    new referrals, the ledger stays. Side effects: audit rows on the first call."""
    partnership = _locked(partnership)
    if partnership.status == PartnershipStatus.ENDED:
        return partnership
    partnership.status = PartnershipStatus.ENDED
    partnership.ended_at = timezone.now()
    partnership.save(update_fields=["status", "ended_at"])
    _partnership_audit(partnership, actor=actor, action="partnership.ended")
    return partnership
