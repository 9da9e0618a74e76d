"""Amounts: ``Decimal`` in, never floats; on the wire ``AMOUNT`` is the amount x 100 for every currency.

Ogone's rule is not the ISO 4217 exponent: the e-Commerce and DirectLink guides define ``AMOUNT`` as the amount
"MULTIPLIED BY 100" with no exception, so 1500 JPY is ``150000``, 12.5 EUR ``1250`` and 1.23 KWD ``123``. An
amount with a non-zero third decimal (1.235 KWD) cannot be expressed and is refused before anything is sent.
Feedback and DirectLink answers carry the plain amount (``amount=1500`` for 1500 JPY, ``12.5`` for 12.50 EUR).
The ISO 4217 list answers one question only: is this a currency code.
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from importlib import resources

from .errors import InvalidRequest, ProtocolError

WIRE_FACTOR = 100
WIRE_DECIMALS = 2
MAX_WIRE_AMOUNT = 10 ** 15 - 1  # AMOUNT is numeric, 15 digits
_PLAIN_AMOUNT = re.compile(r"^[0-9]{1,15}(\.[0-9]{1,4})?\Z")
_SHORT_AMOUNT = re.compile(r"[0-9]{1,13}(\.[0-9]{1,2})?\Z")
_TOO_LARGE = object()


def _wire_value(value: Decimal) -> "int | None | object":
    """``value`` x 100 as an exact int; None if that is not a whole number; ``_TOO_LARGE`` beyond 15 digits.

    Worked out on the digits, not with Decimal arithmetic: in a Decimal context a tiny amount silently
    underflows to 0 (and would go out as AMOUNT=0) and a huge one raises a raw Overflow.
    """
    _, digits, exponent = value.as_tuple()
    significant = list(digits)
    while len(significant) > 1 and significant[-1] == 0:
        significant.pop()
    if significant == [0]:
        return 0
    shift = exponent + (len(digits) - len(significant)) + WIRE_DECIMALS
    if shift < 0:
        return None
    if len(significant) + shift > len(str(MAX_WIRE_AMOUNT)):
        return _TOO_LARGE
    wire = int("".join(map(str, significant))) * 10 ** shift
    return -wire if value.is_signed() else wire


@lru_cache(maxsize=None)
def _currency_codes() -> frozenset[str]:
    text = resources.files("ogone_core.data").joinpath("currencies.txt").read_text(encoding="ascii")
    return frozenset(line.split()[0] for line in text.splitlines() if line.strip() and not line.startswith("#"))


def is_currency_code(currency: object) -> bool:
    """Whether ``currency`` is an ISO 4217 alphabetic code (upper case, as the platform expects)."""
    return isinstance(currency, str) and currency in _currency_codes()


def validate_currency(currency: object) -> str:
    if not is_currency_code(currency):
        raise InvalidRequest(f"unknown currency {currency!r}: use an ISO 4217 code such as EUR")
    return currency


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
    if value.is_zero() and value.is_signed():
        raise InvalidRequest(f"an amount cannot be negative zero: {amount!r}")
    return value


def amount_is_expressible(amount: object) -> bool:
    """Whether Ogone can carry ``amount``: amount x 100 must be a whole number (at most two decimals) of at
    most 15 digits."""
    try:
        value = to_decimal(amount)
    except InvalidRequest:
        return False
    return isinstance(_wire_value(value), int)


def to_wire_amount(amount: object, currency: str) -> int:
    """The ``AMOUNT`` parameter: ``Decimal('12.50'), 'EUR'`` -> ``1250``; ``1500, 'JPY'`` -> ``150000``."""
    value = to_decimal(amount)
    validate_currency(currency)
    wire = _wire_value(value)
    if wire is None:
        raise InvalidRequest(
            f"{value} {currency} cannot be sent to Ogone: AMOUNT is the amount x 100, so an amount has at most "
            f"{WIRE_DECIMALS} decimals")
    if value.is_signed():
        raise InvalidRequest(f"amount must not be negative: {value} {currency}")
    if wire is _TOO_LARGE or wire > MAX_WIRE_AMOUNT:
        raise InvalidRequest(f"amount too large for the platform: {value} {currency}")
    return wire


def from_wire_amount(wire: int) -> Decimal:
    """``AMOUNT`` back to the amount: ``150000`` -> ``Decimal('1500.00')``, whatever the currency."""
    return Decimal(int(wire)).scaleb(-WIRE_DECIMALS)


def format_plain_amount(wire: int) -> str:
    """``AMOUNT`` as the platform writes the plain amount in answers: ``150000`` -> ``1500``, ``1250`` -> ``12.5``."""
    text = f"{from_wire_amount(wire):f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def parse_major_amount(text: str, currency: str | None = None) -> Decimal:
    """Parse an amount as the platform returns it: the plain amount (``25``, ``1.95``, ``1500`` for 1500 JPY),
    without trailing zeros and never with more than two decimals."""
    if (text.__class__ is str and _SHORT_AMOUNT.match(text)
            and (currency is None or currency in _currency_codes())):
        # At most 13 digits and 2 decimals: always expressible, the checks below would all pass.
        return Decimal(text)
    text = (text or "").strip()
    if not _PLAIN_AMOUNT.match(text):
        raise ProtocolError(f"malformed amount {text!r}")
    value = Decimal(text)
    if currency is not None and not is_currency_code(currency):
        raise ProtocolError(f"unknown currency {currency!r} in the answer")
    if not amount_is_expressible(value):
        raise ProtocolError(f"amount {text} has more than {WIRE_DECIMALS} decimals: the platform never sends that")
    return value
