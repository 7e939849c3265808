"""The WSGI application's short chain for the landing page (careerrelay/core/wsgi.py): which
requests take it, and that its answers carry the same headers as the full chain's."""

from __future__ import annotations

import io
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import override_settings
from django.urls import resolve
from hypothesis import given
from hypothesis import settings as examples
from hypothesis import strategies as st

from careerrelay.core import wsgi
from referrals import selectors, services

TOKEN = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-",
    min_size=16,
    max_size=32,
)
PHONE_UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15"
# Differs per response by design.
PER_RESPONSE = {"date"}


@given(token=TOKEN)
@examples(max_examples=200)
def test_every_path_the_short_chain_takes_is_the_landing_view(token: str) -> None:
    path = f"/r/{token}/"
    assert wsgi.LANDING_PATH.match(path)
    match = resolve(path)
    assert (match.namespace, match.url_name) == ("referrals", "landing")


@pytest.mark.parametrize(
    "path",
    [
        "/r/privacy/",
        "/r/verify/abcdefghijklmnopqrstu/",
        "/r/me/abcdefghijklmnopqrstu/",
        "/r/abcdefghijklmnopqrstu/thanks/",
        "/r/abcdefghijklmnopqrstu",
        "/r/abc/",
        "/app/",
        "/r/abcdefghijklmnopqrstu/\n",
    ],
)
def test_other_paths_take_the_full_chain(path: str) -> None:
    assert not wsgi.LANDING_PATH.match(path)


def test_the_short_chain_is_the_full_one_less_the_skipped(settings: Any) -> None:
    chain = wsgi.landing_middleware()
    assert chain == [m for m in settings.MIDDLEWARE if m not in settings.LANDING_SKIPPED_MIDDLEWARE]
    for kept in (
        "django.middleware.security.SecurityMiddleware",
        "django.middleware.locale.LocaleMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
        "csp.middleware.CSPMiddleware",
        "careerrelay.core.ratelimit.FloodLimitMiddleware",
    ):
        assert kept in chain
    # A middleware added to the project later applies to the landing page unless skipped.
    with override_settings(MIDDLEWARE=[*settings.MIDDLEWARE, "tests.core.test_wsgi.Tag"]):
        assert wsgi.landing_middleware()[-1] == "tests.core.test_wsgi.Tag"


class Tag:
    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        return self.get_response(request)


def call(app: Any, method: str, path: str, **extra: str) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (Set-Cookie as the cookies' names and attributes, values left out) and
    body of one request through a WSGI application."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "HTTP_HOST": "testserver",
        "HTTP_USER_AGENT": PHONE_UA,
        "wsgi.input": io.BytesIO(b""),
        **extra,
    }
    setup_testing_defaults(environ)
    seen: list[Any] = []
    # As Django's test client does: the test's transaction must outlive the request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        result = app(environ, lambda status, headers, exc=None: seen.append((status, headers)))
        body = b"".join(result)
        result.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    status, headers = seen[0]
    out = {k.lower(): v for k, v in headers if k.lower() != "set-cookie"}
    cookies = sorted(
        "; ".join(
            [
                v.split("=", 1)[0],
                *sorted(a.strip() for a in v.split(";")[1:] if "expires" not in a.lower()),
            ]
        )
        for k, v in headers
        if k.lower() == "set-cookie"
    )
    out["set-cookie"] = " | ".join(cookies)
    return int(status.split()[0]), out, body


def apps() -> tuple[Any, Any]:
    """The production application and a handler with the full chain for every request (built
    after the test's settings: middleware read them once)."""
    return wsgi.get_application(), WSGIHandler()


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["ja", "en"])
@pytest.mark.parametrize("state", ["open", "gone", "closed", "unknown"])
def test_the_short_chain_answers_with_the_full_chains_headers(
    partnership: Any, state: str, language: str, settings: Any
) -> None:
    settings.SECURE_HSTS_SECONDS = 3600
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    application, full = apps()
    link, _ = services.link_create(partnership=partnership, label="見出し")
    token = link.token if state != "unknown" else "Z" * 22
    if state == "gone":
        type(link).all_objects.filter(pk=link.pk).update(is_active=False)
    if state == "closed":
        partnership.status = "ended"
        partnership.save()
    extra = {"HTTP_X_FORWARDED_PROTO": "https", "HTTP_ACCEPT_LANGUAGE": language}
    for method in ("GET", "HEAD"):
        selectors.clear_local_cache()
        short = call(application, method, f"/r/{token}/", **extra)
        selectors.clear_local_cache()
        whole = call(full, method, f"/r/{token}/", **extra)
        assert (
            short[0] == whole[0] == {"open": 200, "gone": 410, "closed": 200, "unknown": 404}[state]
        )
        assert {k: v for k, v in short[1].items() if k not in PER_RESPONSE} == {
            k: v for k, v in whole[1].items() if k not in PER_RESPONSE
        }
        for header in ("strict-transport-security", "content-security-policy", "x-frame-options"):
            assert header in short[1]
        if state == "open" and method == "GET":
            assert (
                "cr_click; HttpOnly; Max-Age=2592000; Path=/r/; SameSite=Lax; Secure"
                in (short[1]["set-cookie"])
            )
            assert len(short[2]) == len(whole[2])  # the same page, another CSRF token


@pytest.mark.django_db
def test_plain_http_is_redirected_and_registrations_take_the_full_chain(
    partnership: Any, settings: Any
) -> None:
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    application, _ = apps()
    link, _ = services.link_create(partnership=partnership, label="見出し")
    status, headers, _ = call(application, "GET", f"/r/{link.token}/")
    assert status == 301
    assert headers["location"].startswith("https://")
    # A registration without a CSRF token is refused by the full chain's CsrfViewMiddleware.
    status, _, _ = call(application, "POST", f"/r/{link.token}/", HTTP_X_FORWARDED_PROTO="https")
    assert status == 403
