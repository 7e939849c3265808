"""REST API of this app: referral links (company) and referrals (company and agency)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from careerrelay.core.api_base import TenantGenericViewSet
from careerrelay.core.errors import ApplicationError
from companies.models import Partnership
from referrals import pii, selectors, services
from referrals.models import LinkKind, Referral, ReferralLink, ReferralStatus

# Links ------------------------------------------------------------------------------------


class LinkSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    partnership = serializers.IntegerField(source="partnership_id", read_only=True)
    candidate_name = serializers.SerializerMethodField()
    candidate_email = serializers.SerializerMethodField()

    class Meta:
        model = ReferralLink
        fields = [
            "id",
            "token",
            "url",
            "is_active",
            "partnership",
            "label",
            "kind",
            "candidate_name",
            "candidate_email",
            "expires_at",
            "created_at",
        ]
        read_only_fields = fields

    def get_url(self, obj: ReferralLink) -> str:
        return services.link_url(obj)

    def get_candidate_name(self, obj: ReferralLink) -> str:
        return pii.decrypt(obj.candidate_name_enc)

    def get_candidate_email(self, obj: ReferralLink) -> str:
        return pii.decrypt(obj.candidate_email_enc)


class LinkCreateSerializer(serializers.Serializer):
    partnership = serializers.IntegerField()
    label = serializers.CharField(max_length=120)
    kind = serializers.ChoiceField(choices=LinkKind.choices, default=LinkKind.CAMPAIGN)
    candidate_email = serializers.CharField(max_length=254, required=False, allow_blank=True)
    candidate_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)


class LinkUpdateSerializer(serializers.Serializer):
    label = serializers.CharField(max_length=120, required=False)
    is_active = serializers.BooleanField(required=False)


class BulkSerializer(serializers.Serializer):
    partnership = serializers.IntegerField()
    label = serializers.CharField(max_length=120, required=False, allow_blank=True)
    file = serializers.FileField()


def _partnership_for(company: Any, partnership_id: int) -> Partnership:
    partnership = (
        Partnership.objects.for_tenant(company)
        .select_related("company", "agency")
        .filter(pk=partnership_id)
        .first()
    )
    if partnership is None:
        raise ApplicationError(_("提携が見つかりません。"), field="partnership")
    return partnership


class LinkViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    TenantGenericViewSet,
):
    """Referral links of the signed-in company. PATCH changes `label` and `is_active` only."""

    tenant_kinds = ("company",)
    serializer_class = LinkSerializer
    parser_classes = (JSONParser, FormParser, MultiPartParser)

    def scoped_queryset(self, tenant: Any) -> Any:
        return selectors.link_list(tenant=tenant)

    @extend_schema(request=LinkCreateSerializer, responses={201: LinkSerializer})
    def create(self, request: Request) -> Response:
        data = LinkCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        link, created = services.link_create(
            partnership=_partnership_for(self.tenant, v["partnership"]),
            label=v["label"],
            kind=v["kind"],
            candidate_email=v.get("candidate_email", ""),
            candidate_name=v.get("candidate_name", ""),
            expires_at=v.get("expires_at"),
            created_by=request.user,
        )
        return Response(
            LinkSerializer(link).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(request=LinkUpdateSerializer, responses={200: LinkSerializer})
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        link = self.get_object()
        data = LinkUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        link = services.link_update(
            link=link,
            label=data.validated_data.get("label"),
            is_active=data.validated_data.get("is_active"),
            actor=request.user,
        )
        return Response(LinkSerializer(link).data)

    @extend_schema(request=BulkSerializer, responses={201: dict})
    @action(detail=False, methods=["post"], url_path="bulk")
    def bulk(self, request: Request) -> Response | HttpResponse:
        """Personal links from a CSV (columns name, email). All or nothing; re-uploading the same
        file creates nothing new. `?download=csv` answers the CSV (name, email, url) instead."""
        data = BulkSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        batch = services.links_bulk_create(
            partnership=_partnership_for(self.tenant, data.validated_data["partnership"]),
            label=data.validated_data.get("label", ""),
            data=upload.read(),
            filename=getattr(upload, "name", "") or "",
            created_by=request.user,
        )
        if request.query_params.get("download") == "csv":
            response = HttpResponse(
                services.batch_csv(batch=batch), content_type="text/csv; charset=utf-8"
            )
            response["Content-Disposition"] = f'attachment; filename="links-{batch.pk}.csv"'
            response.status_code = 201
            return response
        links = selectors.batch_rows(batch=batch)
        return Response(
            {
                "batch": batch.pk,
                "created": batch.created_count,
                "existing": batch.existing_count,
                "rows": [
                    {
                        "id": link.pk,
                        "name": pii.decrypt(link.candidate_name_enc),
                        "email": pii.decrypt(link.candidate_email_enc),
                        "token": link.token,
                        "url": services.link_url(link),
                    }
                    for link in links
                ],
            },
            status=status.HTTP_201_CREATED,
        )


# Referrals --------------------------------------------------------------------------------


class ReferralSerializer(serializers.ModelSerializer):
    partnership = serializers.IntegerField(source="partnership_id", read_only=True)
    link = serializers.IntegerField(source="link_id", read_only=True)
    number = serializers.CharField(read_only=True)
    company = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    agency = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    email_verified = serializers.SerializerMethodField()

    class Meta:
        model = Referral
        fields = [
            "id",
            "number",
            "status",
            "stage",
            "partnership",
            "company",
            "agency",
            "link",
            "email_verified",
            "created_at",
        ]
        read_only_fields = fields

    def get_email_verified(self, obj: Referral) -> bool:
        return obj.candidate.email_verified_at is not None


class AgencyReferralSerializer(ReferralSerializer):
    """The agency's view: the candidate's contact data (decrypted) and the review fields."""

    name = serializers.SerializerMethodField()
    email = serializers.SerializerMethodField()
    phone = serializers.SerializerMethodField()
    desired_role = serializers.CharField(source="candidate.desired_role", read_only=True)
    prefecture = serializers.CharField(source="candidate.prefecture", read_only=True)

    class Meta(ReferralSerializer.Meta):
        fields = [
            *ReferralSerializer.Meta.fields,
            "name",
            "email",
            "phone",
            "desired_role",
            "prefecture",
            "hold_reason",
            "disqualify_reason",
            "duplicate_of",
            "seconds_to_register",
        ]
        read_only_fields = fields

    def get_name(self, obj: Referral) -> str:
        return pii.decrypt(obj.candidate.name_enc)

    def get_email(self, obj: Referral) -> str:
        return pii.decrypt(obj.candidate.email_enc)

    def get_phone(self, obj: Referral) -> str:
        return pii.decrypt(obj.candidate.phone_enc)


class DisqualifySerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class ReferralViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantGenericViewSet):
    """Referrals: a company sees its own without contact data; an agency sees the candidates
    referred to it. Filters: `?status=` (both), `?email=` (agency, matched by keyed hash)."""

    tenant_kinds = ("company", "agency")

    def get_serializer_class(self) -> type[serializers.Serializer]:
        tenant = getattr(self.request, "tenant", None)
        if tenant is not None and tenant.kind == "agency":
            return AgencyReferralSerializer
        return ReferralSerializer

    def scoped_queryset(self, tenant: Any) -> Any:
        params = self.request.query_params
        status_filter = params.get("status") or None
        if status_filter and status_filter not in ReferralStatus.values:
            raise ApplicationError(_("status の値が正しくありません。"), field="status")
        email = params.get("email") if tenant.kind == "agency" else None
        return selectors.referral_list(tenant=tenant, status=status_filter, email=email)

    def _agency_referral(self, pk: str | None) -> Referral:
        if self.tenant.kind != "agency":
            raise Http404
        return self.get_object()

    @extend_schema(request=None, responses={200: AgencyReferralSerializer})
    @action(detail=True, methods=["post"])
    def qualify(self, request: Request, pk: str | None = None) -> Response:
        from credits.services import referral_qualify

        referral = referral_qualify(referral=self._agency_referral(pk), actor=request.user)
        referral = selectors.referral_get(tenant=self.tenant, referral_id=referral.pk)
        return Response(AgencyReferralSerializer(referral).data)

    @extend_schema(request=DisqualifySerializer, responses={200: AgencyReferralSerializer})
    @action(detail=True, methods=["post"])
    def disqualify(self, request: Request, pk: str | None = None) -> Response:
        from credits.services import referral_disqualify

        referral = self._agency_referral(pk)
        data = DisqualifySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        referral = referral_disqualify(
            referral=referral, reason=data.validated_data["reason"], actor=request.user
        )
        referral = selectors.referral_get(tenant=self.tenant, referral_id=referral.pk)
        return Response(AgencyReferralSerializer(referral).data)


def register(router: BaseRouter) -> None:
    """Add this app's viewsets to the /api/v1/ router."""
    router.register("links", LinkViewSet, basename="link")
    router.register("referrals", ReferralViewSet, basename="referral")
