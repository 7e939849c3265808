"""Row-level security: PostgreSQL as the second wall behind the tenant-scoped managers.

Every tenant-owned table (each concrete `TenantOwned` model but the invitations, looked up
before the tenant is known, see RLS_EXEMPT) has RLS ENABLED and FORCED, with one policy: a row
is visible and writable when

    current_setting('app.bypass') = 'on'
    OR company_id = current_setting('app.company_id')   -- for tables with a company key
    OR agency_id  = current_setting('app.agency_id')    -- for tables with an agency key

so a connection with no context sees no rows. `core_auditevent` accepts inserts from anyone
(sign-in failures have no tenant) but shows rows only by the same rule; Django's INSERT ...
RETURNING needs the new row visible, so audit appends run in `narrow_bypass()`. A company also
reads (never writes) the candidates referred to it (COUNTERPARTY_READ).

Two modes, chosen by DATABASE_RLS:

- "enforce" (production's default): connections start WITHOUT bypass, as a login role that is
  neither the tables' owner nor a superuser and has no BYPASSRLS (`manage.py db_app_role`
  creates it; production refuses any other role, see `verify_role`). Then:
    * RlsTenantMiddleware runs the view (and the rendering of its response) in one transaction
      and sets `app.company_id` / `app.agency_id` from request.tenant with SET LOCAL
      (`set_config(..., true)`) before the request's first query; the transaction's end clears
      it, so a connection never carries a context from one request to the next. A streamed
      response is produced in a transaction of its own with the same context.
    * API-key requests set the key's tenant the same way in ApiKeyAuthentication;
    * operators in /admin/ (staff), the candidate's capability pages (/r/, /invitations/) and
      sign-in (/accounts/) run with an explicit bypass;
    * Celery tasks run with an explicit bypass for the task's duration (task_prerun/postrun,
      and on every connection opened meanwhile);
      operators' management commands use `operator_session()`;
    * services that act for one tenant outside a request use `tenant_context(tenant)`.
  Migrations run as the owner, with the bypass (DATABASE_RLS=bypass, see docker-compose.yml).
- "bypass" (demo, tests, migrations; production only with DATABASE_RLS_ALLOW_BYPASS=true):
  every connection starts with `app.bypass=on` (a libpq startup option, no extra round trip),
  so the policies admit everything and behaviour is that of the application layer alone.
  Superusers (the test runner's `postgres`) bypass RLS anyway.

DATABASE_APP_ROLE (`SET ROLE` through the startup option `role=`) remains for tests and local
trials; production refuses it, because the session could RESET ROLE back to the owner.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import OperationalError, connection, transaction
from django.db.backends.signals import connection_created
from django.http import HttpRequest, HttpResponse

# Looked up before any tenant is known, in many places (memberships.py): an invitation by its
# token or by the invitee's verified email. (An API key is looked up by its hash in an explicit
# bypass in ApiKeyAuthentication, so its table has the policy.)
RLS_EXEMPT = frozenset({"core.Invitation"})
# Tables anybody may append to but only the tenant (or an operator) may read.
INSERT_ANYONE = frozenset({"core.AuditEvent"})
# Rows a tenant may read beyond its own key: a company reads the candidates referred to it
# (its referral pages show whether the email is verified; the application shows it no personal
# data, which stays encrypted), never writes them.
COUNTERPARTY_READ = {
    "referrals.Candidate": (
        "EXISTS (SELECT 1 FROM referrals_referral r WHERE r.candidate_id = {table}.id "
        "AND r.company_id = NULLIF(current_setting('app.company_id', true), '')::bigint)"
    ),
}
BYPASS_PREFIXES = ("/admin/", "/r/", "/invitations/", "/accounts/")

_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")

GUCS = ("app.company_id", "app.agency_id", "app.bypass")
BYPASS = {"app.bypass": "on"}
NO_CONTEXT: dict[str, str] = {}
# All three settings in one round trip.
_SET_SQL = (
    "SELECT set_config('app.company_id', %s, %s), set_config('app.agency_id', %s, %s), "
    "set_config('app.bypass', %s, %s)"
)


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


POLICY_NAMES = ("tenant_isolation", "tenant_read", "append_anyone", "counterparty_read")


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
        *(f"DROP POLICY IF EXISTS {name} ON {table}" for name in POLICY_NAMES),
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
    if model._meta.label in COUNTERPARTY_READ:
        read = COUNTERPARTY_READ[model._meta.label].format(table=table)
        statements.append(f"CREATE POLICY counterparty_read ON {table} FOR SELECT USING ({read})")
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
            for name in POLICY_NAMES:
                schema_editor.execute(f"DROP POLICY IF EXISTS {name} ON {table}")
            schema_editor.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
            schema_editor.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")


# --- setting the context ------------------------------------------------------------------


def _set(values: dict[str, str], *, local: bool) -> None:
    params: list[Any] = []
    for name in GUCS:
        params += [values.get(name, ""), local]
    with connection.cursor() as cursor:
        cursor.execute(_SET_SQL, params)
    # What this connection's context is now (restored after an eager task, see below).
    connection.rls_values = dict(values)  # type: ignore[attr-defined]


def _require_transaction() -> None:
    if not connection.in_atomic_block:
        # SET LOCAL outside a transaction lasts one statement: a context set here would
        # silently not apply to the queries that follow.
        raise RuntimeError("the database tenant context is set inside a transaction only")


def tenant_values(tenant: Any) -> dict[str, str]:
    kind = getattr(tenant, "kind", "")
    if kind not in ("company", "agency"):
        return {}
    return {f"app.{kind}_id": str(tenant.pk)}


def activate(tenant: Any) -> None:
    """Until the current transaction ends, the connection sees exactly `tenant`'s rows (SET
    LOCAL; no-op unless enforcing). Must run inside a transaction."""
    if enforced():
        _require_transaction()
        _set(tenant_values(tenant), local=True)


def activate_bypass() -> None:
    """Until the current transaction ends, the connection sees every row: operators and
    background tasks only."""
    if enforced():
        _require_transaction()
        _set(BYPASS, local=True)


def clear() -> None:
    """Until the current transaction ends, the connection sees no tenant-owned row."""
    if enforced():
        _require_transaction()
        _set(NO_CONTEXT, local=True)


@contextmanager
def tenant_context(tenant: Any) -> Iterator[None]:
    """A transaction in which only `tenant`'s rows exist (SET LOCAL semantics)."""
    with transaction.atomic():
        activate(tenant)
        yield


