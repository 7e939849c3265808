"""Write audit rows. Call inside the business transaction so the row commits with the change."""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models
from django.http import HttpRequest

from careerrelay.core import rls
from careerrelay.core.models import AuditEvent


def client_ip(request: HttpRequest | None) -> str:
    if request is None:
        return ""
    return str(request.META.get("REMOTE_ADDR", ""))


def ip_hash(ip: str) -> str:
    if not ip:
        return ""
    return hashlib.sha256(f"{settings.PII_HMAC_KEY}:ip:{ip}".encode()).hexdigest()


def audit_record(
    *,
    actor: Any,
    tenant: Any,
    action: str,
    target: models.Model | None = None,
    data: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> AuditEvent:
    kind = getattr(tenant, "kind", "")
    data = dict(data or {})
    api_key = getattr(actor, "key", None)
    if api_key is not None:
        # An API-key request acts for its organisation, not for a user row: name the key.
        data.setdefault("api_key", api_key.prefix)
    # Append-only, and the row may belong to the counterparty (rls.narrow_bypass).
    with rls.narrow_bypass():
        return AuditEvent.all_objects.create(
            actor=actor if isinstance(actor, get_user_model()) else None,
            company=tenant if kind == "company" else None,
            agency=tenant if kind == "agency" else None,
            action=action,
            target_type=target._meta.label if target is not None else "",
            target_id=str(target.pk) if target is not None else "",
            data=data,
            ip_hash=ip_hash(client_ip(request)),
        )
