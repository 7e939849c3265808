"""Candidate personal data at rest: Fernet encryption (rotatable keys from the environment) and
keyed HMACs of normalised values for look-ups and de-duplication.

Normalisation first folds full-width characters to half-width (NFKC), so
ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ and taro@example.jp, or ０９０－１２３４－５６７８ and 090-1234-5678,
hash to the same value.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

_NON_DIGITS = re.compile(r"\D+")
_DASHES = str.maketrans({"−": "-", "‐": "-", "―": "-", "–": "-", "—": "-"})


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.PII_ENCRYPTION_KEYS))


def encrypt(value: str) -> str:
    """Encrypt with the first key; '' stays ''."""
    if not value:
        return ""
    return _current().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    """Decrypt with any configured key; '' (erased or never set) stays ''."""
    if not token:
        return ""
    try:
        return _current().decrypt(token.encode()).decode()
    except InvalidToken:
        return ""


def fold(value: str) -> str:
    """Full-width to half-width (NFKC), dash look-alikes to "-" (not the katakana ー), trimmed."""
    return unicodedata.normalize("NFKC", value or "").translate(_DASHES).strip()


def normalise_email(value: str) -> str:
    return fold(value).lower()


def normalise_phone(value: str) -> str:
    """Digits only; an international +81 prefix becomes the domestic leading 0."""
    folded = fold(value)
    digits = _NON_DIGITS.sub("", folded)
    if folded.startswith("+81") and digits.startswith("81"):
        digits = "0" + digits[2:]
    return digits


def keyed_hash(kind: str, normalised: str) -> str:
    """HMAC-SHA256 (hex) of an already-normalised value; '' stays ''."""
    if not normalised:
        return ""
    key = settings.PII_HMAC_KEY.encode()
    return hmac.new(key, f"{kind}:{normalised}".encode(), hashlib.sha256).hexdigest()


def email_hash(value: str) -> str:
    return keyed_hash("email", normalise_email(value))


def phone_hash(value: str) -> str:
    return keyed_hash("phone", normalise_phone(value))
