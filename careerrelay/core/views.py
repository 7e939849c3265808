"""Public top page, post-sign-in routing and the organisation switcher."""

from __future__ import annotations

from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from careerrelay.core.errors import ApplicationError
from careerrelay.core.memberships import invitation_accept as memberships_invitation_accept
from careerrelay.core.memberships import invitation_get_by_token
from careerrelay.core.tenancy import SESSION_KEY, memberships_for_user


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html", {})


@login_required
def after_login(request: HttpRequest) -> HttpResponse:
    """HR lands on /app/, agency users on /partner/, a user without organisation on set-up."""
    tenant = getattr(request, "tenant", None)
    if tenant is None:
        if request.user.is_staff:
            return redirect("/admin/")
        return redirect("companies:onboarding")
    return redirect("/app/" if tenant.kind == "company" else "/partner/")


@login_required
@require_POST
def switch_organisation(request: HttpRequest) -> HttpResponse:
    wanted = request.POST.get("org", "")
    for membership in memberships_for_user(request.user):
        if membership.key == wanted:
            request.session[SESSION_KEY] = wanted
            target = "/app/" if membership.tenant.kind == "company" else "/partner/"
            return HttpResponseRedirect(target)
    nxt = request.POST.get("next", "/after-login/")
    if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        nxt = "/after-login/"
    return HttpResponseRedirect(nxt)


def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """The link in an invitation email. Anonymous visitors are asked to sign in or sign up
    (and come back here); a signed-in user with the invited address joins on POST."""
    invitation = invitation_get_by_token(token=token)
    if invitation is None:
        return render(request, "core/invitation.html", {"invitation": None}, status=404)
    error = ""
    if request.method == "POST" and request.user.is_authenticated:
        try:
            member = memberships_invitation_accept(token=token, user=request.user)
        except ApplicationError as exc:
            error = exc.message
        else:
            tenant = member.company if invitation.company_id else member.agency
            request.session[SESSION_KEY] = tenant.org_key
            messages.success(request, _("%(name)s に参加しました。") % {"name": tenant.name})
            return redirect("/app/" if tenant.kind == "company" else "/partner/")
    context = {
        "invitation": invitation,
        "organisation": invitation.organisation,
        "email_matches": request.user.is_authenticated
        and request.user.email.lower() == invitation.email.lower(),
        "error": error,
        "next": quote(request.path),
    }
    return render(request, "core/invitation.html", context, status=400 if error else 200)


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and readiness for load balancers and compose: the database must answer.
    Redis is reported but not required (pages and sessions work without it)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database = "ok"
    except DatabaseError:
        database = "down"
    try:
        cache.set("healthz", "1", timeout=5)
        redis = "ok" if cache.get("healthz") == "1" else "down"
    except Exception:  # any cache failure means "down" here
        redis = "down"
    status = 200 if database == "ok" else 503
    body = {"status": "ok" if status == 200 else "down", "database": database, "cache": redis}
    return JsonResponse(body, status=status)
