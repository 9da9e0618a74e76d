"""Server-to-server feedback: delivery, methods, dynamic parameters, deferred retries, every attempt recorded."""
from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qsl

from ogone_core import HostedPaymentRequest, Status, verify_feedback
from ogone_core.sandbox.customer import pay
from sandbox_fixtures import admin, new_merchant, unique, wait_for


def hosted_payment(merchant, card="4111111111111111", charset="utf-8", **options):
    request = HostedPaymentRequest(unique("F"), Decimal("9.99"), "EUR", accept_url="http://shop.example/ok",
                                   **options)
    form = request.render(merchant.account(charset))
    return request, pay(form.action, form.fields, card)


def feedback_jobs(server, payid):
    return admin(server, "GET", f"transactions/{payid}")["feedback"]


def test_post_feedback_is_delivered_signed_and_recorded(sandbox, receiver):
    merchant = new_merchant(sandbox, feedback_url=receiver.url)
    request, result = hosted_payment(merchant, complus="x")
    [posted] = receiver.received(1)
    assert posted.method == "POST" and posted.path == "/feedback"
    assert posted.pairs == list(result.pairs)  # the same parameters as the browser redirect
    feedback = verify_feedback(posted.pairs, merchant.settings["sha_out"], "sha512")
    assert feedback.order_id == request.order_id and feedback.status is Status.PAYMENT_REQUESTED
    [job] = wait_for(lambda: [j for j in feedback_jobs(sandbox, feedback.pay_id) if j["state"] == "delivered"])
    assert job["kind"] == "payment" and job["url"] == receiver.url
    assert [(a["number"], a["http_status"], a["delivered"]) for a in job["attempts"]] == [(1, 200, True)]


def test_get_feedback_and_paramvar(sandbox, receiver):
    merchant = new_merchant(sandbox, feedback_url=receiver.url + "/<PARAMVAR>", feedback_method="GET")
    _, result = hosted_payment(merchant, paramvar="shop7")
    [received] = receiver.received(1)
    assert received.method == "GET" and received.path == "/feedback/shop7"
    assert received.pairs == list(result.pairs)


def test_iso_page_feedback_body_is_latin1(sandbox, receiver):
    merchant = new_merchant(sandbox, feedback_url=receiver.url)
    request = HostedPaymentRequest(unique("F"), Decimal("1"), "EUR")
    form = request.render(merchant.account("iso-8859-1"))
    pay(form.action, form.fields, "4111111111111111", holder="Zoë")
    [posted] = receiver.received(1)
    assert b"CN=Zo%EB" in posted.raw_body
    pairs = parse_qsl(posted.raw_body.decode("ascii"), encoding="iso-8859-1")
    assert verify_feedback(pairs, merchant.settings["sha_out"], "sha512", "iso-8859-1").card_holder == "Zoë"


def test_dynamic_parameters_choose_what_is_sent_and_signed(sandbox, receiver):
    merchant = new_merchant(sandbox, feedback_url=receiver.url,
                            feedback_parameters=["ORDERID", "STATUS", "PAYID", "BRAND", "ED", "ECI", "CVCCHECK"])
    _, result = hosted_payment(merchant)
    assert [name for name, _ in result.pairs] == ["orderID", "STATUS", "ED", "PAYID", "BRAND", "ECI", "CVCCheck",
                                                  "SHASIGN"]
    verify_feedback(result.pairs, merchant.settings["sha_out"], "sha512")


def test_declined_payments_use_the_second_url(sandbox, receiver):
    merchant = new_merchant(sandbox, feedback_url=receiver.url + "/ok", feedback_url_declined=receiver.url + "/ko")
    hosted_payment(merchant, card="4000000000000028")
    hosted_payment(merchant)
    paths = sorted(r.path for r in receiver.received(2))
    assert paths == ["/feedback/ko", "/feedback/ok"]


def test_no_feedback_when_timing_is_none(sandbox, receiver):
    merchant = new_merchant(sandbox, feedback_url=receiver.url, feedback_timing="none")
    _, result = hosted_payment(merchant)
    assert feedback_jobs(sandbox, result.params["PAYID"]) == []


def test_online_feedback_arrives_before_the_browser_redirect(sandbox, receiver):
    merchant = new_merchant(sandbox, feedback_url=receiver.url, feedback_timing="online")
    _, result = hosted_payment(merchant)
    # pay() returns when the redirect arrives: by then the online feedback was already answered.
    assert len(receiver.requests) == 1 and receiver.requests[0].params["PAYID"] == result.params["PAYID"]


