"""DirectLink against the sandbox with the ogone_core client over real HTTP: orders, 3-D Secure,
duplicates, refusals, maintenance with its amount rules, offline statuses, queries."""
from __future__ import annotations

from decimal import Decimal

import pytest
import requests

from ogone_core import Card, OrderRequest, Status, ThreeDSecure, compute_shasign, verify_feedback
from ogone_core.sandbox.customer import authenticate
from sandbox_fixtures import admin, default_merchant, new_merchant, unique

VISA = Card("4111111111111111", "12/39", "123", "Card Holder")


def card(number, cvc="123"):
    return Card(number, "12/39", cvc, "Card Holder")


def new_order(client, amount="10.00", operation="SAL", **options):
    options.setdefault("card", VISA)
    return client.new_order(OrderRequest(unique("D"), Decimal(amount), "EUR", operation=operation, **options))


def raw(merchant, page, params, charset="utf-8", sign=True, passphrase=None):
    values = {"PSPID": merchant.pspid, "USERID": merchant.settings["api_user"],
              "PSWD": merchant.settings["api_password"], **params}
    if sign:
        values["SHASIGN"] = compute_shasign(values, passphrase or merchant.settings["sha_in"],
                                            merchant.settings.get("algorithm", "sha512"), "in", charset)
    suffix = "_utf8" if charset == "utf-8" else ""
    body = requests.compat.urlencode(values, encoding=charset)
    return requests.post(f"{merchant.server.test_base_url}{page}{suffix}.asp", data=body, timeout=30,
                         headers={"Content-Type": "application/x-www-form-urlencoded"})


def attribute(xml, name):
    start = xml.index(f' {name}="') if f' {name}="' in xml else xml.index(f'\n{name}="')
    start = xml.index('"', start) + 1
    return xml[start:xml.index('"', start)]


@pytest.mark.parametrize("charset", ["utf-8", "iso-8859-1"])
@pytest.mark.parametrize("algorithm", ["sha1", "sha256", "sha512"])
def test_sale_and_authorisation(sandbox, charset, algorithm):
    merchant = new_merchant(sandbox, algorithm=algorithm)
    client = merchant.client(charset)
    sale = new_order(client, "10.50", customer_name="Jérôme")
    assert sale.status is Status.PAYMENT_REQUESTED and sale.ncerror == "0"
    assert sale.amount == Decimal("10.5") and sale.currency == "EUR" and sale.acceptance == "test123"
    assert sale.brand == "VISA" and sale.payment_method == "CreditCard" and sale.pay_id.isdigit()
    authorisation = new_order(client, operation="RES", card=card("374111111111111", "1234"))
    assert authorisation.status is Status.AUTHORIZED and authorisation.brand == "American Express"


@pytest.mark.parametrize("page, charset_label", [("utf-8", "utf-8"), ("iso-8859-1", "iso-8859-1")])
def test_xml_answer_shape(sandbox, page, charset_label):
    merchant = default_merchant(sandbox)
    response = raw(merchant, "orderdirect", {"ORDERID": unique("X"), "AMOUNT": "125", "CURRENCY": "EUR",
                                             "CARDNO": "4111111111111111", "ED": "1239", "CVC": "123",
                                             "OPERATION": "RES"}, page)
    assert response.headers["Content-Type"] == f"text/XML; Charset={charset_label}"
    text = response.text
    assert text.startswith('<?xml version="1.0"?><ncresponse')
    for name in ("orderID", "PAYID", "NCSTATUS", "NCERROR", "NCERRORPLUS", "ACCEPTANCE", "STATUS", "ECI",
                 "amount", "currency", "PM", "BRAND"):
        assert f'\n{name}="' in text, name
    assert attribute(text, "amount") == "1.25" and attribute(text, "NCERRORPLUS") == "!"


def test_duplicate_orderid_gives_50001113_with_the_original_payid(sandbox):
    client = default_merchant(sandbox).client()
    request = OrderRequest(unique("D"), Decimal("5"), "EUR", card=VISA)
    first = client.new_order(request)
    second = client.new_order(request)
    assert second.status is Status.INVALID and second.ncerror == "50001113" and second.is_duplicate
    assert second.pay_id == first.pay_id and second.acceptance == "test123"
    assert second.ncerror_plus == "This order has already been processed"


