"""allauth adapter: failed sign-ins are written to the audit log; a sign-up with an address
that already has an account is refused with a clear message (the product brief prefers that
to allauth's enumeration-preventing silent email; sign-up is rate limited per IP)."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.contrib.auth import get_user_model
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

    def validate_unique_email(self, email: str) -> str:
        if get_user_model().objects.filter(email__iexact=email).exists():
            raise self.validation_error("email_taken")
        return super().validate_unique_email(email)