@contextmanager
def bypass_context() -> Iterator[None]:
    """A transaction that sees every tenant's rows (operators, settlement, drains)."""
    with transaction.atomic():
        activate_bypass()
        yield


_SWAP_SQL = (
    "WITH before AS MATERIALIZED (SELECT current_setting('app.company_id', true) AS c, "
    "current_setting('app.agency_id', true) AS a, current_setting('app.bypass', true) AS b) "
    "SELECT c, a, b, set_config('app.company_id', '', true), "
    "set_config('app.agency_id', '', true), set_config('app.bypass', 'on', true) FROM before"
)


@contextmanager
def public_transaction() -> Iterator[None]:
    """The candidate's landing route runs without a request transaction (careerrelay/core/wsgi.py):
    each of its rare queries (a link-cache miss, the Redis-down click write) gets a transaction
    of its own that sees past the policies, as every /r/ page's request transaction does on the
    full chain. Inside a transaction already open (the full chain), nothing changes."""
    if connection.in_atomic_block:
        yield
        return
    with bypass_context():
        yield


@contextmanager
def narrow_bypass() -> Iterator[None]:
    """One explicit step past the policies inside the current context, which is restored
    afterwards: an append to the audit log (Django's INSERT ... RETURNING needs the new row
    visible, and an agency's action may write the company's audit row), a look-up of a
    capability by its hash (an invitation's token). Never around code that renders rows."""
    if not enforced():
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(_SWAP_SQL)
            company, agency, bypass = cursor.fetchone()[:3]
        yield
        before = {"app.company_id": company or "", "app.agency_id": agency or ""}
        before["app.bypass"] = bypass or ""
        _set(before, local=True)