def test_refused_order_can_be_retried_with_the_same_orderid(sandbox):
    client = default_merchant(sandbox).client()
    order_id = unique("D")
    refused = client.new_order(OrderRequest(order_id, Decimal("5"), "EUR", card=card("4000000000000028")))
    assert refused.status is Status.AUTHORIZATION_REFUSED and refused.ncerror == "30051001"
    assert refused.ncerror_plus == "Authorization declined" and refused.ncstatus == "3"
    paid = client.new_order(OrderRequest(order_id, Decimal("5"), "EUR", card=VISA))
    assert paid.status is Status.PAYMENT_REQUESTED and paid.pay_id != refused.pay_id


def test_credentials_and_signature_refusals(sandbox):
    merchant = default_merchant(sandbox)
    order = {"ORDERID": unique("X"), "AMOUNT": "100", "CURRENCY": "EUR", "CARDNO": "4111111111111111",
             "ED": "1239", "CVC": "123"}
    cases = [
        ({"PSWD": "wrong"}, True, "50001119", "Password incorrect or disabled due to numbers of errors"),
        ({"USERID": "SOMEONE"}, True, "50001119", "Password incorrect or disabled due to numbers of errors"),
        ({"USERID": merchant.pspid}, True, "50001119", "Connection to API feature not allowed for this user"),
        ({"PSPID": "NOBODY"}, True, "50001118", "Pspid not found or not correct"),
        ({}, False, "50001184", "unknown order/0/s"),
    ]
    for changes, sign, ncerror, plus in cases:
        response = raw(merchant, "orderdirect", {**order, **changes}, sign=sign)
        text = response.text
        assert (attribute(text, "STATUS"), attribute(text, "NCERROR"), attribute(text, "NCERRORPLUS")) == \
            ("0", ncerror, plus), changes
        assert attribute(text, "PAYID") == "0" and attribute(text, "NCSTATUS") == "5"
    wrong = raw(merchant, "orderdirect", order, passphrase="not-the-passphrase").text
    assert (attribute(wrong, "NCERROR"), attribute(wrong, "NCERRORPLUS")) == ("50001184", "unknown order/1/s")


def test_wrong_password_through_the_client(sandbox):
    merchant = new_merchant(sandbox)
    merchant.settings["api_password"] = "not-it"
    answer = new_order(merchant.client())
    assert answer.status is Status.INVALID and answer.ncerror == "50001119"


def test_data_errors(sandbox):
    merchant = default_merchant(sandbox)
    base = {"ORDERID": unique("X"), "AMOUNT": "100", "CURRENCY": "EUR", "CARDNO": "4111111111111111",
            "ED": "1239", "CVC": "123"}
    cases = [
        ({"ORDERID": ""}, "50001111", " no orderid"),
        ({"CARDNO": "", "ED": ""}, "50001111", " no card no|no exp date"),
        ({"CURRENCY": "ZZZ"}, "50001120", "Invalid currency"),
        ({"AMOUNT": "1,5"}, "50001006", "Amount is not a number"),
        ({"OPERATION": "XYZ"}, "50001007", "Requested Operation code not allowed"),
        ({"CARDNO": "4111111111111112"}, "50001068", "The card number or account number (PAN) is invalid"),
        ({"CARDNO": "4242424242424242"}, "50001054", "Card number incorrect or incompatible"),
        ({"CVC": ""}, "50001090", "CVC missing at input, but CVC check asked"),
        ({"ED": "0120"}, "50001183", "Expiration date must be in the future"),
        ({"ALIAS": "4111111111111111"}, "50001216", "The alias must be different than the card number"),
        ({"CARDNO": "", "ED": "", "ALIAS": "NO-SUCH-ALIAS"}, "50001111", " unknown alias"),
    ]
    for changes, ncerror, plus in cases:
        text = raw(merchant, "orderdirect", {**base, "ORDERID": unique("X"), **changes}).text
        assert (attribute(text, "STATUS"), attribute(text, "NCERROR"), attribute(text, "NCERRORPLUS")) == \
            ("0", ncerror, plus), changes
    # Recurring payments (ECI 9) carry no CVC.
    text = raw(merchant, "orderdirect", {**base, "ORDERID": unique("X"), "CVC": "", "ECI": "9"}).text
    assert attribute(text, "STATUS") == "9"


