"""Referral fraud checks run at registration: a referral that trips one is kept but held for
review (status `held`) with the reason shown to the agency and operators. Holding never writes
anything by itself; the registration service stores the reason."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlparse

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

# Disposable / throw-away mail domains commonly used to fake sign-ups.
DISPOSABLE_DOMAINS = frozenset(
    {
        "mailinator.com",
        "guerrillamail.com",
        "10minutemail.com",
        "tempmail.com",
        "yopmail.com",
        "trashmail.com",
        "sharklasers.com",
        "getnada.com",
        "dispostable.com",
        "maildrop.cc",
        "temp-mail.org",
        "throwawaymail.com",
        "fakeinbox.com",
        "guerrillamailblock.com",
        "grr.la",
        "mailnesia.com",
        "mintemail.com",
        "mohmal.com",
        "emailondeck.com",
        "tempail.com",
        "tmpmail.org",
        "discard.email",
        "spamgourmet.com",
    }
)
# Registrations per company per hour above which new ones are held for review.
VELOCITY_CAP_PER_HOUR = 200


def email_domain(email_normalised: str) -> str:
    return email_normalised.rsplit("@", 1)[-1] if "@" in email_normalised else ""


def company_domains(company: Any) -> set[str]:
    """The company's own mail domains: those it declared, and its website's host."""
    domains = {
        d.strip().lower().lstrip("@") for d in (company.email_domains or "").split(",") if d.strip()
    }
    host = (urlparse(company.website or "").hostname or "").lower()
    if host:
        domains.add(host.removeprefix("www."))
    return domains


def _within(domain: str, domains: set[str] | frozenset[str]) -> bool:
    """`domain` is one of `domains` or a subdomain of one (mail.acme.co.jp, x.mailinator.com)."""
    return any(domain == d or domain.endswith("." + d) for d in domains)


def is_company_staff(*, company: Any, email_normalised: str) -> bool:
    from companies.models import CompanyMember

    return CompanyMember.objects.filter(
        company=company, user__email__iexact=email_normalised
    ).exists()


def registration_hold_reason(*, partnership: Any, email_normalised: str) -> str:
    """'' when the registration looks genuine, else a short reason to hold it for review."""
    from referrals.models import Referral

    domain = email_domain(email_normalised)
    if is_company_staff(company=partnership.company, email_normalised=email_normalised):
        return _("紹介元企業の担当者のメールアドレスです（自己紹介の疑い）。")
    if domain and _within(domain, company_domains(partnership.company)):
        return _("紹介元企業の社員ドメインからの登録です（自己紹介の疑い）。")
    if domain and _within(domain, DISPOSABLE_DOMAINS):
        return _("使い捨てメールアドレスのドメインです。")
    cap = int(getattr(settings, "REFERRAL_VELOCITY_CAP_PER_HOUR", VELOCITY_CAP_PER_HOUR))
    since = timezone.now() - dt.timedelta(hours=1)
    recent = Referral.objects.for_tenant(partnership.company).filter(created_at__gte=since).count()
    if recent >= cap:
        return _("短時間に登録が集中しています（1時間あたりの上限を超過）。")
    return ""
