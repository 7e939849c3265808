"""HR statement pages, mounted at /app/statements/."""

from __future__ import annotations

from django.urls import path

from credits import statement_views

app_name = "statements"
urlpatterns = [
    path("", statement_views.statement_list, name="list"),
    path("<int:pk>/pdf/", statement_views.statement_pdf, name="pdf"),
]
