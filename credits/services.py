"""Ledger writes. Every posting is one transaction of entries that sum to zero per unit, keyed by
an idempotency key derived from its cause, so a retry can never post twice.

Locking order (against deadlocks): the cause's row first (referral, placement), then the
partnership's accounts in primary-key order. All six accounts of a partnership are created
together on first use, so their pk order is the fixed order of `AccountName`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from careerrelay.core.audit import audit_actor, audit_bulk_create, audit_record
from careerrelay.core.errors import ApplicationError
from careerrelay.core.models import AuditEvent
from credits.models import (
    ACCOUNT_UNIT,
    AccountName,
    EntryKind,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
)

if TYPE_CHECKING:
    from agencies.models import Placement
    from companies.models import Partnership
    from referrals.models import Referral

# The accounts every conversion touches; locked together up front by qualify/disqualify.
POINT_AND_FREE_HIRE_ACCOUNTS = (
    AccountName.POINTS,
    AccountName.FREE_HIRES,
    AccountName.POINTS_ISSUED,
    AccountName.FREE_HIRES_ISSUED,
)


class LedgerImbalanceError(ValueError):
    """The legs of a posting do not sum to zero per unit (a programming error)."""


# --- accounts -------------------------------------------------------------------------------


def _ensure_accounts(*, partnership: Partnership) -> None:
    """Create the partnership's six accounts if any is missing (concurrency-safe)."""
    LedgerAccount.objects.bulk_create(
        [
            LedgerAccount(
                partnership=partnership,
                company_id=partnership.company_id,
                agency_id=partnership.agency_id,
                name=name,
                unit=ACCOUNT_UNIT[name],
            )
            for name in AccountName
        ],
        ignore_conflicts=True,
    )


def accounts_lock(*, partnership: Partnership, names: Iterable[str]) -> dict[str, LedgerAccount]:
    """Lock the named accounts of a partnership (SELECT ... FOR UPDATE, pk order), creating
    them on first use. Must run inside a transaction. Returns them by name."""
    wanted = set(names)

    def fetch() -> dict[str, LedgerAccount]:
        rows = (
            LedgerAccount.objects.unscoped()
            .filter(partnership=partnership, name__in=wanted)
            .order_by("pk")
            .select_for_update()
        )
        return {account.name: account for account in rows}

    accounts = fetch()
    if len(accounts) < len(wanted):
        _ensure_accounts(partnership=partnership)
        accounts = fetch()
    return accounts


def account_balances(*, partnership: Partnership) -> dict[str, int]:
    """Cached balances of all six accounts of a partnership (0 for accounts not yet used)."""
    balances = {str(name): 0 for name in AccountName}
    for name, balance in (
        LedgerAccount.objects.unscoped()
        .filter(partnership=partnership)
        .values_list("name", "balance")
    ):
        balances[name] = int(balance)
    return balances


# --- the posting primitive ------------------------------------------------------------------


def _check_legs(legs: list[tuple[str, int]]) -> None:
    if not legs:
        raise LedgerImbalanceError("a posting needs at least one leg")
    per_unit: dict[str, int] = defaultdict(int)
    seen: set[str] = set()
    for name, amount in legs:
        if name not in ACCOUNT_UNIT:
            raise LedgerImbalanceError(f"unknown account {name!r}")
        if name in seen:
            raise LedgerImbalanceError(f"account {name!r} appears twice in one posting")
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise LedgerImbalanceError(f"amount for {name!r} must be an int")
        seen.add(name)
        per_unit[ACCOUNT_UNIT[AccountName(name)]] += amount
    unbalanced = {unit: total for unit, total in per_unit.items() if total != 0}
    if unbalanced:
        raise LedgerImbalanceError(f"legs do not sum to zero per unit: {unbalanced}")


