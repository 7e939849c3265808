"""HR dashboard pages for referral links, mounted at /app/links/."""

from __future__ import annotations

from django.urls import path

from referrals import hr_views

app_name = "links"
urlpatterns = [
    path("", hr_views.link_list, name="list"),
    path("bulk/", hr_views.bulk_upload, name="bulk"),
    path("bulk/<int:batch_id>/", hr_views.bulk_result, name="bulk_result"),
    path("bulk/<int:batch_id>/download/", hr_views.bulk_download, name="bulk_download"),
    path("<int:link_id>/", hr_views.link_detail, name="detail"),
    path("<int:link_id>/toggle/", hr_views.link_toggle, name="toggle"),
]
