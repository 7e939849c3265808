"""REST API of this app: partnerships (read-only; both parties of a contract may read it)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import serializers
from rest_framework.routers import BaseRouter

from careerrelay.core.api_base import TenantReadOnlyViewSet
from companies.models import Partnership
from companies.selectors import partnership_list


class PartnershipSerializer(serializers.ModelSerializer):
    company = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    agency = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    company_name = serializers.CharField(source="company.name", read_only=True)
    agency_name = serializers.CharField(source="agency.name", read_only=True)
    rebate_rate = serializers.DecimalField(
        max_digits=5, decimal_places=2, coerce_to_string=True, read_only=True
    )

    class Meta:
        model = Partnership
        fields = [
            "id",
            "company",
            "agency",
            "status",
            "referrals_per_free_hire",
            "rebate_rate",
            "company_name",
            "agency_name",
            "created_at",
            "activated_at",
            "ended_at",
        ]
        read_only_fields = fields


class PartnershipViewSet(TenantReadOnlyViewSet):
    """Partnerships of the calling company or agency. `rebate_rate` is a percent (decimal
    string); another organisation's partnership answers 404."""

    serializer_class = PartnershipSerializer
    tenant_kinds = ("company", "agency")

    def scoped_queryset(self, tenant: Any) -> QuerySet[Partnership]:
        queryset = partnership_list(tenant=tenant).order_by("id")
        status = self.request.query_params.get("status")
        return queryset.filter(status=status) if status else queryset


def register(router: BaseRouter) -> None:
    """Add this app's viewsets to the /api/v1/ router."""
    router.register("partnerships", PartnershipViewSet, basename="partnership")
