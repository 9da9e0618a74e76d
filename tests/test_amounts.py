"""Amounts: Decimal in, never floats; AMOUNT on the wire is the amount x 100 for every currency."""
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ogone_core import Account, HostedPaymentRequest
from ogone_core.amounts import (amount_is_expressible, format_plain_amount, from_wire_amount, is_currency_code,
                                parse_major_amount, to_decimal, to_wire_amount, validate_currency)
from ogone_core.errors import InvalidRequest, ProtocolError

EDGE_ACCOUNT = Account(pspid="SHOP", sha_in="sha_in_passphrase_0001", sha_out="sha_out_passphrase_001")


@pytest.mark.parametrize("currency", ["JPY", "EUR", "USD", "KWD", "BHD", "CLF"])
def test_currency_codes(currency):
    assert is_currency_code(currency)
    assert validate_currency(currency) == currency


@pytest.mark.parametrize("currency", ["XYZ", "eur", "", None, "EURO", 978])
def test_unknown_currency_is_refused(currency):
    assert not is_currency_code(currency)
    with pytest.raises(InvalidRequest, match="unknown currency"):
        validate_currency(currency)


@pytest.mark.parametrize("amount, currency, wire", [
    (Decimal("19.99"), "EUR", 1999),
    (Decimal("15.00"), "EUR", 1500),
    (Decimal("15"), "EUR", 1500),
    (Decimal("12.5"), "EUR", 1250),
    (Decimal("0.01"), "EUR", 1),
    (Decimal("1.10"), "EUR", 110),
    ("19.99", "EUR", 1999),
    (" 19.99 ", "EUR", 1999),
    (15, "EUR", 1500),
    # Ogone's rule, not the ISO 4217 exponent: x 100 in every currency.
    (Decimal("1500"), "JPY", 150000),
    (1500, "JPY", 150000),
    (Decimal("1.23"), "KWD", 123),
    (Decimal("1.230"), "KWD", 123),
    (Decimal("1.5"), "KWD", 150),
    (Decimal("1.5"), "JPY", 150),
    (Decimal("0"), "EUR", 0),
    (Decimal("4.35"), "EUR", 435),
    (Decimal("1.15"), "EUR", 115),
    (Decimal("9999999999999.99"), "EUR", 999999999999999),
])
def test_to_wire_amount(amount, currency, wire):
    result = to_wire_amount(amount, currency)
    assert result == wire
    assert type(result) is int


def test_the_float_truncation_bug_does_not_happen():
    # int(19.99 * 100) == 1998 in integrations that multiply floats; Decimal gives the right answer.
    assert int(19.99 * 100) == 1998
    assert to_wire_amount(Decimal("19.99"), "EUR") == 1999
    assert to_wire_amount(Decimal("4.35"), "EUR") == 435  # int(4.35 * 100) == 434


@pytest.mark.parametrize("amount", [19.99, 15.0, 0.0])
def test_floats_are_refused(amount):
    with pytest.raises(InvalidRequest, match="float"):
        to_wire_amount(amount, "EUR")


@pytest.mark.parametrize("amount, currency", [
    (Decimal("19.999"), "EUR"), (Decimal("0.001"), "EUR"), (Decimal("1.235"), "KWD"), ("1.2345", "KWD"),
    (Decimal("1500.001"), "JPY"),
])
def test_a_non_zero_third_decimal_is_refused_in_every_currency(amount, currency):
    with pytest.raises(InvalidRequest, match="cannot be sent to Ogone: AMOUNT is the amount x 100, so an amount "
                                             "has at most 2 decimals"):
        to_wire_amount(amount, currency)
    assert not amount_is_expressible(amount)


@pytest.mark.parametrize("amount", [Decimal("1.230"), Decimal("1500"), Decimal("12.5"), "0.01", 7])
def test_amounts_with_at_most_two_significant_decimals_are_expressible(amount):
    assert amount_is_expressible(amount)


@pytest.mark.parametrize("amount", ["abc", 1.5, True, None, Decimal("NaN")])
def test_non_amounts_are_not_expressible(amount):
    assert not amount_is_expressible(amount)


@pytest.mark.parametrize("amount", [Decimal("-0.01"), Decimal("-15"), "-1", -1])
def test_negative_amounts_are_refused(amount):
    with pytest.raises(InvalidRequest, match="negative"):
        to_wire_amount(amount, "EUR")


@pytest.mark.parametrize("amount, currency", [(Decimal("10000000000000"), "EUR"), (Decimal("10000000000000"), "JPY")])
def test_too_large_amounts_are_refused(amount, currency):
    with pytest.raises(InvalidRequest, match="too large"):
        to_wire_amount(amount, currency)  # 10**15 on the wire


@pytest.mark.parametrize("amount", ["abc", "", "1,95", "NaN", "Infinity", Decimal("NaN"), True, None])
def test_non_amounts_are_refused(amount):
    with pytest.raises(InvalidRequest):
        to_wire_amount(amount, "EUR")


def test_unknown_currency_is_refused_for_amounts():
    with pytest.raises(InvalidRequest, match="unknown currency"):
        to_wire_amount(Decimal("1.00"), "ZZZ")


