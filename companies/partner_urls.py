"""Partner-portal pages for partnerships (the agency side), mounted at /partner/partnerships/."""

from __future__ import annotations

from django.urls import path

from companies import views

app_name = "partner_partnerships"
urlpatterns = [
    path("", views.agency_partnerships, name="list"),
    path(
        "<int:partnership_id>/<slug:action>/",
        views.agency_partnership_action,
        name="action",
    ),
]
