"""Tokens are unguessable and carry no personal data; PII is encrypted and hashed after
normalisation (full-width folding, lower-case email, digits-only phone)."""

from __future__ import annotations

import re

import pytest
from django.test import override_settings

from referrals import pii, services
from referrals.models import LinkKind, ReferralLink


def test_tokens_are_128_bit_url_safe_and_distinct() -> None:
    tokens = {services.new_token() for _ in range(2000)}
    assert len(tokens) == 2000
    for token in tokens:
        assert re.fullmatch(r"[A-Za-z0-9_-]{22}", token)  # 16 random bytes, base64url


def test_personal_link_url_carries_no_personal_data(personal_link: ReferralLink) -> None:
    url = services.link_url(personal_link)
    assert url == f"http://127.0.0.1:8000/r/{personal_link.token}/"
    assert "hanako" not in url
    row = ReferralLink.all_objects.get(pk=personal_link.pk)
    assert "hanako" not in row.candidate_email_enc
    assert pii.decrypt(row.candidate_email_enc) == "hanako@example.jp"
    assert row.candidate_email_hash == pii.email_hash("HANAKO@example.jp")
    assert row.kind == LinkKind.PERSONAL


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ", "taro@example.jp"),
        (" Taro@Example.JP ", "taro@example.jp"),
    ],
)
def test_email_hash_folds_full_width_and_case(a: str, b: str) -> None:
    assert pii.email_hash(a) == pii.email_hash(b)


@pytest.mark.parametrize(
    "phone", ["090-1234-5678", "０９０－１２３４－５６７８", "(090) 1234 5678", "+81 90-1234-5678"]
)
def test_phone_normalises_to_digits(phone: str) -> None:
    assert pii.normalise_phone(phone) == "09012345678"
    assert pii.phone_hash(phone) == pii.phone_hash("09012345678")


def test_hash_depends_on_the_secret_key() -> None:
    before = pii.email_hash("taro@example.jp")
    with override_settings(PII_HMAC_KEY="another-key"):
        assert pii.email_hash("taro@example.jp") != before


def test_encryption_round_trip_and_key_rotation() -> None:
    token = pii.encrypt("山田 太郎")
    assert "山田" not in token
    assert pii.decrypt(token) == "山田 太郎"
    new_key = "Yk1hZ2ljLWtleS1mb3ItdGVzdHMtMDEyMzQ1Njc4OTA="
    from django.conf import settings

    with override_settings(PII_ENCRYPTION_KEYS=[new_key, *settings.PII_ENCRYPTION_KEYS]):
        assert pii.decrypt(token) == "山田 太郎"  # old rows still readable after rotation
        rotated = pii.encrypt("x")
    with override_settings(PII_ENCRYPTION_KEYS=[new_key]):
        assert pii.decrypt(rotated) == "x"
    assert pii.decrypt("") == ""
    assert pii.encrypt("") == ""
