"""A change of an Ogone account reaches every process of the stack at once: the web processes that verified
feedback with the former SHA-OUT passphrase refuse it from the change on."""
from __future__ import annotations

from decimal import Decimal

import pytest
import requests

from ogone_core.sandbox.merchants import DEFAULT_MERCHANT
from ogone_core.signing import compute_shasign
from topology import Stack

NEW_SHA_OUT = "A-new-SHA-OUT-passphrase-0042"


@pytest.fixture(scope="module")
def stack():
    with Stack(web_processes=2, workers=0, cron=False) as running:
        yield running


def post_feedback(stack, order_id, passphrase):
    # STATUS 0 (incomplete) never moves a payment: only the signature decides the answer.
    params = [("ORDERID", order_id), ("AMOUNT", "18.20"), ("CURRENCY", "EUR"), ("STATUS", "0"),
              ("PAYID", "4242")]
    params.append(("SHASIGN", compute_shasign(params, passphrase, "sha512", "out")))
    # A connection each, so that every web process gets some of them
    return requests.post(stack.return_url, data=params, headers={"Connection": "close"},
                         timeout=30).status_code


def test_a_changed_sha_out_passphrase_is_used_by_every_web_process_at_once(stack):
    from proteus import Model

    from trytond_payment_ogone.demo import checkout_form

    stack.proteus()
    payment = Model.get("account.payment")(journal=stack.journal_id, kind="receivable", party=stack.party_id,
                                           amount=Decimal("18.20"))
    payment.click("submit")
    # The customer opens the link: the order is made with its ORDERID
    _, fields = checkout_form(payment.click("ogone_checkout"))
    order_id = dict(fields)["ORDERID"]
    # Every web process verifies with the passphrase of now (and keeps the account it built)
    assert [post_feedback(stack, order_id, DEFAULT_MERCHANT.sha_out) for _ in range(12)] == [200] * 12

    with stack.transaction() as pool:
        Account = pool.get("account.payment.ogone.account")
        Account.write([Account(stack.account_id)], {"sha_out_secret": NEW_SHA_OUT})

    assert [post_feedback(stack, order_id, DEFAULT_MERCHANT.sha_out) for _ in range(12)] == [400] * 12
    assert [post_feedback(stack, order_id, NEW_SHA_OUT) for _ in range(12)] == [200] * 12
