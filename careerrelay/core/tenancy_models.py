"""Base classes for organisations (tenants), memberships and tenant-owned rows.

Every tenant-owned model declares `tenant_fields`: the foreign keys (``company`` and/or
``agency``) that scope it. Its default manager ``objects`` is fail-closed: a query must start
with ``for_tenant(tenant)`` or the explicit ``unscoped()`` escape; anything else raises.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from agencies.models import Agency
    from companies.models import Company

    Tenant = Company | Agency


class TenantScopeError(RuntimeError):
    """A tenant-owned model was queried without a tenant and without `unscoped()`."""


class Role(models.TextChoices):
    OWNER = "owner", _("オーナー")
    ADMIN = "admin", _("管理者")
    MEMBER = "member", _("メンバー")


class Organization(models.Model):
    """A tenant: a hiring company (採用企業) or a placement agency (人材紹介会社)."""

    kind: ClassVar[str] = ""
    name = models.CharField(_("名称"), max_length=200)
    slug = models.SlugField(_("識別子"), max_length=60, unique=True)
    invoice_registration_number = models.CharField(
        _("適格請求書発行事業者登録番号"), max_length=14, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name

    @property
    def org_key(self) -> str:
        return f"{self.kind}:{self.pk}"


class TenantQuerySet(models.QuerySet):
    def for_tenant(self, tenant: Tenant) -> TenantQuerySet:
        field = tenant.kind
        if field not in self.model.tenant_fields:
            return self.none()
        return self.filter(**{f"{field}_id": tenant.pk})


class TenantManager(models.Manager):
    """Fail-closed: only `for_tenant(t)` and `unscoped()` give a queryset."""

    def get_queryset(self) -> TenantQuerySet:
        raise TenantScopeError(
            f"{self.model.__name__}.objects must be scoped: use "
            f".objects.for_tenant(tenant) or .objects.unscoped()"
        )

    def _base(self) -> TenantQuerySet:
        return TenantQuerySet(self.model, using=self._db)

    def for_tenant(self, tenant: Tenant) -> TenantQuerySet:
        return self._base().for_tenant(tenant)

    def unscoped(self) -> TenantQuerySet:
        return self._base()

    # Writes name their rows explicitly, so they need no scope.
    def create(self, **kwargs: Any) -> Any:
        return self._base().create(**kwargs)

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> Any:
        return self._base().bulk_create(objs, *args, **kwargs)


class TenantOwned(models.Model):
    """Abstract base of tenant-owned rows. Subclasses set `tenant_fields`."""

    tenant_fields: ClassVar[tuple[str, ...]] = ()

    # Declared first, so it is the default manager: admin, migrations and related managers use
    # it. Application reads go through selectors that call `objects.for_tenant(...)`.
    all_objects = models.Manager()
    objects = TenantManager()

    class Meta:
        abstract = True


def tenant_kind(tenant: Any) -> str:
    return getattr(tenant, "kind", "")
