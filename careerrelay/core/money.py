"""Money is integer yen; rates are Decimal percent. All rounding happens here (floor)."""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal


def yen_floor(amount_jpy: int, rate_percent: Decimal | int | str) -> int:
    """floor(amount × rate%), exact in decimal arithmetic."""
    value = Decimal(amount_jpy) * Decimal(str(rate_percent)) / Decimal(100)
    return int(value.to_integral_value(rounding=ROUND_FLOOR))


def consumption_tax(amount_jpy: int, rate_percent: int = 10) -> int:
    """Consumption tax on a tax-exclusive amount, rounded down per invoice (適格請求書)."""
    return yen_floor(amount_jpy, rate_percent)
