"""Free-hire notices: an in-app Notification (unique per cause) and an email to the members of
the organisation, in each user's language (Japanese by default).

Called from `transaction.on_commit` by the ledger services, so nothing is announced for a
posting that rolled back. The Notification's unique key makes a second call a no-op: an email
goes out only from the call that created the notice, so nobody is told twice.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from careerrelay.core.models import Notification
from credits.models import EntryKind, LedgerTransaction

logger = logging.getLogger(__name__)

CREDITS_URL = "/app/credits/"


def _notice_create(*, key: str, org: Any, message: str, url: str) -> bool:
    """Create the in-app notice once. True if this call created it."""
    kind = org.kind
    try:
        with transaction.atomic():
            Notification.objects.create(
                key=key,
                company=org if kind == "company" else None,
                agency=org if kind == "agency" else None,
                message=message[:300],
                url=url,
            )
    except IntegrityError:
        return False
    return True


def _members(org: Any) -> list[Any]:
    return [m.user for m in org.members.select_related("user").filter(user__is_active=True)]


def _email_members(*, org: Any, template: str, context: dict[str, Any]) -> int:
    """One email per member, rendered in the member's language. Returns how many were sent."""
    sent = 0
    for user in _members(org):
        language = user.language if user.language in {"ja", "en"} else "ja"
        with translation.override(language):
            subject = render_to_string(f"credits/email/{template}_subject.txt", context).strip()
            body = render_to_string(f"credits/email/{template}.txt", {**context, "user": user})
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
            sent += 1
        except Exception:  # the notice is stored; a mail peer failure must not undo it
            logger.exception("free-hire email to user %s failed", user.pk)
    return sent


def free_hire_earned_notify(*, transaction_id: int) -> bool:
    """Tell the company's HR that a conversion granted a free hire. Idempotent per conversion.

    Side effects: one Notification for the company (key `free_hire_earned:<tx key>`); one
    email per active member. Returns True if this call sent it."""
    tx = (
        LedgerTransaction.objects.unscoped()
        .select_related("company", "agency", "partnership")
        .filter(pk=transaction_id, kind=EntryKind.CONVERT)
        .first()
    )
    if tx is None:
        return False
    context = {
        "company": tx.company,
        "agency": tx.agency,
        "threshold": -next(e.amount for e in tx.entries.all() if e.account_name == "points"),
        "url": f"{settings.SITE_URL.rstrip('/')}{CREDITS_URL}",
    }
    with translation.override(settings.LANGUAGE_CODE):
        message = _("%(agency)s から無料採用枠を1件獲得しました。") % {"agency": tx.agency.name}
    if not _notice_create(
        key=f"free_hire_earned:{tx.idempotency_key}",
        org=tx.company,
        message=message,
        url=CREDITS_URL,
    ):
        return False
    _email_members(org=tx.company, template="free_hire_earned", context=context)
    return True


def free_hire_redeemed_notify(*, transaction_id: int) -> bool:
    """Tell the agency's members that a placement used one of a company's free hires.
    Idempotent per redemption.

    Side effects: one Notification for the agency (key `free_hire_redeemed:<tx key>`); one
    email per active member. Returns True if this call sent it."""
    tx = (
        LedgerTransaction.objects.unscoped()
        .select_related("company", "agency", "placement")
        .filter(pk=transaction_id, kind=EntryKind.REDEEM)
        .first()
    )
    if tx is None:
        return False
    context = {
        "company": tx.company,
        "agency": tx.agency,
        "placement": tx.placement,
        "url": f"{settings.SITE_URL.rstrip('/')}/partner/",
    }
    with translation.override(settings.LANGUAGE_CODE):
        message = _("%(company)s の成約 #%(placement)s で無料採用枠が1件使われました。") % {
            "company": tx.company.name,
            "placement": tx.placement_id,
        }
    if not _notice_create(
        key=f"free_hire_redeemed:{tx.idempotency_key}",
        org=tx.agency,
        message=message,
        url="/partner/",
    ):
        return False
    _email_members(org=tx.agency, template="free_hire_redeemed", context=context)
    return True
