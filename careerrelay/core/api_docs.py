"""API documentation pages served from local assets (drf-spectacular-sidecar), compatible with
our Content-Security-Policy: no inline script (Swagger UI's initialiser is a separate file, Redoc
is initialised by its element), no CDN. Both UIs set inline styles at run time, so these two
pages alone allow inline styles."""

from __future__ import annotations

import functools
from pathlib import Path

from csp.decorators import csp_update
from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_http_methods
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView

_INLINE_STYLES = {"style-src": ["'self'", "'unsafe-inline'"]}

# Redoc's sidebar badge loads its logo from Redocly's CDN, which our img-src forbids (a console
# error on every visit). The bundle is served with that one URL pointing at our own icon instead.
_REDOC_BUNDLE = "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"
_REDOCLY_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


@functools.cache
def _redoc_bundle() -> bytes:
    found = finders.find(_REDOC_BUNDLE)
    text = Path(str(found)).read_text(encoding="utf-8")
    return text.replace(_REDOCLY_LOGO, f"{settings.STATIC_URL}favicon.svg").encode()


@require_http_methods(["GET", "HEAD"])
def redoc_bundle(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(_redoc_bundle(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=86400"
    return response


class _LocalLogoRedocView(SpectacularRedocView):
    @staticmethod
    def _redoc_standalone() -> str:
        return "/api/v1/redoc/redoc.standalone.js"


swagger_view = csp_update(_INLINE_STYLES)(
    SpectacularSwaggerSplitView.as_view(url_name="api-schema")
)
redoc_view = csp_update({**_INLINE_STYLES, "worker-src": ["'self'", "blob:"]})(
    _LocalLogoRedocView.as_view(url_name="api-schema")
)
