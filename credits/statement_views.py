"""HR pages for statements (/app/statements/): the company's monthly statements and their PDFs."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from careerrelay.core.decorators import company_required
from credits import statements


@company_required
def statement_list(request: HttpRequest) -> HttpResponse:
    rows = statements.statement_list(tenant=request.tenant)  # type: ignore[attr-defined]
    return render(
        request,
        "credits/statement_list.html",
        {"statements": rows, "pdf_url_name": "statements:pdf", "base_template": "app_base.html"},
    )


@company_required
def statement_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    statement = statements.statement_get(tenant=request.tenant, pk=pk)  # type: ignore[attr-defined]
    return statements.statement_pdf_response(statement)
