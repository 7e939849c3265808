from __future__ import annotations

from django.urls import path

from careerrelay.core import org_views as v
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
    path("team/", v.for_kind("company", v.team), name="team"),
    path("team/invite/", v.for_kind("company", v.team_invite), name="team_invite"),
    path(
        "team/invitations/<int:invitation_id>/revoke/",
        v.for_kind("company", v.team_invitation_revoke),
        name="team_invitation_revoke",
    ),
    path(
        "team/members/<int:member_id>/role/",
        v.for_kind("company", v.team_member_role),
        name="team_member_role",
    ),
    path(
        "team/members/<int:member_id>/remove/",
        v.for_kind("company", v.team_member_remove),
        name="team_member_remove",
    ),
    path("api-keys/", v.for_kind("company", v.api_keys), name="api_keys"),
    path(
        "api-keys/<int:key_id>/revoke/",
        v.for_kind("company", v.api_key_revoke_view),
        name="api_key_revoke",
    ),
]
