"""PII hygiene: a candidate's sentinel email, phone and name, registered through the real landing
page (and named in a personal link made over the API), never appear in plaintext in a pg_dump of
the database, in any log record, or in any URL; erasure removes them from the database, the
agency's views and the cache."""

from __future__ import annotations

import logging
import os
import re
import subprocess
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from referrals.models import Candidate, Referral, ReferralLink
from tests.factories import AgencyFactory, CompanyFactory, PartnershipFactory

pytestmark = pytest.mark.skipif(not settings.USING_POSTGRES, reason="pg_dump needs PostgreSQL")

EMAIL = "pii.sentinel.7f3a@example.jp"
PHONE = "090-7373-4141"
PHONE_DIGITS = "09073734141"
NAME = "番兵 七三"
SENTINELS = [EMAIL, PHONE, PHONE_DIGITS, NAME, EMAIL.upper()]


def _dump() -> str:
    d = connection.settings_dict
    result = subprocess.run(  # noqa: S603
        [
            "/usr/bin/pg_dump",
            "-h",
            d["HOST"] or "127.0.0.1",
            "-p",
            str(d["PORT"] or 5432),
            "-U",
            d["USER"],
            "--data-only",
            d["NAME"],
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PGPASSWORD": d.get("PASSWORD") or ""},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _found(text: str) -> list[str]:
    lowered = text.lower()
    return [s for s in SENTINELS if s.lower() in lowered]


def _cache_values() -> str:
    """Every key and value in the cache's Redis database, as text."""
    if not settings.REDIS_URL:
        return ""
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    out = []
    for key in client.scan_iter(count=500):
        out.append(key.decode("utf-8", "replace"))
        kind = client.type(key)
        if kind == b"string":
            out.append((client.get(key) or b"").decode("utf-8", "replace"))
        elif kind == b"list":
            out += [v.decode("utf-8", "replace") for v in client.lrange(key, 0, -1)]
        elif kind == b"hash":
            out += [v.decode("utf-8", "replace") for v in client.hgetall(key).values()]
        elif kind in (b"set", b"zset"):
            members = client.smembers(key) if kind == b"set" else client.zrange(key, 0, -1)
            out += [v.decode("utf-8", "replace") for v in members]
    return "\n".join(out)


def test_candidate_pii_is_never_in_plaintext_and_erasure_removes_it(
    transactional_db: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    company = CompanyFactory(slug="pii-co")
    agency = AgencyFactory(slug="pii-ag")
    partnership = PartnershipFactory(company=company, agency=agency)
    urls: list[str] = []

    # HR makes a personal link for the candidate over the API (the ATS knows the email).
    from careerrelay.core.apikeys import api_key_create

    _, key = api_key_create(tenant=company, name="pii")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    response = api.post(
        "/api/v1/links/",
        {
            "partnership": partnership.pk,
            "label": "個別リンク",
            "kind": "personal",
            "candidate_email": EMAIL,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    link_url = response.json()["url"]
    urls.append(link_url)
    token = response.json()["token"]

    # The candidate opens it and registers.
    client = Client()
    response = client.get(f"/r/{token}/")
    assert response.status_code == 200
    response = client.post(
        f"/r/{token}/",
        {
            "name": NAME,
            "email": EMAIL,
            "phone": PHONE,
            "desired_role": "総務",
            "prefecture": "北海道",
            "consent_privacy": "on",
            "consent_third_party": "on",
            "website": "",
        },
    )
    assert response.status_code == 302
    urls.append(response["Location"])
    referral = Referral.all_objects.get(partnership=partnership)
    candidate = referral.candidate
    # The verification email's links carry signed ids, never the address.
    assert len(mail.outbox) == 1
    urls += re.findall(r"https?://\S+", mail.outbox[0].body)
    assert len(urls) >= 3
    for url in urls:
        assert not _found(url), url
        assert "%40" not in url
        assert "@" not in url.split("//", 1)[-1]

    # The agency sees the candidate (decrypted for it), so the data is really there...
    agency_key = api_key_create(tenant=agency, name="pii")[1]
    agency_api = APIClient()
    agency_api.credentials(HTTP_AUTHORIZATION=f"Bearer {agency_key}")
    rows = agency_api.get("/api/v1/referrals/", {"email": EMAIL}).json()["results"]
    assert [r["email"] for r in rows] == [EMAIL]

    # ...but not in plaintext in the database dump, the logs or the cache.
    dump = _dump()
    assert str(candidate.pk) in dump
    assert not _found(dump)
    logged = "\n".join(
        f"{r.getMessage()} {r.args!r} {getattr(r, 'exc_text', '') or ''}" for r in caplog.records
    )
    assert not _found(logged), [r.getMessage() for r in caplog.records if _found(r.getMessage())]
    assert not _found(_cache_values())

    # Erasure through the candidate's magic link.
    magic = next(u for u in urls if "/r/me/" in u)
    path = "/" + magic.split("//", 1)[1].split("/", 1)[1]
    response = client.post(path, {"action": "erase", "confirm": "1"})
    assert response.status_code == 302
    candidate.refresh_from_db()
    assert candidate.erased_at is not None
    assert not candidate.email_enc
    assert not candidate.phone_enc
    assert not candidate.name_enc
    assert not candidate.email_hash
    assert not candidate.phone_hash
    assert agency_api.get("/api/v1/referrals/", {"email": EMAIL}).json()["results"] == []
    detail = agency_api.get(f"/api/v1/referrals/{referral.pk}/").json()
    assert not _found(str(detail))
    # Counts and the referral survive, without PII.
    assert Referral.all_objects.filter(pk=referral.pk).exists()
    assert Candidate.all_objects.filter(pk=candidate.pk).exists()
    assert not _found(_cache_values())


def test_erasure_also_forgets_the_personal_link(transactional_db: Any) -> None:
    from careerrelay.core.apikeys import api_key_create
    from referrals import pii

    company = CompanyFactory(slug="pii2-co")
    agency = AgencyFactory(slug="pii2-ag")
    partnership = PartnershipFactory(company=company, agency=agency)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(tenant=company, name='x')[1]}")
    token = api.post(
        "/api/v1/links/",
        {"partnership": partnership.pk, "label": "p", "kind": "personal", "candidate_email": EMAIL},
        format="json",
    ).json()["token"]
    client = Client()
    client.post(
        f"/r/{token}/",
        {
            "name": NAME,
            "email": EMAIL,
            "phone": PHONE,
            "desired_role": "総務",
            "prefecture": "北海道",
            "consent_privacy": "on",
            "consent_third_party": "on",
            "website": "",
        },
    )
    magic = next(u for u in re.findall(r"https?://\S+", mail.outbox[-1].body) if "/r/me/" in u)
    client.post("/" + magic.split("//", 1)[1].split("/", 1)[1], {"action": "erase", "confirm": "1"})
    assert Candidate.all_objects.get(agency=agency).erased_at is not None
    # Nothing left that still identifies the person: no row keyed by the email's HMAC and no
    # decryptable copy (the personal link HR made for the same address included).

    email_hash = pii.email_hash(EMAIL)
    dump = _dump()
    tables = [
        section.split(" (", 1)[0]
        for section in dump.split("COPY public.")[1:]
        if email_hash in section.split("\\.", 1)[0]
    ]
    assert not tables, f"the email's keyed hash survives erasure in {tables}"
    leftovers = [
        link.pk
        for link in ReferralLink.all_objects.filter(partnership=partnership)
        if link.candidate_email_enc and pii.decrypt(link.candidate_email_enc) == EMAIL
    ]
    assert not leftovers, "a personal link still holds the erased candidate's email"
