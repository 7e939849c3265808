"""Test data for the dashboard: links, clicks, candidates and referrals written directly (the
candidate journey has its own tests), at chosen instants."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from typing import Any
from zoneinfo import ZoneInfo

from agencies.models import Placement
from referrals.models import Candidate, Click, Referral, ReferralLink

TOKYO = ZoneInfo("Asia/Tokyo")


def tokyo(y: int, m: int, d: int, hh: int = 12, mm: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=TOKYO)


def make_link(partnership: Any, label: str = "2026年度 中途採用") -> ReferralLink:
    return ReferralLink.objects.create(
        company=partnership.company,
        agency=partnership.agency,
        partnership=partnership,
        label=label,
        token=secrets.token_urlsafe(16),
    )


def add_clicks(
    link: ReferralLink,
    at: dt.datetime,
    *,
    human: int = 1,
    repeat: int = 0,
    bots: int = 0,
    scanners: int = 0,
) -> list[Click]:
    rows = []
    for kind, n, unique in (
        ("human", human, True),
        ("human", repeat, False),
        ("bot", bots, False),
        ("scanner", scanners, False),
    ):
        rows += [
            Click(
                uid=uuid.uuid4(),
                company_id=link.company_id,
                agency_id=link.agency_id,
                link=link,
                clicked_at=at,
                classification=kind,
                is_unique=unique,
                visitor_hash=secrets.token_hex(8),
            )
            for _ in range(n)
        ]
    return Click.objects.bulk_create(rows)


def add_referral(
    link: ReferralLink,
    at: dt.datetime,
    *,
    click_at: dt.datetime | None = None,
    verified: bool = False,
    qualified_at: dt.datetime | None = None,
    status: str | None = None,
) -> Referral:
    candidate = Candidate.objects.create(
        agency_id=link.agency_id,
        email_hash=secrets.token_hex(16),
        email_verified_at=at if verified else None,
    )
    click = None
    if click_at is not None:
        click = add_clicks(link, click_at)[0]
    referral = Referral.objects.create(
        company_id=link.company_id,
        agency_id=link.agency_id,
        partnership_id=link.partnership_id,
        link=link,
        candidate=candidate,
        click=click,
        seconds_to_register=int((at - click_at).total_seconds()) if click_at else None,
        status=status or ("qualified" if qualified_at else "new"),
        qualified_at=qualified_at,
    )
    # created_at is auto_now_add: move it to the registration instant.
    Referral.all_objects.filter(pk=referral.pk).update(created_at=at)
    referral.refresh_from_db()
    return referral


def add_placement(
    referral: Referral | None,
    *,
    agency: Any,
    hiring_company: Any,
    salary: int = 6_000_000,
    rate: str = "35.00",
    free_hire: bool = False,
    partnership: Any = None,
) -> Placement:
    fee = 0 if free_hire else int(salary * float(rate) / 100)
    return Placement.objects.create(
        agency=agency,
        referral=referral,
        company=referral.company if referral else None,
        partnership=partnership or (referral.partnership if referral else None),
        hiring_company=hiring_company,
        annual_salary_jpy=salary,
        fee_rate=rate,
        fee_jpy=fee,
        start_date=dt.date(2026, 10, 1),
        guarantee_ends_on=dt.date(2027, 3, 30),
        free_hire=free_hire,
    )
