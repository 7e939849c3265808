"""Team and API-key pages, the same for both sides: the HR dashboard mounts them under /app/,
the partner portal under /partner/. Thin: read through selectors, write through services."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from careerrelay.core import memberships
from careerrelay.core.apikeys import api_key_create, api_key_revoke
from careerrelay.core.decorators import tenant_required
from careerrelay.core.errors import ApplicationError
from careerrelay.core.forms import ApiKeyForm, InvitationForm, RoleForm
from careerrelay.core.models import ApiKey
from careerrelay.core.permissions import role_at_least

AREAS = {
    "company": {"base": "app_base.html", "prefix": "/app/"},
    "agency": {"base": "partner_base.html", "prefix": "/partner/"},
}


def _area(request: HttpRequest) -> dict[str, str]:
    return AREAS[request.tenant.kind]  # type: ignore[attr-defined]


def apply_error(form: Any, error: ApplicationError) -> None:
    """Show a service's refusal next to the field it is about (or above the form)."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)


# ---------- team ----------


def _team_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    tenant = request.tenant  # type: ignore[attr-defined]
    can_manage = role_at_least(request.tenant_role, "admin")  # type: ignore[attr-defined]
    members = list(memberships.member_list(tenant=tenant))
    owners = sum(1 for m in members if m.role == "owner")
    return {
        "base_template": _area(request)["base"],
        "prefix": _area(request)["prefix"],
        "members": members,
        "owner_count": owners,
        "invitations": memberships.invitation_list_pending(tenant=tenant) if can_manage else [],
        "can_manage": can_manage,
        "is_owner": request.tenant_role == "owner",  # type: ignore[attr-defined]
        "role_form": RoleForm(),
        "invite_form": extra.pop("invite_form", None) or InvitationForm(),
        **extra,
    }


def team(request: HttpRequest) -> HttpResponse:
    return render(request, "core/team.html", _team_context(request))


@require_http_methods(["POST"])
def team_invite(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    form = InvitationForm(request.POST)
    if form.is_valid():
        try:
            memberships.invitation_create(
                tenant=tenant,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                invited_by=request.user,
                actor_role=request.tenant_role,  # type: ignore[attr-defined]
                request=request,
            )
        except ApplicationError as exc:
            apply_error(form, exc)
        else:
            messages.success(
                request,
                _("%(email)s に招待メールを送信しました。") % {"email": form.cleaned_data["email"]},
            )
            return HttpResponseRedirect(f"{_area(request)['prefix']}team/")
    return render(request, "core/team.html", _team_context(request, invite_form=form), status=400)


def _team_action(request: HttpRequest, action: Any, success: str) -> HttpResponse:
    try:
        action()
    except ObjectDoesNotExist as exc:
        raise Http404 from exc
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, success)
    return HttpResponseRedirect(f"{_area(request)['prefix']}team/")


@require_POST
def team_invitation_revoke(request: HttpRequest, invitation_id: int) -> HttpResponse:
    return _team_action(
        request,
        lambda: memberships.invitation_revoke(
            tenant=request.tenant,  # type: ignore[attr-defined]
            invitation_id=invitation_id,
            actor=request.user,
            actor_role=request.tenant_role,  # type: ignore[attr-defined]
        ),
        _("招待を取り消しました。"),
    )


@require_POST
def team_member_role(request: HttpRequest, member_id: int) -> HttpResponse:
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("権限の指定が正しくありません。"))
        return HttpResponseRedirect(f"{_area(request)['prefix']}team/")
    return _team_action(
        request,
        lambda: memberships.membership_change_role(
            tenant=request.tenant,  # type: ignore[attr-defined]
            member_id=member_id,
            role=form.cleaned_data["role"],
            actor=request.user,
            actor_role=request.tenant_role,  # type: ignore[attr-defined]
        ),
        _("権限を変更しました。"),
    )


@require_POST
def team_member_remove(request: HttpRequest, member_id: int) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    try:
        member = memberships.member_get(tenant=tenant, member_id=member_id)
    except ObjectDoesNotExist as exc:
        raise Http404 from exc
    leaving_self = member.user_id == request.user.pk
    response = _team_action(
        request,
        lambda: memberships.membership_remove(
            tenant=tenant,
            member_id=member_id,
            actor=request.user,
            actor_role=request.tenant_role,  # type: ignore[attr-defined]
        ),
        _("%(email)s をメンバーから外しました。") % {"email": member.user.email},
    )
    if leaving_self and not memberships.is_member(tenant=tenant, user=request.user):
        return HttpResponseRedirect("/after-login/")
    return response


# ---------- API keys ----------


def _api_keys_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    tenant = request.tenant  # type: ignore[attr-defined]
    return {
        "base_template": _area(request)["base"],
        "prefix": _area(request)["prefix"],
        "keys": ApiKey.objects.for_tenant(tenant).select_related("created_by"),
        "can_manage": role_at_least(request.tenant_role, "admin"),  # type: ignore[attr-defined]
        "form": extra.pop("form", None) or ApiKeyForm(),
        **extra,
    }


def api_keys(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return render(request, "core/api_keys.html", _api_keys_context(request))
    if not role_at_least(request.tenant_role, "admin"):  # type: ignore[attr-defined]
        raise Http404
    form = ApiKeyForm(request.POST)
    if not form.is_valid():
        context = _api_keys_context(request, form=form)
        return render(request, "core/api_keys.html", context, status=400)
    key, plaintext = api_key_create(
        tenant=request.tenant,  # type: ignore[attr-defined]
        name=form.cleaned_data["name"],
        created_by=request.user,
    )
    # Rendered once in this response, never stored or redirected with.
    response = render(
        request, "core/api_keys.html", _api_keys_context(request, new_key=key, plaintext=plaintext)
    )
    response["Cache-Control"] = "no-store"
    return response


@require_POST
def api_key_revoke_view(request: HttpRequest, key_id: int) -> HttpResponse:
    if not role_at_least(request.tenant_role, "admin"):  # type: ignore[attr-defined]
        raise Http404
    try:
        key = ApiKey.objects.for_tenant(request.tenant).get(pk=key_id)  # type: ignore[attr-defined]
    except ApiKey.DoesNotExist as exc:
        raise Http404 from exc
    api_key_revoke(key=key, actor=request.user)
    messages.success(request, _("APIキー「%(name)s」を失効させました。") % {"name": key.name})
    return HttpResponseRedirect(f"{_area(request)['prefix']}api-keys/")


def for_kind(kind: str, view: Any) -> Any:
    """Wrap a shared view for one side: a signed-in member of that kind of organisation."""
    return tenant_required(kind)(view)


def org_urlpatterns(kind: str) -> list[URLPattern]:
    """The team and API-key pages, the same on both sides: /app/ (company) and /partner/
    (agency) include these with the organisation kind they serve."""
    return [
        path("team/", for_kind(kind, team), name="team"),
        path("team/invite/", for_kind(kind, team_invite), name="team_invite"),
        path(
            "team/invitations/<int:invitation_id>/revoke/",
            for_kind(kind, team_invitation_revoke),
            name="team_invitation_revoke",
        ),
        path(
            "team/members/<int:member_id>/role/",
            for_kind(kind, team_member_role),
            name="team_member_role",
        ),
        path(
            "team/members/<int:member_id>/remove/",
            for_kind(kind, team_member_remove),
            name="team_member_remove",
        ),
        path("api-keys/", for_kind(kind, api_keys), name="api_keys"),
        path(
            "api-keys/<int:key_id>/revoke/",
            for_kind(kind, api_key_revoke_view),
            name="api_key_revoke",
        ),
    ]