@contextmanager
def operator_session() -> Iterator[None]:
    """An operator's management command that spans several transactions (settlement commits
    per chunk): the whole connection session sees every row until the block ends."""
    if not enforced():
        yield
        return
    _set(BYPASS, local=False)
    try:
        yield
    finally:
        _reset_session()


def _reset_session() -> None:
    try:
        _set(NO_CONTEXT, local=False)
    except Exception:
        # Never hand on a connection that may still carry the bypass.
        connection.close()


class _FirstQuery:
    """An execute wrapper that sets the context (SET LOCAL) just before the first statement of
    the transaction it guards, so a request that touches no table (the cached landing page)
    costs no round trip at all."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values
        self.done = False

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        if not self.done:
            self.done = True
            _set(self.values, local=True)
        return execute(sql, params, many, context)


@contextmanager
def request_transaction(values: dict[str, str]) -> Iterator[None]:
    """One transaction whose every statement runs with `values` as its context."""
    with transaction.atomic(), connection.execute_wrapper(_FirstQuery(values)):
        yield


def _streamed(content: Iterable[Any], values: dict[str, str]) -> Iterator[Any]:
    with request_transaction(values):
        yield from content


def _unavailable(*_: Any) -> Any:
    raise OperationalError("the database is unavailable")


def request_values(request: HttpRequest) -> dict[str, str]:
    """The context a request runs with: an explicit bypass for operators in the admin and the
    candidate's capability pages, else the signed-in member's organisation, else nothing."""
    if request.path.startswith(BYPASS_PREFIXES):
        if not request.path.startswith("/admin/"):
            return dict(BYPASS)
        # Only here is the signed-in user looked at: the landing page never loads a session.
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_staff:
            return dict(BYPASS)
    return tenant_values(getattr(request, "tenant", None))


class RlsTenantMiddleware:
    """Runs the view and its rendering in one transaction whose context (SET LOCAL) comes from
    request.tenant, in enforce mode only. The transaction's end clears the context."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not enforced():
            return self.get_response(request)
        values = request_values(request)
        try:
            # The transaction needs a connection up front (free with persistent connections).
            connection.ensure_connection()
        except OperationalError:
            # The database is unreachable: a page that needs no query (the cached landing page)
            # still answers, and any query fails as it would have without this middleware.
            with connection.execute_wrapper(_unavailable):
                return self.get_response(request)
        with request_transaction(values):
            response = self.get_response(request)
        if getattr(response, "streaming", False):
            # Produced after this transaction ended (the audit CSV export): give the rows the
            # same context in a transaction of their own.
            response.streaming_content = _streamed(response.streaming_content, values)
        return response


# --- Celery -------------------------------------------------------------------------------


# Set while a task runs outside any transaction (the worker): the task's connections, including
# one Celery's Django fix-up closes and reopens at task start (CONN_MAX_AGE), start with the bypass.
_task = threading.local()


def _task_prerun(**_: Any) -> None:
    """A task sees every row for its duration: every connection it uses in the worker, or the
    enclosing transaction when it runs eagerly inside one (tests, demo)."""
    if not enforced():
        return
    if connection.in_atomic_block:
        connection.rls_outer = getattr(connection, "rls_values", {})  # type: ignore[attr-defined]
        _set(BYPASS, local=True)
        return
    _task.bypass = True
    if connection.connection is not None:
        _set(BYPASS, local=False)


def _task_postrun(**_: Any) -> None:
    if not enforced():
        return
    if connection.in_atomic_block:
        try:
            _set(getattr(connection, "rls_outer", NO_CONTEXT), local=True)
        except Exception:
            connection.close()
        return
    _task.bypass = False
    if connection.connection is not None:
        _reset_session()


