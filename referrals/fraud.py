"""Referral fraud checks run at registration: a referral that trips one is kept but held for
review (status `held`) with the reason shown to the agency and operators. Holding never writes
anything by itself; the registration service stores the reason."""

from __future__ import annotations

import datetime as dt
from typing import Any

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
    }
)
# Registrations per company per hour above which new ones are held for review.
VELOCITY_CAP_PER_HOUR = 200


def email_domain(email_normalised: str) -> str:
    return email_normalised.rsplit("@", 1)[-1] if "@" in email_normalised else ""


def company_domains(company: Any) -> set[str]:
    return {
        d.strip().lower().lstrip("@") for d in (company.email_domains or "").split(",") if d.strip()
    }


def registration_hold_reason(*, partnership: Any, email_normalised: str) -> str:
    """'' when the registration looks genuine, else a short reason to hold it for review."""
    from referrals.models import Referral

    domain = email_domain(email_normalised)
    if domain and domain in company_domains(partnership.company):
        return _("紹介元企業の社員ドメインからの登録です（自己紹介の疑い）。")
    if domain in DISPOSABLE_DOMAINS:
        return _("使い捨てメールアドレスのドメインです。")
    since = timezone.now() - dt.timedelta(hours=1)
    recent = Referral.objects.for_tenant(partnership.company).filter(created_at__gte=since).count()
    if recent >= VELOCITY_CAP_PER_HOUR:
        return _("短時間に登録が集中しています（1時間あたりの上限を超過）。")
    return ""
