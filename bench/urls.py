"""The product's URLs plus `/bench/baseline/`, served by the same gunicorn and middleware."""

from __future__ import annotations

from django.urls import include, path

from bench import views

urlpatterns = [
    path("bench/baseline/", views.baseline, name="bench-baseline"),
    path("", include("careerrelay.urls")),
]
