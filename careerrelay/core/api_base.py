"""Base API views whose queryset cannot be unscoped by accident: subclasses implement
`scoped_queryset(tenant)`; `get_queryset` is final and always passes `request.tenant`."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import viewsets


class TenantViewSetMixin:
    tenant_kinds: tuple[str, ...] = ("company", "agency")
    write_role: str = "member"

    def scoped_queryset(self, tenant: Any) -> QuerySet:
        raise NotImplementedError

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):
            # OpenAPI schema generation has no tenant: describe the model, read nothing.
            model = getattr(getattr(self.get_serializer_class(), "Meta", None), "model", None)  # type: ignore[attr-defined]
            if model is not None:
                return model._default_manager.none()
        return self.scoped_queryset(self.request.tenant)  # type: ignore[attr-defined]

    @property
    def tenant(self) -> Any:
        return self.request.tenant  # type: ignore[attr-defined]


class TenantGenericViewSet(TenantViewSetMixin, viewsets.GenericViewSet):
    pass


class TenantReadOnlyViewSet(TenantViewSetMixin, viewsets.ReadOnlyModelViewSet):
    pass
