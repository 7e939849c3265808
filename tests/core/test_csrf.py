"""careerrelay.core.csrf.get_token: the landing page's faster CSRF token is Django's token —
same alphabet and lengths, the secret goes to the cookie through CsrfViewMiddleware, and the
middleware accepts a POST carrying it (and refuses one without it)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import (
    CSRF_ALLOWED_CHARS,
    CsrfViewMiddleware,
    _unmask_cipher_token,
)
from django.test import RequestFactory
from hypothesis import given
from hypothesis import strategies as st

from careerrelay.core import csrf


def _middleware() -> CsrfViewMiddleware:
    return CsrfViewMiddleware(lambda request: HttpResponse("ok"))


def _view(request: HttpRequest) -> HttpResponse:
    return HttpResponse("posted")


def _run(mw: CsrfViewMiddleware, request: HttpRequest, view: Callable = _view) -> HttpResponse:
    mw.process_request(request)
    return mw.process_view(request, view, (), {}) or view(request)


def test_a_fresh_visitor_gets_a_token_and_a_cookie_that_django_accepts() -> None:
    mw = _middleware()
    page = RequestFactory().get("/r/x/")
    mw.process_request(page)
    token = csrf.get_token(page)
    response = mw.process_response(page, HttpResponse("page"))
    cookie = response.cookies["csrftoken"].value
    assert len(token) == 64
    assert set(token) <= set(CSRF_ALLOWED_CHARS)
    assert len(cookie) == 32
    assert _unmask_cipher_token(token) == cookie

    post = RequestFactory().post("/r/x/", {"csrfmiddlewaretoken": token}, secure=False)
    post.COOKIES["csrftoken"] = cookie
    assert _run(mw, post).content == b"posted"

    forged = RequestFactory().post("/r/x/", {"csrfmiddlewaretoken": "a" * 64})
    forged.COOKIES["csrftoken"] = cookie
    assert _run(mw, forged).status_code == 403


@given(secret=st.text(alphabet=CSRF_ALLOWED_CHARS, min_size=32, max_size=32))
def test_a_returning_visitor_keeps_the_secret_and_gets_a_fresh_mask(secret: str) -> None:
    request = RequestFactory().get("/r/x/")
    request.META["CSRF_COOKIE"] = secret
    first, second = csrf.get_token(request), csrf.get_token(request)
    assert _unmask_cipher_token(first) == secret == _unmask_cipher_token(second)
    assert first != second  # a new mask each time (BREACH)
    assert request.META["CSRF_COOKIE_NEEDS_UPDATE"] is True


def test_characters_are_drawn_evenly() -> None:
    """Rejection sampling keeps every character equally likely (no modulo bias)."""
    counts = dict.fromkeys(CSRF_ALLOWED_CHARS, 0)
    for _ in range(2000):
        for ch in csrf.get_token(RequestFactory().get("/"))[:32]:
            counts[ch] += 1
    expected = 2000 * 32 / len(CSRF_ALLOWED_CHARS)
    assert all(0.7 * expected < n < 1.3 * expected for n in counts.values())
