"""Template helpers for the page layout: navigation links that know the current page."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag(takes_context=True)
def nav_link(context: dict[str, Any], href: str, label: str, exact: bool = False) -> SafeString:
    """A navigation link; `aria-current="page"` marks the section the visitor is in."""
    request = context.get("request")
    path = getattr(request, "path", "")
    current = path == href if exact else path.startswith(href)
    if current:
        return format_html('<a class="nav-link" href="{}" aria-current="page">{}</a>', href, label)
    return format_html('<a class="nav-link" href="{}">{}</a>', href, label)
