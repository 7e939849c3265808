from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from careerrelay.core.tenancy import request_memberships


def tenant(request: HttpRequest) -> dict[str, Any]:
    current = getattr(request, "tenant", None)
    if current is None:
        return {"tenant": None}
    return {
        "tenant": current,
        "tenant_role": getattr(request, "tenant_role", None),
        # Evaluated only by templates that show the organisation switcher.
        "memberships": lambda: request_memberships(request),
    }