def test_to_decimal_keeps_decimal_and_refuses_float():
    assert to_decimal(Decimal("1.10")) == Decimal("1.10")
    assert to_decimal("2.5") == Decimal("2.5")
    with pytest.raises(InvalidRequest):
        to_decimal(2.5)


@pytest.mark.parametrize("wire, amount", [
    (1999, Decimal("19.99")), (150000, Decimal("1500")), (123, Decimal("1.23")), (0, Decimal("0")),
])
def test_from_wire_amount(wire, amount):
    assert from_wire_amount(wire) == amount


@given(wire=st.integers(min_value=0, max_value=10 ** 15 - 1), currency=st.sampled_from(["EUR", "JPY", "KWD"]))
def test_round_trip(wire, currency):
    amount = from_wire_amount(wire)
    assert to_wire_amount(amount, currency) == wire
    assert parse_major_amount(format_plain_amount(wire), currency) == amount


@pytest.mark.parametrize("text, currency, amount", [
    ("25", "EUR", Decimal("25")), ("1.95", "EUR", Decimal("1.95")), ("15", None, Decimal("15")),
    ("1111.11", "EUR", Decimal("1111.11")), ("1.5", "EUR", Decimal("1.5")), ("1500", "JPY", Decimal("1500")),
    ("12.5", "JPY", Decimal("12.5")), ("1.23", "KWD", Decimal("1.23")), (" 25 ", "EUR", Decimal("25")),
    ("0", "EUR", Decimal("0")), ("1.230", "KWD", Decimal("1.23")),
])
def test_parse_major_amount(text, currency, amount):
    result = parse_major_amount(text, currency)
    assert result == amount
    assert isinstance(result, Decimal)


@pytest.mark.parametrize("text", ["1,95", "abc", "", "-1", "1.", ".5", "1e3", "1 000", "+5", "NaN", "\u0661\u0665"])
def test_parse_major_amount_refuses_malformed(text):
    with pytest.raises(ProtocolError, match="malformed amount"):
        parse_major_amount(text, "EUR")


@pytest.mark.parametrize("text, currency", [("1.955", "EUR"), ("1.234", "KWD"), ("1500.005", None),
                                            ("1.2345", "JPY")])
def test_parse_major_amount_refuses_more_than_two_decimals(text, currency):
    with pytest.raises(ProtocolError, match="more than 2 decimals"):
        parse_major_amount(text, currency)


def test_parse_major_amount_unknown_currency_is_a_protocol_error():
    with pytest.raises(ProtocolError, match="unknown currency"):
        parse_major_amount("25", "ZZZ")


@pytest.mark.parametrize("wire, text", [
    (1500, "15"), (195, "1.95"), (150, "1.5"), (1, "0.01"), (0, "0"), (1000, "10"), (150000, "1500"),
    (123, "1.23"), (111111, "1111.11"),
])
def test_format_plain_amount(wire, text):
    assert format_plain_amount(wire) == text


def test_tiny_positive_amount_is_refused_not_sent_as_zero():
    "1E-1000030 EUR underflows to 0 when scaled by 100 in a Decimal context: refused, never sent as AMOUNT=0"
    with pytest.raises(InvalidRequest, match="at most 2 decimals"):
        request = HostedPaymentRequest(order_id="EDGE-1", amount=Decimal("1E-1000030"), currency="EUR")
        form = request.render(EDGE_ACCOUNT)
        pytest.fail(f"sent as {dict(form.fields)['AMOUNT']!r}")


@pytest.mark.parametrize("amount", ["1E+999999", "9E+999998", "-1E+999999"])
def test_huge_amount_is_an_invalid_request_not_a_decimal_overflow(amount):
    with pytest.raises(InvalidRequest, match="too large|negative"):
        to_wire_amount(Decimal(amount), "EUR")
    with pytest.raises(InvalidRequest):
        HostedPaymentRequest(order_id="EDGE-2", amount=Decimal(amount), currency="EUR").render(EDGE_ACCOUNT)


@pytest.mark.parametrize("amount", ["1E+999999", "9E+999998", "1E-1000030", "1E+13", "-0", "-0.00"])
def test_amount_is_expressible_answers_false_at_decimal_limits(amount):
    assert amount_is_expressible(Decimal(amount)) is False


@pytest.mark.parametrize("amount", ["-0", "-0.00", Decimal("-0"), Decimal("-0E+5")])
def test_negative_zero_is_refused(amount):
    with pytest.raises(InvalidRequest, match="negative zero"):
        to_wire_amount(amount, "EUR")


@pytest.mark.parametrize("amount", ["Infinity", "-Infinity", "NaN", "sNaN"])
def test_infinities_and_nans_are_refused(amount):
    with pytest.raises(InvalidRequest, match="not an amount"):
        to_wire_amount(Decimal(amount), "EUR")
    assert amount_is_expressible(Decimal(amount)) is False


def test_trailing_zeros_beyond_any_precision_are_still_exact():
    "1.23 followed by 70 zeros is 1.23: no context precision rounds it into a refusal"
    amount = Decimal("1.23" + "0" * 70)
    assert amount_is_expressible(amount)
    assert to_wire_amount(amount, "KWD") == 123
