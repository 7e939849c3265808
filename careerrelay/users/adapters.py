"""allauth adapter: failed sign-ins are written to the audit log."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest

from careerrelay.core.audit import audit_record


class AccountAdapter(DefaultAccountAdapter):
    def authentication_failed(self, request: HttpRequest, **credentials: Any) -> None:
        audit_record(
            actor=None,
            tenant=None,
            action="auth.login_failed",
            data={"login": str(credentials.get("email") or credentials.get("login") or "")[:200]},
            request=request,
        )
