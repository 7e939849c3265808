from __future__ import annotations

from django.urls import path

from careerrelay.core.org_views import org_urlpatterns
from companies import dashboard, views

app_name = "companies"
urlpatterns = [
    path("", dashboard.home, name="dashboard"),
    path("referrals/", dashboard.referrals, name="referrals"),
    path("insights/", dashboard.insights, name="insights"),
    path("export/<slug:name>.csv", dashboard.export_csv, name="export"),
    path("settings/", dashboard.settings_page, name="settings"),
    path("settings/logo.png", dashboard.logo, name="logo"),
    path("onboarding/", views.onboarding, name="onboarding"),
    path("partners/", views.partners, name="partners"),
    path("partners/<int:partnership_id>/end/", views.partner_end, name="partner_end"),
    *org_urlpatterns("company"),
]
