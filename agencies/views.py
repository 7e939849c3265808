"""Partner portal pages (/partner/). Thin: read through selectors, write through services."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from careerrelay.core.decorators import agency_required


@agency_required
def inbox(request: HttpRequest) -> HttpResponse:
    return render(request, "agencies/inbox.html", {})
