"""factory_boy factories that keep related rows consistent (a referral's company and agency are
its partnership's)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from agencies.models import Agency, AgencyMember
from careerrelay.users.models import User
from companies.models import Company, CompanyMember, Partnership, PartnershipStatus

PASSWORD = "test-password-123"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Sequence(lambda n: f"利用者{n}")
    password = factory.django.Password(PASSWORD)


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"株式会社テスト{n}")
    slug = factory.Sequence(lambda n: f"company-{n}")
    invoice_registration_number = "T1111111111111"


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"テスト人材紹介{n}")
    slug = factory.Sequence(lambda n: f"agency-{n}")
    license_number = factory.Sequence(lambda n: f"13-ユ-{100000 + n}")
    license_expires_on = factory.LazyFunction(
        lambda: timezone.localdate() + dt.timedelta(days=365 * 3)
    )
    license_verified_at = factory.LazyFunction(timezone.now)
    default_fee_rate = Decimal("35.00")
    invoice_registration_number = "T2222222222222"
    contact_email = factory.Sequence(lambda n: f"contact{n}@agency.example")


class CompanyMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CompanyMember

    company = factory.SubFactory(CompanyFactory)
    user = factory.SubFactory(UserFactory)
    role = "owner"


class AgencyMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgencyMember

    agency = factory.SubFactory(AgencyFactory)
    user = factory.SubFactory(UserFactory)
    role = "owner"


class TenantOwnedFactory(factory.django.DjangoModelFactory):
    """Factories write through the unscoped manager (the default one is fail-closed)."""

    class Meta:
        abstract = True

    @classmethod
    def _get_manager(cls, model_class: type) -> object:
        return model_class.all_objects


class PartnershipFactory(TenantOwnedFactory):
    class Meta:
        model = Partnership

    company = factory.SubFactory(CompanyFactory)
    agency = factory.SubFactory(AgencyFactory)
    status = PartnershipStatus.ACTIVE
    referrals_per_free_hire = 10
    rebate_rate = Decimal("10.00")
    activated_at = factory.LazyFunction(timezone.now)
