"""Amounts: ``Decimal`` in, integer minor units on the wire (ISO 4217 exponent), never floats."""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from importlib import resources

from .errors import InvalidRequest, ProtocolError

_MAJOR_AMOUNT = re.compile(r"^[0-9]{1,15}(\.[0-9]{1,4})?\Z")


@lru_cache(maxsize=None)
def _exponents() -> dict[str, int]:
    text = resources.files("ogone_core.data").joinpath("currencies.txt").read_text(encoding="ascii")
    rows = (line.split() for line in text.splitlines() if line.strip() and not line.startswith("#"))
    return {code: int(exponent) for code, exponent in rows}


def currency_exponent(currency: str) -> int:
    """Digits after the decimal point for an ISO 4217 code (EUR 2, JPY 0, KWD 3)."""
    try:
        return _exponents()[currency]
    except (KeyError, TypeError):
        raise InvalidRequest(f"unknown currency {currency!r}: use an ISO 4217 code such as EUR") from None


def to_decimal(amount: object) -> Decimal:
    if isinstance(amount, float):
        raise InvalidRequest("amounts must be Decimal, int or str, never float (floats lose cents)")
    if isinstance(amount, bool):
        raise InvalidRequest("an amount cannot be a boolean")
    try:
        value = amount if isinstance(amount, Decimal) else Decimal(str(amount).strip())
    except InvalidOperation:
        raise InvalidRequest(f"not an amount: {amount!r}") from None
    if not value.is_finite():
        raise InvalidRequest(f"not an amount: {amount!r}")
    return value


def to_minor_units(amount: object, currency: str) -> int:
    """``Decimal('15.00'), 'EUR'`` -> ``1500``. Refuses amounts finer than the currency allows."""
    value = to_decimal(amount)
    exponent = currency_exponent(currency)
    minor = value.scaleb(exponent)
    if minor != minor.to_integral_value():
        raise InvalidRequest(f"{value} {currency} has more than {exponent} decimals")
    if minor < 0:
        raise InvalidRequest(f"amount must not be negative: {value} {currency}")
    if minor >= 10 ** 15:
        raise InvalidRequest(f"amount too large for the platform: {value} {currency}")
    return int(minor)


def from_minor_units(minor: int, currency: str) -> Decimal:
    return Decimal(int(minor)).scaleb(-currency_exponent(currency))


def parse_major_amount(text: str, currency: str | None = None) -> Decimal:
    """Parse an amount as the platform returns it (``25``, ``1.95``: major units, no trailing zeros)."""
    text = (text or "").strip()
    if not _MAJOR_AMOUNT.match(text):
        raise ProtocolError(f"malformed amount {text!r}")
    value = Decimal(text)
    if currency is not None:
        try:
            exponent = currency_exponent(currency)
        except InvalidRequest as error:
            raise ProtocolError(str(error)) from None
        if -value.as_tuple().exponent > exponent:
            raise ProtocolError(f"amount {text} has more decimals than {currency} allows")
    return value


def format_major_amount(minor: int, currency: str) -> str:
    """Minor units -> the platform's major-unit text (``1500`` EUR -> ``15``, ``195`` -> ``1.95``)."""
    value = from_minor_units(minor, currency)
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text