def test_three_d_secure_with_flag3d(sandbox, receiver):
    merchant = new_merchant(sandbox, feedback_url=receiver.url)
    client = merchant.client()
    secure = ThreeDSecure("http://shop.example/ok", "http://shop.example/ko", "http://shop.example/ex",
                          complus="c1", paramplus={"SessionID": "77"})
    answer = new_order(client, card=card("4000000000000002"), three_d_secure=secure)
    assert answer.status is Status.WAITING_AUTHENTICATION and answer.needs_authentication
    assert answer.ncerror == "0" and answer.ncerror_plus == "Identification requested"
    assert 'name="downloadform3D"' in answer.html_answer and "Test_3D_ACS.asp" in answer.html_answer
    # The platform's query answer carries no HTML_ANSWER (only the order answer does).
    pending = raw(merchant, "querydirect", {"PAYID": answer.pay_id}).text
    assert attribute(pending, "STATUS") == "46" and "HTML_ANSWER" not in pending
    import base64
    result = authenticate(base64.b64encode(answer.html_answer.encode()).decode())
    assert result.base_url == "http://shop.example/ok" and result.status == 9
    feedback = verify_feedback(result.pairs, merchant.settings["sha_out"], "sha512", "utf-8")
    assert feedback.pay_id == answer.pay_id and feedback.complus == "c1"
    assert feedback.unsigned["SessionID"] == "77"
    [posted] = receiver.received(1)
    assert verify_feedback(posted.pairs, merchant.settings["sha_out"], "sha512").pay_id == answer.pay_id
    assert client.query(pay_id=answer.pay_id).status is Status.PAYMENT_REQUESTED


def test_three_d_secure_card_without_flag3d_is_authorised_directly(sandbox):
    client = default_merchant(sandbox).client()
    assert new_order(client, card=card("5555555555554444")).status is Status.PAYMENT_REQUESTED


def test_three_d_secure_failure_reaches_declineurl(sandbox):
    client = default_merchant(sandbox).client()
    secure = ThreeDSecure("http://shop.example/ok", "http://shop.example/ko", "http://shop.example/ex")
    answer = new_order(client, card=card("371449635311004", "1234"), three_d_secure=secure)
    import base64
    result = authenticate(base64.b64encode(answer.html_answer.encode()).decode(), three_ds="fail")
    assert result.base_url == "http://shop.example/ko" and result.params["NCERROR"] == "40001134"
    assert client.query(pay_id=answer.pay_id).status is Status.AUTHORIZATION_REFUSED


def test_capture_refund_history(clocked_sandbox):
    server, clock = clocked_sandbox
    client = default_merchant(server).client()
    order = new_order(client, "100.00", "RES")
    assert order.status is Status.AUTHORIZED
    partial = client.capture(order.pay_id, Decimal("30"), "EUR", last=False)
    assert (partial.status, partial.pay_id_sub, partial.amount) == (Status.PAYMENT_PROCESSING, "1", Decimal("30"))
    too_much = client.capture(order.pay_id, Decimal("70.01"), "EUR", last=False)
    assert too_much.status is Status.INVALID and too_much.ncerror == "50001126"
    assert too_much.ncerror_plus == "Overflow in data capture requests for the original order"
    # Nothing can be refunded before the capture is processed.
    early = client.refund(order.pay_id, Decimal("10"), "EUR")
    assert early.ncerror == "50001127" and early.ncerror_plus == "The original order is not in a correct status"
    rest = client.capture(order.pay_id, last=True)
    assert (rest.status, rest.pay_id_sub, rest.amount) == (Status.PAYMENT_PROCESSING, "2", Decimal("70"))
    assert client.capture(order.pay_id, Decimal("1"), "EUR").ncerror == "50001127"
    clock.advance(29)
    assert client.query(pay_id=order.pay_id).status is Status.PAYMENT_PROCESSING
    clock.advance(2)  # the default merchant settles offline operations after 30 s
    settled = client.query(pay_id=order.pay_id)
    assert settled.status is Status.PAYMENT_REQUESTED and settled.pay_id_sub == "2"
    line = client.query(pay_id=order.pay_id, pay_id_sub="1")
    assert (line.status, line.amount) == (Status.PAYMENT_REQUESTED, Decimal("30"))
    refund = client.refund(order.pay_id, Decimal("60"), "EUR")
    assert (refund.status, refund.pay_id_sub) == (Status.REFUND_PENDING, "3")
    over = client.refund(order.pay_id, Decimal("40.01"), "EUR")
    assert over.ncerror == "50001129" and over.ncerror_plus == "Overflow in refunds requests"
    last = client.refund(order.pay_id, last=True)
    assert (last.status, last.amount) == (Status.REFUND_PENDING, Decimal("40"))
    assert client.refund(order.pay_id, Decimal("1"), "EUR").ncerror == "50001127"
    admin(server, "POST", "settle", json={"payid": int(order.pay_id)})
    assert client.query(pay_id=order.pay_id).status is Status.REFUND
    detail = admin(server, "GET", f"transactions/{order.pay_id}")
    assert [(line["operation"], line["amount"], line["status"]) for line in detail["history"]] == [
        ("RES", "100", 5), ("SAL", "30", 9), ("SAS", "70", 9), ("RFD", "60", 8), ("RFS", "40", 8)]


