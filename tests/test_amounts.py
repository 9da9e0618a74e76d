"""Amounts: Decimal in, integer minor units on the wire by ISO 4217 exponent, never floats."""
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ogone_core.amounts import (currency_exponent, format_major_amount, from_minor_units, parse_major_amount,
                                to_decimal, to_minor_units)
from ogone_core.errors import InvalidRequest, ProtocolError


@pytest.mark.parametrize("currency, exponent", [("JPY", 0), ("EUR", 2), ("USD", 2), ("KWD", 3), ("BHD", 3),
                                                ("CLF", 4)])
def test_currency_exponent(currency, exponent):
    assert currency_exponent(currency) == exponent


@pytest.mark.parametrize("currency", ["XYZ", "eur", "", None, "EURO"])
def test_unknown_currency_is_refused(currency):
    with pytest.raises(InvalidRequest, match="unknown currency"):
        currency_exponent(currency)


@pytest.mark.parametrize("amount, currency, minor", [
    (Decimal("19.99"), "EUR", 1999),
    (Decimal("15.00"), "EUR", 1500),
    (Decimal("15"), "EUR", 1500),
    (Decimal("0.01"), "EUR", 1),
    (Decimal("1.10"), "EUR", 110),
    ("19.99", "EUR", 1999),
    (" 19.99 ", "EUR", 1999),
    (15, "EUR", 1500),
    (Decimal("1500"), "JPY", 1500),
    (1500, "JPY", 1500),
    (Decimal("1.234"), "KWD", 1234),
    (Decimal("1.5"), "KWD", 1500),
    (Decimal("0"), "EUR", 0),
    (Decimal("4.35"), "EUR", 435),
    (Decimal("1.15"), "EUR", 115),
    (Decimal("999999999999.99"), "EUR", 99999999999999),
])
def test_to_minor_units(amount, currency, minor):
    result = to_minor_units(amount, currency)
    assert result == minor
    assert type(result) is int


def test_the_float_truncation_bug_does_not_happen():
    # int(19.99 * 100) == 1998 in integrations that multiply floats; Decimal gives the right answer.
    assert int(19.99 * 100) == 1998
    assert to_minor_units(Decimal("19.99"), "EUR") == 1999
    assert to_minor_units(Decimal("4.35"), "EUR") == 435  # int(4.35 * 100) == 434


@pytest.mark.parametrize("amount", [19.99, 15.0, 0.0])
def test_floats_are_refused(amount):
    with pytest.raises(InvalidRequest, match="float"):
        to_minor_units(amount, "EUR")


@pytest.mark.parametrize("amount, currency", [
    (Decimal("19.999"), "EUR"), (Decimal("0.001"), "EUR"), (Decimal("1.5"), "JPY"), ("1.2345", "KWD"),
])
def test_too_many_decimals_are_refused(amount, currency):
    with pytest.raises(InvalidRequest, match="decimals"):
        to_minor_units(amount, currency)


@pytest.mark.parametrize("amount", [Decimal("-0.01"), Decimal("-15"), "-1", -1])
def test_negative_amounts_are_refused(amount):
    with pytest.raises(InvalidRequest, match="negative"):
        to_minor_units(amount, "EUR")


def test_too_large_amounts_are_refused():
    with pytest.raises(InvalidRequest, match="too large"):
        to_minor_units(Decimal("10000000000000"), "EUR")  # 10**15 minor units


@pytest.mark.parametrize("amount", ["abc", "", "1,95", "NaN", "Infinity", Decimal("NaN"), True, None])
def test_non_amounts_are_refused(amount):
    with pytest.raises(InvalidRequest):
        to_minor_units(amount, "EUR")


def test_unknown_currency_is_refused_for_amounts():
    with pytest.raises(InvalidRequest, match="unknown currency"):
        to_minor_units(Decimal("1.00"), "ZZZ")


def test_to_decimal_keeps_decimal_and_refuses_float():
    assert to_decimal(Decimal("1.10")) == Decimal("1.10")
    assert to_decimal("2.5") == Decimal("2.5")
    with pytest.raises(InvalidRequest):
        to_decimal(2.5)


@pytest.mark.parametrize("minor, currency, amount", [
    (1999, "EUR", Decimal("19.99")), (1500, "JPY", Decimal("1500")), (1234, "KWD", Decimal("1.234")),
    (0, "EUR", Decimal("0")),
])
def test_from_minor_units(minor, currency, amount):
    assert from_minor_units(minor, currency) == amount


@given(minor=st.integers(min_value=0, max_value=10 ** 15 - 1), currency=st.sampled_from(["EUR", "JPY", "KWD"]))
def test_round_trip(minor, currency):
    amount = from_minor_units(minor, currency)
    assert to_minor_units(amount, currency) == minor
    assert parse_major_amount(format_major_amount(minor, currency), currency) == amount


@pytest.mark.parametrize("text, currency, amount", [
    ("25", "EUR", Decimal("25")), ("1.95", "EUR", Decimal("1.95")), ("15", None, Decimal("15")),
    ("1111.11", "EUR", Decimal("1111.11")), ("1.5", "EUR", Decimal("1.5")), ("1500", "JPY", Decimal("1500")),
    ("1.234", "KWD", Decimal("1.234")), (" 25 ", "EUR", Decimal("25")), ("0", "EUR", Decimal("0")),
])
def test_parse_major_amount(text, currency, amount):
    result = parse_major_amount(text, currency)
    assert result == amount
    assert isinstance(result, Decimal)


@pytest.mark.parametrize("text", ["1,95", "abc", "", "-1", "1.", ".5", "1e3", "1 000", "+5", "NaN", "\u0661\u0665"])
def test_parse_major_amount_refuses_malformed(text):
    with pytest.raises(ProtocolError, match="malformed amount"):
        parse_major_amount(text, "EUR")


@pytest.mark.parametrize("text, currency", [("1.955", "EUR"), ("1.5", "JPY"), ("1.2345", "KWD")])
def test_parse_major_amount_refuses_more_decimals_than_the_currency(text, currency):
    with pytest.raises(ProtocolError, match="more decimals"):
        parse_major_amount(text, currency)


def test_parse_major_amount_unknown_currency_is_a_protocol_error():
    with pytest.raises(ProtocolError, match="unknown currency"):
        parse_major_amount("25", "ZZZ")


@pytest.mark.parametrize("minor, currency, text", [
    (1500, "EUR", "15"), (195, "EUR", "1.95"), (150, "EUR", "1.5"), (1, "EUR", "0.01"), (0, "EUR", "0"),
    (1000, "EUR", "10"), (1500, "JPY", "1500"), (1230, "KWD", "1.23"), (111111, "EUR", "1111.11"),
])
def test_format_major_amount(minor, currency, text):
    assert format_major_amount(minor, currency) == text
