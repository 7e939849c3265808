"""HR dashboard pages (/app/). Thin: read through selectors, write through services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from agencies.models import Agency
from careerrelay.core.decorators import agency_required, company_required
from careerrelay.core.errors import ApplicationError
from careerrelay.core.memberships import (
    invitation_accept_for_verified_email,
    invitations_for_email,
)
from careerrelay.core.org_views import apply_error
from careerrelay.core.permissions import role_at_least
from careerrelay.core.tenancy import SESSION_KEY
from companies.forms import OnboardingForm, PartnershipProposeForm
from companies.models import Partnership
from companies.selectors import (
    agencies_open_for_proposal,
    agency_is_verified,
    partnership_get,
    partnership_list,
)
from companies.services import (
    company_create,
    partnership_accept,
    partnership_decline,
    partnership_end,
    partnership_propose,
)


@company_required
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "companies/dashboard.html", {})


# ---------- onboarding: an HR person creates their company ----------


@login_required
def onboarding(request: HttpRequest) -> HttpResponse:
    if request.method == "POST" and "invitation" in request.POST:
        return _accept_pending_invitation(request)
    form = OnboardingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            company = company_create(owner=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            apply_error(form, exc)
        else:
            request.session[SESSION_KEY] = company.org_key
            messages.success(
                request, _("%(name)s を登録しました。ようこそ！") % {"name": company.name}
            )
            return redirect("/app/")
    context = {
        "form": form,
        "invitations": invitations_for_email(email=request.user.email),
    }
    return render(request, "companies/onboarding.html", context, status=400 if form.errors else 200)


def _accept_pending_invitation(request: HttpRequest) -> HttpResponse:
    try:
        member = invitation_accept_for_verified_email(
            invitation_id=int(request.POST["invitation"]), user=request.user
        )
    except (ApplicationError, ValueError) as exc:
        messages.error(request, getattr(exc, "message", _("招待を承諾できませんでした。")))
        return redirect("companies:onboarding")
    tenant = member.company if hasattr(member, "company") else member.agency
    request.session[SESSION_KEY] = tenant.org_key
    messages.success(request, _("%(name)s に参加しました。") % {"name": tenant.name})
    return redirect("/app/" if tenant.kind == "company" else "/partner/")


# ---------- partnerships (the company side) ----------


@company_required
def partners(request: HttpRequest) -> HttpResponse:
    company = request.tenant  # type: ignore[attr-defined]
    can_manage = role_at_least(request.tenant_role, "admin")  # type: ignore[attr-defined]
    # Offer only agencies open for a proposal; on POST accept any agency so that the service
    # answers a taken or unverified one with its clear message next to the field.
    agencies = (
        Agency.objects.all()
        if request.method == "POST"
        else agencies_open_for_proposal(company=company)
    )
    form = PartnershipProposeForm(request.POST or None, agencies=agencies)
    status = 200
    if request.method == "POST":
        if not can_manage:
            raise Http404
        if form.is_valid():
            try:
                partnership_propose(company=company, actor=request.user, **form.cleaned_data)
            except ApplicationError as exc:
                apply_error(form, exc)
            else:
                messages.success(
                    request,
                    _("%(agency)s に提携を提案しました。先方の承諾をお待ちください。")
                    % {"agency": form.cleaned_data["agency"].name},
                )
                return redirect("companies:partners")
        status = 400
    context = {
        "partnerships": partnership_list(tenant=company).order_by("-created_at"),
        "form": form,
        "can_manage": can_manage,
    }
    return render(request, "companies/partners.html", context, status=status)


@company_required
@require_POST
def partner_end(request: HttpRequest, partnership_id: int) -> HttpResponse:
    if not role_at_least(request.tenant_role, "admin"):  # type: ignore[attr-defined]
        raise Http404
    try:
        partnership = partnership_get(tenant=request.tenant, partnership_id=partnership_id)  # type: ignore[attr-defined]
    except Partnership.DoesNotExist as exc:
        raise Http404 from exc
    partnership_end(partnership=partnership, actor=request.user)
    messages.success(
        request, _("%(agency)s との提携を終了しました。") % {"agency": partnership.agency.name}
    )
    return redirect("companies:partners")


# ---------- partnerships (the agency side, /partner/partnerships/) ----------


@agency_required
def agency_partnerships(request: HttpRequest) -> HttpResponse:
    agency = request.tenant  # type: ignore[attr-defined]
    context = {
        "partnerships": partnership_list(tenant=agency).order_by("status", "-created_at"),
        "can_manage": role_at_least(request.tenant_role, "admin"),  # type: ignore[attr-defined]
        "verified": agency_is_verified(agency),
    }
    return render(request, "companies/partner_partnerships.html", context)


AGENCY_ACTIONS = {
    "accept": (partnership_accept, gettext_lazy("%(company)s との提携を承諾しました。")),
    "decline": (partnership_decline, gettext_lazy("%(company)s からの提案を辞退しました。")),
    "end": (partnership_end, gettext_lazy("%(company)s との提携を終了しました。")),
}


@agency_required
@require_POST
def agency_partnership_action(
    request: HttpRequest, partnership_id: int, action: str
) -> HttpResponse:
    if action not in AGENCY_ACTIONS or not role_at_least(request.tenant_role, "admin"):  # type: ignore[attr-defined]
        raise Http404
    try:
        partnership = partnership_get(tenant=request.tenant, partnership_id=partnership_id)  # type: ignore[attr-defined]
    except Partnership.DoesNotExist as exc:
        raise Http404 from exc
    service, message = AGENCY_ACTIONS[action]
    try:
        service(partnership=partnership, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, str(message) % {"company": partnership.company.name})
    return redirect("partner_partnerships:list")
