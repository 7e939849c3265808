"""`GET /api/v1/credits/` (balances per partnership) and `GET /api/v1/ledger/` (entries).

Both answer for company and agency tenants: a company reads its own accounts, an agency the
issuer side of its partnerships. Read-only; postings happen only through services.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from careerrelay.core.api_base import TenantGenericViewSet
from credits import selectors
from credits.models import EntryKind, LedgerEntry


class CreditSummarySerializer(serializers.Serializer):
    partnership = serializers.IntegerField(source="partnership.pk")
    company = serializers.CharField(source="partnership.company.slug")
    agency = serializers.CharField(source="partnership.agency.slug")
    referrals_per_free_hire = serializers.IntegerField()
    qualified_referrals = serializers.IntegerField()
    points_balance = serializers.IntegerField()
    points_to_next_free_hire = serializers.IntegerField()
    free_hires_earned = serializers.IntegerField()
    free_hires_redeemed = serializers.IntegerField()
    free_hires_available = serializers.IntegerField()
    rebate_balance_jpy = serializers.IntegerField()


class CreditViewSet(TenantGenericViewSet):
    """Balances per partnership of the signed-in organisation."""

    serializer_class = CreditSummarySerializer

    def scoped_queryset(self, tenant: Any) -> QuerySet:
        return selectors.partnerships_for(tenant=tenant)

    def _summary(self, pk: Any) -> Any:
        from django.http import Http404

        try:
            partnership_id = int(pk)
        except (TypeError, ValueError):
            raise Http404 from None
        rows = selectors.credit_summaries(tenant=self.tenant, partnership_id=partnership_id)
        if not rows:
            raise Http404
        return rows[0]

    def list(self, request: Request) -> Response:
        rows = selectors.credit_summaries(tenant=self.tenant)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(CreditSummarySerializer(page, many=True).data)

    @extend_schema(
        responses=CreditSummarySerializer,
        parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH)],
    )
    def retrieve(self, request: Request, pk: Any = None) -> Response:
        return Response(CreditSummarySerializer(self._summary(pk)).data)


class LedgerEntrySerializer(serializers.ModelSerializer):
    account = serializers.CharField(source="account_name")
    partnership = serializers.IntegerField(source="partnership_id")
    unit = serializers.CharField()
    referral = serializers.SerializerMethodField()
    placement = serializers.SerializerMethodField()

    class Meta:
        model = LedgerEntry
        fields = (
            "id",
            "account",
            "amount",
            "unit",
            "kind",
            "idempotency_key",
            "created_at",
            "partnership",
            "referral",
            "placement",
        )

    def get_referral(self, entry: LedgerEntry) -> str | None:
        rid = entry.transaction.referral_id
        return f"R-{rid:06d}" if rid else None

    def get_placement(self, entry: LedgerEntry) -> int | None:
        return entry.transaction.placement_id


class LedgerViewSet(mixins.ListModelMixin, TenantGenericViewSet):
    """Ledger entries of the signed-in organisation's side, newest first. Filters:
    `?partnership=<id>`, `?kind=<kind>`, `?account=<name>`."""

    serializer_class = LedgerEntrySerializer

    def scoped_queryset(self, tenant: Any) -> QuerySet:
        qs = selectors.ledger_entries(tenant=tenant)
        params = self.request.query_params
        partnership = params.get("partnership")
        if partnership:
            qs = qs.filter(partnership_id=int(partnership)) if partnership.isdigit() else qs.none()
        kind = params.get("kind")
        if kind:
            qs = qs.filter(kind=kind) if kind in EntryKind.values else qs.none()
        account = params.get("account")
        if account:
            qs = qs.filter(account_name=account)
        return qs

    @extend_schema(
        parameters=[
            OpenApiParameter("partnership", int),
            OpenApiParameter("kind", str, enum=EntryKind.values),
            OpenApiParameter("account", str),
        ]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)


def register(router: BaseRouter) -> None:
    """Add this module's viewsets to the /api/v1/ router."""
    router.register("credits", CreditViewSet, basename="credits")
    router.register("ledger", LedgerViewSet, basename="ledger")
