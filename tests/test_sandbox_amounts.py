"""AMOUNT is the amount x 100 in every currency, end to end: the client against the sandbox over real HTTP,
through the hosted page and its feedback, DirectLink orders, captures, refunds and queries, in JPY (no
decimals in ISO 4217), KWD (three) and EUR (two)."""
from __future__ import annotations

import re
from decimal import Decimal
from urllib.parse import urlencode

import pytest
import requests

from ogone_core import HostedPaymentRequest, InvalidRequest, OrderRequest, Status, verify_feedback
from ogone_core.sandbox.customer import pay
from sandbox_fixtures import admin, new_merchant, unique
from test_sandbox_directlink import VISA, attribute, raw

SHOP = "http://shop.example"
CASES = [
    # currency, amount, AMOUNT on the wire, the plain amount in answers, as the payment page shows it
    ("JPY", Decimal("1500"), "150000", "1500", "1500 JPY"),
    ("KWD", Decimal("1.23"), "123", "1.23", "1.23 KWD"),
    ("EUR", Decimal("12.50"), "1250", "12.5", "12.50 EUR"),
]


@pytest.mark.parametrize("currency, amount, wire, plain, shown", CASES)
def test_hosted_page_and_feedback(sandbox, receiver, currency, amount, wire, plain, shown):
    merchant = new_merchant(sandbox, feedback_url=receiver.url)
    account = merchant.account()
    form = HostedPaymentRequest(unique("H"), amount, currency, accept_url=f"{SHOP}/ok").render(account)
    assert form.as_dict()["AMOUNT"] == wire

    page = requests.post(form.action, data=urlencode(list(form.fields)), timeout=30,
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    shown_on_page = re.search(r'<td id="amount">([^<]*)</td>', page.text).group(1)
    assert shown_on_page == shown

    result = pay(form.action, form.fields, VISA.number, holder="Card Holder")
    assert result.params["amount"] == plain and result.params["currency"] == currency
    feedback = verify_feedback(result.pairs, account.sha_out, account.algorithm)
    assert (feedback.amount, feedback.currency, feedback.status) == (amount, currency, Status.PAYMENT_REQUESTED)

    [server_side] = receiver.received(1)
    assert server_side.params["amount"] == plain
    assert verify_feedback(server_side.pairs, account.sha_out, account.algorithm).amount == amount

    listed = admin(sandbox, "GET", "transactions", params={"pspid": merchant.pspid})["transactions"][0]
    assert (listed["amount"], listed["amount_wire"], listed["currency"]) == (plain, int(wire), currency)
    back_office = requests.get(f"{sandbox.url}admin/", params={"pspid": merchant.pspid}, timeout=30).text
    assert f"<td>{shown}</td>" in back_office


@pytest.mark.parametrize("currency, amount, wire, plain, shown", CASES)
def test_directlink_order_capture_refund_and_query(sandbox, currency, amount, wire, plain, shown):
    merchant = new_merchant(sandbox)
    client = merchant.client()
    order = client.new_order(OrderRequest(unique("D"), amount, currency, operation="RES", card=VISA))
    assert (order.status, order.amount, order.currency) == (Status.AUTHORIZED, amount, currency)

    part = amount / 3 if currency != "KWD" else Decimal("0.41")
    part = part.quantize(Decimal("0.01") if currency != "JPY" else Decimal("1"))
    capture = client.capture(order.pay_id, part, currency, last=False)
    assert (capture.status, capture.amount) == (Status.PAYMENT_PROCESSING, part)
    rest = client.capture(order.pay_id, last=True)
    assert rest.amount == amount - part
    admin(sandbox, "POST", "settle", json={"payid": int(order.pay_id)})

    refund = client.refund(order.pay_id, part, currency, last=False)
    assert (refund.status, refund.amount) == (Status.REFUND_PENDING, part)
    too_much = client.refund(order.pay_id, amount - part + Decimal("0.01"), currency)
    assert too_much.ncerror == "50001129"  # the refundable rest is counted in the same units
    refund_rest = client.refund(order.pay_id, last=True)
    assert refund_rest.amount == amount - part

    query = client.query(pay_id=order.pay_id)
    assert (query.amount, query.currency) == (amount, currency)
    detail = admin(sandbox, "GET", f"transactions/{order.pay_id}")
    assert [line["amount_wire"] for line in detail["history"]] == [
        int(wire), int(part * 100), int((amount - part) * 100), int(part * 100), int((amount - part) * 100)]


@pytest.mark.parametrize("currency, amount, wire, plain, shown", CASES)
def test_the_sandbox_reads_amount_as_the_amount_times_100(sandbox, currency, amount, wire, plain, shown):
    merchant = new_merchant(sandbox)
    answer = raw(merchant, "orderdirect", {"ORDERID": unique("X"), "AMOUNT": wire, "CURRENCY": currency,
                                           "CARDNO": VISA.number, "ED": "1239", "CVC": "123"}).text
    assert (attribute(answer, "STATUS"), attribute(answer, "amount"), attribute(answer, "currency")) == (
        "9", plain, currency)


@pytest.mark.parametrize("amount, currency", [(Decimal("1.235"), "KWD"), (Decimal("1500.001"), "JPY"),
                                              (Decimal("12.501"), "EUR")])
def test_an_amount_with_a_third_decimal_is_refused_before_anything_is_sent(sandbox, amount, currency):
    merchant = new_merchant(sandbox)
    with pytest.raises(InvalidRequest, match="at most 2 decimals"):
        merchant.client().new_order(OrderRequest(unique("D"), amount, currency, card=VISA))
    with pytest.raises(InvalidRequest, match="at most 2 decimals"):
        HostedPaymentRequest(unique("H"), amount, currency)
    assert admin(sandbox, "GET", "transactions", params={"pspid": merchant.pspid})["transactions"] == []
