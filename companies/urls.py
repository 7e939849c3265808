from __future__ import annotations

from django.urls import path

from companies import views

app_name = "companies"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("onboarding/", views.dashboard, name="onboarding"),
]
