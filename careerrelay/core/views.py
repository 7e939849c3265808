"""Public top page, post-sign-in routing and the organisation switcher."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

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
