"""``make demo``: the protocol at work, offline.

1. Sign and explain a hosted-page request; verify the feedback example of Ogone's own guide.
2. Against the local sandbox, over real HTTP: a customer pays on the hosted page and saves the card, the
   redirect back is verified, then the saved card is charged by DirectLink, captured in part, refunded,
   queried; a duplicate order, a refused card and a connection lost after processing show what the
   library does when things go wrong.

Every step checks that the outcome it shows happened: if one does not, the demo stops with a message naming
the step and exits with status 1, so that ``make demo`` can never pass on a story that did not happen.
"""
from __future__ import annotations

import sys
import time
from decimal import Decimal
from urllib.parse import parse_qsl

import requests

from . import (Account, Category, DirectLinkClient, HostedPaymentRequest, Operation, OrderRequest,
               OutcomeUnknown, RequestsTransport, SignatureError, Status, explain, verify_feedback)
from .directlink import Card

# The passphrase and values of Ogone's own e-Commerce guide (section 11), public test data.
GUIDE_PASSPHRASE = "Mysecretsig1875!?"
GUIDE_FEEDBACK = (
    "orderID=12&currency=EUR&amount=15&PM=CreditCard&ACCEPTANCE=1234&STATUS=9"
    "&CARDNO=XXXXXXXXXXXX1111&PAYID=32100123&NCERROR=0&BRAND=VISA"
    "&SHASIGN=209113288F93A9AB8E474EA78D899AFDBB874355")
SHOP_RETURN_URL = "https://shop.example/ogone/return"
ALREADY_PROCESSED = "50001113"
AMOUNT_EXAMPLES = ((Decimal("1500"), "JPY"), (Decimal("12.50"), "EUR"), (Decimal("1.23"), "KWD"))


class DemoFailure(Exception):
    """An outcome the demo shows did not happen."""


def expect(condition: bool, step: str, got: object) -> None:
    if not condition:
        raise DemoFailure(f"{step}: expected outcome did not happen (got {got})")


def signing_walkthrough() -> None:
    account = Account(pspid="MyPSPID", sha_in=GUIDE_PASSPHRASE, sha_out=GUIDE_PASSPHRASE, algorithm="sha1")
    request = HostedPaymentRequest(order_id="1234", amount=Decimal("15.00"), currency="EUR",
                                   language="en_US", operation=Operation.SALE, accept_url=SHOP_RETURN_URL)
    form = request.render(account)
    print("1. A hosted payment page request, signed with SHA-1 (the guide's example plus an ACCEPTURL)")
    print(f"   POST {form.action}")
    for name, value in form.fields:
        print(f"     {name} = {value}")
    explanation = explain(form.fields, "in")
    print("   What is signed, and in which order (passphrase masked):")
    print(f"     {explanation.masked_string()}")
    for name, reason in explanation.excluded:
        print(f"     left out: {name} ({reason})")
    wire = {currency: HostedPaymentRequest(order_id="1234", amount=amount, currency=currency).render(account)
            .as_dict()["AMOUNT"] for amount, currency in AMOUNT_EXAMPLES}
    expect(wire == {"JPY": "150000", "EUR": "1250", "KWD": "123"}, "AMOUNT is the amount x 100", wire)
    print("   AMOUNT is the amount x 100 in every currency: "
          + ", ".join(f"{amount} {currency} -> {wire[currency]}" for amount, currency in AMOUNT_EXAMPLES))

    print("\n   The feedback example of the guide (section 11.2), verified with SHA-OUT:")
    feedback = verify_feedback(parse_qsl(GUIDE_FEEDBACK), GUIDE_PASSPHRASE, "sha1")
    expect(feedback.status is Status.PAYMENT_REQUESTED and feedback.amount == Decimal("15"),
           "the guide's feedback", f"STATUS {feedback.status.value}, amount {feedback.amount}")
    print(f"     signature valid: ORDERID {feedback.order_id}, PAYID {feedback.pay_id}, "
          f"{feedback.amount} {feedback.currency}, STATUS {feedback.status} -> {feedback.category}")
    tampered = GUIDE_FEEDBACK.replace("amount=15", "amount=1")
    try:
        accepted = verify_feedback(parse_qsl(tampered), GUIDE_PASSPHRASE, "sha1")
    except SignatureError as error:
        print(f"     the same feedback with amount=1 is refused: {error}")
    else:
        expect(False, "the tampered feedback must be refused", f"accepted, amount {accepted.amount}")