@transaction.atomic
def ledger_post(
    *,
    partnership: Partnership,
    kind: str,
    idempotency_key: str,
    legs: list[tuple[str, int]],
    referral: Referral | None = None,
    placement: Placement | None = None,
    period: str = "",
    memo: str = "",
    actor: Any = None,
) -> LedgerTransaction:
    """Post one balanced transaction, or return the existing one with this idempotency key.

    Side effects: creates the partnership's accounts on first use; locks the touched accounts
    (pk order) and updates their cached balances and per-kind totals; writes one
    LedgerTransaction, one LedgerEntry per leg (key `<tx key>:<account>`, all in one INSERT:
    the database checks each statement's transactions balance) and an audit row for company
    and agency.
    Raises LedgerImbalanceError if the legs do not sum to zero per unit.
    """
    _check_legs(legs)
    accounts = accounts_lock(partnership=partnership, names=[name for name, _amount in legs])
    tx, _created = _post_locked(
        partnership=partnership,
        accounts=accounts,
        kind=kind,
        idempotency_key=idempotency_key,
        legs=legs,
        referral=referral,
        placement=placement,
        period=period,
        memo=memo,
        actor=actor,
    )
    return tx


def _post_locked(
    *,
    partnership: Partnership,
    accounts: dict[str, LedgerAccount],
    kind: str,
    idempotency_key: str,
    legs: list[tuple[str, int]],
    referral: Referral | None = None,
    placement: Placement | None = None,
    period: str = "",
    memo: str = "",
    actor: Any = None,
) -> tuple[LedgerTransaction, bool]:
    """The body of `ledger_post` for a caller that already holds the locks of `accounts`
    (inside its transaction). Updates the balances of the given account objects in place.
    Returns (transaction, created)."""
    _check_legs(legs)
    try:
        # The unique idempotency key decides: a concurrent or earlier poster of the same key
        # makes this insert fail, and we answer with that poster's transaction.
        with transaction.atomic():
            tx = LedgerTransaction.objects.create(
                partnership=partnership,
                company_id=partnership.company_id,
                agency_id=partnership.agency_id,
                kind=kind,
                idempotency_key=idempotency_key,
                referral=referral,
                placement=placement,
                period=period,
                memo=memo,
            )
    except IntegrityError:
        existing = (
            LedgerTransaction.objects.unscoped().filter(idempotency_key=idempotency_key).first()
        )
        if existing is None:
            raise
        return existing, False
    LedgerEntry.objects.bulk_create(
        [
            LedgerEntry(
                transaction=tx,
                account=accounts[name],
                partnership=partnership,
                company_id=partnership.company_id,
                agency_id=partnership.agency_id,
                account_name=name,
                unit=ACCOUNT_UNIT[AccountName(name)],
                amount=amount,
                kind=kind,
                idempotency_key=f"{idempotency_key}:{name}",
            )
            for name, amount in legs
        ]
    )
    changed = []
    for name, amount in legs:
        if amount:
            account = accounts[name]
            account.balance += amount
            account.totals[kind] = int(account.totals.get(kind, 0)) + amount
            changed.append(account)
    # Safe to write the computed values: we hold the rows' locks, read after acquiring them.
    LedgerAccount.all_objects.bulk_update(changed, ["balance", "totals"])
    # One audit row for each side, in one insert.
    user, via = audit_actor(actor)
    data = {"kind": kind, "idempotency_key": idempotency_key, "legs": dict(legs), **via}
    audit_bulk_create(
        [
            AuditEvent(
                actor=user,
                company_id=company_id,
                agency_id=agency_id,
                action="ledger.post",
                target_type=LedgerTransaction._meta.label,
                target_id=str(tx.pk),
                data=data,
            )
            for company_id, agency_id in (
                (partnership.company_id, None),
                (None, partnership.agency_id),
            )
        ]
    )
    return tx, True


