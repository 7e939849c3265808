"""GET /api/v1/statements/ (+ ?period=YYYY-MM) and the PDF download, for companies and
agencies; each sees only its own statements (another's answers 404)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, renderers, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from careerrelay.core.api_base import TenantGenericViewSet
from credits import statements
from credits.models import Statement


class PdfRenderer(renderers.BaseRenderer):
    """Lets a client ask for `Accept: application/pdf`; the view answers a file itself."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context=None):
        return data


class StatementSerializer(serializers.ModelSerializer):
    pdf_url = serializers.SerializerMethodField()

    class Meta:
        model = Statement
        fields = ("id", "period", "kind", "total_jpy", "tax_jpy", "issued_on", "pdf_url")
        read_only_fields = fields

    def get_pdf_url(self, obj: Statement) -> str | None:
        if not obj.pdf:
            return None
        path = reverse("statement-pdf", kwargs={"pk": obj.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class StatementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantGenericViewSet):
    serializer_class = StatementSerializer

    def scoped_queryset(self, tenant: Any) -> QuerySet[Statement]:
        period = ""
        if self.action == "list":
            period = (self.request.query_params.get("period") or "").strip()
        return statements.statement_list(tenant=tenant, period=period)

    @extend_schema(
        parameters=[OpenApiParameter("period", str, description="YYYY-MM")],
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    @action(
        detail=True,
        methods=["get"],
        url_path="pdf",
        renderer_classes=[renderers.JSONRenderer, PdfRenderer],
    )
    def pdf(self, request: Request, pk: str | None = None) -> Any:
        return statements.statement_pdf_response(
            statements.statement_get(tenant=self.tenant, pk=pk)
        )


def register(router: BaseRouter) -> None:
    """Add this module's viewsets to the /api/v1/ router."""
    router.register("statements", StatementViewSet, basename="statement")
