"""Row-level security: PostgreSQL as the second wall behind the tenant-scoped managers.

Every tenant-owned table (each concrete `TenantOwned` model but the two looked up before the
tenant is known, see RLS_EXEMPT) has RLS ENABLED and FORCED, with one policy: a row is visible
and writable when

    current_setting('app.bypass') = 'on'
    OR company_id = current_setting('app.company_id')   -- for tables with a company key
    OR agency_id  = current_setting('app.agency_id')    -- for tables with an agency key

so a connection with no context sees no rows. `core_auditevent` accepts inserts from anyone
(sign-in failures have no tenant) but shows rows only by the same rule.

Two modes, chosen by DATABASE_RLS:

- "bypass" (the default: demo, tests, and a production that has not opted in): every
  connection starts with `app.bypass=on` (a libpq startup option, no extra round trip), so the
  policies admit everything and behaviour is exactly that of the application layer alone.
  Superusers (the test runner's `postgres`) bypass RLS anyway.
- "enforce": connections start WITHOUT bypass, optionally as DATABASE_APP_ROLE (`SET ROLE` via
  the startup option `role=`; the role must be neither the tables' owner nor a superuser, and
  have no BYPASSRLS). Then:
    * RlsTenantMiddleware sets `app.company_id` / `app.agency_id` from request.tenant for the
      request and clears them afterwards; API-key requests set it in ApiKeyAuthentication;
    * operators in /admin/ (staff), the candidate's capability pages (/r/, /invitations/) and
      sign-in (/accounts/) run with an explicit bypass;
    * Celery tasks run with an explicit bypass (task_prerun/task_postrun below);
    * services that act for one tenant outside a request use `tenant_context(tenant)`, which
      sets the context with SET LOCAL inside a transaction.
  Migrations must run as the owner (DATABASE_APP_ROLE unset).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse

# Looked up before any tenant is known: an API key by its hash, an invitation by its token.
RLS_EXEMPT = frozenset({"core.ApiKey", "core.Invitation"})
# Tables anybody may append to but only the tenant (or an operator) may read.
INSERT_ANYONE = frozenset({"core.AuditEvent"})
BYPASS_PREFIXES = ("/admin/", "/r/", "/invitations/", "/accounts/")

GUCS = ("app.company_id", "app.agency_id", "app.bypass")


def enforced() -> bool:
    return getattr(settings, "DATABASE_RLS", "bypass") == "enforce" and (
        connection.vendor == "postgresql"
    )


def rls_models() -> list[Any]:
    """The concrete TenantOwned models whose tables carry RLS."""
    from django.apps import apps

    from careerrelay.core.tenancy_models import TenantOwned

    return [
        m
        for m in apps.get_models()
        if issubclass(m, TenantOwned)
        and not m._meta.abstract
        and not m._meta.proxy
        and m._meta.label not in RLS_EXEMPT
    ]


def _visible_sql(model: Any) -> str:
    clauses = ["current_setting('app.bypass', true) = 'on'"]
    for field in model.tenant_fields:
        column = model._meta.get_field(field).column
        clauses.append(f"{column} = NULLIF(current_setting('app.{field}_id', true), '')::bigint")
    return "(" + " OR ".join(clauses) + ")"


def policy_sql(model: Any) -> list[str]:
    """The statements that (re)install RLS on one model's table; idempotent."""
    table = connection.ops.quote_name(model._meta.db_table)
    visible = _visible_sql(model)
    statements = [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"DROP POLICY IF EXISTS tenant_isolation ON {table}",
        f"DROP POLICY IF EXISTS tenant_read ON {table}",
        f"DROP POLICY IF EXISTS append_anyone ON {table}",
    ]
    if model._meta.label in INSERT_ANYONE:
        statements += [
            f"CREATE POLICY tenant_read ON {table} FOR SELECT USING {visible}",
            f"CREATE POLICY append_anyone ON {table} FOR INSERT WITH CHECK (true)",
        ]
    else:
        statements.append(
            f"CREATE POLICY tenant_isolation ON {table} USING {visible} WITH CHECK {visible}"
        )
    return statements


