"""View decorators: a page of the HR dashboard or the partner portal needs a signed-in member of
that kind of organisation; anybody else is sent to sign in (or gets 404 for the wrong kind)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse

from careerrelay.core.permissions import role_at_least


def tenant_required(
    kind: str, *, role: str = "member"
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                if request.htmx:  # type: ignore[attr-defined]
                    response = HttpResponse(status=401)
                    response["HX-Redirect"] = f"/accounts/login/?next={request.path}"
                    return response
                return redirect_to_login(request.get_full_path())
            tenant = getattr(request, "tenant", None)
            if tenant is None or tenant.kind != kind:
                raise Http404
            if not role_at_least(request.tenant_role, role):  # type: ignore[attr-defined]
                raise Http404
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


company_required = tenant_required("company")
agency_required = tenant_required("agency")