def test_delete_renew_and_close(sandbox):
    client = default_merchant(sandbox).client()
    order = new_order(client, "20", "RES")
    deleted = client.cancel(order.pay_id, close=False)
    assert deleted.status is Status.AUTHORIZATION_DELETION_WAITING and deleted.amount == Decimal("20")
    assert client.capture(order.pay_id).ncerror == "50001127"
    renewed = client.renew(order.pay_id)
    assert renewed.status is Status.AUTHORIZED and renewed.pay_id_sub == "2"
    assert client.capture(order.pay_id, Decimal("5"), "EUR", last=False).status is Status.PAYMENT_PROCESSING
    closed = client.cancel(order.pay_id)
    assert closed.status is Status.AUTHORIZATION_DELETION_WAITING and closed.amount == Decimal("15")
    assert client.renew(order.pay_id).ncerror == "50001127"
    assert client.cancel(order.pay_id).ncerror == "50001127"
    admin(sandbox, "POST", "settle", json={"payid": int(order.pay_id)})
    assert client.query(pay_id=order.pay_id).status is Status.AUTHORIZED_AND_CANCELLED
    # The captured 5 can still be refunded.
    assert client.refund(order.pay_id, last=True).amount == Decimal("5")


def test_sale_cannot_be_captured_and_maintenance_by_orderid(sandbox):
    merchant = default_merchant(sandbox)
    client = merchant.client()
    sale = new_order(client, "8")
    assert client.capture(sale.pay_id).ncerror == "50001127"
    text = raw(merchant, "maintenancedirect", {"ORDERID": sale.order_id, "OPERATION": "RFD", "AMOUNT": "300"}).text
    assert (attribute(text, "STATUS"), attribute(text, "PAYIDSUB"), attribute(text, "amount")) == ("81", "1", "3")
    for params, ncerror, plus in [({"PAYID": "1", "OPERATION": "RFD"}, "50001130", "Error access to original order"),
                                  ({"OPERATION": "RFD"}, "50001111", " no payid|no orderid"),
                                  ({"PAYID": sale.pay_id}, "50001111", " no operation"),
                                  ({"PAYID": sale.pay_id, "OPERATION": "XXX"}, "50001007",
                                   "Requested Operation code not allowed"),
                                  ({"PAYID": sale.pay_id, "OPERATION": "RFD", "AMOUNT": "x"}, "50001006",
                                   "Amount is not a number"),
                                  ({"PAYID": sale.pay_id, "OPERATION": "RFD", "AMOUNT": "0"}, "50001111",
                                   " amount must be positive")]:
        text = raw(merchant, "maintenancedirect", params).text
        assert (attribute(text, "STATUS"), attribute(text, "NCERROR"), attribute(text, "NCERRORPLUS")) == \
            ("0", ncerror, plus), params
    unsigned = raw(merchant, "maintenancedirect", {"PAYID": sale.pay_id, "OPERATION": "RFD", "AMOUNT": "1"},
                   sign=False).text
    assert attribute(unsigned, "NCERRORPLUS") == "unknown order/0/s"


def test_payment_refused_card_capture_settles_to_93(sandbox):
    client = default_merchant(sandbox).client()
    sale = new_order(client, card=card("4000000000000937"))
    assert sale.status is Status.PAYMENT_REFUSED and sale.ncerror == "30001001"
    order = new_order(client, operation="RES", card=card("4000000000000937"))
    assert client.capture(order.pay_id).status is Status.PAYMENT_PROCESSING
    admin(sandbox, "POST", "settle", json={"payid": int(order.pay_id)})
    assert client.query(pay_id=order.pay_id).status is Status.PAYMENT_REFUSED


