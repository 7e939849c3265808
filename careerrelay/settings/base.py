"""Settings shared by every environment. Configuration comes only from environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default="insecure-local-only-key-change-me-0123456789abcdef")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "careerrelay.users",
    "careerrelay.core",
    "companies",
    "agencies",
    "referrals",
    "credits",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "careerrelay.core.ratelimit.FloodLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "careerrelay.core.tenancy.TenantMiddleware",
    "careerrelay.core.rls.RlsTenantMiddleware",
]
# The candidate landing page (GET/HEAD /r/<token>/) runs the chain above without these
# (careerrelay/core/wsgi.py): it serves no static file and reads no session, user, message, htmx
# header or tenant, and its rare queries open their own transaction (rls.public_transaction).
# About a quarter of that page's CPU was spent here (bench/NOTES.md).
LANDING_SKIPPED_MIDDLEWARE = [
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "careerrelay.core.tenancy.TenantMiddleware",
    "careerrelay.core.rls.RlsTenantMiddleware",
]

ROOT_URLCONF = "careerrelay.urls"
WSGI_APPLICATION = "careerrelay.wsgi.application"
AUTH_USER_MODEL = "users.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "careerrelay.core.context_processors.tenant",
            ],
        },
    },
]

# Database: embedded SQLite unless DATABASE_URL points at PostgreSQL.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
USING_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The embedded demo serves several requests at once (runserver threads, eager tasks): write
    # transactions take the lock up front and wait for it instead of failing "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"}
    )
# Row-level security (careerrelay/core/rls.py): "bypass" (the default here: demo, tests,
# migrations) keeps the policies open for every connection; "enforce" (production's default)
# starts connections without bypass, as a role that is neither owner nor superuser: the login
# role of DATABASE_URL (production), or DATABASE_APP_ROLE via SET ROLE (tests, local trials).
DATABASE_RLS = env("DATABASE_RLS", default="bypass")
DATABASE_APP_ROLE = env("DATABASE_APP_ROLE", default="")
# Refuse a connection whose role could ignore the policies (production, see rls.verify_role).
DATABASE_RLS_VERIFY_ROLE = False


def rls_database_options(database: dict[str, Any], *, mode: str, role: str) -> None:
    """The libpq startup options of a PostgreSQL connection for the RLS mode (no round trip)."""
    startup = [] if mode == "enforce" else ["-c app.bypass=on"]
    if role:
        startup.append(f"-c role={role}")
    options = database.setdefault("OPTIONS", {})
    if startup:
        options["options"] = " ".join(startup)
    else:
        options.pop("options", None)


if USING_POSTGRES:
    rls_database_options(DATABASES["default"], mode=DATABASE_RLS, role=DATABASE_APP_ROLE)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis: cache and Celery broker when REDIS_URL is set; local memory and eager tasks otherwise.
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "careerrelay.core.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
# kombu's Redis transport with the repairs that let a worker holding messages survive a Redis
# outage and deliver everything once Redis is back (careerrelay/celery.py).
CELERY_BROKER_TRANSPORT = "careerrelay.celery:RedisTransport" if REDIS_URL else None
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# The worker runs at this nice value (0: as started), below the web processes on a shared
# machine (careerrelay/celery.py: lower_cpu_priority).
WORKER_NICE = env.int("WORKER_NICE", default=10)
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "Asia/Tokyo"
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    "socket_connect_timeout": 1,
    # Without a read timeout a publish to a Redis that stopped answering (frozen, failover, NAT
    # drop) waits forever and the request with it (tests/faults/test_redis_outage.py).
    "socket_timeout": 0.3,
}
# No publish retry: a publish in a request gives up within the read timeout and the caller's
# fallback (in-process send, drain, outbox) takes over; redis-py reconnects a stale pooled
# connection by itself.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 0}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A worker that lost Redis reconnects until it is back (default: gives up after 100 attempts,
# about 50 minutes); docker compose's `restart: unless-stopped` stays the second wall.
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# Tasks running when the connection drops run to the end; their acks wait for Redis
# (careerrelay/celery.py). Cancelling them would only run them again later.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
# Task modules that are not named tasks.py (autodiscover finds only those).
CELERY_IMPORTS = ("referrals.rollups",)
# Without Redis (the embedded `make demo`) no beat runs the rollup refresh: the dashboard pages
# then refresh the (incremental) rollups themselves before reading them.
DASHBOARD_REFRESH_ON_VIEW = env.bool("DASHBOARD_REFRESH_ON_VIEW", default=not REDIS_URL)
# Two beats at once schedule once: only the Redis-elected leader sends (careerrelay/core/beat.py).
CELERY_BEAT_SCHEDULER = "careerrelay.core.beat:LeaderScheduler"
BEAT_LEADER_TTL = env.int("BEAT_LEADER_TTL", default=30)
CELERY_BEAT_SCHEDULE = {
    "rollups-refresh": {
        "task": "referrals.rollup_refresh",
        "schedule": 60.0,
        "options": {"expires": 60},
    },
    "rollups-rebuild-nightly": {
        "task": "referrals.rollup_rebuild",
        "schedule": crontab(minute=15, hour=4),
        "options": {"expires": 3600},
    },
    "clicks-drain": {
        "task": "referrals.click_drain",
        "schedule": 5.0,
        "options": {"expires": 5},
    },
    "outbox-relay": {
        "task": "core.outbox_relay",
        "schedule": 10.0,
        "options": {"expires": 10},
    },
    "settle-rebates-monthly": {
        "task": "credits.settle_previous_month",
        "schedule": crontab(minute=30, hour=3, day_of_month=1),
        "options": {"expires": 3600},
    },
}

# Sessions live in the database so that a Redis outage never signs anybody out.
SESSION_ENGINE = "django.contrib.sessions.backends.db"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

# django-allauth: email login, mandatory verification for new sign-ups, rate limits, TOTP.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = env("ACCOUNT_EMAIL_VERIFICATION", default="mandatory")
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_RATE_LIMITS = {"login_failed": "5/5m/ip,5/5m/key", "signup": "20/h/ip"}
ACCOUNT_ADAPTER = "careerrelay.users.adapters.AccountAdapter"
ACCOUNT_LOGOUT_ON_GET = False
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "CareerRelay"
LOGIN_REDIRECT_URL = "/after-login/"
LOGIN_URL = "/accounts/login/"

LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", _("日本語")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 5_242_880

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="CareerRelay <no-reply@careerrelay.example>")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "careerrelay.core.apikeys.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["careerrelay.core.permissions.IsTenantMember"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "careerrelay.core.errors.api_exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CareerRelay API",
    "DESCRIPTION": "Referral links, referrals, credits, placements and statements.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a `status` or `kind` choice set: name each enum explicitly.
    "ENUM_NAME_OVERRIDES": {
        "PartnershipStatusEnum": "companies.models.PartnershipStatus",
        "PlacementStatusEnum": "agencies.models.PlacementStatus",
        "ReferralStatusEnum": "referrals.models.ReferralStatus",
        "LinkKindEnum": "referrals.models.LinkKind",
        "StatementKindEnum": "credits.models.StatementKind",
        "EntryKindEnum": "credits.models.EntryKind",
    },
}

# Content-Security-Policy: everything from our own origin, nothing inline but what we hash.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "style-src": ["'self'"],
        "script-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Candidate personal data: encryption key (Fernet, urlsafe base64 of 32 bytes) and the HMAC key
# used for look-ups and de-duplication. The defaults are for the embedded demo only.
PII_ENCRYPTION_KEYS = env.list(
    "PII_ENCRYPTION_KEYS", default=["0RzvGN3gqGuoY3Lrd2bp5K1Z0i8o3XGhzsN2vZbVtwQ="]
)
DEMO_PII_HMAC_KEY = "local-demo-hmac-key-change-me"
PII_HMAC_KEY = env("PII_HMAC_KEY", default=DEMO_PII_HMAC_KEY)

# Abuse limits, on everywhere by default (tests that send more from one address raise them
# explicitly). Candidate-page views (GET/HEAD under /r/) per client address and minute before
# 429, the flood recording no click (0 = off; a person clicking through the demo is far below).
CLICK_FLOOD_PER_MINUTE = env.int("CLICK_FLOOD_PER_MINUTE", default=120)
# Candidate registrations (POST /r/<token>/) per client address: (attempts, window seconds).
REFERRAL_REGISTER_RATE = (10, 600)

# Domain defaults.
ATTRIBUTION_WINDOW_DAYS = 365
CONSENT_RETENTION_YEARS = 3
PRIVACY_POLICY_VERSION = "2026-11-01"
# Where candidates send privacy requests (shown on the privacy notice, /r/privacy/).
PRIVACY_CONTACT_EMAIL = env("PRIVACY_CONTACT_EMAIL", default="privacy@careerrelay.example")
THIRD_PARTY_CONSENT_VERSION = "2026-11-01"
CONSUMPTION_TAX_PERCENT = 10
PLATFORM_INVOICE_NAME = env("PLATFORM_INVOICE_NAME", default="キャリアリレー株式会社")
PLATFORM_INVOICE_REGISTRATION_NUMBER = env(
    "PLATFORM_INVOICE_REGISTRATION_NUMBER", default="T1234567890123"
)
# Rebate settlement: placements per transaction, and how long a settlement holds its Redis lock
# between chunks (a crashed worker's lock lapses after this).
SETTLEMENT_CHUNK_SIZE = env.int("SETTLEMENT_CHUNK_SIZE", default=5000)
SETTLEMENT_LOCK_SECONDS = env.int("SETTLEMENT_LOCK_SECONDS", default=120)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
