"""Team and API-key pages of the partner portal, mounted at /partner/ (before the portal's own
urls, which own every other /partner/ path)."""

from __future__ import annotations

from careerrelay.core.org_views import org_urlpatterns

app_name = "partner_org"
urlpatterns = org_urlpatterns("agency")