def test_offline_and_uncertain_orders_settle(clocked_sandbox):
    server, clock = clocked_sandbox
    client = default_merchant(server).client()
    offline = new_order(client, card=card("4000000000000911"))
    assert offline.status is Status.PAYMENT_PROCESSING
    uncertain_ok = new_order(client, operation="RES", card=card("4000000000000523"))
    uncertain_ko = new_order(client, card=card("4000000000000531"))
    assert uncertain_ok.status is Status.AUTHORIZATION_NOT_KNOWN and uncertain_ok.ncerror == "20001001"
    assert uncertain_ko.status is Status.PAYMENT_UNCERTAIN
    clock.advance(31)
    assert client.query(pay_id=offline.pay_id).status is Status.PAYMENT_REQUESTED
    assert client.query(pay_id=uncertain_ok.pay_id).status is Status.AUTHORIZATION_NOT_KNOWN
    clock.advance(30)  # uncertain results resolve after 60 s
    resolved = client.query(pay_id=uncertain_ok.pay_id)
    assert resolved.status is Status.AUTHORIZED and resolved.acceptance == "test123"
    refused = client.query(order_id=uncertain_ko.order_id)
    assert refused.status is Status.PAYMENT_REFUSED and refused.ncerror == "30001001"
    exception = new_order(client, card=card("4000000000000408"))
    assert exception.status is Status.INVALID and exception.ncerror == "40001001"


def test_query(sandbox):
    merchant = default_merchant(sandbox)
    client = merchant.client()
    order = new_order(client, "7.5", "RES", remote_addr="203.0.113.9")
    by_payid = client.query(pay_id=order.pay_id)
    by_orderid = client.query(order_id=order.order_id)
    for found in (by_payid, by_orderid):
        assert (found.pay_id, found.status, found.amount) == (order.pay_id, Status.AUTHORIZED, Decimal("7.5"))
        assert found.card_number == "XXXXXXXXXXXX1111" and found.attribute("IP") == "203.0.113.9"
        assert found.pay_id_sub == "0"
    unknown = client.query(order_id=unique("NONE"))
    assert unknown.status is Status.INVALID and unknown.ncerror == "50001130"
    missing_line = client.query(pay_id=order.pay_id, pay_id_sub="9")
    assert missing_line.ncerror == "50001131" and missing_line.ncerror_plus == "Error access to original history item"
    # Queries may be sent without SHASIGN; a wrong one is still refused.
    text = raw(merchant, "querydirect", {"PAYID": order.pay_id}, sign=False).text
    assert attribute(text, "STATUS") == "5"
    text = raw(merchant, "querydirect", {"PAYID": order.pay_id}, passphrase="wrong").text
    assert attribute(text, "NCERRORPLUS") == "unknown order/1/s"


def test_query_of_a_hosted_payment_returns_complus_and_paramplus(sandbox):
    from ogone_core import HostedPaymentRequest
    from ogone_core.sandbox.customer import pay
    merchant = default_merchant(sandbox)
    request = HostedPaymentRequest(unique("H"), Decimal("4"), "EUR", complus="abc",
                                   paramplus={"SessionID": "126548354", "ShopperID": "73541312"})
    form = request.render(merchant.account())
    pay(form.action, form.fields, "4111111111111111")
    found = merchant.client().query(order_id=request.order_id)
    assert found.status is Status.PAYMENT_REQUESTED
    assert found.attribute("COMPLUS") == "abc" and found.attribute("SessionID") == "126548354"
    assert found.attribute("ShopperID") == "73541312"


def test_alias_created_by_directlink_is_reusable(sandbox):
    client = default_merchant(sandbox).client()
    alias = unique("ALIAS")
    first = new_order(client, card=VISA, alias=alias)
    assert first.status is Status.PAYMENT_REQUESTED and first.alias == alias
    again = new_order(client, "3", card=None, alias=alias, eci="9")
    assert again.status is Status.PAYMENT_REQUESTED and again.card_number in ("", "XXXXXXXXXXXX1111")
    assert client.query(pay_id=again.pay_id).card_number == "XXXXXXXXXXXX1111"
    aliases = admin(sandbox, "GET", "aliases", params={"pspid": "SANDBOX"})["aliases"]
    assert {"alias": alias, "cardno": "XXXXXXXXXXXX1111"}.items() <= \
        next(a for a in aliases if a["alias"] == alias).items()


def test_separate_directlink_passphrase(sandbox):
    merchant = new_merchant(sandbox, directlink_sha_in="dl-only-passphrase")
    assert new_order(merchant.client()).ncerror_plus == "unknown order/1/s"
    merchant.settings["sha_in"] = "dl-only-passphrase"
    assert new_order(merchant.client()).status is Status.PAYMENT_REQUESTED


def test_prod_path(sandbox):
    merchant = new_merchant(sandbox)
    from ogone_core import DirectLinkClient, RequestsTransport
    client = DirectLinkClient(merchant.account(env="prod"), RequestsTransport(read_timeout=15))
    refused = new_order(client)
    assert refused.ncerror == "50001118" and "the sandbox is a test platform" in refused.ncerror_plus
    merchant.update(allow_prod=True)
    assert new_order(client).status is Status.PAYMENT_REQUESTED
