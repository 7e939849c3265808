"""The candidate's magic-link page: status, who holds the data, withdrawing consent and erasing
personal data (referral rows, counts and ledger entries stay, without PII)."""

from __future__ import annotations

import re

from django.core import mail

from referrals.models import Candidate, Consent, Referral, ReferralStatus
from tests.referrals.conftest import form_data


def register(client, link, capture) -> str:
    with capture(execute=True):
        r = client.post(f"/r/{link.token}/", form_data())
    assert r.status_code == 302
    magic = re.search(r"(/r/me/\S+/)", mail.outbox[-1].body)[1]
    assert magic in client.get(r["Location"]).content.decode()  # thank-you page links it too
    return magic


def test_magic_page_shows_status_and_the_agency_holding_the_data(
    client, link, agency, company, django_capture_on_commit_callbacks
) -> None:
    page = client.get(register(client, link, django_capture_on_commit_callbacks))
    assert page.status_code == 200
    html = page.content.decode()
    assert agency.name in html
    assert agency.license_number in html
    assert agency.contact_email in html
    assert company.name in html
    assert "taro@example.jp" in html
    assert "登録済み" in html


def test_tampered_magic_link_is_refused(client) -> None:
    assert client.get("/r/me/not-a-signed-token/").status_code == 404


def test_withdraw_consent(client, link, django_capture_on_commit_callbacks) -> None:
    magic = register(client, link, django_capture_on_commit_callbacks)
    r = client.post(magic, {"action": "withdraw"})
    assert r.status_code == 302
    assert Referral.all_objects.get().status == ReferralStatus.WITHDRAWN
    assert Consent.all_objects.get().withdrawn_at is not None
    candidate = Candidate.all_objects.get()
    assert candidate.consent_withdrawn_at is not None
    assert candidate.email_enc  # withdrawing alone does not erase
    assert "同意は撤回されています" in client.get(magic).content.decode()


def test_erasure_blanks_pii_but_keeps_rows_and_counts(
    client, link, company, django_capture_on_commit_callbacks
) -> None:
    from credits.models import LedgerEntry
    from credits.services import referral_qualify

    magic = register(client, link, django_capture_on_commit_callbacks)
    referral_qualify(referral=Referral.all_objects.get())  # the agency qualified it
    entries = list(LedgerEntry.all_objects.order_by("pk").values_list("idempotency_key", "amount"))
    assert entries
    needs_confirmation = client.post(magic, {"action": "erase"})
    assert needs_confirmation.status_code == 400
    assert Candidate.all_objects.get().erased_at is None
    r = client.post(magic, {"action": "erase", "confirm": "1"})
    assert r.status_code == 302
    candidate = Candidate.all_objects.get()
    for field in ("name_enc", "email_enc", "email_hash", "phone_enc", "phone_hash", "desired_role"):
        assert getattr(candidate, field) == "", field
    assert candidate.erased_at is not None
    referral = Referral.all_objects.get()
    assert referral.status == ReferralStatus.QUALIFIED  # counts stay
    assert Referral.all_objects.filter(company=company, status="qualified").count() == 1
    assert Consent.all_objects.get().withdrawn_at is not None
    after = list(LedgerEntry.all_objects.order_by("pk").values_list("idempotency_key", "amount"))
    assert after == entries  # the ledger is untouched by the erasure
    html = client.get(magic).content.decode()
    assert "消去されました" in html
    assert "taro@example.jp" not in html
    # The same person can register again afterwards as a fresh candidate.
    client.post(f"/r/{link.token}/", form_data())
    assert Candidate.all_objects.count() == 2
