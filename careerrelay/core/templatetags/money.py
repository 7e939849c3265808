"""Money in templates: one rule per language for yen amounts.

Japanese writes the unit after the number ("1,234円"), English puts the sign before it
("¥1,234"). Both come from the one catalogue entry "%(amount)s円", so every page, email and PDF
that uses this filter agrees. A negative amount keeps its minus sign in front ("-¥1,234").
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext

register = template.Library()


def format_yen(amount: Any) -> str:
    value = int(amount or 0)
    digits = number_format(abs(value), force_grouping=True)
    text = gettext("%(amount)s円") % {"amount": digits}
    return f"-{text}" if value < 0 else text


@register.filter
def yen(amount: Any) -> str:
    """An int yen amount with grouping and the language's unit ("1,234円" / "¥1,234")."""
    return format_yen(amount)


@register.filter
def yen_signed(amount: Any) -> str:
    """Like `yen`, with "+" in front of a positive amount (ledger movements)."""
    text = format_yen(amount)
    return f"+{text}" if int(amount or 0) > 0 else text
