"""Faults for reliability tests, seen from the ogone_core client and from the merchant's feedback URL."""
from __future__ import annotations

import threading
import time
from decimal import Decimal
from urllib.parse import unquote_plus

import pytest
import requests

from ogone_core import (Card, HostedPaymentRequest, OrderRequest, OutcomeUnknown, SignatureError, Status,
                        verify_feedback)
from ogone_core.sandbox.customer import pay
from sandbox_fixtures import admin, new_merchant, unique, wait_for

VISA = Card("4111111111111111", "12/39", "123")


def order(client, order_id=None):
    return client.new_order(OrderRequest(order_id or unique("Q"), Decimal("10"), "EUR", card=VISA))


def fault(server, merchant, expect=201, **rule):
    return admin(server, "POST", "faults", json={"pspid": merchant.pspid, **rule}, expect=expect)


def test_latency(sandbox):
    merchant = new_merchant(sandbox)
    fault(sandbox, merchant, faults={"latency": 0.4, "pages": ["orderdirect"]}, times=1)
    client = merchant.client()
    started = time.monotonic()
    assert order(client).status is Status.PAYMENT_REQUESTED
    assert time.monotonic() - started >= 0.4
    started = time.monotonic()
    order(client)
    assert time.monotonic() - started < 0.4  # the rule was used up


def test_http_500_before_processing(sandbox):
    merchant = new_merchant(sandbox)
    order_id = unique("Q")
    fault(sandbox, merchant, orderid=order_id, faults={"http_500": True, "pages": ["orderdirect"]})
    client = merchant.client()
    with pytest.raises(OutcomeUnknown):
        order(client, order_id)
    # The 500 came before any processing: the order does not exist.
    assert client.query(order_id=order_id).ncerror == "50001130"


def test_connection_dropped_after_processing(sandbox):
    merchant = new_merchant(sandbox)
    order_id = unique("Q")
    fault(sandbox, merchant, orderid=order_id, faults={"drop_connection": True, "pages": ["orderdirect"]},
          times=1)
    client = merchant.client()
    with pytest.raises(OutcomeUnknown) as caught:
        order(client, order_id)
    assert caught.value.order_id == order_id
    # The order went through although the client never heard of it: query before anything else.
    found = client.query(order_id=order_id)
    assert found.status is Status.PAYMENT_REQUESTED
    again = order(client, order_id)
    assert again.is_duplicate and again.pay_id == found.pay_id


def test_answer_held_after_processing(sandbox):
    merchant = new_merchant(sandbox)
    order_id = unique("Q")
    fault(sandbox, merchant, orderid=order_id, faults={"answer_delay": 1.5, "pages": ["orderdirect"]}, times=1)
    client = merchant.client()
    answers = []
    waiting = threading.Thread(target=lambda: answers.append(order(client, order_id)))
    started = time.monotonic()
    waiting.start()
    # The charge is recorded while its client still waits for the answer, and the sandbox says who waits.
    recorded = wait_for(lambda: admin(sandbox, "GET", "transactions", params={"pspid": merchant.pspid,
                                                                              "orderid": order_id})["transactions"])
    assert recorded[0]["status"] == 9
    held, = admin(sandbox, "GET", "held", params={"pspid": merchant.pspid})["held"]
    assert waiting.is_alive() and answers == []
    assert (held["orderid"], held["page"]) == (order_id, "orderdirect")
    assert held["client"].startswith("127.0.0.1:") and held["until"] - held["since"] == 1.5
    assert admin(sandbox, "GET", "held", params={"pspid": "SOMEONE-ELSE"})["held"] == []
    waiting.join(10)
    assert time.monotonic() - started >= 1.5
    assert answers[0].status is Status.PAYMENT_REQUESTED and answers[0].pay_id == str(recorded[0]["payid"])
    assert admin(sandbox, "GET", "held", params={"pspid": merchant.pspid})["held"] == []


def test_a_held_answer_ends_when_its_client_hangs_up(sandbox):
    merchant = new_merchant(sandbox)
    order_id = unique("Q")
    fault(sandbox, merchant, orderid=order_id, faults={"answer_delay": 60, "pages": ["orderdirect"]}, times=1)
    started = time.monotonic()
    with pytest.raises(OutcomeUnknown):  # held: no answer within the client's read timeout
        order(merchant.client(read_timeout=0.5), order_id)
    # The client gave up and closed its connection: the sandbox stops holding an answer nobody will read
    wait_for(lambda: admin(sandbox, "GET", "held", params={"pspid": merchant.pspid})["held"] == [], timeout=5)
    assert time.monotonic() - started < 30
    assert merchant.client().query(order_id=order_id).status is Status.PAYMENT_REQUESTED


def test_a_dropped_query_is_retried_by_the_client(sandbox):
    merchant = new_merchant(sandbox)
    client = merchant.client()
    placed = order(client)
    fault(sandbox, merchant, orderid=placed.order_id, faults={"drop_connection": True, "pages": ["querydirect"]},
          times=1)
    assert client.query(order_id=placed.order_id).pay_id == placed.pay_id
    assert admin(sandbox, "GET", "faults", params={"pspid": merchant.pspid})["faults"] == []


def hosted(merchant, **options):
    request = HostedPaymentRequest(unique("Q"), Decimal("2.5"), "EUR", accept_url="http://shop.example/ok",
                                   **options)
    form = request.render(merchant.account())
    return request, form


