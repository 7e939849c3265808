"""API permissions, built in one place: a tenant member, of the right kind, with the role the
HTTP method needs. A wrong tenant kind answers 404 (no existence leak)."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from rest_framework.permissions import SAFE_METHODS, BasePermission

ROLE_RANK = {"member": 0, "admin": 1, "owner": 2}


class IsTenantMember(BasePermission):
    def has_permission(self, request: Any, view: Any) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        tenant = getattr(request, "tenant", None)
        if tenant is None:
            return False
        kinds = getattr(view, "tenant_kinds", ("company", "agency"))
        if tenant.kind not in kinds:
            raise Http404
        needed = getattr(view, "write_role", "member")
        if request.method not in SAFE_METHODS:
            role = getattr(request, "tenant_role", None) or "member"
            return ROLE_RANK.get(role, -1) >= ROLE_RANK[needed]
        return True


def role_at_least(role: str | None, needed: str) -> bool:
    return ROLE_RANK.get(role or "", -1) >= ROLE_RANK[needed]