def install(schema_editor: Any) -> None:
    """Install RLS on every tenant-owned table that exists (PostgreSQL only). Called by the
    core migrations; a later migration that adds a tenant-owned table calls it again."""
    if schema_editor.connection.vendor != "postgresql":
        return
    existing = set(schema_editor.connection.introspection.table_names())
    for model in rls_models():
        if model._meta.db_table in existing:
            for statement in policy_sql(model):
                schema_editor.execute(statement)


def uninstall(schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    existing = set(schema_editor.connection.introspection.table_names())
    for model in rls_models():
        if model._meta.db_table in existing:
            table = schema_editor.quote_name(model._meta.db_table)
            for name in ("tenant_isolation", "tenant_read", "append_anyone"):
                schema_editor.execute(f"DROP POLICY IF EXISTS {name} ON {table}")
            schema_editor.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
            schema_editor.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")


# --- setting the context ------------------------------------------------------------------


def _set(values: dict[str, str], *, local: bool) -> None:
    with connection.cursor() as cursor:
        for name in GUCS:
            cursor.execute("SELECT set_config(%s, %s, %s)", [name, values.get(name, ""), local])


def _tenant_values(tenant: Any) -> dict[str, str]:
    kind = getattr(tenant, "kind", "")
    if kind not in ("company", "agency"):
        return {}
    return {f"app.{kind}_id": str(tenant.pk)}


def activate(tenant: Any, *, local: bool = False) -> None:
    """Make the connection see exactly `tenant`'s rows (no-op unless enforcing). Session-level
    by default (the request clears it); `local=True` lasts until the transaction ends."""
    if enforced():
        _set(_tenant_values(tenant), local=local)


def activate_bypass(*, local: bool = False) -> None:
    """Make the connection see every row: operators and background tasks only."""
    if enforced():
        _set({"app.bypass": "on"}, local=local)


def clear() -> None:
    """Back to no context: the connection sees no tenant-owned row."""
    if enforced():
        _set({}, local=False)


@contextmanager
def tenant_context(tenant: Any) -> Iterator[None]:
    """A transaction in which only `tenant`'s rows exist (SET LOCAL semantics)."""
    with transaction.atomic():
        activate(tenant, local=True)
        yield


@contextmanager
def bypass_context() -> Iterator[None]:
    """A transaction that sees every tenant's rows (operators, settlement, drains)."""
    with transaction.atomic():
        activate_bypass(local=True)
        yield


class RlsTenantMiddleware:
    """Sets the database tenant context from request.tenant for the request (enforce mode
    only), with an explicit bypass for operators in the admin and the candidate's capability
    pages; clears it when the response is ready."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not enforced():
            return self.get_response(request)
        user = getattr(request, "user", None)
        is_staff = bool(user is not None and user.is_authenticated and user.is_staff)
        if request.path.startswith(BYPASS_PREFIXES) and (
            is_staff or not request.path.startswith("/admin/")
        ):
            activate_bypass()
        else:
            tenant = getattr(request, "tenant", None)
            if tenant is not None:
                activate(tenant)
            else:
                clear()
        try:
            return self.get_response(request)
        finally:
            try:
                clear()
            except Exception:
                # Never hand a connection that may still carry this request's context to the
                # next request.
                connection.close()


def _task_prerun(**_: Any) -> None:
    if enforced():
        activate_bypass()


def _task_postrun(**_: Any) -> None:
    if enforced():
        clear()


def connect_celery_signals() -> None:
    from celery.signals import task_postrun, task_prerun

    task_prerun.connect(_task_prerun, weak=False, dispatch_uid="rls_task_prerun")
    task_postrun.connect(_task_postrun, weak=False, dispatch_uid="rls_task_postrun")


connect_celery_signals()
