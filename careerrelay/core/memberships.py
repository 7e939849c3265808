"""Memberships and invitations of either kind of organisation (company or agency).

Services (writes) and selectors (reads) in one small module because both sides of the product
share them. Every change writes an audit row in the same transaction; invitation emails are sent
on commit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import models, transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from careerrelay.core.audit import audit_record
from careerrelay.core.errors import ApplicationError
from careerrelay.core.models import Invitation
from careerrelay.core.permissions import ROLE_RANK
from careerrelay.core.tenancy_models import Role

INVITATION_TTL = dt.timedelta(days=7)


def member_model(tenant: Any) -> type[models.Model]:
    if tenant.kind == "company":
        return apps.get_model("companies", "CompanyMember")
    return apps.get_model("agencies", "AgencyMember")


def _tenant_filter(tenant: Any) -> dict[str, Any]:
    return {tenant.kind: tenant}


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# ---------- selectors ----------


def member_list(*, tenant: Any) -> QuerySet:
    """The organisation's members, owners first."""
    model = member_model(tenant)
    order = models.Case(
        *(models.When(role=role, then=models.Value(-rank)) for role, rank in ROLE_RANK.items()),
        output_field=models.IntegerField(),
    )
    return (
        model.objects.filter(**_tenant_filter(tenant))
        .select_related("user")
        .order_by(order, "user__email")
    )


def member_get(*, tenant: Any, member_id: int) -> Any:
    """One membership of this organisation; another organisation's id raises DoesNotExist."""
    return (
        member_model(tenant)
        .objects.select_related("user")
        .get(pk=member_id, **_tenant_filter(tenant))
    )


def invitation_list_pending(*, tenant: Any) -> QuerySet:
    return Invitation.objects.for_tenant(tenant).filter(
        accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    )


def invitation_get_by_token(*, token: str) -> Invitation | None:
    """The invitation a link points to, if it is still usable (pending and unexpired)."""
    if not token or len(token) > 100:
        return None
    invitation = (
        Invitation.objects.unscoped()
        .select_related("company", "agency", "invited_by")
        .filter(token_hash=_token_hash(token))
        .first()
    )
    if invitation is None or invitation.accepted_at or invitation.revoked_at:
        return None
    if invitation.expires_at <= timezone.now():
        return None
    return invitation


