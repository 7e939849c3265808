"""Demo step: qualify some of the demo referrals through the real service, so the ledger of the
demo holds exactly what the contract promises: maker-b 20 qualified referrals (2 free hires),
startup-a 7, it-c 3. Safe to re-run: only referrals not yet qualified are qualified, up to the
target, and every posting is idempotent by its key."""

from __future__ import annotations

from typing import Any

from credits.services import referral_qualify

TARGETS = {"maker-b": 20, "startup-a": 7, "it-c": 3}


def seed(ctx: dict[str, Any]) -> None:
    by_company = ctx.get("referrals")
    if not by_company:
        return
    from referrals.models import Referral, ReferralStatus

    for slug, target in TARGETS.items():
        referrals = list(by_company.get(slug) or [])
        if not referrals:
            continue
        ids = [r.pk for r in referrals]
        rows = Referral.objects.unscoped().filter(pk__in=ids).order_by("pk")
        already = sum(1 for r in rows if r.status == ReferralStatus.QUALIFIED)
        for referral in rows:
            if already >= target:
                break
            if referral.status != ReferralStatus.NEW:
                continue
            referral_qualify(referral=referral)
            already += 1
    out = ctx.get("stdout")
    if out is not None:
        out.write("credits: demo referrals qualified")
