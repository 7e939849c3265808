"""Partner-portal reads. Every function takes the agency explicitly and reads only its rows."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from agencies.models import Agency, Placement, ReferralNote
from companies.models import Company, Partnership
from referrals.models import Consent, Referral

REFERRAL_NUMBER = re.compile(r"^\s*R-?0*(\d{1,12})\s*$", re.IGNORECASE)


def placement_list(*, agency: Agency) -> QuerySet[Placement]:
    return (
        Placement.objects.for_tenant(agency)
        .select_related("referral", "hiring_company")
        .order_by("-created_at", "-id")
    )


def placement_get(*, agency: Agency, pk: Any) -> Placement:
    placement = placement_list(agency=agency).filter(pk=_int_or_none(pk)).first()
    if placement is None:
        raise Http404
    return placement


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class InboxFilters:
    q: str = ""
    status: str = ""
    stage: str = ""
    company: str = ""  # referring company slug
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    verified: str = ""  # "yes" / "no" / ""


def _search_hashes(q: str) -> dict[str, str]:
    """Keyed hashes of the search term as email / phone / name, for exact look-ups on the
    encrypted candidate data (the plaintext is never searchable in the database)."""
    from referrals import pii

    hashes: dict[str, str] = {}
    if "@" in q:
        hashes["candidate__email_hash"] = pii.email_hash(q)
    else:
        digits = re.sub(r"\D", "", q)
        if len(digits) >= 6 and hasattr(pii, "phone_hash"):
            hashes["candidate__phone_hash"] = pii.phone_hash(q)
        if hasattr(pii, "name_hash"):
            hashes["candidate__name_hash"] = pii.name_hash(q)
    return hashes


def referral_inbox(*, agency: Agency, filters: InboxFilters) -> QuerySet[Referral]:
    """The agency's referred candidates, newest first, filtered. Search matches a referral
    number (R-000123) or, through keyed hashes, a candidate's exact email, phone or name."""
    qs = (
        Referral.objects.for_tenant(agency)
        .select_related("candidate", "company", "partnership")
        .order_by("-created_at", "-id")
    )
    if filters.q:
        number = REFERRAL_NUMBER.match(filters.q)
        if number:
            qs = qs.filter(pk=int(number.group(1)))
        else:
            hashes = _search_hashes(filters.q.strip())
            if not hashes:
                return qs.none()
            from django.db.models import Q

            cond = Q()
            for field, value in hashes.items():
                cond |= Q(**{field: value})
            qs = qs.filter(cond)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.stage:
        qs = qs.filter(stage=filters.stage)
    if filters.company:
        qs = qs.filter(company__slug=filters.company)
    if filters.date_from:
        qs = qs.filter(created_at__date__gte=filters.date_from)
    if filters.date_to:
        qs = qs.filter(created_at__date__lte=filters.date_to)
    if filters.verified == "yes":
        qs = qs.filter(candidate__email_verified_at__isnull=False)
    elif filters.verified == "no":
        qs = qs.filter(candidate__email_verified_at__isnull=True)
    return qs


def referral_get(*, agency: Agency, pk: Any) -> Referral:
    referral = (
        Referral.objects.for_tenant(agency)
        .select_related("candidate", "company", "partnership")
        .filter(pk=_int_or_none(pk))
        .first()
    )
    if referral is None:
        raise Http404
    return referral


def referral_notes(*, agency: Agency, referral: Referral) -> QuerySet[ReferralNote]:
    return (
        ReferralNote.objects.for_tenant(agency)
        .filter(referral=referral)
        .select_related("author")
        .order_by("-created_at", "-id")
    )


def referral_consent(*, agency: Agency, referral: Referral) -> Consent | None:
    """The consent receipt (APPI Art. 27) this agency holds for the referral."""
    return (
        Consent.objects.for_tenant(agency)
        .filter(referral=referral)
        .order_by("-consented_at")
        .first()
    )


def partner_companies(*, agency: Agency) -> QuerySet[Company]:
    """Companies the agency has a partnership with (for filters and the placement form)."""
    ids = Partnership.objects.for_tenant(agency).values("company_id")
    return Company.objects.filter(pk__in=ids).order_by("name")


def referral_placements(*, agency: Agency, referral: Referral) -> QuerySet[Placement]:
    return placement_list(agency=agency).filter(referral=referral)