def _task_connection(sender: Any, connection: Any, **_: Any) -> None:
    """A connection opened while a task runs starts with the task's bypass."""
    if getattr(_task, "bypass", False) and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_SET_SQL, ["", False, "", False, "on", False])
        connection.rls_values = dict(BYPASS)


def connect_celery_signals() -> None:
    from celery.signals import task_postrun, task_prerun

    task_prerun.connect(_task_prerun, weak=False, dispatch_uid="rls_task_prerun")
    task_postrun.connect(_task_postrun, weak=False, dispatch_uid="rls_task_postrun")


# --- the role the application connects as --------------------------------------------------

_ROLE_SQL = """
SELECT r.rolname, r.rolsuper OR r.rolbypassrls,
       EXISTS (SELECT 1 FROM pg_class c
               WHERE c.relrowsecurity AND pg_has_role(r.oid, c.relowner, 'MEMBER'))
FROM pg_roles r WHERE r.rolname = ANY({names})
"""
_verified: set[tuple[Any, ...]] = set()


def role_problems(cursor: Any, role: str | None = None) -> list[str]:
    """Why `role` (default: the connection's current and session users) could see past the
    policies: a superuser, BYPASSRLS, or the owner of a tenant table (who may switch RLS off),
    or a member of one of those. Empty when it cannot."""
    if role is None:
        cursor.execute(_ROLE_SQL.format(names="ARRAY[current_user::text, session_user::text]"))
    else:
        cursor.execute(_ROLE_SQL.format(names="%s"), [[role]])
    problems = []
    for name, bypasses, owns in cursor.fetchall():
        if bypasses:
            problems.append(f"{name} is a superuser or has BYPASSRLS")
        if owns:
            problems.append(f"{name} owns (or may become the owner of) the tenant tables")
    return sorted(set(problems))


def app_role_statements(*, role: str, owner: str, database: str) -> list[str]:
    """The idempotent statements that create the application's login role (if missing) and
    grant it row access to every table, including tables later migrations create (default
    privileges of the migrating owner). The caller sets the password separately."""
    for name in (role, owner, database):
        if not _IDENTIFIER.fullmatch(name):
            raise ValueError(f"not a plain PostgreSQL identifier: {name!r}")
    r, o = f'"{role}"', f'"{owner}"'
    missing = f"NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}')"  # noqa: S608
    create = f"CREATE ROLE {r} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
    return [
        f"DO $$ BEGIN IF {missing} THEN {create}; END IF; END $$",
        f"ALTER ROLE {r} LOGIN",
        f'GRANT CONNECT ON DATABASE "{database}" TO {r}',
        f"GRANT USAGE ON SCHEMA public TO {r}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {r}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {r}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {o} IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {r}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {o} IN SCHEMA public "
        f"GRANT USAGE, SELECT ON SEQUENCES TO {r}",
    ]


def verify_role(sender: Any, connection: Any, **_: Any) -> None:
    """Production in enforce mode refuses a connection whose role could ignore or switch off
    the policies (checked once per process and database)."""
    if connection.vendor != "postgresql" or getattr(settings, "DATABASE_RLS", "") != "enforce":
        return
    if not getattr(settings, "DATABASE_RLS_VERIFY_ROLE", False):
        return
    d = connection.settings_dict
    key = (connection.alias, d.get("HOST"), d.get("PORT"), d.get("NAME"), d.get("USER"))
    if key in _verified:
        return
    with connection.cursor() as cursor:
        problems = role_problems(cursor)
    if problems:
        connection.close()
        raise ImproperlyConfigured(
            "DATABASE_RLS=enforce but " + "; ".join(problems) + ": connect as the application "
            "role (manage.py db_app_role), or set DATABASE_RLS_ALLOW_BYPASS=true"
        )
    _verified.add(key)


connect_celery_signals()
connection_created.connect(verify_role, dispatch_uid="rls_verify_role")
connection_created.connect(_task_connection, dispatch_uid="rls_task_connection")
