"""Partner portal pages (/partner/). Thin: read through selectors, write through services.

Every page works without JavaScript; with htmx the inbox filters and bulk changes swap the
table in place (the same view answers the partial when the request comes from htmx)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from agencies import selectors, services
from agencies.forms import (
    BulkStageForm,
    DisqualifyForm,
    EarlyLeaveForm,
    InboxFilterForm,
    NoteForm,
    PlacementForm,
    StageForm,
)
from careerrelay.core.decorators import agency_required
from careerrelay.core.errors import ApplicationError
from credits import selectors as credit_selectors
from credits import services as credit_services
from credits import statements
from referrals import pii

INBOX_PAGE_SIZE = 25


def _apply_error(form: Any, exc: ApplicationError) -> None:
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)


def candidate_view(referral: Any) -> dict[str, str]:
    """Decrypted contact data of a referral's candidate ('' once erased)."""
    candidate = referral.candidate
    return {
        "name": pii.decrypt(candidate.name_enc),
        "email": pii.decrypt(candidate.email_enc),
        "phone": pii.decrypt(candidate.phone_enc),
    }


def free_hire_holders(agency: Any) -> list[Any]:
    """Partnerships whose company holds at least one free hire with this agency."""
    return [s for s in credit_selectors.credit_summaries(tenant=agency) if s.free_hires_available]


# --- inbox ------------------------------------------------------------------------------------


def _inbox_context(request: HttpRequest, params: QueryDict) -> dict[str, Any]:
    agency = request.tenant  # type: ignore[attr-defined]
    companies = list(selectors.partner_companies(agency=agency))
    form = InboxFilterForm(params or None, companies=companies)
    filters = selectors.InboxFilters()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = selectors.InboxFilters(
            q=data["q"].strip(),
            status=data["status"],
            stage=data["stage"],
            company=data["company"],
            date_from=data["date_from"],
            date_to=data["date_to"],
            verified=data["verified"],
        )
    page = Paginator(selectors.referral_inbox(agency=agency, filters=filters), INBOX_PAGE_SIZE)
    page = page.get_page(params.get("page"))
    query = params.copy()
    query.pop("page", None)
    return {
        "form": form,
        "page": page,
        "rows": [{"referral": r, "candidate": candidate_view(r)} for r in page.object_list],
        "query": query.urlencode(),
        "bulk_form": BulkStageForm(),
        "holders": free_hire_holders(agency),
    }


@agency_required
def inbox(request: HttpRequest) -> HttpResponse:
    context = _inbox_context(request, request.GET)
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "agencies/partials/inbox_table.html", context)
    return render(request, "agencies/inbox.html", context)


@agency_required
@require_POST
def referral_bulk_stage(request: HttpRequest) -> HttpResponse:
    """Without JS: change, then redirect back to the same filtered inbox. With htmx: change,
    then answer the refreshed table with the outcome above it."""
    agency = request.tenant  # type: ignore[attr-defined]
    form = BulkStageForm(request.POST)
    query = QueryDict(request.POST.get("query", ""))
    error = ""
    notice = ""
    if not form.is_valid():
        error = _("変更する段階を選択してください。")
    else:
        try:
            changed = services.referral_stage_bulk_set(
                agency=agency,
                referral_ids=form.cleaned_data["referrals"],
                stage=form.cleaned_data["stage"],
                actor=request.user,
            )
        except ApplicationError as exc:
            error = exc.message
        else:
            notice = _("%(n)d 件の段階を変更しました。") % {"n": changed}
    if request.htmx:  # type: ignore[attr-defined]
        context = {**_inbox_context(request, query), "notice": notice, "error": error}
        return render(request, "agencies/partials/inbox_table.html", context)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, notice)
    return redirect(reverse("agencies:inbox") + (f"?{query.urlencode()}" if query else ""))


# --- candidate detail -----------------------------------------------------------------------


def _detail_context(request: HttpRequest, referral: Any, **forms: Any) -> dict[str, Any]:
    agency = request.tenant  # type: ignore[attr-defined]
    return {
        "referral": referral,
        "candidate": candidate_view(referral),
        "consent": selectors.referral_consent(agency=agency, referral=referral),
        "notes": selectors.referral_notes(agency=agency, referral=referral),
        "placements": selectors.referral_placements(agency=agency, referral=referral),
        "stage_form": forms.get("stage_form") or StageForm(initial={"stage": referral.stage}),
        "note_form": forms.get("note_form") or NoteForm(),
        "disqualify_form": forms.get("disqualify_form") or DisqualifyForm(),
    }


@agency_required
def referral_detail(request: HttpRequest, pk: int) -> HttpResponse:
    referral = selectors.referral_get(agency=request.tenant, pk=pk)  # type: ignore[attr-defined]
    return render(request, "agencies/referral_detail.html", _detail_context(request, referral))


