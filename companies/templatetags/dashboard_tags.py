"""Formatting helpers of the HR dashboard templates."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from careerrelay.core.templatetags.money import format_yen

register = template.Library()


@register.filter
def duration(seconds: Any) -> str:
    """Seconds as days, hours or minutes ("—" when unknown)."""
    if seconds is None or seconds == "":
        return "—"
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return _("%(d)s日 %(h)s時間") % {"d": days, "h": hours}
    if hours:
        return _("%(h)s時間 %(m)s分") % {"h": hours, "m": minutes}
    if minutes:
        return _("%(m)s分") % {"m": minutes}
    return _("%(s)s秒") % {"s": seconds}


@register.filter
def yen(amount: Any) -> str:
    return format_yen(amount)


@register.filter
def percent(value: Any) -> str:
    return "—" if value is None else f"{value} %"


@register.filter
def num(value: Any) -> str:
    return number_format(int(value or 0), force_grouping=True)


@register.inclusion_tag("companies/partials/link_funnel.html", takes_context=True)
def link_funnel(context: dict[str, Any], link: Any) -> dict[str, Any]:
    """The funnel of one referral link (all time, from the rollups), for the link pages."""
    from companies import charts, stats

    request = context.get("request")
    tenant = getattr(request, "tenant", None)
    counts = stats.link_totals(tenant=tenant, link_id=link.pk) if tenant else stats.Counts()
    chart = charts.funnel_svg(
        chart_id=f"link-funnel-{link.pk}",
        title=_("このリンクのファネル（累計）"),
        steps=[
            (_("クリック（ユニーク）"), counts.unique_clicks),
            (_("登録"), counts.registrations),
            (_("有効紹介"), counts.qualified),
            (_("入社"), counts.placed),
        ],
        rate_label=_("前段からの割合"),
        empty_label=_("この期間のデータはまだありません"),
    )
    return {"counts": counts, "chart": chart}
