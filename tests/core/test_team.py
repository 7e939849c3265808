"""Team pages of both sides: invitations (invite, accept, revoke, existing member), role changes
and removal with the last-owner rule; every change is audited."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from agencies.models import AgencyMember
from careerrelay.core.models import AuditEvent, Invitation
from companies.models import CompanyMember
from tests.factories import AgencyMemberFactory, CompanyMemberFactory, UserFactory


@pytest.fixture
def invite(django_capture_on_commit_callbacks):
    """POST an invitation and run the on-commit email, as a real request would."""

    def post(client, email, role="member", prefix="/app/"):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(f"{prefix}team/invite/", {"email": email, "role": role})

    return post


def _token_from_mail() -> str:
    return re.search(r"/invitations/([A-Za-z0-9_-]+)/", mail.outbox[-1].body).group(1)


def test_invitation_is_mailed_accepted_and_audited(invite, client_for, client, hr_user, company):
    response = invite(client_for(hr_user), "New@Acme.example", "admin")
    assert response.status_code == 302
    invitation = Invitation.objects.for_tenant(company).get()
    assert invitation.email == "new@acme.example"
    assert len(mail.outbox) == 1
    assert company.name in mail.outbox[0].subject
    token = _token_from_mail()
    assert invitation.token_hash != token

    client.logout()
    page = client.get(f"/invitations/{token}/")
    assert page.status_code == 200
    assert "アカウントを作成して参加" in page.content.decode()

    invitee = UserFactory(email="new@acme.example")
    client.force_login(invitee)
    response = client.post(f"/invitations/{token}/")
    assert response.status_code == 302
    assert response["Location"] == "/app/"
    assert CompanyMember.objects.get(company=company, user=invitee).role == "admin"
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None
    # The link is single-use.
    assert client.get(f"/invitations/{token}/").status_code == 404
    actions = list(AuditEvent.objects.for_tenant(company).values_list("action", flat=True))
    assert "membership.invited" in actions
    assert "membership.created" in actions


def test_inviting_an_existing_member_is_a_clear_error_and_writes_nothing(
    invite, client_for, hr_user, company
):
    response = invite(client_for(hr_user), "HR@acme.example", "member")
    assert response.status_code == 400
    body = response.content.decode()
    assert "hr@acme.example はすでにこの組織のメンバーです。" in body
    assert "field-error" in body
    assert not Invitation.objects.for_tenant(company).exists()
    assert len(mail.outbox) == 0


def test_inviting_twice_is_refused(invite, client_for, hr_user, company):
    client = client_for(hr_user)
    invite(client, "twice@acme.example", "member")
    response = invite(client, "twice@acme.example", "member")
    assert response.status_code == 400
    assert "すでに招待を送信しています" in response.content.decode()
    assert Invitation.objects.for_tenant(company).count() == 1


def test_revoked_invitation_cannot_be_accepted(invite, client_for, client, hr_user, company):
    admin_client = client_for(hr_user)
    invite(admin_client, "gone@acme.example", "member")
    token = _token_from_mail()
    invitation = Invitation.objects.for_tenant(company).get()
    assert admin_client.post(f"/app/team/invitations/{invitation.pk}/revoke/").status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    invitee = UserFactory(email="gone@acme.example")
    client.force_login(invitee)
    assert client.post(f"/invitations/{token}/").status_code == 404
    assert not CompanyMember.objects.filter(user=invitee).exists()


def test_invitation_for_another_address_is_refused(invite, client_for, client, hr_user, company):
    invite(client_for(hr_user), "right@acme.example", "member")
    token = _token_from_mail()
    intruder = UserFactory(email="wrong@acme.example")
    client.force_login(intruder)
    response = client.post(f"/invitations/{token}/")
    assert response.status_code == 400
    assert "right@acme.example 宛てです" in response.content.decode()
    assert not CompanyMember.objects.filter(user=intruder).exists()


def test_agency_side_invites_too(invite, client_for, recruiter, agency):
    client = client_for(recruiter)
    assert invite(client, "rec2@agency.example", "member", prefix="/partner/").status_code == 302
    assert Invitation.objects.for_tenant(agency).get().email == "rec2@agency.example"


def test_role_change_and_removal_are_audited(client_for, hr_user, company):
    other = CompanyMemberFactory(
        company=company, user=UserFactory(email="m@acme.example"), role="member"
    )
    client = client_for(hr_user)
    assert client.post(f"/app/team/members/{other.pk}/role/", {"role": "admin"}).status_code == 302
    other.refresh_from_db()
    assert other.role == "admin"
    assert client.post(f"/app/team/members/{other.pk}/remove/").status_code == 302
    assert not CompanyMember.objects.filter(pk=other.pk).exists()
    events = AuditEvent.objects.for_tenant(company)
    changed = events.get(action="membership.role_changed")
    assert changed.data == {"user": "m@acme.example", "from": "member", "to": "admin"}
    assert changed.actor == hr_user
    assert events.filter(action="membership.removed").exists()


def test_the_last_owner_cannot_be_removed_or_demoted(client_for, hr_user, company):
    owner = CompanyMember.objects.get(user=hr_user)
    client = client_for(hr_user)
    response = client.post(f"/app/team/members/{owner.pk}/remove/", follow=True)
    assert "最後のオーナーは削除できません" in response.content.decode()
    response = client.post(f"/app/team/members/{owner.pk}/role/", {"role": "member"}, follow=True)
    assert "最後のオーナーの権限は変更できません" in response.content.decode()
    owner.refresh_from_db()
    assert owner.role == "owner"
    assert (
        not AuditEvent.objects.for_tenant(company).filter(action__startswith="membership.").exists()
    )


def test_admin_cannot_grant_owner_and_member_cannot_manage(client_for, company):
    admin = CompanyMemberFactory(
        company=company, user=UserFactory(email="a@acme.example"), role="admin"
    )
    member = CompanyMemberFactory(
        company=company, user=UserFactory(email="b@acme.example"), role="member"
    )
    client = client_for(admin.user)
    response = client.post(f"/app/team/members/{member.pk}/role/", {"role": "owner"}, follow=True)
    assert "オーナー権限を付与できるのはオーナーだけです" in response.content.decode()
    member.refresh_from_db()
    assert member.role == "member"
    client.force_login(member.user)
    response = client.post(f"/app/team/members/{admin.pk}/remove/", follow=True)
    assert "管理者以上の権限が必要です" in response.content.decode()
    assert CompanyMember.objects.filter(pk=admin.pk).exists()


def test_another_tenants_member_answers_404(
    client_for, hr_user, other_hr_user, other_agency, recruiter
):
    foreign = CompanyMember.objects.get(user=other_hr_user)
    client = client_for(hr_user)
    assert client.post(f"/app/team/members/{foreign.pk}/remove/").status_code == 404
    assert (
        client.post(f"/app/team/members/{foreign.pk}/role/", {"role": "member"}).status_code == 404
    )
    assert CompanyMember.objects.filter(pk=foreign.pk).exists()
    foreign_agent = AgencyMemberFactory(
        agency=other_agency, user=UserFactory(email="x@other.example")
    )
    client.force_login(recruiter)
    assert client.post(f"/partner/team/members/{foreign_agent.pk}/remove/").status_code == 404
    assert AgencyMember.objects.filter(pk=foreign_agent.pk).exists()


@pytest.mark.parametrize("path", ["/partner/team/", "/partner/api-keys/", "/partner/partnerships/"])
def test_hr_users_get_404_on_partner_pages(client_for, hr_user, path):
    assert client_for(hr_user).get(path).status_code == 404


@pytest.mark.parametrize("path", ["/app/team/", "/app/api-keys/", "/app/partners/"])
def test_agency_users_get_404_on_hr_pages(client_for, recruiter, path):
    assert client_for(recruiter).get(path).status_code == 404


def test_switching_organisation(client_for, hr_user, agency):
    AgencyMemberFactory(agency=agency, user=hr_user, role="member")
    client = client_for(hr_user)
    response = client.post("/org/switch/", {"org": agency.org_key})
    assert response["Location"] == "/partner/"
    assert client.get("/partner/team/").status_code == 200
    assert client.get("/app/team/").status_code == 404


def test_new_person_signs_up_from_the_invitation_and_joins(
    invite, client_for, client, hr_user, company
):
    invite(client_for(hr_user), "newbie@acme.example", "member")
    token = _token_from_mail()
    client.logout()
    signup = f"/accounts/signup/?next=/invitations/{token}/"
    assert f"/invitations/{token}/" in client.get(f"/invitations/{token}/").content.decode()
    response = client.post(
        signup,
        {
            "email": "newbie@acme.example",
            "password1": "Kx9!long-pass",
            "password2": "Kx9!long-pass",
        },
    )
    assert response.status_code == 302
    confirm = re.search(r"/accounts/confirm-email/[^\s/]+/", mail.outbox[-1].body).group(0)
    response = client.post(confirm, follow=True)
    landing = response.redirect_chain[-1][0]
    # Either back on the invitation link or on onboarding, which lists the invitation.
    assert landing in (f"/invitations/{token}/", "/app/onboarding/")
    invitation = Invitation.objects.for_tenant(company).get()
    if landing == "/app/onboarding/":
        assert "招待を承諾して参加する" in response.content.decode()
        response = client.post("/app/onboarding/", {"invitation": invitation.pk})
    else:
        response = client.post(landing)
    assert response["Location"] == "/app/"
    assert (
        CompanyMember.objects.get(company=company, user__email="newbie@acme.example").role
        == "member"
    )


def test_onboarding_accept_needs_the_verified_invited_address(client_for, hr_user, company, invite):
    invite(client_for(hr_user), "target@acme.example", "member")
    invitation = Invitation.objects.for_tenant(company).get()
    intruder = UserFactory(email="intruder@acme.example")
    client = client_for(intruder)
    response = client.post("/app/onboarding/", {"invitation": invitation.pk}, follow=True)
    assert "この招待リンクは無効か、有効期限が切れています。" in response.content.decode()
    assert not CompanyMember.objects.filter(user=intruder).exists()
