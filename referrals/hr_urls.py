"""HR dashboard pages for referral links, mounted at /app/links/."""

from __future__ import annotations

app_name = "links"
urlpatterns: list = []
