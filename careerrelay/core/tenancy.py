"""Resolve `request.tenant` (a Company or an Agency) from the signed-in user's membership.

The session remembers which organisation a user with several memberships chose. API requests
resolve the tenant from the API key instead (see apikeys.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.conf import settings
from django.http import HttpRequest, HttpResponse

SESSION_KEY = "careerrelay_org"


@dataclass(frozen=True)
class Membership:
    tenant: Any  # Company | Agency
    role: str

    @property
    def key(self) -> str:
        return self.tenant.org_key


def memberships_for_user(user: Any) -> list[Membership]:
    """Every organisation the user belongs to, companies first, then agencies, by name."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "pk", None):
        return []
    company_member = apps.get_model("companies", "CompanyMember")
    agency_member = apps.get_model("agencies", "AgencyMember")
    rows: list[Membership] = [
        Membership(m.company, m.role)
        for m in company_member.objects.filter(user=user)
        .select_related("company")
        .order_by("company__name")
    ]
    rows += [
        Membership(m.agency, m.role)
        for m in agency_member.objects.filter(user=user)
        .select_related("agency")
        .order_by("agency__name")
    ]
    return rows


def request_memberships(request: HttpRequest) -> list[Membership]:
    """The signed-in user's memberships, read once per request (the middleware resolves the
    tenant from them and the organisation switcher lists them)."""
    cached = getattr(request, "_careerrelay_memberships", None)
    if cached is None:
        cached = memberships_for_user(request.user)
        request._careerrelay_memberships = cached  # type: ignore[attr-defined]
    return cached


def resolve_membership(request: HttpRequest) -> Membership | None:
    memberships = request_memberships(request)
    if not memberships:
        return None
    chosen = request.session.get(SESSION_KEY)
    for membership in memberships:
        if membership.key == chosen:
            return membership
    return memberships[0]


class TenantMiddleware:
    """Sets `request.tenant` and `request.tenant_role` lazily-cheap: anonymous requests (the
    candidate landing page) touch no table."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.tenant = None  # type: ignore[attr-defined]
        request.tenant_role = None  # type: ignore[attr-defined]
        user = getattr(request, "user", None)
        if (
            user is not None
            and settings.SESSION_COOKIE_NAME in request.COOKIES
            and user.is_authenticated
        ):
            membership = resolve_membership(request)
            if membership is not None:
                request.tenant = membership.tenant  # type: ignore[attr-defined]
                request.tenant_role = membership.role  # type: ignore[attr-defined]
        return self.get_response(request)
