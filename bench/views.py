"""The baseline: the least a Django view can do, through the full middleware stack."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse


def baseline(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok\n", content_type="text/plain; charset=utf-8")
