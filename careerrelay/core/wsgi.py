"""The WSGI application: Django's handler, with a shorter middleware chain for the candidate
landing page.

A company's mail-out sends thousands of candidates and mail scanners to GET /r/<token>/ within
minutes; that page reads no session, no signed-in user, no flash message, no tenant and no static
file, and opens a transaction only for its rare queries (rls.public_transaction). Its requests go
to a second handler built from settings.MIDDLEWARE without settings.LANDING_SKIPPED_MIDDLEWARE, so
every middleware that shapes the response (HTTPS redirect, security headers, language, CSRF
cookie, frame and content-security policies, Content-Length) is the same one, configured once.
Everything else, the page's registration POST included, takes the full chain.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application

# referrals.selectors.TOKEN_RE in URL form: exactly the paths the "<str:token>/" pattern of
# referrals/urls.py serves (tests/core/test_wsgi.py resolves every one of them).
LANDING_PATH = re.compile(r"/r/[A-Za-z0-9_-]{16,32}/\Z")
LANDING_METHODS = frozenset({"GET", "HEAD"})


def landing_middleware() -> list[str]:
    """The landing route's chain: the project's, less what that page never uses."""
    skipped = set(getattr(settings, "LANDING_SKIPPED_MIDDLEWARE", ()))
    return [path for path in settings.MIDDLEWARE if path not in skipped]


@contextmanager
def _middleware_setting(middleware: list[str]) -> Iterator[None]:
    # BaseHandler.load_middleware reads settings.MIDDLEWARE and nothing else. It runs once, when
    # the application is built and before it serves any request.
    full = settings.MIDDLEWARE
    settings.MIDDLEWARE = middleware
    try:
        yield
    finally:
        settings.MIDDLEWARE = full


class ChainHandler(WSGIHandler):
    """Django's WSGI handler with its own middleware chain."""

    def __init__(self, middleware: list[str]) -> None:
        self.middleware = middleware
        super().__init__()

    def load_middleware(self, is_async: bool = False) -> None:
        with _middleware_setting(self.middleware):
            super().load_middleware(is_async)


class LandingAwareApplication:
    """Sends GET/HEAD /r/<token>/ to the landing handler, every other request to Django's."""

    def __init__(self, full: Callable[..., Any], landing: Callable[..., Any]) -> None:
        self.full = full
        self.landing = landing

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[Any]:
        if environ.get("REQUEST_METHOD") in LANDING_METHODS and LANDING_PATH.match(
            environ.get("PATH_INFO", "")
        ):
            return self.landing(environ, start_response)
        return self.full(environ, start_response)


def get_application() -> LandingAwareApplication:
    full = get_wsgi_application()  # sets Django up
    return LandingAwareApplication(full, ChainHandler(landing_middleware()))