def test_feedback_duplicated(sandbox, receiver):
    merchant = new_merchant(sandbox, feedback_url=receiver.url)
    fault(sandbox, merchant, faults={"feedback_duplicate": True})
    _, form = hosted(merchant)
    pay(form.action, form.fields, "4111111111111111")
    first, second = receiver.received(2)
    assert first.raw_body == second.raw_body


def test_feedback_delayed(clocked_sandbox, receiver):
    server, clock = clocked_sandbox
    merchant = new_merchant(server, feedback_url=receiver.url)
    fault(server, merchant, faults={"feedback_delay": 120})
    _, form = hosted(merchant)
    result = pay(form.action, form.fields, "4111111111111111")
    jobs = admin(server, "GET", f"transactions/{result.params['PAYID']}")["feedback"]
    assert jobs[0]["state"] == "pending" and jobs[0]["attempts_made"] == 0 and receiver.requests == []
    clock.advance(121)
    assert receiver.received(1)[0].params["PAYID"] == result.params["PAYID"]


def test_feedback_before_the_browser_redirect(sandbox, receiver):
    merchant = new_merchant(sandbox, feedback_url=receiver.url)
    request, form = hosted(merchant)
    fault(sandbox, merchant, orderid=request.order_id, faults={"feedback_before_redirect": True})
    pay(form.action, form.fields, "4111111111111111")
    assert len(receiver.requests) == 1


def test_values_double_url_encoded(sandbox, receiver):
    merchant = new_merchant(sandbox, feedback_url=receiver.url)
    request, form = hosted(merchant)
    fault(sandbox, merchant, orderid=request.order_id, faults={"double_url_encode": True})
    result = pay(form.action, form.fields, "4111111111111111", holder="Ann Lee")
    assert "CN=Ann%2BLee" in result.url and result.params["CN"] == "Ann+Lee"
    with pytest.raises(SignatureError):
        verify_feedback(result.pairs, merchant.settings["sha_out"], "sha512")
    decoded_twice = [(name, unquote_plus(value)) for name, value in result.pairs]
    assert verify_feedback(decoded_twice, merchant.settings["sha_out"], "sha512").card_holder == "Ann Lee"
    [posted] = receiver.received(1)
    assert b"CN=Ann%252BLee" not in posted.raw_body and b"CN=Ann%2BLee" in posted.raw_body


def test_hosted_page_faults(sandbox):
    merchant = new_merchant(sandbox)
    request, form = hosted(merchant)
    fault(sandbox, merchant, orderid=request.order_id, faults={"http_500": True, "pages": ["order_agree"]},
          times=1)
    response = requests.post(form.action, data=list(form.fields), timeout=30)
    assert response.status_code == 200 and 'id="payment-form"' in response.text
    with pytest.raises(Exception, match="HTTP 500"):
        pay(form.action, form.fields, "4111111111111111")


def test_order_rule_wins_over_merchant_rule_and_rules_can_be_deleted(sandbox):
    merchant = new_merchant(sandbox)
    client = merchant.client()
    fault(sandbox, merchant, faults={"http_500": True, "pages": ["querydirect"]})
    placed = order(client)
    fault(sandbox, merchant, orderid=placed.order_id, faults={"latency": 0.01, "pages": ["querydirect"]})
    assert client.query(order_id=placed.order_id).pay_id == placed.pay_id
    with pytest.raises(Exception):
        client.query(pay_id="1")
    deleted = requests.delete(f"{sandbox.url}admin/api/faults", params={"pspid": merchant.pspid}, timeout=30)
    assert deleted.json() == {"deleted": 2}
    assert client.query(order_id=placed.order_id).status is Status.PAYMENT_REQUESTED


@pytest.mark.parametrize("rule, message", [
    ({"faults": {"explode": True}}, "unknown fault(s): explode"),
    ({"faults": {"latency": -1}}, "latency is a number of seconds from 0 to 300"),
    ({"faults": {"http_500": "yes"}}, "http_500 is true or false"),
    ({"faults": {"http_500": True, "drop_connection": True}}, "exclude each other"),
    ({"faults": {"answer_delay": 301}}, "answer_delay is a number of seconds from 0 to 300"),
    ({"faults": {"http_500": True, "answer_delay": 1}}, "http_500 and answer_delay exclude each other"),
    ({"faults": {"latency": 1, "pages": ["nowhere"]}}, "unknown page(s) nowhere"),
    ({"faults": {"latency": 1}, "times": 0}, "times is an integer from 1 to"),
    ({"faults": {}, "colour": "red"}, "unknown fault rule key(s): colour"),
])
def test_invalid_fault_rules_are_refused(sandbox, rule, message):
    merchant = new_merchant(sandbox)
    answer = fault(sandbox, merchant, expect=400, **rule)
    assert message in answer["error"]
    unknown = admin(sandbox, "POST", "faults", json={"pspid": "NOBODY", "faults": {}}, expect=400)
    assert "unknown PSPID" in unknown["error"]


def test_an_answer_is_held_on_a_connection_numbered_past_1024(sandbox):
    # A sandbox serving many kept connections gets file descriptors above select()'s limit of 1024: the
    # client still waiting must not look as if it had hung up.
    import os

    pipes = [os.pipe() for _ in range(600)]
    try:
        merchant = new_merchant(sandbox)
        order_id = unique("Q")
        fault(sandbox, merchant, orderid=order_id, faults={"answer_delay": 0.5, "pages": ["orderdirect"]},
              times=1)
        client = merchant.client()
        assert order(client, order_id).status is Status.PAYMENT_REQUESTED
    finally:
        for pipe in pipes:
            for end in pipe:
                os.close(end)
