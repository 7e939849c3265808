"""Production: refuses to start without SECRET_KEY, ALLOWED_HOSTS and its own PII keys, or with
row-level security off; `check --deploy` is clean."""

from __future__ import annotations

from .base import *  # noqa: F403
from .base import env, rls_database_options

DEBUG = False
SECRET_KEY = env("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
if not ALLOWED_HOSTS:
    raise environ.ImproperlyConfigured("ALLOWED_HOSTS must name at least one host")  # noqa: F405

# Candidate personal data: production never runs on the embedded demo's published keys.
PII_ENCRYPTION_KEYS = env.list("PII_ENCRYPTION_KEYS")
PII_HMAC_KEY = env("PII_HMAC_KEY")
if not PII_ENCRYPTION_KEYS or not PII_HMAC_KEY or PII_HMAC_KEY == DEMO_PII_HMAC_KEY:  # noqa: F405
    raise environ.ImproperlyConfigured(  # noqa: F405
        "PII_ENCRYPTION_KEYS and PII_HMAC_KEY must be set to this installation's own keys"
    )

# Row-level security is enforced: the application connects (DATABASE_URL) as the login role of
# `manage.py db_app_role`, neither owner nor superuser, and a connection as any role that could
# see past the policies is refused. Only the one-shot `migrate` service runs as the owner, with
# DATABASE_RLS=bypass and DATABASE_RLS_ALLOW_BYPASS=true (docker-compose.yml).
DATABASE_RLS = env("DATABASE_RLS", default="enforce")
DATABASE_RLS_ALLOW_BYPASS = env.bool("DATABASE_RLS_ALLOW_BYPASS", default=False)
if DATABASE_RLS not in {"enforce", "bypass"}:
    raise environ.ImproperlyConfigured("DATABASE_RLS must be 'enforce' or 'bypass'")  # noqa: F405
if DATABASE_RLS == "bypass" and not DATABASE_RLS_ALLOW_BYPASS:
    raise environ.ImproperlyConfigured(  # noqa: F405
        "DATABASE_RLS=bypass switches row-level security off: set DATABASE_RLS_ALLOW_BYPASS=true "
        "to run so on purpose (migrations as the owner)"
    )
DATABASE_RLS_VERIFY_ROLE = not DATABASE_RLS_ALLOW_BYPASS
if USING_POSTGRES:  # noqa: F405
    rls_database_options(DATABASES["default"], mode=DATABASE_RLS, role=DATABASE_APP_ROLE)  # noqa: F405

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
CONN_MAX_AGE = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_MAX_AGE"] = CONN_MAX_AGE  # noqa: F405
# A flood of landing-page views from one address answers 429 and records no click.
CLICK_FLOOD_PER_MINUTE = env.int("CLICK_FLOOD_PER_MINUTE", default=120)