def sandbox_walkthrough() -> None:
    from .sandbox import DEFAULT_MERCHANT, start_server
    from .sandbox.customer import pay

    with start_server() as sandbox:
        print(f"\n2. The local sandbox at {sandbox.url} (back office: {sandbox.url}admin/)")
        account = DEFAULT_MERCHANT.account(sandbox.test_base_url)
        prefix = f"DEMO-{int(time.time())}"
        alias = f"{prefix}-CARD"

        form = HostedPaymentRequest(
            order_id=f"{prefix}-1", amount=Decimal("42.00"), currency="EUR", customer_name="Jeanne Dupont",
            accept_url=SHOP_RETURN_URL, decline_url=SHOP_RETURN_URL, exception_url=SHOP_RETURN_URL,
            cancel_url=SHOP_RETURN_URL, alias=alias, alias_usage="Pay your next orders with this card",
        ).render(account)
        result = pay(form.action, form.fields, "4111111111111111", holder="Jeanne Dupont")
        feedback = verify_feedback(result.pairs, account.sha_out, account.algorithm)
        expect(feedback.category is Category.PAID and feedback.alias == alias,
               "the hosted page payment with a saved card", f"STATUS {feedback.status.value}, ALIAS {feedback.alias!r}")
        print(f"   hosted page: the customer paid 42.00 EUR with VISA 4111...; redirected to {result.base_url}")
        print(f"     verified feedback: ORDERID {feedback.order_id}, PAYID {feedback.pay_id}, "
              f"STATUS {feedback.status} -> {feedback.category}, card {feedback.card_number} saved as "
              f"ALIAS {feedback.alias}")

        client = DirectLinkClient(account, RequestsTransport(connect_retries=0, query_retries=1, backoff=0.1))
        reply = client.new_order(OrderRequest(order_id=f"{prefix}-2", amount=Decimal("99.90"), currency="EUR",
                                              operation=Operation.AUTHORIZATION, alias=alias, eci="9"))
        expect(reply.status is Status.AUTHORIZED, "the authorisation with the saved card", reply.status)
        print(f"   DirectLink with the saved card, authorisation only: STATUS {reply.status} -> {reply.category}, "
              f"PAYID {reply.pay_id}")
        capture = client.capture(reply.pay_id, Decimal("60.00"), "EUR", last=True)
        expect(capture.status is Status.PAYMENT_PROCESSING, "the capture", capture.status)
        print(f"     capture 60.00 of 99.90 and close: STATUS {capture.status} (PAYIDSUB {capture.pay_id_sub})")
        settle = requests.post(f"{sandbox.url}admin/api/settle", json={"payid": reply.pay_id}, timeout=10)
        settle.raise_for_status()
        settled = client.query(pay_id=reply.pay_id)
        expect(settled.status is Status.PAYMENT_REQUESTED, "the settled capture", settled.status)
        print(f"     the platform settles the capture overnight: {settled.status}")
        refund = client.refund(reply.pay_id, Decimal("10.00"), "EUR")
        expect(refund.status is Status.REFUND_PENDING, "the refund", refund.status)
        print(f"     refund 10.00: STATUS {refund.status} (PAYIDSUB {refund.pay_id_sub})")

        again = client.new_order(OrderRequest(order_id=f"{prefix}-2", amount=Decimal("99.90"), currency="EUR",
                                              alias=alias, eci="9"))
        expect(again.ncerror == ALREADY_PROCESSED and again.pay_id == reply.pay_id,
               "the same ORDERID sent again must be refused", f"NCERROR {again.ncerror}, PAYID {again.pay_id}")
        print(f"   the same ORDERID sent again: STATUS {again.status.value}, NCERROR {again.ncerror} "
              f"({again.error_text}), original PAYID {again.pay_id}: nothing charged twice")

        refused = client.new_order(OrderRequest(order_id=f"{prefix}-3", amount=Decimal("5.00"), currency="EUR",
                                                card=Card("4000000000000028", "12/35", "123", "Jeanne Dupont")))
        expect(refused.category is Category.REFUSED, "the card the bank refuses", refused.status)
        print(f"   a card the bank refuses is an answer, not an exception: STATUS {refused.status}, "
              f"NCERROR {refused.ncerror} ({refused.error_text})")

        fault = requests.post(f"{sandbox.url}admin/api/faults", timeout=10, json={
            "pspid": account.pspid, "orderid": f"{prefix}-4", "faults": {"drop_connection": True}, "times": 1})
        fault.raise_for_status()
        try:
            answered = client.new_order(OrderRequest(order_id=f"{prefix}-4", amount=Decimal("7.50"),
                                                     currency="EUR", alias=alias, eci="9"))
        except OutcomeUnknown as error:
            print(f"   the connection drops after the platform processed an order: {type(error).__name__}")
            found = client.query(order_id=error.order_id)
            expect(found.category is Category.PAID, "the order queried after the lost connection", found.status)
            print(f"     so the order is queried, not re-sent: STATUS {found.status} -> {found.category}, "
                  f"PAYID {found.pay_id}")
        else:
            expect(False, "the connection lost after processing must raise OutcomeUnknown",
                   f"an answer, STATUS {answered.status}")


def main() -> int:
    try:
        signing_walkthrough()
        sandbox_walkthrough()
    except DemoFailure as failure:
        print(f"\ndemo failed: {failure}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