@transaction.atomic
def ledger_reverse(*, idempotency_key: str, actor: Any = None, memo: str = "") -> LedgerTransaction:
    """Correct a posting by posting its mirror image under `reverse:<key>` (idempotent).

    Side effects: one REVERSE transaction and its entries, balances, audit rows. Refuses to
    reverse a reversal, and refuses when it would take a free-hire balance below zero.
    """
    original = (
        LedgerTransaction.objects.unscoped()
        .select_related("partnership__company", "partnership__agency")
        .filter(idempotency_key=idempotency_key)
        .first()
    )
    if original is None:
        raise ApplicationError(_("取り消す取引が見つかりません。"), field="idempotency_key")
    if original.kind == EntryKind.REVERSE:
        raise ApplicationError(_("取消の取引は取り消せません。"), field="idempotency_key")
    legs = [
        (name, -int(amount))
        for name, amount in original.entries.order_by("pk").values_list("account_name", "amount")
    ]
    reverse_key = f"reverse:{idempotency_key}"
    existing = LedgerTransaction.objects.unscoped().filter(idempotency_key=reverse_key).first()
    if existing is not None:
        return existing
    accounts = accounts_lock(partnership=original.partnership, names=[n for n, _amount in legs])
    for name, amount in legs:
        if name == AccountName.FREE_HIRES and accounts[name].balance + amount < 0:
            raise ApplicationError(
                _("利用済みの無料採用枠は取り消せません。"), field="idempotency_key"
            )
    return ledger_post(
        partnership=original.partnership,
        kind=EntryKind.REVERSE,
        idempotency_key=reverse_key,
        legs=legs,
        referral=original.referral,
        placement=original.placement,
        period=original.period,
        memo=memo or f"reverse {idempotency_key}",
        actor=actor,
    )


# --- referrals: qualification and conversion ------------------------------------------------


_QUALIFY_STAGE_ORDER = ["new", "contacted", "interviewed", "introduced", "offer", "placed"]


def _qualify_key(referral_id: int, n: int) -> str:
    # The first qualification keeps the plain key of the design; a re-qualification after a
    # disqualification is a new cause and gets its own number.
    return f"qualify:{referral_id}" if n == 1 else f"qualify:{referral_id}:{n}"


def _lock_referral(referral: Referral) -> Referral:
    from referrals.models import Referral as ReferralModel

    return (
        ReferralModel.objects.unscoped()
        .select_for_update(of=("self",))
        .select_related("partnership__company", "partnership__agency")
        .get(pk=referral.pk)
    )


def _convert_while_due(
    *, partnership: Partnership, accounts: dict[str, LedgerAccount], actor: Any
) -> list[LedgerTransaction]:
    """Convert points to free hires while the points balance has reached the threshold.
    The caller holds the locks of the four point/free-hire accounts."""
    from credits.notifications import free_hire_earned_notify

    threshold = int(partnership.referrals_per_free_hire)
    posted: list[LedgerTransaction] = []
    while accounts[AccountName.POINTS].balance >= threshold:
        n = (
            LedgerTransaction.objects.unscoped()
            .filter(partnership=partnership, kind=EntryKind.CONVERT)
            .count()
            + 1
        )
        tx, created = _post_locked(
            partnership=partnership,
            accounts=accounts,
            kind=EntryKind.CONVERT,
            idempotency_key=f"convert:{partnership.pk}:{n}",
            legs=[
                (AccountName.POINTS, -threshold),
                (AccountName.POINTS_ISSUED, threshold),
                (AccountName.FREE_HIRES, 1),
                (AccountName.FREE_HIRES_ISSUED, -1),
            ],
            memo=f"{threshold} points -> 1 free hire",
            actor=actor,
        )
        if not created:  # cannot happen under the locks; never loop on it
            raise RuntimeError(f"conversion {tx.idempotency_key} already posted")
        posted.append(tx)
        transaction.on_commit(lambda tx_id=tx.pk: free_hire_earned_notify(transaction_id=tx_id))
    return posted


