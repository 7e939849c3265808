"""Demo step 1 (`seed_demo`): the contract's organisations, users and partnerships.

Idempotent: everything is looked up by its natural key and brought to the demo state; running
it again changes nothing. Later steps find the objects in `ctx`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from allauth.account.models import EmailAddress
from django.db import transaction
from django.utils import timezone

from agencies.models import Agency, AgencyMember
from careerrelay.core.tenancy_models import Role
from careerrelay.users.models import User
from companies.models import Company, CompanyMember, Partnership, PartnershipStatus

COMPANIES = [
    # slug, name, HR user's email, HR user's name, the company's email domain
    ("startup-a", "スタートアップA社", "hr@startup-a.example", "佐藤 美咲", "startup-a.example"),
    ("maker-b", "製造業B社", "hr@maker-b.example", "鈴木 健太", "maker-b.example"),
    ("it-c", "IT企業C社", "hr@it-c.example", "高橋 優子", "it-c.example"),
]
AGENCY = {
    "slug": "relay-agent",
    "name": "リレーエージェント株式会社",
    "license_number": "13-ユ-308841",
    "invoice_registration_number": "T4011001098765",
    "contact_email": "contact@relay-agent.example",
    "address": "東京都千代田区丸の内一丁目1番1号",
    "privacy_policy_url": "https://relay-agent.example/privacy",
    "default_fee_rate": Decimal("35.00"),
    "refund_tiers": [[30, 50], [90, 30], [180, 10]],
}
AGENT_EMAIL = "agent@relay-agent.example"
OPERATOR_EMAIL = "admin@careerrelay.example"
COMPANY_LANDING_MESSAGES = {
    "startup-a": "このたびはご応募いただき、誠にありがとうございました。残念ながら今回はご期待に"
    "沿えない結果となりましたが、あなたの経験を活かせる場は必ずあります。提携する人材紹介会社が"
    "次のキャリアをご一緒に考えます。",
    "maker-b": "選考にお時間をいただき、ありがとうございました。"
    "ものづくりへの情熱を活かせる企業を、提携先のキャリアアドバイザーがご紹介します。",
    "it-c": "ご応募ありがとうございました。今回はご縁がありませんでしたが、エンジニアとしての次の"
    "挑戦を、提携する人材紹介会社が支援します。",
}


def _user(email: str, password: str, *, name: str = "", **flags: Any) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User(email=email, name=name, **flags)
        user.set_password(password)
        user.save()
    else:
        changed = []
        if not user.check_password(password):
            user.set_password(password)
            changed.append("password")
        for field, value in {"name": name, **flags}.items():
            if value and getattr(user, field) != value:
                setattr(user, field, value)
                changed.append(field)
        if changed:
            user.save()
    # Verified and primary, so the demo users can sign in with mandatory verification.
    EmailAddress.objects.update_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user


@transaction.atomic
def seed(ctx: dict[str, Any]) -> None:
    password = ctx["password"]
    users: list[str] = ctx.setdefault("users", [])
    today = timezone.localdate()

    agency, _ = Agency.objects.update_or_create(
        slug=AGENCY["slug"],
        defaults={
            **{k: v for k, v in AGENCY.items() if k != "slug"},
            "license_expires_on": today.replace(month=1, day=1) + dt.timedelta(days=365 * 3),
        },
    )
    if agency.license_verified_at is None:
        agency.license_verified_at = timezone.now()
        agency.save(update_fields=["license_verified_at"])
    agent = _user(AGENT_EMAIL, password, name="山田 太郎")
    AgencyMember.objects.update_or_create(agency=agency, user=agent, defaults={"role": Role.OWNER})

    companies: dict[str, Company] = {}
    partnerships: dict[str, Partnership] = {}
    for slug, name, email, person, domain in COMPANIES:
        company, _ = Company.objects.update_or_create(
            slug=slug,
            defaults={
                "name": name,
                "website": f"https://{domain}/",
                "email_domains": domain,
                "landing_message": COMPANY_LANDING_MESSAGES[slug],
            },
        )
        hr = _user(email, password, name=person)
        CompanyMember.objects.update_or_create(
            company=company, user=hr, defaults={"role": Role.OWNER}
        )
        partnership = (
            Partnership.objects.for_tenant(company)
            .filter(agency=agency)
            .exclude(status=PartnershipStatus.ENDED)
            .first()
        )
        if partnership is None:
            partnership = Partnership.objects.create(
                company=company,
                agency=agency,
                status=PartnershipStatus.ACTIVE,
                referrals_per_free_hire=10,
                rebate_rate=Decimal("10.00"),
                proposed_by="company",
                activated_at=timezone.now(),
            )
        elif partnership.status != PartnershipStatus.ACTIVE:
            partnership.status = PartnershipStatus.ACTIVE
            partnership.activated_at = partnership.activated_at or timezone.now()
            partnership.save(update_fields=["status", "activated_at"])
        companies[slug] = company
        partnerships[slug] = partnership
        if email not in users:
            users.append(email)
    if AGENT_EMAIL not in users:
        users.append(AGENT_EMAIL)

    _user(OPERATOR_EMAIL, password, name="運営 管理者", is_staff=True, is_superuser=True)
    if OPERATOR_EMAIL not in users:
        users.append(OPERATOR_EMAIL)

    ctx["companies"] = companies
    ctx["agency"] = agency
    ctx["partnerships"] = partnerships
