"""Validation of what operators type in about an agency: the licence number (有料職業紹介事業
許可番号), the qualified-invoice registration number and the refund schedule (返金規定).

Operators copy licence numbers from PDFs and web pages, so full-width digits, half-width
katakana and every kind of long dash are normalised to the canonical `NN-ユ-NNNNNN` first.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# Dash-like characters seen in copied licence numbers, after NFKC (which already folds the
# full-width hyphen-minus and the half-width prolonged sound mark).
DASHES = frozenset(
    "-"  # hyphen-minus
    "\u2010\u2011\u2012\u2013\u2014\u2015"  # hyphen, non-breaking hyphen, figure/en/em dash, bar
    "\u2212"  # minus sign
    "\u2043"  # hyphen bullet
    "\u2500\u2501"  # box drawings horizontal
    "\u30fc"  # katakana-hiragana prolonged sound mark ー
    "\ufe58\ufe63\uff0d"  # small em dash, small hyphen-minus, full-width hyphen-minus
    "\u02d7"  # modifier letter minus
)
LICENSE_RE = re.compile(r"^(\d{2})-ユ-(\d{6})$")
INVOICE_RE = re.compile(r"^T\d{13}$")


def _fold(text: str) -> str:
    out = []
    for char in unicodedata.normalize("NFKC", text):
        if char.isspace():
            continue
        if char in DASHES:
            out.append("-")
        elif char == "ゆ":
            out.append("ユ")
        else:
            out.append(char)
    return "".join(out)


def normalize_license_number(value: str) -> str:
    """Return the canonical form of a licence number (it may still be invalid). Idempotent:
    dropping spaces can bring combining marks together, so fold until nothing changes."""
    text = value or ""
    for _attempt in range(4):
        folded = _fold(text)
        if folded == text:
            break
        text = folded
    return text


def validate_license_number(value: str) -> str:
    """Normalise and validate; returns the canonical `NN-ユ-NNNNNN` or raises ValidationError."""
    normalized = normalize_license_number(value)
    match = LICENSE_RE.match(normalized)
    if match is None:
        raise ValidationError(
            _("許可番号は「13-ユ-123456」の形式で入力してください（数字2桁-ユ-数字6桁）。"),
            code="license_format",
        )
    prefecture = int(match.group(1))
    if not 1 <= prefecture <= 47:
        raise ValidationError(
            _("許可番号の先頭2桁は都道府県番号（01〜47）です。"), code="license_prefecture"
        )
    return normalized


def normalize_invoice_registration_number(value: str) -> str:
    text = unicodedata.normalize("NFKC", value or "").upper()
    return "".join(c for c in text if not c.isspace() and c not in DASHES)


def validate_invoice_registration_number(value: str) -> str:
    """Qualified-invoice issuer number (適格請求書発行事業者登録番号): T + 13 digits."""
    normalized = normalize_invoice_registration_number(value)
    if not INVOICE_RE.match(normalized):
        raise ValidationError(
            _("登録番号は「T」に続く13桁の数字で入力してください。"), code="invoice_format"
        )
    return normalized


def validate_refund_tiers(value: Any) -> list[list[int]]:
    """A refund schedule: a non-empty list of [days after start, refund percent] with strictly
    increasing days (1–730) and percents in 1–100. Returns it as a list of int pairs."""
    if not isinstance(value, list) or not value:
        raise ValidationError(
            _("返金規定は [日数, 返金率] の組を1つ以上並べたリストで入力してください。"),
            code="tiers_shape",
        )
    tiers: list[list[int]] = []
    previous_days = 0
    for index, tier in enumerate(value, start=1):
        if (
            not isinstance(tier, list | tuple)
            or len(tier) != 2
            or not all(isinstance(n, int) and not isinstance(n, bool) for n in tier)
        ):
            raise ValidationError(
                _("%(n)d番目の返金規定は [日数, 返金率] の整数の組にしてください。") % {"n": index},
                code="tiers_pair",
            )
        days, percent = tier
        if not 1 <= days <= 730:
            raise ValidationError(
                _("%(n)d番目の日数は1〜730日の範囲で入力してください。") % {"n": index},
                code="tiers_days",
            )
        if days <= previous_days:
            raise ValidationError(
                _("返金規定の日数は小さい順に、重複なく並べてください。"), code="tiers_order"
            )
        if not 1 <= percent <= 100:
            raise ValidationError(
                _("%(n)d番目の返金率は1〜100%%の範囲で入力してください。") % {"n": index},
                code="tiers_percent",
            )
        tiers.append([days, percent])
        previous_days = days
    return tiers
