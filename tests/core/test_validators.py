"""Licence numbers (有料職業紹介事業許可番号) are normalised to `NN-ユ-NNNNNN`; refund tiers and
invoice numbers are validated."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from agencies.validators import (
    normalize_license_number,
    validate_invoice_registration_number,
    validate_license_number,
    validate_refund_tiers,
)

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
DASH_VARIANTS = ["-", "ー", "－", "―", "‐", "‑", "–", "—", "−", "ｰ", "─"]


@pytest.mark.parametrize(
    "raw",
    [
        "13-ユ-308841",
        "１３－ユ－３０８８４１",
        "１３ーユー３０８８４１",
        "13―ユ―308841",
        "13‐ユ‐308841",
        "13−ﾕ−308841",
        " 13 - ユ - 308841 ",
        "１３-ゆ-３０８８４１",
    ],
)
def test_full_width_and_dash_variants_normalise_to_the_canonical_form(raw):
    assert validate_license_number(raw) == "13-ユ-308841"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "13-ユ-30884",
        "1-ユ-308841",
        "13-ア-308841",
        "13ユ308841",
        "48-ユ-308841",
        "00-ユ-123456",
    ],
)
def test_invalid_licence_numbers_are_refused_with_a_clear_message(raw):
    with pytest.raises(ValidationError) as excinfo:
        validate_license_number(raw)
    assert "ユ" in excinfo.value.messages[0] or "都道府県" in excinfo.value.messages[0]


@given(
    pref=st.integers(min_value=1, max_value=47),
    serial=st.integers(min_value=0, max_value=999_999),
    dash1=st.sampled_from(DASH_VARIANTS),
    dash2=st.sampled_from(DASH_VARIANTS),
    full_width=st.booleans(),
    katakana=st.sampled_from(["ユ", "ﾕ"]),
    pad=st.sampled_from(["", " ", "\u3000"]),
)
def test_any_typed_variant_of_a_valid_number_normalises_back(
    pref, serial, dash1, dash2, full_width, katakana, pad
):
    canonical = f"{pref:02d}-ユ-{serial:06d}"
    digits_a, digits_b = f"{pref:02d}", f"{serial:06d}"
    if full_width:
        digits_a, digits_b = digits_a.translate(FULL_WIDTH), digits_b.translate(FULL_WIDTH)
    typed = f"{pad}{digits_a}{pad}{dash1}{katakana}{dash2}{digits_b}{pad}"
    assert validate_license_number(typed) == canonical


@given(st.text(max_size=30))
@settings(max_examples=500)
def test_normaliser_never_crashes_and_is_idempotent(text):
    once = normalize_license_number(text)
    assert normalize_license_number(once) == once


def test_refund_tiers_must_be_increasing_pairs():
    assert validate_refund_tiers([[30, 50], [90, 30], [180, 10]]) == [[30, 50], [90, 30], [180, 10]]
    for bad in (
        [],
        [[30]],
        [[90, 30], [30, 50]],
        [[30, 50], [30, 40]],
        [[0, 10]],
        [[30, 0]],
        [[30, 101]],
        [["30", 50]],
        "[[30, 50]]",
        [[30, True]],
    ):
        with pytest.raises(ValidationError):
            validate_refund_tiers(bad)


def test_invoice_registration_number_is_t_plus_13_digits():
    assert validate_invoice_registration_number("Ｔ４０１１００１０９８７６５") == "T4011001098765"
    assert validate_invoice_registration_number("t4011-0010-98765") == "T4011001098765"
    with pytest.raises(ValidationError):
        validate_invoice_registration_number("T123")
