"""Per-organisation API keys: `Authorization: Bearer cr_<prefix>_<secret>`.

The full key is shown once at creation; only its SHA-256 hash is stored.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from careerrelay.core import rls
from careerrelay.core.audit import audit_record
from careerrelay.core.models import ApiKey

KEY_PREFIX = "cr"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def api_key_create(*, tenant: Any, name: str, created_by: Any = None) -> tuple[ApiKey, str]:
    """Create a key for the organisation. Returns the row and the plaintext key (shown once).
    Side effects: an audit row."""
    prefix = secrets.token_hex(4)
    plaintext = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    # The operators' command creates keys with no tenant context (INSERT ... RETURNING needs
    # the new row visible).
    with rls.narrow_bypass():
        key = ApiKey.all_objects.create(
            company=tenant if tenant.kind == "company" else None,
            agency=tenant if tenant.kind == "agency" else None,
            name=name.strip()[:100] or "API key",
            prefix=prefix,
            key_hash=_hash(plaintext),
            created_by=created_by if getattr(created_by, "is_authenticated", False) else None,
        )
    audit_record(
        actor=created_by,
        tenant=tenant,
        action="api_key.created",
        target=key,
        data={"name": key.name, "prefix": prefix},
    )
    return key, plaintext


@transaction.atomic
def api_key_revoke(*, key: ApiKey, actor: Any = None) -> ApiKey:
    """Revoke a key (idempotent). Side effects: an audit row on the first revocation."""
    key = ApiKey.all_objects.select_for_update().get(pk=key.pk)
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            tenant=key.organisation,
            action="api_key.revoked",
            target=key,
            data={"prefix": key.prefix},
        )
    return key


class ApiKeyPrincipal:
    """The `request.user` of an API-key request: authenticated, acting for one organisation."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None
    id = None

    def __init__(self, key: ApiKey) -> None:
        self.key = key
        self.email = f"api-key:{key.prefix}"

    def __str__(self) -> str:
        return self.email


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Any) -> tuple[ApiKeyPrincipal, ApiKey] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        parts = header.split()
        if parts[0] != self.keyword:
            return None
        if len(parts) != 2 or not parts[1].startswith(f"{KEY_PREFIX}_") or len(parts[1]) > 120:
            raise exceptions.AuthenticationFailed(_("APIキーの形式が正しくありません。"))
        # Row-level security: the key is found by its hash before any tenant is known, in an
        # explicit bypass that ends here, with the key's tenant or with no context at all.
        rls.activate_bypass()
        try:
            key = (
                ApiKey.all_objects.select_related("company", "agency")
                .filter(key_hash=_hash(parts[1]))
                .first()
            )
            if key is None or key.revoked_at is not None:
                raise exceptions.AuthenticationFailed(_("APIキーが無効か、失効しています。"))
            now = timezone.now()
            if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
                ApiKey.all_objects.filter(pk=key.pk).update(last_used_at=now)
        except BaseException:
            rls.clear()
            raise
        rls.activate(key.organisation)
        django_request = request._request
        django_request.tenant = key.organisation
        django_request.tenant_role = "admin"
        return ApiKeyPrincipal(key), key

    def authenticate_header(self, request: Any) -> str:
        return self.keyword
