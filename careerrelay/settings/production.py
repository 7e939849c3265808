"""Production: refuses to start without SECRET_KEY, ALLOWED_HOSTS and its own PII keys;
`check --deploy` is clean."""

from __future__ import annotations

from .base import *  # noqa: F403
from .base import env

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
