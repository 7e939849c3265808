"""Root URL configuration. Each app owns its own urls.py; the API router lives in api.py."""

from __future__ import annotations

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView

from careerrelay.core import api_docs
from careerrelay.core import views as core_views

urlpatterns = [
    # First: the candidate landing page is the hot path (a mail-out's burst), so its URL is
    # resolved before any other pattern is tried.
    path("r/", include("referrals.urls")),
    path("", core_views.home, name="home"),
    path("after-login/", core_views.after_login, name="after_login"),
    path("healthz/", core_views.healthz, name="healthz"),
    path("org/switch/", core_views.switch_organisation, name="org_switch"),
    path("invitations/<str:token>/", core_views.invitation_accept, name="invitation_accept"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("app/links/", include("referrals.hr_urls")),
    path("app/credits/", include("credits.urls")),
    path("app/statements/", include("credits.statement_urls")),
    path("app/", include("companies.urls")),
    path("partner/partnerships/", include("companies.partner_urls")),
    path("partner/", include("careerrelay.core.partner_urls")),
    path("partner/", include("agencies.urls")),
    path("api/v1/", include("careerrelay.api")),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/v1/docs/", api_docs.swagger_view, name="api-docs"),
    path("api/v1/redoc/", api_docs.redoc_view, name="api-redoc"),
    path("api/v1/redoc/redoc.standalone.js", api_docs.redoc_bundle, name="api-redoc-bundle"),
    # Browsers ask for /favicon.ico where a page names no icon (API docs, PDFs, plain responses).
    path("favicon.ico", RedirectView.as_view(url=f"{settings.STATIC_URL}favicon.svg")),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