def test_failed_deliveries_are_retried_on_the_schedule(clocked_sandbox, receiver):
    server, clock = clocked_sandbox
    merchant = new_merchant(server, feedback_url=receiver.url, feedback_retry_interval=600)
    receiver.respond(500, 503)
    _, result = hosted_payment(merchant)
    payid = result.params["PAYID"]
    receiver.received(1)
    wait_for(lambda: feedback_jobs(server, payid)[0]["attempts_made"] == 1)
    clock.advance(599)
    assert feedback_jobs(server, payid)[0]["attempts_made"] == 1 and len(receiver.requests) == 1
    clock.advance(1)
    receiver.received(2)
    wait_for(lambda: feedback_jobs(server, payid)[0]["attempts_made"] == 2)
    clock.advance(600)
    receiver.received(3)
    [job] = wait_for(lambda: [j for j in feedback_jobs(server, payid) if j["state"] == "delivered"])
    assert [a["http_status"] for a in job["attempts"]] == [500, 503, 200]
    assert [a["error"] for a in job["attempts"]] == ["HTTP 500", "HTTP 503", ""]
    assert len({r.raw_body for r in receiver.requests}) == 1  # the same feedback each time


def test_delivery_gives_up_after_the_last_retry(sandbox, receiver):
    merchant = new_merchant(sandbox, feedback_url=receiver.url, feedback_retries=2)
    receiver.respond(500, 500, 500, 500)
    _, result = hosted_payment(merchant)
    payid = result.params["PAYID"]
    wait_for(lambda: feedback_jobs(sandbox, payid)[0]["attempts_made"] == 1)
    admin(sandbox, "POST", "feedback/retry", json={"payid": int(payid)})
    retried = admin(sandbox, "POST", "feedback/retry", json={"payid": int(payid)})["attempted"]
    assert retried[0]["state"] == "failed" and retried[0]["attempts_made"] == 3
    assert admin(sandbox, "POST", "feedback/retry", json={"payid": int(payid)})["attempted"] == []
    assert len(receiver.requests) == 3


def test_retry_due_only_leaves_future_retries_alone(sandbox, receiver):
    merchant = new_merchant(sandbox, feedback_url=receiver.url)
    receiver.respond(500)
    _, result = hosted_payment(merchant)
    payid = result.params["PAYID"]
    wait_for(lambda: feedback_jobs(sandbox, payid)[0]["attempts_made"] == 1)
    assert admin(sandbox, "POST", "feedback/retry", json={"payid": int(payid), "due_only": True})["attempted"] == []
    [job] = admin(sandbox, "POST", "feedback/retry", json={"payid": int(payid)})["attempted"]
    assert job["state"] == "delivered"


def test_timeouts_and_refused_connections_are_failures(sandbox, receiver):
    merchant = new_merchant(sandbox, feedback_url=receiver.url, feedback_timeout=0.3)
    receiver.respond((200, 1.0))
    _, result = hosted_payment(merchant)
    payid = result.params["PAYID"]
    [job] = wait_for(lambda: [j for j in feedback_jobs(sandbox, payid) if j["attempts_made"] == 1])
    assert job["state"] == "pending" and "timed out" in job["attempts"][0]["error"]
    assert job["attempts"][0]["http_status"] is None
    closed = new_merchant(sandbox, feedback_url="http://127.0.0.1:9/feedback")
    _, result = hosted_payment(closed)
    [job] = wait_for(lambda: [j for j in feedback_jobs(sandbox, result.params["PAYID"]) if j["attempts_made"]])
    assert "ConnectionRefusedError" in job["attempts"][0]["error"]


def test_status_changes_are_notified_when_pending_lines_settle(sandbox, receiver):
    merchant = new_merchant(sandbox, status_change_url=receiver.url + "/status")
    client = merchant.client()
    from ogone_core import Card, OrderRequest
    order = client.new_order(OrderRequest(unique("F"), Decimal("10"), "EUR", operation="RES",
                                          card=Card("4111111111111111", "12/39", "123")))
    client.capture(order.pay_id, Decimal("4"), "EUR", last=False)
    assert receiver.requests == []
    settled = admin(sandbox, "POST", "settle", json={"pspid": merchant.pspid})["settled"]
    assert settled == [{"payid": int(order.pay_id), "payidsub": 1, "status": 9}]
    [change] = receiver.received(1)
    feedback = verify_feedback(change.pairs, merchant.settings["sha_out"], "sha512")
    assert (feedback.status, feedback.pay_id_sub, feedback.amount) == (Status.PAYMENT_REQUESTED, "1", Decimal("4"))
    assert change.path == "/feedback/status"
