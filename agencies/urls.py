from __future__ import annotations

from django.urls import path

from agencies import views

app_name = "agencies"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("referrals/bulk-stage/", views.referral_bulk_stage, name="referral_bulk_stage"),
    path("referrals/<int:pk>/", views.referral_detail, name="referral_detail"),
    path("referrals/<int:pk>/stage/", views.referral_stage, name="referral_stage"),
    path("referrals/<int:pk>/notes/", views.referral_note, name="referral_note"),
    path("referrals/<int:pk>/qualify/", views.referral_qualify, name="referral_qualify"),
    path("referrals/<int:pk>/disqualify/", views.referral_disqualify, name="referral_disqualify"),
    path("placements/", views.placement_list, name="placement_list"),
    path("placements/new/", views.placement_new, name="placement_new"),
    path("placements/<int:pk>/", views.placement_detail, name="placement_detail"),
    path("statements/", views.statement_list, name="statement_list"),
    path("statements/<int:pk>/pdf/", views.statement_pdf, name="statement_pdf"),
]
