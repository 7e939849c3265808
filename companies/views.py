"""HR dashboard pages (/app/). Thin: read through selectors, write through services."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from careerrelay.core.decorators import company_required


@company_required
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "companies/dashboard.html", {})
