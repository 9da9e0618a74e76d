"""Amounts at the edges of Decimal's range: a clear InvalidRequest, never a raw decimal error or an AMOUNT
other than the one asked."""
from decimal import Decimal

import pytest

from ogone_core import Account, HostedPaymentRequest, InvalidRequest, amount_is_expressible

ACCOUNT = Account(pspid="SHOP", sha_in="sha_in_passphrase_0001", sha_out="sha_out_passphrase_001")


def test_tiny_positive_amount_is_refused_not_sent_as_zero():
    "1E-1000030 EUR underflows to 0 when scaled by 100: it must be refused, not sent as AMOUNT=0"
    request = HostedPaymentRequest(order_id="EDGE-1", amount=Decimal("1E-1000030"), currency="EUR")
    with pytest.raises(InvalidRequest):
        form = request.render(ACCOUNT)
        pytest.fail(f"sent as {dict(form.fields)['AMOUNT']!r}")


def test_huge_amount_is_an_invalid_request_not_a_decimal_overflow():
    request = HostedPaymentRequest(order_id="EDGE-2", amount=Decimal("1E+999999"), currency="EUR")
    with pytest.raises(InvalidRequest):
        request.render(ACCOUNT)


@pytest.mark.parametrize("amount", ["1E+999999", "9E+999998", "1E-1000030"])
def test_amount_is_expressible_answers_a_bool_at_decimal_limits(amount):
    assert amount_is_expressible(Decimal(amount)) is False