def invitations_for_email(*, email: str) -> list[Invitation]:
    """Pending invitations addressed to this email (shown on the onboarding page)."""
    return list(
        Invitation.objects.unscoped()
        .select_related("company", "agency")
        .filter(
            email__iexact=email,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
    )


def is_member(*, tenant: Any, user: Any) -> bool:
    return member_model(tenant).objects.filter(user=user, **_tenant_filter(tenant)).exists()


# ---------- services ----------


def _check_can_manage(actor_role: str | None) -> None:
    if ROLE_RANK.get(actor_role or "", -1) < ROLE_RANK[Role.ADMIN]:
        raise ApplicationError(_("この操作には管理者以上の権限が必要です。"), status_code=403)


def _check_can_grant(actor_role: str | None, role: str) -> None:
    if role not in ROLE_RANK:
        raise ApplicationError(_("権限の指定が正しくありません。"), field="role")
    if role == Role.OWNER and actor_role != Role.OWNER:
        raise ApplicationError(_("オーナー権限を付与できるのはオーナーだけです。"), field="role")


@transaction.atomic
def membership_create(*, tenant: Any, user: Any, role: str, actor: Any = None) -> Any:
    """Add a user to the organisation. Side effects: an audit row."""
    model = member_model(tenant)
    member, created = model.objects.get_or_create(
        user=user, **_tenant_filter(tenant), defaults={"role": role}
    )
    if created:
        audit_record(
            actor=actor or user,
            tenant=tenant,
            action="membership.created",
            target=member,
            data={"user": user.email, "role": role},
        )
    return member


@transaction.atomic
def invitation_create(
    *,
    tenant: Any,
    email: str,
    role: str,
    invited_by: Any,
    actor_role: str | None,
    request: Any = None,
) -> tuple[Invitation, str]:
    """Invite an email address to join with a role. Returns the invitation and the plaintext
    token (for the link). Side effects: an audit row; the invitation email on commit.

    Refuses (nothing written) when the address already belongs to a member or already has a
    pending invitation."""
    _check_can_manage(actor_role)
    _check_can_grant(actor_role, role)
    email = get_user_model().objects.normalize_email(email.strip()).lower()
    existing_user = get_user_model().objects.filter(email__iexact=email).first()
    if existing_user is not None and is_member(tenant=tenant, user=existing_user):
        raise ApplicationError(
            _("%(email)s はすでにこの組織のメンバーです。") % {"email": email}, field="email"
        )
    # Lock the organisation's pending invitations so two admins cannot invite twice at once.
    pending = list(
        Invitation.objects.for_tenant(tenant)
        .select_for_update()
        .filter(email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True)
        .filter(expires_at__gt=timezone.now())
    )
    if pending:
        raise ApplicationError(
            _(
                "%(email)s にはすでに招待を送信しています。"
                "再送するには、招待を取り消してから招待し直してください。"
            )
            % {"email": email},
            field="email",
        )
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        company=tenant if tenant.kind == "company" else None,
        agency=tenant if tenant.kind == "agency" else None,
        email=email,
        role=role,
        token_hash=_token_hash(token),
        invited_by=invited_by,
        expires_at=timezone.now() + INVITATION_TTL,
    )
    audit_record(
        actor=invited_by,
        tenant=tenant,
        action="membership.invited",
        target=invitation,
        data={"email": email, "role": role},
        request=request,
    )
    url = f"{settings.SITE_URL.rstrip('/')}/invitations/{token}/"
    language = translation.get_language() or settings.LANGUAGE_CODE
    transaction.on_commit(
        lambda: _send_invitation_email(invitation=invitation, url=url, language=language)
    )
    return invitation, token


def _send_invitation_email(*, invitation: Invitation, url: str, language: str) -> None:
    with translation.override(language):
        context = {
            "invitation": invitation,
            "organisation": invitation.organisation,
            "inviter": invitation.invited_by,
            "url": url,
            "role_label": invitation.get_role_display(),
        }
        subject = render_to_string("core/email/invitation_subject.txt", context).strip()
        body = render_to_string("core/email/invitation_message.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [invitation.email])


@transaction.atomic
def invitation_revoke(
    *, tenant: Any, invitation_id: int, actor: Any, actor_role: str | None
) -> Invitation:
    """Revoke a pending invitation of this organisation (another organisation's id: not
    found). Side effects: an audit row."""
    _check_can_manage(actor_role)
    invitation = Invitation.objects.for_tenant(tenant).select_for_update().get(pk=invitation_id)
    if invitation.accepted_at is not None:
        raise ApplicationError(_("この招待はすでに承諾されています。"))
    if invitation.revoked_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            tenant=tenant,
            action="membership.invitation_revoked",
            target=invitation,
            data={"email": invitation.email},
        )
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, user: Any) -> Any:
    """Join the organisation the invitation link is for. The signed-in user's email must be the
    invited address. Side effects: a membership, an audit row. Returns the membership."""
    found = invitation_get_by_token(token=token)
    if found is None:
        raise ApplicationError(_("この招待リンクは無効か、有効期限が切れています。"))
    return _accept(invitation_id=found.pk, user=user)


@transaction.atomic
def invitation_accept_for_verified_email(*, invitation_id: int, user: Any) -> Any:
    """Accept a pending invitation from the onboarding page, without the link: allowed when the
    invited address is one of the user's verified email addresses (allauth), which proves the
    same thing the link does. Side effects: as `invitation_accept`."""
    from allauth.account.models import EmailAddress

    invitation = Invitation.objects.unscoped().filter(pk=invitation_id).first()
    if (
        invitation is None
        or not EmailAddress.objects.filter(
            user=user, email__iexact=invitation.email, verified=True
        ).exists()
    ):
        raise ApplicationError(_("この招待リンクは無効か、有効期限が切れています。"))
    return _accept(invitation_id=invitation.pk, user=user)


