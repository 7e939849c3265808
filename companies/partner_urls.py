"""Partner-portal pages for partnerships (the agency side), mounted at /partner/partnerships/."""

from __future__ import annotations

app_name = "partner_partnerships"
urlpatterns: list = []