def _detail_form_post(
    request: HttpRequest,
    referral: Any,
    form: Any,
    *,
    form_name: str,
    write: Callable[[dict[str, Any]], object],
    success: str,
) -> HttpResponse:
    """The referral page's forms: validate, write through a service, redirect with a message;
    a refused write shows the page again with the error next to its field (status 400)."""
    if form.is_valid():
        try:
            write(form.cleaned_data)
        except ApplicationError as exc:
            _apply_error(form, exc)
        else:
            messages.success(request, success)
            return redirect("agencies:referral_detail", pk=referral.pk)
    context = _detail_context(request, referral, **{form_name: form})
    return render(request, "agencies/referral_detail.html", context, status=400)


@agency_required
@require_POST
def referral_stage(request: HttpRequest, pk: int) -> HttpResponse:
    agency = request.tenant  # type: ignore[attr-defined]
    referral = selectors.referral_get(agency=agency, pk=pk)
    return _detail_form_post(
        request,
        referral,
        StageForm(request.POST),
        form_name="stage_form",
        write=lambda data: services.referral_stage_set(
            agency=agency, referral=referral, stage=data["stage"], actor=request.user
        ),
        success=_("段階を変更しました。"),
    )


@agency_required
@require_POST
def referral_note(request: HttpRequest, pk: int) -> HttpResponse:
    agency = request.tenant  # type: ignore[attr-defined]
    referral = selectors.referral_get(agency=agency, pk=pk)
    return _detail_form_post(
        request,
        referral,
        NoteForm(request.POST),
        form_name="note_form",
        write=lambda data: services.referral_note_add(
            agency=agency, referral=referral, body=data["body"], actor=request.user
        ),
        success=_("メモを追加しました。"),
    )


@agency_required
@require_POST
def referral_qualify(request: HttpRequest, pk: int) -> HttpResponse:
    referral = selectors.referral_get(agency=request.tenant, pk=pk)  # type: ignore[attr-defined]
    try:
        credit_services.referral_qualify(referral=referral, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("有効な紹介として確認しました。"))
    return redirect("agencies:referral_detail", pk=referral.pk)


@agency_required
@require_POST
def referral_disqualify(request: HttpRequest, pk: int) -> HttpResponse:
    referral = selectors.referral_get(agency=request.tenant, pk=pk)  # type: ignore[attr-defined]
    return _detail_form_post(
        request,
        referral,
        DisqualifyForm(request.POST),
        form_name="disqualify_form",
        write=lambda data: credit_services.referral_disqualify(
            referral=referral, reason=data["reason"], actor=request.user
        ),
        success=_("紹介を無効にしました。"),
    )


# --- placements -------------------------------------------------------------------------------


@agency_required
def placement_list(request: HttpRequest) -> HttpResponse:
    agency = request.tenant  # type: ignore[attr-defined]
    page = Paginator(selectors.placement_list(agency=agency), INBOX_PAGE_SIZE)
    return render(
        request,
        "agencies/placement_list.html",
        {"page": page.get_page(request.GET.get("page")), "holders": free_hire_holders(agency)},
    )


@agency_required
def placement_new(request: HttpRequest) -> HttpResponse:
    agency = request.tenant  # type: ignore[attr-defined]
    companies = list(selectors.partner_companies(agency=agency))
    initial = {"referral": request.GET.get("referral") or None}
    form = PlacementForm(request.POST or None, companies=companies, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                placement = services.placement_create(
                    agency=agency,
                    actor=request.user,
                    referral_id=data["referral"],
                    candidate_name=data["candidate_name"],
                    hiring_company_slug=data["hiring_company"],
                    hiring_company_name=data["hiring_company_name"],
                    annual_salary_jpy=data["annual_salary_jpy"],
                    fee_rate=data["fee_rate"],
                    start_date=data["start_date"],
                    free_hire=data["free_hire"],
                )
            except ApplicationError as exc:
                _apply_error(form, exc)
            else:
                messages.success(request, _("成約を登録しました。"))
                return redirect("agencies:placement_detail", pk=placement.pk)
    return render(
        request,
        "agencies/placement_form.html",
        {"form": form, "agency": agency, "holders": free_hire_holders(agency)},
        status=status,
    )


@agency_required
def placement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    agency = request.tenant  # type: ignore[attr-defined]
    placement = selectors.placement_get(agency=agency, pk=pk)
    form = EarlyLeaveForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.placement_early_leave(
                    placement=placement, left_on=form.cleaned_data["left_on"], actor=request.user
                )
            except ApplicationError as exc:
                _apply_error(form, exc)
            else:
                messages.success(request, _("早期退職を登録しました。"))
                return redirect("agencies:placement_detail", pk=placement.pk)
    return render(
        request,
        "agencies/placement_detail.html",
        {"placement": placement, "form": form},
        status=status,
    )


# --- statements -------------------------------------------------------------------------------


@agency_required
def statement_list(request: HttpRequest) -> HttpResponse:
    agency = request.tenant  # type: ignore[attr-defined]
    rows = statements.statement_list(tenant=agency)
    return render(
        request,
        "credits/statement_list.html",
        {
            "statements": rows,
            "pdf_url_name": "agencies:statement_pdf",
            "base_template": "partner_base.html",
        },
    )


@agency_required
def statement_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    statement = statements.statement_get(tenant=request.tenant, pk=pk)  # type: ignore[attr-defined]
    return statements.statement_pdf_response(statement)
