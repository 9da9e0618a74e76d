"""An order with 12 line items end to end: the client signs ITEMNAME1 ... ITEMNAME12 in the guide's logical
order, and the sandbox verifies the signature the same way (and refuses one made in byte order)."""
from __future__ import annotations

import hashlib
from decimal import Decimal

from ogone_core import HostedPaymentRequest, OrderRequest, Status, signed_pairs, verify_feedback
from ogone_core.sandbox.customer import pay
from sandbox_fixtures import new_merchant, unique
from test_sandbox_directlink import VISA, attribute, raw

ITEMS = 12


def line_items():
    fields = {}
    for index in range(1, ITEMS + 1):
        fields.update({f"ITEMID{index}": f"SKU-{index}", f"ITEMNAME{index}": f"Article {index}",
                       f"ITEMPRICE{index}": "1.00", f"ITEMQUANT{index}": "1"})
    return fields


def test_the_client_signs_twelve_items_in_logical_order():
    names = [name for name, _ in signed_pairs(line_items())]
    assert names.index("ITEMNAME9") < names.index("ITEMNAME10") < names.index("ITEMNAME11")
    assert names.index("ITEMNAME12") < names.index("ITEMPRICE1")


def test_hosted_page_order_with_twelve_items(sandbox):
    merchant = new_merchant(sandbox)
    account = merchant.account()
    form = HostedPaymentRequest(unique("L"), Decimal("12.00"), "EUR", accept_url="http://shop.example/ok",
                                extra=line_items()).render(account)
    assert sum(1 for name, _ in form.fields if name.startswith("ITEMNAME")) == ITEMS
    result = pay(form.action, form.fields, VISA.number, holder="Card Holder")
    feedback = verify_feedback(result.pairs, account.sha_out, account.algorithm)
    assert (feedback.status, feedback.amount) == (Status.PAYMENT_REQUESTED, Decimal("12"))


def test_directlink_order_with_twelve_items(sandbox):
    merchant = new_merchant(sandbox)
    answer = merchant.client().new_order(OrderRequest(unique("L"), Decimal("12.00"), "EUR", card=VISA,
                                                      extra=line_items()))
    assert (answer.status, answer.ncerror, answer.amount) == (Status.PAYMENT_REQUESTED, "0", Decimal("12"))


def test_the_sandbox_refuses_twelve_items_signed_in_byte_order(sandbox):
    merchant = new_merchant(sandbox)
    params = {"PSPID": merchant.pspid, "USERID": merchant.settings["api_user"],
              "PSWD": merchant.settings["api_password"], "ORDERID": unique("L"), "AMOUNT": "1200",
              "CURRENCY": "EUR", "CARDNO": VISA.number, "ED": "1239", "CVC": "123", **line_items()}
    passphrase = merchant.settings["sha_in"]
    byte_order = "".join(f"{name}={value}{passphrase}" for name, value in sorted(params.items()))
    wrong = hashlib.sha512(byte_order.encode("utf-8")).hexdigest().upper()
    answer = raw(merchant, "orderdirect", {**params, "SHASIGN": wrong}, sign=False).text
    assert (attribute(answer, "STATUS"), attribute(answer, "NCERROR")) == ("0", "50001184")  # SHA-IN mismatch
    answer = raw(merchant, "orderdirect", {**params, "ORDERID": unique("L")}).text
    assert (attribute(answer, "STATUS"), attribute(answer, "NCERROR")) == ("9", "0")
