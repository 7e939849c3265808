"""Abuse: CSRF on every state change, sign-in lockout, registration and click floods, and the
production security settings (CSP, secure cookies, HSTS, `check --deploy`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client, override_settings

from careerrelay.core.ratelimit import ratelimit_allow
from referrals.models import Click, Referral
from tests.security.routes import walk
from tests.security.test_isolation_matrix import spec_for
from tests.security.world import PASSWORD, World

ROOT = Path(__file__).resolve().parents[2]
UNSAFE = ("post", "put", "patch", "delete")


def _own_kwargs(route: Any, world: World, org: str | None) -> dict[str, Any]:
    spec = spec_for(route)
    kwargs: dict[str, Any] = dict.fromkeys(route.params, "1")
    if "app_label" in route.params:
        kwargs["app_label"] = "referrals"
    if spec is None:
        return kwargs
    kwargs.update(spec.fill)
    for param, ref in spec.objs.items():
        kind, *attr = ref.split(".")
        rows = [o for o in world.of_kind(kind) if org is None or org in o.owners] or world.of_kind(
            kind
        )
        kwargs[param] = getattr(rows[0].obj, attr[0]) if attr else rows[0].pk
    return kwargs


def test_every_state_change_requires_a_csrf_token(world: World, db: Any) -> None:
    """Browser principals (anonymous, company owner, agency owner) with CSRF checks enforced:
    every unsafe method of every route without a token answers 403 (CSRF) and writes nothing.
    API-key requests carry no cookies and are not exposed to CSRF."""
    failures: list[str] = []
    cells = 0
    users = {"co:A": world.users["co:A:owner"], "ag:A": world.users["ag:A:owner"]}
    for route in walk():
        methods = [m for m in route.methods() if m in UNSAFE]
        if not methods:
            continue
        for org in (None, "co:A", "ag:A"):
            if route.is_api and org is None:
                continue  # no session, nothing to forge
            client = Client(enforce_csrf_checks=True, raise_request_exception=False)
            if org:
                client.force_login(users[org])
            url = route.url(**_own_kwargs(route, world, org))
            for method in methods:
                response = getattr(client, method)(url, data={"label": "x"})
                cells += 1
                body = response.content.decode("utf-8", "replace").lower()
                if response.status_code != 403 or "csrf" not in body:
                    failures.append(f"{method.upper()} {url} as {org}: {response.status_code}")
    assert cells > 50
    assert not failures, "\n".join(failures)


def test_sign_in_is_locked_after_repeated_failures(world: World, db: Any) -> None:
    """allauth's `login_failed` limit: after 5 wrong passwords, even the right one is refused."""
    client = Client()
    email = world.users["co:A:owner"].email
    for _ in range(5):
        response = client.post("/accounts/login/", {"login": email, "password": "wrong-password"})
        assert response.status_code in (200, 429)
        assert "_auth_user_id" not in client.session
    response = client.post("/accounts/login/", {"login": email, "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    assert response.status_code in (200, 429)
    # A fresh address from another IP is not affected.
    other = Client(REMOTE_ADDR="10.9.9.9")
    response = other.post(
        "/accounts/login/",
        {"login": world.users["ag:A:owner"].email, "password": PASSWORD},
        REMOTE_ADDR="10.9.9.9",
    )
    assert response.status_code == 302


def _registration(n: int) -> dict[str, str]:
    return {
        "name": f"応募 太郎{n}",
        "email": f"flood{n}@example.jp",
        "phone": f"090-1234-{n:04d}",
        "desired_role": "営業",
        "prefecture": "東京都",
        "consent_privacy": "on",
        "consent_third_party": "on",
        "website": "",
    }


@override_settings(REFERRAL_REGISTER_RATE=(5, 600))
def test_registration_flood_from_one_ip_is_limited_and_not_counted(world: World, db: Any) -> None:
    link = next(o.obj for o in world.of_kind("link") if o.owners == {"co:A", "ag:A"})
    before = Referral.all_objects.count()
    statuses = []
    for n in range(12):
        client = Client(REMOTE_ADDR="203.0.113.7")
        response = client.post(f"/r/{link.token}/", _registration(n), REMOTE_ADDR="203.0.113.7")
        statuses.append(response.status_code)
    accepted = [s for s in statuses if s == 302]
    limited = [s for s in statuses if s == 429]
    assert len(accepted) == 5, statuses
    assert len(limited) == 7, statuses
    assert Referral.all_objects.count() - before == 5
    # Another address still gets through.
    response = Client().post(f"/r/{link.token}/", _registration(99), REMOTE_ADDR="198.51.100.1")
    assert response.status_code == 302


@override_settings(CLICK_FLOOD_PER_MINUTE=1_000)  # above 200: this is about uniqueness
def test_click_flood_from_one_visitor_counts_once(world: World, db: Any) -> None:
    """200 views of a landing page from one address and browser, under the flood limit: the
    drain stores them as one unique click (repeats inside the hour are not unique)."""
    from referrals import clicks, services

    link = next(o.obj for o in world.of_kind("link") if o.owners == {"co:B", "ag:B"})
    client = Client(HTTP_USER_AGENT="Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X)")
    for _ in range(200):
        response = client.get(f"/r/{link.token}/", REMOTE_ADDR="203.0.113.50")
        assert response.status_code == 200
    clicks.drain(services.clicks_ingest)
    rows = Click.all_objects.filter(link=link).exclude(
        pk__in=[o.pk for o in world.of_kind("click")]
    )
    assert rows.count() == 200
    assert rows.filter(is_unique=True).count() == 1


def test_rate_limiter_counts_per_key_and_window(db: Any) -> None:
    assert all(ratelimit_allow(key="t:a", limit=3, window_seconds=60) for _ in range(3))
    assert not ratelimit_allow(key="t:a", limit=3, window_seconds=60)
    assert ratelimit_allow(key="t:b", limit=3, window_seconds=60)


def _production_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="careerrelay.settings.production",
        SECRET_KEY="prod-test-" + "k" * 60,
        PII_ENCRYPTION_KEYS="bXktb3duLXByb2R1Y3Rpb24ta2V5LTMyLWJ5dGVzISE=",
        PII_HMAC_KEY="my-own-production-hmac-key",
        ALLOWED_HOSTS="careerrelay.example",
        DATABASE_URL=os.environ.get("DATABASE_URL", "sqlite:////tmp/cr-prod-check.sqlite3"),
    )
    return env


def test_production_check_deploy_has_no_security_warning() -> None:
    """`check --deploy` under production settings: no security.*, csrf or session warning.
    (Warnings of other kinds, e.g. drf-spectacular's schema hints, are the API owners'.)"""
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=_production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    for family in ("(security.", "(csrf.", "(sessions.", "(admin."):
        assert family not in output, output


def test_production_refuses_to_start_without_secret_key() -> None:
    env = _production_env()
    env.pop("SECRET_KEY")
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


PROBE = """
import django, json
django.setup()
from django.test import Client
c = Client()
r = c.get("/accounts/login/", secure=True, HTTP_HOST="careerrelay.example")
cookies = {k: {"secure": bool(m["secure"]), "httponly": bool(m["httponly"]),
               "samesite": m["samesite"]} for k, m in r.cookies.items()}
plain = c.get("/", HTTP_HOST="careerrelay.example")
print(json.dumps({"status": r.status_code, "headers": dict(r.headers), "cookies": cookies,
                  "plain_status": plain.status_code, "plain_location": plain.get("Location", "")}))
"""


def test_production_headers_csp_hsts_and_secure_cookies() -> None:
    import json

    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=_production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    headers = {k.lower(): v for k, v in out["headers"].items()}
    assert out["status"] == 200
    assert "max-age=31536000" in headers["strict-transport-security"]
    assert "includeSubDomains" in headers["strict-transport-security"]
    csp = headers["content-security-policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ):
        assert directive in csp, csp
    assert "unsafe-inline" not in csp.split("script-src", 1)[1].split(";", 1)[0]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"
    csrf = out["cookies"]["csrftoken"]
    assert csrf["secure"]
    # Plain HTTP is redirected to HTTPS.
    assert out["plain_status"] == 301
    assert out["plain_location"].startswith("https://")


def test_session_cookie_flags_in_production_settings() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django;django.setup();from django.conf import settings as s;"
            "print(s.SESSION_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.CSRF_COOKIE_SECURE,"
            " s.SECURE_HSTS_PRELOAD, s.SESSION_COOKIE_SAMESITE)",
        ],
        cwd=ROOT,
        env=_production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stdout.split() == ["True", "True", "True", "True", "Lax"], result.stderr


@pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis (always set in CI)")
def test_rate_limiter_fails_open_when_the_cache_is_down(settings: Any) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6399/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    assert ratelimit_allow(key="down", limit=0, window_seconds=60)


def test_a_landing_page_flood_from_one_address_is_limited_and_not_counted(
    world: World, db: Any, settings: Any
) -> None:
    """With the production limit on (here 50 a minute), views beyond it answer 429 before the
    view runs: no click is captured for them. Another address is unaffected."""
    from referrals import clicks, services

    settings.CLICK_FLOOD_PER_MINUTE = 50
    link = next(o.obj for o in world.of_kind("link") if o.owners == {"co:A", "ag:B"})
    client = Client(HTTP_USER_AGENT="flood-test/1.0 (Windows NT 10.0)")
    statuses = [
        client.get(f"/r/{link.token}/", REMOTE_ADDR="203.0.113.99").status_code for _ in range(80)
    ]
    assert statuses.count(200) == 50
    assert statuses.count(429) == 30
    assert client.get(f"/r/{link.token}/", REMOTE_ADDR="198.51.100.7").status_code == 200
    clicks.drain(services.clicks_ingest)
    seeded = [o.pk for o in world.of_kind("click")]
    assert Click.all_objects.filter(link=link).exclude(pk__in=seeded).count() == 51


DEFAULTS = """
import django, json
django.setup()
from django.conf import settings as s
print(json.dumps([s.CLICK_FLOOD_PER_MINUTE, list(s.REFERRAL_REGISTER_RATE),
                  s.ACCOUNT_RATE_LIMITS.get("login_failed"), s.ACCOUNT_RATE_LIMITS.get("signup")]))
"""


@pytest.mark.parametrize("module", ["local", "production"])
def test_abuse_limits_are_on_by_default_in_the_demo_and_production(module: str) -> None:
    """Click floods, registration floods and sign-in failures are limited without any setting
    (the embedded demo included), not only where production settings turn them on."""
    env = {**_production_env(), "DJANGO_SETTINGS_MODULE": f"careerrelay.settings.{module}"}
    for name in ("CLICK_FLOOD_PER_MINUTE", "REDIS_URL", "DATABASE_URL"):
        env.pop(name, None)
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", DEFAULTS],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    flood, register, login_failed, signup = json.loads(result.stdout.strip().splitlines()[-1])
    assert flood == 120
    assert register == [10, 600]
    assert login_failed == "5/5m/ip,5/5m/key"
    assert signup == "20/h/ip"


def test_a_landing_page_flood_is_limited_with_the_default_settings(world: World, db: Any) -> None:
    """No override: candidate-page views from one address beyond the default limit answer 429."""
    limit = settings.CLICK_FLOOD_PER_MINUTE
    link = next(o.obj for o in world.of_kind("link") if o.owners == {"co:A", "ag:B"})
    client = Client(HTTP_USER_AGENT="flood-test/1.0 (Windows NT 10.0)")
    served = 0
    # Two windows at most (the minute may turn over once): the limit is hit in one of them.
    for _ in range(2 * (limit + 1)):
        status = client.get(f"/r/{link.token}/", REMOTE_ADDR="203.0.113.98").status_code
        if status == 429:
            break
        assert status == 200
        served += 1
    assert limit <= served <= 2 * limit, served


def test_downloads_are_attachments_with_nosniff(world: World, db: Any) -> None:
    """Statement PDFs (pages and API) and CSV exports download as attachments with nosniff;
    the logo preview is a re-encoded PNG served inline with nosniff."""
    import io as _io

    from django.core.files.base import ContentFile
    from PIL import Image
    from rest_framework.test import APIClient

    checked = 0
    for org, prefix in (("co:A", "/app/statements/"), ("ag:A", "/partner/statements/")):
        statement = next(o.obj for o in world.of_kind("statement") if o.owners == {org})
        statement.pdf.save("t.pdf", ContentFile(b"%PDF-1.4\n%test\n"), save=True)
        client = Client()
        client.force_login(world.users[f"{org}:owner"])
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {world.keys[org]}")
        for response in (
            client.get(f"{prefix}{statement.pk}/pdf/"),
            api.get(f"/api/v1/statements/{statement.pk}/pdf/"),
        ):
            assert response.status_code == 200
            assert response["X-Content-Type-Options"] == "nosniff"
            assert response["Content-Disposition"].startswith("attachment")
            assert response["Content-Type"].startswith("application/pdf")
            checked += 1
    client = Client()
    client.force_login(world.users["co:A:owner"])
    batch = next(o.obj for o in world.of_kind("link_batch") if o.owners == {"co:A", "ag:A"})
    response = client.get(f"/app/links/bulk/{batch.pk}/download/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    png = _io.BytesIO()
    Image.new("RGB", (40, 20), (200, 30, 30)).save(png, format="PNG")
    png.seek(0)
    png.name = "logo.png"
    response = client.post("/app/settings/", {"form": "branding", "logo": png})
    assert response.status_code == 302
    response = client.get("/app/settings/logo.png")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response.content.startswith(b"\x89PNG")
    assert checked == 4
