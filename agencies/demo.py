"""Demo step (runs last): relay-agent's placements and a settled month, so the demo shows
statements in both portals.

- Three candidates register through each referring company's demo link (the real registration
  service, consent receipts included), are qualified, and are placed at another company; their
  guarantee periods ended last month.
- One free hire of maker-b is redeemed (a candidate the agency found itself, placed at maker-b).
- Last month is settled and its statements rendered.

Idempotent: links, registrations and qualifications are looked up or replayed, a placement is
made only when none exists for its referral, and settlement of a settled month changes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from agencies.models import Placement
from agencies.services import placement_create
from careerrelay.core.errors import ApplicationError
from companies.models import Company, Partnership
from credits.demo import qualified_at_for
from credits.services import referral_qualify
from credits.settlement import previous_period, settle_period
from credits.statements import statements_render_period
from referrals.models import LinkKind, Referral, ReferralLink, ReferralStatus
from referrals.services import candidate_register, candidate_verify, link_create

LINK_LABEL = "デモ: 2026年春 中途採用（お見送りの方へ）"
# referring company, candidate, email, phone, role, prefecture, hiring company (slug or name),
# theoretical annual salary, day of last month on which the guarantee ended
PLACED = [
    (
        "startup-a",
        "伊藤 直樹",
        "naoki.ito@example.jp",
        "080-1111-2201",
        "バックエンドエンジニア",
        "東京都",
        ("it-c", ""),
        7_200_000,
        10,
    ),
    (
        "startup-a",
        "渡辺 さくら",
        "sakura.watanabe@example.jp",
        "080-1111-2202",
        "マーケティング",
        "神奈川県",
        ("", "株式会社みらい商事"),
        5_400_000,
        18,
    ),
    (
        "it-c",
        "中村 翔",
        "sho.nakamura@example.jp",
        "080-1111-2203",
        "生産管理",
        "愛知県",
        ("maker-b", ""),
        8_000_000,
        25,
    ),
]
FREE_HIRE_CANDIDATE = "小林 健一"
FREE_HIRE_SALARY = 6_500_000


def _demo_link(partnership: Partnership) -> ReferralLink:
    link = (
        ReferralLink.objects.for_tenant(partnership.company)
        .filter(partnership=partnership, label=LINK_LABEL, kind=LinkKind.CAMPAIGN)
        .first()
    )
    if link is None:
        link, _created = link_create(partnership=partnership, label=LINK_LABEL)
        # Demo history: the link predates the registrations below (dated ~420 days back).
        ReferralLink.all_objects.filter(pk=link.pk).update(
            created_at=timezone.now() - dt.timedelta(days=430)
        )
        link.refresh_from_db()
    return link


def _placed_referral(partnership: Partnership, row: tuple) -> Referral:
    _slug, name, email, phone, role, prefecture, *_rest = row
    registration = candidate_register(
        link_id=_demo_link(partnership).pk,
        name=name,
        email=email,
        phone=phone,
        desired_role=role,
        prefecture=prefecture,
        consent_privacy=True,
        consent_third_party=True,
    )
    candidate_verify(candidate_id=registration.candidate.pk)
    referral = registration.referral
    # Demo history: these candidates registered well before they started their new jobs.
    Referral.all_objects.filter(
        pk=referral.pk, created_at__gt=timezone.now() - dt.timedelta(days=400)
    ).update(created_at=timezone.now() - dt.timedelta(days=420))
    referral.refresh_from_db()
    if referral.status == ReferralStatus.QUALIFIED:
        return referral
    referral = referral_qualify(referral=referral)
    # Qualified weeks after registering, not at seeding time (plausible lead times).
    Referral.all_objects.filter(pk=referral.pk).update(
        qualified_at=qualified_at_for(
            referral_id=referral.pk, created_at=referral.created_at, now=timezone.now()
        )
    )
    referral.refresh_from_db()
    return referral


def seed(ctx: dict[str, Any]) -> None:
    agency = ctx.get("agency")
    partnerships: dict[str, Partnership] = ctx.get("partnerships") or {}
    if agency is None or not partnerships:
        return
    out = ctx.get("stdout")
    period = previous_period()
    year, month = map(int, period.split("-"))

    for row in PLACED:
        slug, *_ignored, (hiring_slug, hiring_name), salary, day = row
        referral = _placed_referral(partnerships[slug], row)
        if Placement.objects.for_tenant(agency).filter(referral=referral).exists():
            continue
        placement_create(
            agency=agency,
            referral_id=referral.pk,
            hiring_company_slug=hiring_slug,
            hiring_company_name=hiring_name,
            annual_salary_jpy=salary,
            start_date=dt.date(year, month, day) - dt.timedelta(days=180),
        )

    maker_b = Company.objects.filter(slug="maker-b").first()
    redeemed = (
        Placement.objects.for_tenant(agency).filter(free_hire=True, hiring_company=maker_b).exists()
    )
    if maker_b is not None and not redeemed:
        try:
            placement_create(
                agency=agency,
                candidate_name=FREE_HIRE_CANDIDATE,
                hiring_company_slug="maker-b",
                annual_salary_jpy=FREE_HIRE_SALARY,
                start_date=timezone.localdate() - dt.timedelta(days=20),
                free_hire=True,
            )
        except ApplicationError as exc:  # maker-b holds no free hire (credits step skipped)
            if out is not None:
                out.write(f"agencies: free-hire redemption skipped ({exc.message})")

    run = settle_period(period=period)
    count = statements_render_period(period=period)
    if out is not None:
        out.write(
            f"agencies: placements seeded; {period} settled "
            f"({run.rebates_posted} rebates, {count} statements)"
        )
