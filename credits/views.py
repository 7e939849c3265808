"""HR pages of the credits app (/app/credits/): progress towards the next free hire per agency,
free hires available and used, and the ledger history with the cause of each entry."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from careerrelay.core.decorators import company_required
from credits import selectors

HISTORY_PAGE_SIZE = 50


@company_required
def credits_overview(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    summaries = selectors.credit_summaries(tenant=tenant)
    entries = selectors.ledger_entries(tenant=tenant)
    partnership_filter = request.GET.get("partnership", "")
    selected = None
    if partnership_filter.isdigit():
        selected = next(
            (s.partnership for s in summaries if s.partnership.pk == int(partnership_filter)),
            None,
        )
        entries = entries.filter(partnership_id=selected.pk) if selected else entries.none()
    page = Paginator(entries, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "credits/overview.html",
        {
            "summaries": summaries,
            "page": page,
            "selected": selected,
            "totals": {
                "available": sum(s.free_hires_available for s in summaries),
                "redeemed": sum(s.free_hires_redeemed for s in summaries),
                "earned": sum(s.free_hires_earned for s in summaries),
                "qualified": sum(s.qualified_referrals for s in summaries),
            },
        },
    )
