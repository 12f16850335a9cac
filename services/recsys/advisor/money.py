"""Prices in one currency for comparing them: USD minor units, at fixed rates (late-2026
averages), so the same request always means the same cap. The catalog stores each product's
own currency (the real data holds USD, CAD and GBP prices); shoppers say $ or ¥."""

from __future__ import annotations

from services.recsys.advisor.lexicon import CNY_PER_USD

USD_PER_UNIT = {
    "USD": 1.0,
    "CAD": 0.72,
    "GBP": 1.27,
    "EUR": 1.08,
    "AUD": 0.66,
    "JPY": 0.0067,
    "CNY": 1 / CNY_PER_USD,
}
# Currencies whose minor unit is not a hundredth.
_MINOR_PER_UNIT = {"JPY": 1, "KWD": 1000}


def usd_minor(amount_minor: int, currency: str) -> int | None:
    """The price in US cents, or None when there is no price or the currency is unknown."""
    rate = USD_PER_UNIT.get(currency.upper())
    if amount_minor <= 0 or rate is None:
        return None
    units = amount_minor / _MINOR_PER_UNIT.get(currency.upper(), 100)
    return round(units * rate * 100)