@transaction.atomic
def referral_qualify(*, referral: Referral, actor: Any = None) -> Referral:
    """Mark the referral qualified and post +1 point (`qualify:<referral>`); when the points
    balance reaches the partnership's `referrals_per_free_hire`, convert that many points to
    one free hire in the same transaction (`convert:<partnership>:<n>`). Idempotent:
    qualifying a qualified referral changes nothing.

    Side effects: locks the referral and the partnership's point/free-hire accounts; updates
    the referral's status, stage, qualified_at and qualification_count; ledger postings with
    their audit rows; an audit row `referral.qualify`; after commit, a free-hire notification
    to the company's HR for every conversion.
    Raises ApplicationError for a duplicate, held or withdrawn referral.
    """
    from referrals.models import ReferralStatus

    locked = _lock_referral(referral)
    if locked.status == ReferralStatus.QUALIFIED:
        return locked
    refused = {
        ReferralStatus.DUPLICATE: _("重複した紹介は有効にできません。"),
        ReferralStatus.HELD: _("確認待ちの紹介は、確認が済むまで有効にできません。"),
        ReferralStatus.WITHDRAWN: _("同意が撤回された紹介は有効にできません。"),
    }
    if locked.status in refused:
        raise ApplicationError(refused[ReferralStatus(locked.status)], field="status")
    partnership = locked.partnership
    n = locked.qualification_count + 1
    # The referral's own writes come first: the account locks below serialise every
    # qualification of the partnership, so they are held for as short a time as possible.
    locked.status = ReferralStatus.QUALIFIED
    locked.qualification_count = n
    locked.qualified_at = timezone.now()
    if locked.stage in _QUALIFY_STAGE_ORDER[:2]:
        locked.stage = "interviewed"
    locked.save(update_fields=["status", "qualification_count", "qualified_at", "stage"])
    audit_record(
        actor=actor,
        tenant=partnership.agency,
        action="referral.qualify",
        target=locked,
        data={"n": n},
    )
    accounts = accounts_lock(partnership=partnership, names=POINT_AND_FREE_HIRE_ACCOUNTS)
    _post_locked(
        partnership=partnership,
        accounts=accounts,
        kind=EntryKind.QUALIFY,
        idempotency_key=_qualify_key(locked.pk, n),
        legs=[(AccountName.POINTS, 1), (AccountName.POINTS_ISSUED, -1)],
        referral=locked,
        actor=actor,
    )
    _convert_while_due(partnership=partnership, accounts=accounts, actor=actor)
    return locked


@transaction.atomic
def referral_disqualify(*, referral: Referral, reason: str, actor: Any = None) -> Referral:
    """Mark the referral disqualified with a reason; if it was qualified, post -1 point
    (`disqualify:<referral>:<n>`, n = the qualification being undone). The points balance may
    go negative; a free hire already granted is not clawed back. Idempotent: disqualifying a
    disqualified referral changes nothing.

    Side effects: locks the referral and the point accounts; updates status,
    disqualify_reason and disqualified_at; a ledger posting (if it was qualified) and audit
    rows. Raises ApplicationError without a reason, or for a withdrawn referral.
    """
    from referrals.models import ReferralStatus

    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("無効にする理由を入力してください。"), field="reason")
    if len(reason) > 300:
        raise ApplicationError(_("理由は300文字以内で入力してください。"), field="reason")
    locked = _lock_referral(referral)
    if locked.status == ReferralStatus.DISQUALIFIED:
        return locked
    if locked.status == ReferralStatus.WITHDRAWN:
        raise ApplicationError(_("同意が撤回された紹介は変更できません。"), field="status")
    partnership = locked.partnership
    was_qualified = locked.status == ReferralStatus.QUALIFIED
    locked.status = ReferralStatus.DISQUALIFIED
    locked.disqualify_reason = reason
    locked.disqualified_at = timezone.now()
    locked.save(update_fields=["status", "disqualify_reason", "disqualified_at"])
    audit_record(
        actor=actor,
        tenant=partnership.agency,
        action="referral.disqualify",
        target=locked,
        data={"reason": reason, "point_taken_back": was_qualified},
    )
    if was_qualified:
        accounts = accounts_lock(partnership=partnership, names=POINT_AND_FREE_HIRE_ACCOUNTS)
        _post_locked(
            partnership=partnership,
            accounts=accounts,
            kind=EntryKind.DISQUALIFY,
            idempotency_key=f"disqualify:{locked.pk}:{locked.qualification_count}",
            legs=[(AccountName.POINTS, -1), (AccountName.POINTS_ISSUED, 1)],
            referral=locked,
            memo=reason[:200],
            actor=actor,
        )
    return locked


