"""The REST API router: every app registers its viewsets in its own api.py via `register`."""

from __future__ import annotations

from rest_framework.routers import DefaultRouter

from agencies.api import register as register_agencies
from companies.api import register as register_companies
from credits.api import register as register_credits
from referrals.api import register as register_referrals

# No `.json` suffix routes: viewset actions do not take a `format` kwarg (they answered 500).
router = DefaultRouter()
router.include_format_suffixes = False
for register in (register_companies, register_agencies, register_referrals, register_credits):
    register(router)

urlpatterns = router.urls
