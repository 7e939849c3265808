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
from django.db.models import F
from django.utils.translation import gettext as _

from careerrelay.core.audit import audit_record
from careerrelay.core.errors import ApplicationError
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
    (pk order) and updates their cached balances; writes one LedgerTransaction, one
    LedgerEntry per leg (key `<tx key>:<account>`) and an audit row for company and agency.
    Raises LedgerImbalanceError if the legs do not sum to zero per unit.
    """
    _check_legs(legs)
    accounts = accounts_lock(partnership=partnership, names=[name for name, _ in legs])
    # Checked under the account locks: a concurrent poster of the same key has committed or
    # rolled back by now. The savepoint below still covers a poster on other accounts.
    existing = LedgerTransaction.objects.unscoped().filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    try:
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
        return LedgerTransaction.objects.unscoped().get(idempotency_key=idempotency_key)
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
    for name, amount in legs:
        if amount:
            account = accounts[name]
            LedgerAccount.all_objects.filter(pk=account.pk).update(balance=F("balance") + amount)
            account.balance += amount
    data = {"kind": kind, "idempotency_key": idempotency_key, "legs": dict(legs)}
    for tenant in (partnership.company, partnership.agency):
        audit_record(actor=actor, tenant=tenant, action="ledger.post", target=tx, data=data)
    return tx


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
    accounts = accounts_lock(partnership=original.partnership, names=[n for n, _ in legs])
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


def referral_qualify(*, referral: Any, actor: Any = None) -> Any:
    """Mark the referral qualified and post +1 point (converting to a free hire at the
    threshold). Idempotent. Returns the referral."""
    raise NotImplementedError


def referral_disqualify(*, referral: Any, reason: str, actor: Any = None) -> Any:
    """Mark the referral disqualified; if it was qualified, post -1 point. Idempotent."""
    raise NotImplementedError


def free_hire_redeem(*, placement: Any) -> None:
    """Consume one free hire of the placement's partnership (idempotency key redeem:<id>).
    Raises ApplicationError(field="free_hire") when none is available."""
    raise NotImplementedError


def free_hire_restore(*, placement: Any) -> None:
    """Give back the free hire of a redeemed placement after an early leave (restore:<id>)."""
    raise NotImplementedError