# --- free hires: redemption and restoration -------------------------------------------------


def _redeem_partnership(placement: Placement) -> Partnership:
    """The partnership whose free hire a placement uses: the contract between the placement's
    agency and the company it hired into (a free hire is used at the company itself)."""
    from companies.models import Partnership as PartnershipModel
    from companies.models import PartnershipStatus

    if placement.hiring_company_id is None:
        raise ApplicationError(
            _("無料採用枠は、提携している採用企業への入社にのみ使えます。"), field="free_hire"
        )
    if (
        placement.partnership_id is not None
        and placement.partnership.company_id == placement.hiring_company_id
        and placement.partnership.agency_id == placement.agency_id
    ):
        return placement.partnership
    partnership = (
        PartnershipModel.objects.unscoped()
        .filter(agency_id=placement.agency_id, company_id=placement.hiring_company_id)
        .exclude(status=PartnershipStatus.ENDED)
        .first()
    )
    if partnership is None:
        raise ApplicationError(
            _("この採用企業とは提携がないため、無料採用枠を使えません。"), field="free_hire"
        )
    return partnership


@transaction.atomic
def free_hire_redeem(*, placement: Placement) -> LedgerTransaction:
    """Consume one free hire of the partnership between the placement's agency and its hiring
    company (`redeem:<placement>`). Idempotent: a placement redeems at most once.

    Side effects: locks the free-hire accounts; a ledger posting with audit rows; after
    commit, an in-app notice and email to the agency's members. Raises
    ApplicationError(field="free_hire") when no free hire is available, so the balance can
    never go below zero.
    """
    from credits.notifications import free_hire_redeemed_notify

    key = f"redeem:{placement.pk}"
    existing = LedgerTransaction.objects.unscoped().filter(idempotency_key=key).first()
    if existing is not None:
        return existing
    partnership = _redeem_partnership(placement)
    accounts = accounts_lock(
        partnership=partnership,
        names=[AccountName.FREE_HIRES, AccountName.FREE_HIRES_ISSUED],
    )
    existing = LedgerTransaction.objects.unscoped().filter(idempotency_key=key).first()
    if existing is not None:
        return existing
    if accounts[AccountName.FREE_HIRES].balance < 1:
        raise ApplicationError(
            _("利用できる無料採用枠がありません。"),
            field="free_hire",
            extra={"free_hires_available": max(accounts[AccountName.FREE_HIRES].balance, 0)},
        )
    tx = ledger_post(
        partnership=partnership,
        kind=EntryKind.REDEEM,
        idempotency_key=key,
        legs=[(AccountName.FREE_HIRES, -1), (AccountName.FREE_HIRES_ISSUED, 1)],
        placement=placement,
        actor=getattr(placement, "created_by", None),
    )
    transaction.on_commit(lambda: free_hire_redeemed_notify(transaction_id=tx.pk))
    return tx


@transaction.atomic
def free_hire_restore(*, placement: Placement) -> LedgerTransaction | None:
    """Give back the free hire a placement redeemed, after an early leave inside the guarantee
    period (`restore:<placement>`). Idempotent; returns None (and posts nothing) when the
    placement redeemed no free hire or the leave came after the guarantee period.

    Side effects: a ledger posting on the redeeming partnership's accounts, audit rows.
    """
    redeemed = (
        LedgerTransaction.objects.unscoped()
        .select_related("partnership__company", "partnership__agency")
        .filter(idempotency_key=f"redeem:{placement.pk}")
        .first()
    )
    if redeemed is None:
        return None
    left_on, ends_on = placement.left_on, placement.guarantee_ends_on
    if left_on is not None and ends_on is not None and left_on > ends_on:
        return None
    return ledger_post(
        partnership=redeemed.partnership,
        kind=EntryKind.RESTORE,
        idempotency_key=f"restore:{placement.pk}",
        legs=[(AccountName.FREE_HIRES, 1), (AccountName.FREE_HIRES_ISSUED, -1)],
        placement=placement,
    )
