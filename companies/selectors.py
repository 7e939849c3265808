"""Reads for companies and partnerships. Every function takes the tenant explicitly."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from agencies.models import Agency
from companies.models import Partnership, PartnershipStatus


def partnership_list(*, tenant: Any) -> QuerySet[Partnership]:
    """The partnerships this company or agency is a party to (both parties may read them)."""
    return Partnership.objects.for_tenant(tenant).select_related("company", "agency")


def partnership_get(*, tenant: Any, partnership_id: int) -> Partnership:
    """One of the tenant's partnerships; another tenant's id raises Partnership.DoesNotExist."""
    return partnership_list(tenant=tenant).get(pk=partnership_id)


def partnership_active_list(*, tenant: Any) -> QuerySet[Partnership]:
    return partnership_list(tenant=tenant).filter(status=PartnershipStatus.ACTIVE)


def agency_is_verified(agency: Agency) -> bool:
    """An agency may receive referrals and accept partnerships only with a verified, unexpired
    licence."""
    return bool(
        agency.license_verified_at
        and agency.license_number
        and agency.license_expires_on
        and agency.license_expires_on >= timezone.localdate()
    )


def agencies_open_for_proposal(*, company: Any) -> QuerySet[Agency]:
    """Verified agencies with no proposed or active partnership with this company."""
    taken = Partnership.objects.for_tenant(company).filter(
        status__in=[PartnershipStatus.PROPOSED, PartnershipStatus.ACTIVE]
    )
    return (
        Agency.objects.filter(
            license_verified_at__isnull=False,
            license_expires_on__gte=timezone.localdate(),
        )
        .exclude(license_number="")
        .exclude(Q(pk__in=taken.values("agency_id")))
        .order_by("name")
    )
