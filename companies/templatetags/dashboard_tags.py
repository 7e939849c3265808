"""Formatting helpers of the HR dashboard templates."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _

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
    return _("%(amount)s円") % {"amount": number_format(int(amount or 0), force_grouping=True)}


@register.filter
def percent(value: Any) -> str:
    return "—" if value is None else f"{value} %"


@register.filter
def num(value: Any) -> str:
    return number_format(int(value or 0), force_grouping=True)
