"""REST API of the agencies app: placements (成約) and early leave, agency-only."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from agencies import selectors, services
from agencies.models import Placement
from careerrelay.core.api_base import TenantGenericViewSet


class PlacementSerializer(serializers.ModelSerializer):
    referral = serializers.SerializerMethodField()
    hiring_company = serializers.SerializerMethodField()
    fee_rate = serializers.DecimalField(max_digits=5, decimal_places=2)

    class Meta:
        model = Placement
        fields = (
            "id",
            "referral",
            "candidate_name",
            "hiring_company",
            "hiring_company_name",
            "annual_salary_jpy",
            "fee_rate",
            "fee_jpy",
            "waived_fee_jpy",
            "start_date",
            "guarantee_ends_on",
            "free_hire",
            "status",
            "left_on",
            "refund_jpy",
            "rebate_jpy",
            "rebate_period",
            "created_at",
        )
        read_only_fields = fields

    def get_referral(self, obj: Placement) -> int | None:
        return obj.referral_id

    def get_hiring_company(self, obj: Placement) -> str | None:
        return obj.hiring_company.slug if obj.hiring_company_id else None


class PlacementCreateSerializer(serializers.Serializer):
    """Parses types, then reports every input-only rule that fails at once (the rules live in
    `services.placement_input_check`); those needing the database (ownership, dates against the
    referral, free hires) are the service's."""

    referral = serializers.IntegerField(required=False, allow_null=True)
    candidate_name = serializers.CharField(required=False, allow_blank=True, max_length=100)
    hiring_company = serializers.SlugField(required=False, allow_blank=True, allow_null=True)
    hiring_company_name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    annual_salary_jpy = serializers.IntegerField()
    fee_rate = serializers.DecimalField(
        max_digits=7, decimal_places=2, required=False, allow_null=True
    )
    start_date = serializers.DateField()
    free_hire = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        problems = services.placement_input_check(
            annual_salary_jpy=attrs.get("annual_salary_jpy"),
            fee_rate=attrs.get("fee_rate"),
            referral_id=attrs.get("referral"),
            candidate_name=attrs.get("candidate_name") or "",
            hiring_company_slug=attrs.get("hiring_company") or "",
            hiring_company_name=attrs.get("hiring_company_name") or "",
        )
        if problems:
            raise serializers.ValidationError({f: [m] for f, m in problems.items()})
        return attrs


class EarlyLeaveSerializer(serializers.Serializer):
    left_on = serializers.DateField()


class PlacementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantGenericViewSet):
    """Placements reported by the agency. Companies get 404 here."""

    tenant_kinds = ("agency",)
    serializer_class = PlacementSerializer

    def scoped_queryset(self, tenant: Any) -> QuerySet[Placement]:
        return selectors.placement_list(agency=tenant)

    @extend_schema(request=PlacementCreateSerializer, responses={201: PlacementSerializer})
    def create(self, request: Request) -> Response:
        form = PlacementCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        placement = services.placement_create(
            agency=self.tenant,
            actor=request.user,
            referral_id=data.get("referral"),
            candidate_name=data.get("candidate_name") or "",
            hiring_company_slug=data.get("hiring_company") or "",
            hiring_company_name=data.get("hiring_company_name") or "",
            annual_salary_jpy=data["annual_salary_jpy"],
            fee_rate=data.get("fee_rate"),
            start_date=data["start_date"],
            free_hire=data.get("free_hire", False),
        )
        return Response(PlacementSerializer(placement).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=EarlyLeaveSerializer, responses={200: PlacementSerializer})
    @action(detail=True, methods=["post"], url_path="early-leave")
    def early_leave(self, request: Request, pk: str | None = None) -> Response:
        placement = selectors.placement_get(agency=self.tenant, pk=pk)
        form = EarlyLeaveSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        placement = services.placement_early_leave(
            placement=placement, left_on=form.validated_data["left_on"], actor=request.user
        )
        return Response(PlacementSerializer(placement).data)


def register(router: BaseRouter) -> None:
    """Add this app's viewsets to the /api/v1/ router."""
    router.register("placements", PlacementViewSet, basename="placement")
