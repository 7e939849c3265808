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


def audit_actor(actor: Any) -> tuple[Any, dict[str, str]]:
    """(the User for an audit row's actor or None, extra audit data). An API-key principal acts
    for its organisation, not for a user row: the data names the key's prefix instead."""
    if isinstance(actor, get_user_model()):
        return actor, {}
    prefix = getattr(getattr(actor, "key", None), "prefix", "")
    return None, ({"api_key": prefix} if prefix else {})


def audit_bulk_create(events: list[AuditEvent]) -> list[AuditEvent]:
    """Append several audit rows in one INSERT (e.g. one for each side of a ledger posting)."""
    # Append-only, and a row may belong to the counterparty (rls.narrow_bypass).
    with rls.narrow_bypass():
        return AuditEvent.all_objects.bulk_create(events)


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
    user, via = audit_actor(actor)
    data = {**via, **(data or {})}
    # Append-only, and the row may belong to the counterparty (rls.narrow_bypass).
    with rls.narrow_bypass():
        return AuditEvent.all_objects.create(
            actor=user,
            company=tenant if kind == "company" else None,
            agency=tenant if kind == "agency" else None,
            action=action,
            target_type=target._meta.label if target is not None else "",
            target_id=str(target.pk) if target is not None else "",
            data=data,
            ip_hash=ip_hash(client_ip(request)),
        )