def _accept(*, invitation_id: int, user: Any) -> Any:
    invitation = Invitation.objects.unscoped().select_for_update().get(pk=invitation_id)
    if invitation.accepted_at or invitation.revoked_at or invitation.expires_at <= timezone.now():
        raise ApplicationError(_("この招待リンクは無効か、有効期限が切れています。"))
    if invitation.email.lower() != user.email.lower():
        raise ApplicationError(
            _("この招待は %(email)s 宛てです。招待されたメールアドレスでログインしてください。")
            % {"email": invitation.email}
        )
    tenant = invitation.organisation
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    model = member_model(tenant)
    member = model.objects.filter(user=user, **_tenant_filter(tenant)).first()
    if member is None:
        member = model.objects.create(user=user, role=invitation.role, **_tenant_filter(tenant))
        audit_record(
            actor=user,
            tenant=tenant,
            action="membership.created",
            target=member,
            data={"user": user.email, "role": invitation.role, "invitation": invitation.pk},
        )
    return member


def _lock_members(tenant: Any) -> list[Any]:
    """Lock every membership row of the organisation (ordered, against deadlocks) so that the
    "at least one owner" rule holds under concurrent changes."""
    model = member_model(tenant)
    return list(model.objects.filter(**_tenant_filter(tenant)).order_by("pk").select_for_update())


@transaction.atomic
def membership_change_role(
    *, tenant: Any, member_id: int, role: str, actor: Any, actor_role: str | None
) -> Any:
    """Change a member's role. Only an owner grants or takes away the owner role; the last
    owner keeps it. Side effects: an audit row."""
    _check_can_manage(actor_role)
    _check_can_grant(actor_role, role)
    members = _lock_members(tenant)
    member = next((m for m in members if m.pk == member_id), None)
    if member is None:
        raise member_model(tenant).DoesNotExist
    if member.role == role:
        return member
    if member.role == Role.OWNER:
        if actor_role != Role.OWNER:
            raise ApplicationError(_("オーナーの権限を変更できるのはオーナーだけです。"))
        if sum(1 for m in members if m.role == Role.OWNER) <= 1:
            raise ApplicationError(
                _(
                    "最後のオーナーの権限は変更できません。先に別のメンバーをオーナーにしてください。"
                )
            )
    previous = member.role
    member.role = role
    member.save(update_fields=["role"])
    audit_record(
        actor=actor,
        tenant=tenant,
        action="membership.role_changed",
        target=member,
        data={"user": member.user.email, "from": previous, "to": role},
    )
    return member


@transaction.atomic
def membership_remove(*, tenant: Any, member_id: int, actor: Any, actor_role: str | None) -> None:
    """Remove a member from the organisation (a member may also leave by themself). The last
    owner cannot be removed; only an owner removes another owner. Side effects: an audit row."""
    members = _lock_members(tenant)
    member = next((m for m in members if m.pk == member_id), None)
    if member is None:
        raise member_model(tenant).DoesNotExist
    leaving_self = member.user_id == getattr(actor, "pk", None)
    if not leaving_self:
        _check_can_manage(actor_role)
    if member.role == Role.OWNER:
        if not leaving_self and actor_role != Role.OWNER:
            raise ApplicationError(_("オーナーを削除できるのはオーナーだけです。"))
        if sum(1 for m in members if m.role == Role.OWNER) <= 1:
            raise ApplicationError(
                _("最後のオーナーは削除できません。先に別のメンバーをオーナーにしてください。")
            )
    audit_record(
        actor=actor,
        tenant=tenant,
        action="membership.removed",
        target=member,
        data={"user": member.user.email, "role": member.role},
    )
    member.delete()
