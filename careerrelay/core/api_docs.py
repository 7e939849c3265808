"""API documentation pages served from local assets (drf-spectacular-sidecar), compatible with
our Content-Security-Policy: no inline script (Swagger UI's initialiser is a separate file, Redoc
is initialised by its element), no CDN. Both UIs set inline styles at run time, so these two
pages alone allow inline styles."""

from __future__ import annotations

from csp.decorators import csp_update
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView

_INLINE_STYLES = {"style-src": ["'self'", "'unsafe-inline'"]}

swagger_view = csp_update(_INLINE_STYLES)(
    SpectacularSwaggerSplitView.as_view(url_name="api-schema")
)
redoc_view = csp_update({**_INLINE_STYLES, "worker-src": ["'self'", "blob:"]})(
    SpectacularRedocView.as_view(url_name="api-schema")
)
