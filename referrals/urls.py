"""The candidate's pages under /r/."""

from __future__ import annotations

from django.urls import path

from referrals import views

app_name = "referrals"
urlpatterns = [
    # Before "<str:token>/": a fixed word, never a 22-character link token.
    path("privacy/", views.privacy, name="privacy"),
    path("verify/<str:signed>/", views.verify, name="verify"),
    path("me/<str:signed>/", views.me, name="me"),
    path("<str:token>/thanks/", views.thanks, name="thanks"),
    path("<str:token>/", views.landing, name="landing"),
]
