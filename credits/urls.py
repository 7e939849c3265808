from __future__ import annotations

from django.urls import path

from credits import views

app_name = "credits"
urlpatterns = [
    path("", views.credits_overview, name="overview"),
]
