"""A small fixed-window rate limiter on the Django cache (Redis in production).

Use it in views for floods from one client: `if not ratelimit_allow(key=..., limit=..,
window_seconds=..): return ratelimited_response(request)`, or decorate a view with
`@ratelimit(scope="click", limit=60, window_seconds=60)`.

It fails OPEN: when the cache (Redis) is unreachable every request is allowed, because a Redis
outage must never take the candidate landing page down. Abuse during an outage is bounded by the
other walls (honeypot, CSRF, per-email de-duplication, the fraud velocity cap).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

KEY_PREFIX = "rl"


def client_ip(request: HttpRequest) -> str:
    """The client address. Behind our proxy (production) the last hop of X-Forwarded-For is
    the address the proxy saw; without a proxy, REMOTE_ADDR."""
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()
    return str(request.META.get("REMOTE_ADDR", ""))


def _cache_key(key: str, window_seconds: int, now: float) -> str:
    window = int(now // window_seconds)
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"{KEY_PREFIX}:{digest}:{window_seconds}:{window}"


def _redis_backend() -> RedisCache | None:
    backend = caches["default"]  # `cache` is a proxy: isinstance needs the backend itself
    return backend if isinstance(backend, RedisCache) else None


def counter_key(*, key: str, window_seconds: int) -> str:
    """The cache key under which `ratelimit_allow` counts `key` in the current window (with the
    Redis cache's prefix): for callers that count a hit in the same Redis round trip as their own
    write (the landing page's click, referrals/clicks.py)."""
    name = _cache_key(key, window_seconds, time.time())
    backend = _redis_backend()
    # make_key, not make_and_validate_key: the name is ASCII hex of fixed length (validation
    # walks it character by character on every landing view).
    return backend.make_key(name) if backend is not None else name


def ratelimit_allow(*, key: str, limit: int, window_seconds: int) -> bool:
    """Count one hit for `key`; False once more than `limit` hits fell in the current window.

    Side effects: increments a cache counter (expires with the window). Fails open."""
    now = time.time()
    ckey = _cache_key(key, window_seconds, now)
    backend = _redis_backend()
    if backend is not None:
        # One pipelined round trip instead of three (SET NX, then Django's EXISTS + INCR): the
        # flood limit runs on every landing-page view (bench/NOTES.md).
        try:
            name = backend.make_and_validate_key(ckey)
            pipe = backend._cache.get_client(name, write=True).pipeline(transaction=False)
            pipe.set(name, 0, ex=window_seconds + 1, nx=True)
            pipe.incr(name)
            count = int(pipe.execute()[1])
        except Exception:  # the cache is down: fail open
            logger.warning("rate limiter: cache unavailable, allowing the request")
            return True
        return count <= limit
    try:
        cache.add(ckey, 0, timeout=window_seconds + 1)
        count = cache.incr(ckey)
    except ValueError:
        # The key expired between add and incr: start the window again.
        try:
            cache.set(ckey, 1, timeout=window_seconds + 1)
        except Exception:  # the cache is down: fail open
            return True
        count = 1
    except Exception:  # the cache is down: fail open
        logger.warning("rate limiter: cache unavailable, allowing the request")
        return True
    return count <= limit


def ratelimit_reset(*, key: str, window_seconds: int) -> None:
    """Forget the current window's count for `key` (used after a successful sign-in)."""
    try:
        cache.delete(_cache_key(key, window_seconds, time.time()))
    except Exception:
        logger.warning("rate limiter: cache unavailable on reset")


def ratelimited_response(request: HttpRequest, *, retry_after: int = 60) -> HttpResponse:
    message = _("アクセスが集中しています。しばらく時間をおいてから、もう一度お試しください。")
    if request.path.startswith("/api/") or request.headers.get("Accept", "").startswith(
        "application/json"
    ):
        response: HttpResponse = JsonResponse({"message": message}, status=429)
    else:
        response = HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(retry_after)
    return response


def ratelimit(
    *,
    scope: str,
    limit: int,
    window_seconds: int,
    methods: Iterable[str] = ("POST",),
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """View decorator: per client IP and scope, answer 429 above `limit` per window."""
    limited = {m.upper() for m in methods}

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method in limited and not ratelimit_allow(
                key=f"{scope}:{client_ip(request)}", limit=limit, window_seconds=window_seconds
            ):
                return ratelimited_response(request, retry_after=window_seconds)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


FLOOD_WINDOW_SECONDS = 60


def flood_limit() -> int:
    """Landing-page views allowed per address and minute (0: no limit)."""
    return int(getattr(settings, "CLICK_FLOOD_PER_MINUTE", 0) or 0)


def flood_key(request: HttpRequest) -> str:
    return f"flood:{client_ip(request)}"


def flood_counter(request: HttpRequest) -> tuple[str, int, int] | None:
    """(counter key, limit, expiry seconds) of this address's flood window, or None without a
    limit: what the landing view hands to the click capture."""
    limit = flood_limit()
    if not limit:
        return None
    key = counter_key(key=flood_key(request), window_seconds=FLOOD_WINDOW_SECONDS)
    return key, limit, FLOOD_WINDOW_SECONDS + 1


def flood_allow(request: HttpRequest) -> bool:
    """Count one candidate-page view from this address; False above the flood limit."""
    limit = flood_limit()
    return not limit or ratelimit_allow(
        key=flood_key(request), limit=limit, window_seconds=FLOOD_WINDOW_SECONDS
    )


def counts_floods_itself(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Mark a view under /r/ that counts the flood limit itself (see FloodLimitMiddleware)."""
    view.counts_floods_itself = True  # type: ignore[attr-defined]
    return view


class FloodLimitMiddleware:
    """Per-IP limit on the candidate's pages (GET/HEAD under /r/): above CLICK_FLOOD_PER_MINUTE
    requests a minute from one address the answer is 429 before the view runs, so the flood
    records no click. The landing view is marked `counts_floods_itself`: it counts the hit in the
    same Redis round trip as its click (referrals/clicks.py), so the middleware leaves it alone.
    0 turns the limit off."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view: Callable[..., HttpResponse],
        args: Any,
        kwargs: Any,
    ) -> HttpResponse | None:
        if (
            request.method in ("GET", "HEAD")
            and request.path.startswith("/r/")
            and not getattr(view, "counts_floods_itself", False)
            and not flood_allow(request)
        ):
            return ratelimited_response(request, retry_after=FLOOD_WINDOW_SECONDS)
        return None
