"""Demo step: qualify some of the demo referrals through the real service, so the ledger of the
demo holds exactly what the contract promises once every step has run: maker-b 20 qualified
referrals (2 free hires), startup-a 7 ("7 / 10"), it-c 3.

The agencies step (it runs after this one) registers, qualifies and places candidates of its own
through startup-a's and it-c's links (agencies.demo.PLACED); this step leaves room for them, so
the totals come out right.

Each referral qualified here gets a realistic qualification time: days to weeks after it
registered (never in the future), as if the agency had met and judged the candidate first, so
the lead times on /app/insights/ are plausible.

Safe to re-run: only referrals not yet qualified are qualified, up to the target, every posting
is idempotent by its key, and a referral's qualification time is set only when it is qualified.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.utils import timezone

from credits.services import referral_qualify

TARGETS = {"maker-b": 20, "startup-a": 7, "it-c": 3}


def _placed_later(slug: str) -> int:
    """How many of `slug`'s qualified referrals the agencies step adds."""
    try:
        from agencies.demo import PLACED
    except ImportError:  # pragma: no cover - the agencies app is part of every deployment
        return 0
    return sum(1 for row in PLACED if row[0] == slug)


def qualified_at_for(*, referral_id: int, created_at: dt.datetime, now: dt.datetime) -> dt.datetime:
    """Deterministic per referral: 2 to 45 days after registration (most within three weeks),
    at a working hour, and at least an hour before `now`."""
    rng = random.Random(f"careerrelay-demo-qualify-{referral_id}")  # noqa: S311 - demo data
    delay = dt.timedelta(days=2 + 43 * rng.random() ** 1.8, hours=rng.randrange(0, 8))
    latest = now - dt.timedelta(hours=1)
    at = min(created_at + delay, latest)
    if at <= created_at:  # registered within the last hour: halfway between
        at = created_at + (now - created_at) / 2
    return at


def seed(ctx: dict[str, Any]) -> None:
    by_company = ctx.get("referrals")
    if not by_company:
        return
    from referrals.models import Referral, ReferralStatus

    now = timezone.now()
    for slug, total in TARGETS.items():
        target = max(total - _placed_later(slug), 0)
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
            Referral.all_objects.filter(pk=referral.pk).update(
                qualified_at=qualified_at_for(
                    referral_id=referral.pk, created_at=referral.created_at, now=now
                )
            )
            already += 1
    out = ctx.get("stdout")
    if out is not None:
        out.write("credits: demo referrals qualified")
