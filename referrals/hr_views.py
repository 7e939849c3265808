"""HR dashboard pages for referral links (/app/links/): list and create, the email snippet with a
copy button, deactivate, bulk personal links from an ATS CSV and its download."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from careerrelay.core.decorators import company_required
from careerrelay.core.errors import ApplicationError
from referrals import pii, selectors, services
from referrals.forms import BulkUploadForm, LinkCreateForm
from referrals.models import ReferralLink
from referrals.services import BulkUploadError


def _partnership(request: HttpRequest, value: str) -> Any:
    try:
        pk = int(value)
    except (TypeError, ValueError):
        return None
    return selectors.partnerships_for_links(company=request.tenant).filter(pk=pk).first()


def snippets(link: ReferralLink) -> dict[str, str]:
    """The ready-to-paste paragraphs for the rejection email, Japanese and English."""
    context = {
        "company": link.company.name,
        "agency": link.agency.name,
        "license": link.agency.license_number,
        "url": services.link_url(link),
        "name": pii.decrypt(link.candidate_name_enc),
    }
    out = {}
    for lang in ("ja", "en"):
        with translation.override(lang):
            out[lang] = render_to_string(f"referrals/snippets/{lang}.txt", context).strip()
    return out


@company_required
@require_http_methods(["GET", "POST"])
def link_list(request: HttpRequest) -> HttpResponse:
    partnerships = list(selectors.partnerships_for_links(company=request.tenant))
    form = LinkCreateForm(request.POST or None, partnerships=partnerships)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        expires_at = None
        if data["expires_at"]:
            expires_at = timezone.make_aware(
                dt.datetime.combine(data["expires_at"], dt.time(23, 59, 59))
            )
        partnership = _partnership(request, data["partnership"])
        try:
            if partnership is None:
                raise ApplicationError(_("提携先を選択してください。"), field="partnership")
            link, created = services.link_create(
                partnership=partnership,
                label=data["label"],
                kind=data["kind"],
                candidate_email=data["candidate_email"],
                candidate_name=data["candidate_name"],
                expires_at=expires_at,
                created_by=request.user,
            )
        except ApplicationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            if created:
                messages.success(request, _("リンクを作成しました。"))
            else:
                messages.info(request, _("この候補者の個別リンクは作成済みです。"))
            return HttpResponseRedirect(f"/app/links/{link.pk}/")
    links = list(selectors.link_list(tenant=request.tenant)[:200])
    rows = [
        {
            "link": link,
            "url": services.link_url(link),
            "candidate": pii.decrypt(link.candidate_name_enc),
        }
        for link in links
    ]
    return render(
        request,
        "referrals/hr/link_list.html",
        {"form": form, "rows": rows, "partnerships": partnerships},
        status=400 if request.method == "POST" else 200,
    )


@company_required
def link_detail(request: HttpRequest, link_id: int) -> HttpResponse:
    link = selectors.link_get(tenant=request.tenant, link_id=link_id)
    if link is None:
        raise Http404
    return render(
        request,
        "referrals/hr/link_detail.html",
        {
            "link": link,
            "url": services.link_url(link),
            "snippets": snippets(link),
            "candidate_name": pii.decrypt(link.candidate_name_enc),
            "candidate_email": pii.decrypt(link.candidate_email_enc),
        },
    )


@company_required
@require_POST
def link_toggle(request: HttpRequest, link_id: int) -> HttpResponse:
    link = selectors.link_get(tenant=request.tenant, link_id=link_id)
    if link is None:
        raise Http404
    activate = request.POST.get("is_active") == "1"
    services.link_update(link=link, is_active=activate, actor=request.user)
    messages.success(
        request, _("リンクを有効にしました。") if activate else _("リンクを無効にしました。")
    )
    return HttpResponseRedirect(f"/app/links/{link.pk}/")


@company_required
@require_http_methods(["GET", "POST"])
def bulk_upload(request: HttpRequest) -> HttpResponse:
    partnerships = list(selectors.partnerships_for_links(company=request.tenant))
    form = BulkUploadForm(request.POST or None, request.FILES or None, partnerships=partnerships)
    line_errors: list[tuple[int, str]] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        partnership = _partnership(request, form.cleaned_data["partnership"])
        try:
            if partnership is None:
                raise ApplicationError(_("提携先を選択してください。"), field="partnership")
            batch = services.links_bulk_create(
                partnership=partnership,
                label=form.cleaned_data["label"],
                data=upload.read(),
                filename=upload.name or "",
                created_by=request.user,
            )
        except BulkUploadError as exc:
            line_errors = exc.errors
            form.add_error("file", _("ファイルに問題があるため、リンクは作成されていません。"))
        except ApplicationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            return HttpResponseRedirect(f"/app/links/bulk/{batch.pk}/")
    return render(
        request,
        "referrals/hr/bulk_upload.html",
        {"form": form, "line_errors": line_errors},
        status=400 if request.method == "POST" else 200,
    )


@company_required
def bulk_result(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = selectors.batch_get(tenant=request.tenant, batch_id=batch_id)
    if batch is None:
        raise Http404
    rows = [
        {
            "name": pii.decrypt(link.candidate_name_enc),
            "email": pii.decrypt(link.candidate_email_enc),
            "url": services.link_url(link),
        }
        for link in selectors.batch_rows(batch=batch)
    ]
    return render(request, "referrals/hr/bulk_result.html", {"batch": batch, "rows": rows})


@company_required
def bulk_download(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = selectors.batch_get(tenant=request.tenant, batch_id=batch_id)
    if batch is None:
        raise Http404
    encoding = "cp932" if request.GET.get("encoding") == "sjis" else "utf-8-sig"
    charset = "shift_jis" if encoding == "cp932" else "utf-8"
    response = HttpResponse(
        services.batch_csv(batch=batch, encoding=encoding),
        content_type=f"text/csv; charset={charset}",
    )
    response["Content-Disposition"] = f'attachment; filename="careerrelay-links-{batch.pk}.csv"'
    return response
