"""Team and API-key pages of the partner portal, mounted at /partner/ (before the portal's own
urls, which own every other /partner/ path)."""

from __future__ import annotations

from django.urls import path

from careerrelay.core import org_views as v

app_name = "partner_org"
urlpatterns = [
    path("team/", v.for_kind("agency", v.team), name="team"),
    path("team/invite/", v.for_kind("agency", v.team_invite), name="team_invite"),
    path(
        "team/invitations/<int:invitation_id>/revoke/",
        v.for_kind("agency", v.team_invitation_revoke),
        name="team_invitation_revoke",
    ),
    path(
        "team/members/<int:member_id>/role/",
        v.for_kind("agency", v.team_member_role),
        name="team_member_role",
    ),
    path(
        "team/members/<int:member_id>/remove/",
        v.for_kind("agency", v.team_member_remove),
        name="team_member_remove",
    ),
    path("api-keys/", v.for_kind("agency", v.api_keys), name="api_keys"),
    path(
        "api-keys/<int:key_id>/revoke/",
        v.for_kind("agency", v.api_key_revoke_view),
        name="api_key_revoke",
    ),
]
