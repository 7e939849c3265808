"""HR dashboard pages (/app/): home, referrals, lead-time insight, CSV exports and settings.

Thin views: figures come from companies/stats.py (rollups and ledger balances, a fixed number of
queries per page), charts from companies/charts.py, writes from companies/branding.py."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from careerrelay.core.decorators import company_required
from careerrelay.core.permissions import role_at_least
from companies import charts, stats
from companies.branding import company_branding_update, user_language_set
from companies.dashboard_forms import BrandingForm, LanguageForm, PeriodForm
from referrals.models import ReferralStatus
from referrals.rollups import rollup_refresh


def _fresh_rollups() -> None:
    """Embedded demo only (no Celery beat): bring the rollups up to date before reading them.
    In production the `referrals.rollup_refresh` beat task does this every minute."""
    if settings.DASHBOARD_REFRESH_ON_VIEW:
        rollup_refresh()


def _saved_language(request: HttpRequest) -> str | None:
    """The user's saved language when this browser has not chosen one yet (a new device after
    sign-in); the home page then renders in it and remembers it in the language cookie."""
    if settings.LANGUAGE_COOKIE_NAME in request.COOKIES:
        return None
    language = getattr(request.user, "language", "")
    if language and language != translation.get_language():
        translation.activate(language)
        request.LANGUAGE_CODE = language
        return language
    return None


def _period_form(request: HttpRequest) -> PeriodForm:
    """Bound only when the query names a period: an unbound form means the default period."""
    data = request.GET if any(k in request.GET for k in ("range", "start", "end")) else None
    return PeriodForm(data)


def _period_query(period: stats.Period) -> str:
    return f"start={period.start.isoformat()}&end={period.end.isoformat()}"


def _month_label(month: Any) -> str:
    return f"{month.year}-{month.month:02d}"


def _funnel_steps(counts: stats.Counts) -> list[tuple[str, int]]:
    return [
        (_("クリック（ユニーク）"), counts.unique_clicks),
        (_("登録"), counts.registrations),
        (_("有効紹介"), counts.qualified),
        (_("入社"), counts.placed),
    ]


def _trend_columns() -> list[tuple[str, str]]:
    return [
        ("unique_clicks", _("クリック")),
        ("registrations", _("登録")),
        ("qualified", _("有効紹介")),
        ("placed", _("入社")),
    ]


@company_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    saved_language = _saved_language(request)
    _fresh_rollups()
    tenant = request.tenant  # type: ignore[attr-defined]
    form = _period_form(request)
    period = form.period()
    funnel = stats.funnel_totals(tenant=tenant, period=period)
    trend = stats.monthly_trend(tenant=tenant, period=period)
    overview = stats.agency_overview(tenant=tenant)
    months = [_month_label(row.month) for row in trend]
    context = {
        "form": form,
        "period": period,
        "period_query": _period_query(period),
        "funnel": funnel,
        "counts": funnel.counts,
        "trend": trend,
        "overview": overview,
        "funnel_chart": charts.funnel_svg(
            chart_id="funnel-chart",
            title=_("紹介ファネル（%(start)s〜%(end)s）")
            % {"start": period.start, "end": period.end},
            steps=_funnel_steps(funnel.counts),
            rate_label=_("前段からの割合"),
            empty_label=_("この期間のデータはまだありません"),
        ),
        "trend_chart": charts.trend_svg(
            chart_id="trend-chart",
            title=_("月別の推移（%(start)s〜%(end)s）")
            % {"start": period.start, "end": period.end},
            months=months,
            # Clicks outnumber registrations many times over: they get their own chart, so
            # the referral lines keep a readable scale.
            series=charts.trend_series(
                [
                    (label, [getattr(row.counts, key) for row in trend])
                    for key, label in _trend_columns()[1:]
                ],
                offset=1,
            ),
            empty_label=_("この期間のデータはまだありません"),
        ),
        "clicks_chart": charts.trend_svg(
            chart_id="clicks-chart",
            title=_("月別のクリック数（ユニーク）"),
            months=months,
            series=charts.trend_series(
                [(_("クリック"), [row.counts.unique_clicks for row in trend])]
            ),
            empty_label=_("この期間のデータはまだありません"),
        ),
        "trend_columns": _trend_columns(),
    }
    response = render(request, "companies/dashboard.html", context)
    if saved_language:
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, saved_language, samesite="Lax")
    return response


@company_required
@require_GET
def referrals(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    form = _period_form(request)
    period = form.period()
    status = request.GET.get("status", "")
    if status and status not in ReferralStatus.values:
        status = ""
    page = stats.referral_page(
        tenant=tenant, period=period, status=status, page=request.GET.get("page", 1)
    )
    return render(
        request,
        "companies/dashboard_referrals.html",
        {
            "form": form,
            "period": period,
            "period_query": _period_query(period),
            "status": status,
            "statuses": ReferralStatus.choices,
            "page": page,
        },
    )


@company_required
@require_GET
def insights(request: HttpRequest) -> HttpResponse:
    _fresh_rollups()
    tenant = request.tenant  # type: ignore[attr-defined]
    form = _period_form(request)
    period = form.period()
    trend = stats.monthly_trend(tenant=tenant, period=period)
    links = stats.link_rows(tenant=tenant, period=period)
    totals = stats.funnel_totals(tenant=tenant, period=period)
    months = [_month_label(row.month) for row in trend]
    hours = charts.trend_series(
        [
            (
                _("登録まで（時間）"),
                [round((row.counts.avg_register_seconds or 0) / 3600) for row in trend],
            ),
            (
                _("有効紹介まで（時間）"),
                [round((row.counts.avg_qualify_seconds or 0) / 3600) for row in trend],
            ),
        ]
    )
    return render(
        request,
        "companies/dashboard_insights.html",
        {
            "form": form,
            "period": period,
            "period_query": _period_query(period),
            "trend": trend,
            "links": links,
            "links_limit": stats.LINKS_SHOWN,
            "totals": totals.counts,
            "leadtime_chart": charts.trend_svg(
                chart_id="leadtime-chart",
                title=_("クリックから登録・有効紹介までの平均時間（月別、時間）"),
                months=months,
                series=hours,
                empty_label=_("この期間のデータはまだありません"),
            ),
        },
    )


# CSV exports: every chart's numbers. UTF-8 with BOM so Excel opens Japanese correctly.


def _csv_response(filename: str, header: list[str], rows: Iterable[list[Any]]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
    return response


def _export_funnel(tenant: Any, period: stats.Period) -> tuple[list[str], list[list[Any]]]:
    counts = stats.funnel_totals(tenant=tenant, period=period).counts
    rows = [
        [_("クリック（すべて）"), counts.clicks],
        [_("クリック（ユニーク）"), counts.unique_clicks],
        [_("除外したクリック（ボット・スキャナー等）"), counts.filtered_clicks],
        [_("登録"), counts.registrations],
        [_("メール確認済み"), counts.verified],
        [_("有効紹介"), counts.qualified],
        [_("入社"), counts.placed],
    ]
    return [_("段階"), _("件数")], rows


def _export_trend(tenant: Any, period: stats.Period) -> tuple[list[str], list[list[Any]]]:
    trend = stats.monthly_trend(tenant=tenant, period=period)
    header = [
        _("月"),
        _("クリック（すべて）"),
        _("クリック（ユニーク）"),
        _("登録"),
        _("メール確認済み"),
        _("有効紹介"),
        _("入社"),
        _("クリックから登録までの平均秒数"),
        _("クリックから有効紹介までの平均秒数"),
    ]
    rows = [
        [
            _month_label(row.month),
            row.counts.clicks,
            row.counts.unique_clicks,
            row.counts.registrations,
            row.counts.verified,
            row.counts.qualified,
            row.counts.placed,
            "" if row.counts.avg_register_seconds is None else row.counts.avg_register_seconds,
            "" if row.counts.avg_qualify_seconds is None else row.counts.avg_qualify_seconds,
        ]
        for row in trend
    ]
    return header, rows


def _export_links(tenant: Any, period: stats.Period) -> tuple[list[str], list[list[Any]]]:
    header = [
        _("リンク"),
        _("紹介会社"),
        _("クリック（ユニーク）"),
        _("登録"),
        _("有効紹介"),
        _("入社"),
        _("クリックから登録までの平均秒数"),
        _("クリックから有効紹介までの平均秒数"),
    ]
    rows = [
        [
            row.label,
            row.agency_name,
            row.counts.unique_clicks,
            row.counts.registrations,
            row.counts.qualified,
            row.counts.placed,
            "" if row.counts.avg_register_seconds is None else row.counts.avg_register_seconds,
            "" if row.counts.avg_qualify_seconds is None else row.counts.avg_qualify_seconds,
        ]
        for row in stats.link_rows(tenant=tenant, period=period)
    ]
    return header, rows


def _export_agencies(tenant: Any, period: stats.Period) -> tuple[list[str], list[list[Any]]]:
    header = [
        _("紹介会社"),
        _("有効紹介"),
        _("ポイント残高"),
        _("次の無料採用まで"),
        _("無料採用枠（獲得）"),
        _("無料採用枠（利用済み）"),
        _("無料採用枠（利用可能）"),
        _("還元クレジット残高（円）"),
        _("支払った紹介手数料（円）"),
        _("無料採用で免除された手数料（円）"),
        _("推定削減額（円）"),
    ]
    rows = [
        [
            row.agency_name,
            row.qualified_referrals,
            row.points_balance,
            row.points_to_next_free_hire,
            row.free_hires_earned,
            row.free_hires_redeemed,
            row.free_hires_available,
            row.rebate_balance_jpy,
            row.fees_paid_jpy,
            row.waived_fees_jpy,
            row.estimated_saving_jpy,
        ]
        for row in stats.agency_overview(tenant=tenant).agencies
    ]
    return header, rows


EXPORTS: dict[str, Callable[[Any, stats.Period], tuple[list[str], list[list[Any]]]]] = {
    "funnel": _export_funnel,
    "trend": _export_trend,
    "links": _export_links,
    "agencies": _export_agencies,
}


@company_required
@require_GET
def export_csv(request: HttpRequest, name: str) -> HttpResponse:
    build = EXPORTS.get(name)
    if build is None:
        raise Http404
    _fresh_rollups()
    form = _period_form(request)
    if form.is_bound and not form.is_valid():
        text = " ".join(str(e) for errors in form.errors.values() for e in errors)
        return HttpResponseBadRequest(text, content_type="text/plain; charset=utf-8")
    period = form.period()
    header, rows = build(request.tenant, period)  # type: ignore[attr-defined]
    filename = f"careerrelay-{name}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.csv"
    return _csv_response(filename, header, rows)


@company_required
@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    can_edit = role_at_least(request.tenant_role, "admin")  # type: ignore[attr-defined]
    branding_form = BrandingForm(initial={"landing_message": tenant.landing_message})
    language_form = LanguageForm(initial={"language": request.user.language})
    status = 200
    if request.method == "POST":
        which = request.POST.get("form")
        if which == "branding":
            if not can_edit:
                raise Http404
            branding_form = BrandingForm(request.POST, request.FILES)
            if branding_form.is_valid():
                company_branding_update(
                    company=tenant,
                    actor=request.user,
                    landing_message=branding_form.cleaned_data["landing_message"],
                    logo=branding_form.cleaned_data["logo"],
                    remove_logo=branding_form.cleaned_data["remove_logo"],
                    request=request,
                )
                messages.success(request, _("ランディングページの設定を保存しました。"))
                return redirect("companies:settings")
            status = 400
        elif which == "language":
            language_form = LanguageForm(request.POST)
            if language_form.is_valid():
                language = language_form.cleaned_data["language"]
                user_language_set(user=request.user, language=language)
                translation.activate(language)
                messages.success(request, _("表示言語を変更しました。"))
                response = redirect("companies:settings")
                response.set_cookie(
                    settings.LANGUAGE_COOKIE_NAME,
                    language,
                    max_age=settings.LANGUAGE_COOKIE_AGE,
                    samesite="Lax",
                )
                return response
            status = 400
        else:
            return HttpResponseBadRequest()
    return render(
        request,
        "companies/settings.html",
        {
            "branding_form": branding_form,
            "language_form": language_form,
            "can_edit": can_edit,
            "company": tenant,
        },
        status=status,
    )


@company_required
@require_GET
def logo(request: HttpRequest) -> HttpResponse:
    """The company's own logo, for the settings preview (media may not be served directly)."""
    tenant = request.tenant  # type: ignore[attr-defined]
    if not tenant.logo:
        raise Http404
    try:
        with tenant.logo.open("rb") as fh:
            data = fh.read()
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = HttpResponse(data, content_type="image/png")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = 'inline; filename="logo.png"'
    response["Cache-Control"] = "private, max-age=300"
    return response
