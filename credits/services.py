"""Ledger writes. Every posting is one transaction of entries that sum to zero per unit, keyed by
an idempotency key derived from its cause, so a retry can never post twice."""

from __future__ import annotations

from typing import Any


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
