"""Thin Celery tasks of the referrals app: click drain, attribution, verification email."""

from __future__ import annotations

import logging
from smtplib import SMTPException
from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import OperationalError
from django.template.loader import render_to_string
from django.utils import translation

from referrals import clicks, selectors, services

logger = logging.getLogger(__name__)

ATTRIBUTE_RETRIES = 6
ATTRIBUTE_COUNTDOWN = 5


@shared_task(name="referrals.click_drain", ignore_result=True)
def click_drain() -> int:
    """Move captured clicks from Redis into the Click table (see clicks.drain)."""
    return clicks.drain(services.clicks_ingest)


@shared_task(
    name="referrals.attribute",
    bind=True,
    ignore_result=True,
    max_retries=ATTRIBUTE_RETRIES,
    autoretry_for=(OperationalError,),
    retry_backoff=2,
)
def attribute(self: Any, referral_id: int) -> None:
    """Attribute a referral to its click; retry while the click waits in the drain queue."""
    if services.referral_attribute(referral_id=referral_id):
        return
    if self.request.is_eager or self.request.retries >= ATTRIBUTE_RETRIES:
        services.referral_attribute_give_up(referral_id=referral_id)
        return
    raise self.retry(countdown=ATTRIBUTE_COUNTDOWN)


@shared_task(
    name="referrals.send_verification_email",
    ignore_result=True,
    autoretry_for=(OperationalError, SMTPException, OSError),
    retry_backoff=5,
    max_retries=5,
)
def send_verification_email(candidate_id: int, referral_id: int) -> None:
    """Email the double opt-in link (and the candidate's magic link), in their language."""
    candidate = selectors.candidate_for_magic(candidate_id=candidate_id)
    if candidate is None or candidate.erased_at is not None:
        return
    referral = selectors.candidate_referrals(candidate=candidate).filter(pk=referral_id).first()
    if referral is None:
        return
    from referrals import pii

    email = pii.decrypt(candidate.email_enc)
    if not email:
        return
    base = settings.SITE_URL.rstrip("/")
    with translation.override(candidate.language or "ja"):
        context = {
            "name": pii.decrypt(candidate.name_enc),
            "company_name": referral.company.name,
            "agency_name": referral.agency.name,
            "agency_license_number": referral.agency.license_number,
            "verify_url": f"{base}/r/verify/{services.verify_token(candidate=candidate)}/",
            "magic_url": f"{base}/r/me/{services.magic_token(candidate=candidate)}/",
        }
        subject = render_to_string("referrals/emails/verify_subject.txt", context).strip()
        body = render_to_string("referrals/emails/verify_body.txt", context)
    # At most once: a publish that timed out may still land while the caller falls back to
    # sending in-process, so both copies of this task can run (tests/faults/test_redis_outage).
    from careerrelay.core.outbox import effect_claim, effect_release

    claim = f"verify-mail:{referral_id}"
    if not effect_claim(key=claim):
        return
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [email])
    except Exception:
        effect_release(key=claim)
        raise


def enqueue_after_registration(referral_id: int, candidate_id: int) -> None:
    """Called on commit of a registration. A broker outage must not lose the email: fall back
    to sending it in-process; attribution then happens when the click is drained."""
    try:
        send_verification_email.delay(candidate_id, referral_id)
    except Exception:  # kombu raises several connection error types
        logger.warning("broker unreachable: sending the verification email in-process")
        send_verification_email.apply(args=(candidate_id, referral_id))
    try:
        attribute.delay(referral_id)
    except Exception:
        logger.warning("broker unreachable: referral %s is attributed by the drain", referral_id)
