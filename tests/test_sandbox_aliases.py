"""Aliases: the Alias Gateway, aliases stored during a hosted-page payment, and their use in DirectLink."""
from __future__ import annotations

import sqlite3
from decimal import Decimal

import pytest
import requests

from ogone_core import (AliasGatewayRequest, AliasStatus, HostedPaymentRequest, OrderRequest, Status,
                        verify_alias_feedback, verify_feedback)
from ogone_core.sandbox import start_server
from ogone_core.sandbox.customer import CustomerError, create_alias, pay
from sandbox_fixtures import admin, default_merchant, new_merchant, unique


def gateway_form(merchant, charset="utf-8", **options):
    request = AliasGatewayRequest("http://shop.example/alias-ok", "http://shop.example/alias-ko", **options)
    return request.render(merchant.account(charset))


@pytest.mark.parametrize("charset", ["utf-8", "iso-8859-1"])
def test_alias_gateway_creates_then_updates(sandbox, charset):
    merchant = new_merchant(sandbox)
    alias = unique("AG")
    form = gateway_form(merchant, charset, alias=alias, order_id=unique("O"), paramplus={"cart": "7"})
    assert form.action.endswith("alias_gateway_utf8.asp" if charset == "utf-8" else "alias_gateway.asp")
    created = create_alias(form.action, form.fields, "5399999999999999", holder="Zoë Card")
    assert created.base_url == "http://shop.example/alias-ok"
    feedback = verify_alias_feedback(created.pairs, merchant.settings["sha_out"], "sha512", charset)
    assert feedback.status is AliasStatus.OK and feedback.alias == alias and feedback.ok
    assert feedback.card_number == "XXXXXXXXXXXX9999" and feedback.brand == "MasterCard"
    assert feedback.card_holder == "Zoë Card" and feedback.unsigned["cart"] == "7"
    updated = create_alias(form.action, form.fields, "4111111111111111")
    assert verify_alias_feedback(updated.pairs, merchant.settings["sha_out"], "sha512", charset).status \
        is AliasStatus.UPDATED
    charge = merchant.client(charset).new_order(OrderRequest(unique("O"), Decimal("12"), "EUR", alias=alias, eci="9"))
    assert charge.status is Status.PAYMENT_REQUESTED and charge.brand == "VISA"


def test_alias_gateway_names_the_alias_when_the_merchant_does_not(sandbox):
    merchant = default_merchant(sandbox)
    form = gateway_form(merchant)
    result = create_alias(form.action, form.fields, "374111111111111", cvc="1234")
    feedback = verify_alias_feedback(result.pairs, merchant.settings["sha_out"], "sha512")
    assert feedback.status is AliasStatus.OK and len(feedback.alias) == 32


def test_alias_gateway_card_errors_go_to_exceptionurl(sandbox):
    merchant = default_merchant(sandbox)
    form = gateway_form(merchant, alias=unique("AG"))
    result = create_alias(form.action, form.fields, "", expiry="13/30", cvc="")
    assert result.base_url == "http://shop.example/alias-ko"
    feedback = verify_alias_feedback(result.pairs, merchant.settings["sha_out"], "sha512")
    assert feedback.status is AliasStatus.NOT_OK and not feedback.ok
    assert feedback.ncerror == "50001178"
    # Fields without a problem say "0", as NCERROR does.
    assert {name: code for name, code in feedback.field_errors.items() if code != "0"} == {
        "NCERRORCARDNO": "50001178", "NCERRORED": "50001182", "NCERRORCVC": "50001090"}
    assert result.params["NCERRORCN"] == "0"
    assert result.params["NCERRORPLUS"] == ("Card Number Empty|Invalid expiration month|"
                                            "CVC missing at input, but CVC check asked")
    same = gateway_form(merchant, alias="4111111111111111")
    result = create_alias(same.action, same.fields, "4111111111111111")
    assert result.params["NCERROR"] == "50001216" and result.params["STATUS"] == "1"


def test_alias_gateway_signature_errors(sandbox):
    merchant = default_merchant(sandbox)
    form = gateway_form(merchant, alias=unique("AG"))
    tampered = [(n, "http://evil.example/" if n == "ACCEPTURL" else v) for n, v in form.fields]
    page = requests.post(form.action, data=tampered + [("CARDNO", "4111111111111111")], timeout=30).text
    assert 'id="error-text">unknown order/1/s<' in page
    unsigned = [(n, v) for n, v in form.fields if n != "SHASIGN"]
    page = requests.post(form.action, data=unsigned, timeout=30).text
    assert 'id="error-text">unknown order/0/s<' in page
    stranger = [(n, "NOBODY" if n == "PSPID" else v) for n, v in form.fields]
    assert "Pspid not found or not correct" in requests.post(form.action, data=stranger, timeout=30).text


def test_hosted_page_stores_an_alias_and_shows_it_next_time(sandbox):
    merchant = default_merchant(sandbox)
    alias = unique("HA")
    request = HostedPaymentRequest(unique("O"), Decimal("5"), "EUR", alias=alias,
                                   alias_usage="Saved for your next order", accept_url="http://shop.example/ok")
    form = request.render(merchant.account())
    result = pay(form.action, form.fields, "5555555555554444")
    feedback = verify_feedback(result.pairs, merchant.settings["sha_out"], "sha512")
    assert feedback.alias == alias and feedback.status is Status.PAYMENT_REQUESTED
    # Next hosted payment with the alias: the page shows the stored card, and keeping it pays with it.
    second = HostedPaymentRequest(unique("O"), Decimal("6"), "EUR", alias=alias, accept_url="http://shop.example/ok")
    form = second.render(merchant.account())
    page = requests.post(form.action, data=list(form.fields), timeout=30).text
    assert 'value="XXXXXXXXXXXX4444"' in page and "Saved for your next order" not in page
    again = pay(form.action, form.fields, "XXXXXXXXXXXX4444")
    assert again.status == 9 and again.params["CARDNO"] == "XXXXXXXXXXXX4444"
    # And DirectLink can charge it without card data.
    charge = merchant.client().new_order(OrderRequest(unique("O"), Decimal("7"), "EUR", alias=alias, eci="9"))
    assert charge.status is Status.PAYMENT_REQUESTED and charge.brand == "MasterCard"


def test_refused_hosted_payment_stores_no_alias_and_bypsp_names_one(sandbox):
    merchant = default_merchant(sandbox)
    alias = unique("HA")
    request = HostedPaymentRequest(unique("O"), Decimal("5"), "EUR", alias=alias)
    form = request.render(merchant.account())
    assert pay(form.action, form.fields, "4000000000000028").status == 2
    names = {a["alias"] for a in admin(sandbox, "GET", "aliases", params={"pspid": "SANDBOX"})["aliases"]}
    assert alias not in names
    request = HostedPaymentRequest(unique("O"), Decimal("5"), "EUR", alias_operation="BYPSP",
                                   accept_url="http://shop.example/ok")
    form = request.render(merchant.account())
    result = pay(form.action, form.fields, "4111111111111111")
    assert len(result.params["ALIAS"]) == 32


def test_no_card_number_is_ever_stored(tmp_path):
    state = tmp_path / "state.sqlite3"
    with start_server(state_path=state) as server:
        merchant = default_merchant(server)
        form = gateway_form(merchant, alias="STORED-1")
        create_alias(form.action, form.fields, "4000000000000002")
        request = HostedPaymentRequest(unique("O"), Decimal("5"), "EUR", alias="STORED-2")
        form = request.render(merchant.account())
        pay(form.action, form.fields, "5399999999999999", cvc="987")
        merchant.client().new_order(OrderRequest(unique("O"), Decimal("1"), "EUR", alias="STORED-3",
                                                 card=__import__("ogone_core").Card("374111111111111", "12/39",
                                                                                    "4321")))
    data = b"".join(path.read_bytes() for path in tmp_path.iterdir())
    for number in (b"4000000000000002", b"5399999999999999", b"374111111111111"):
        assert number not in data, number
    with sqlite3.connect(state) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        values = [str(value) for table in tables for row in db.execute(f"SELECT * FROM {table}") for value in row]
        assert values and not [value for value in values if value in ("987", "4321")]
        assert {row[0] for row in db.execute("SELECT cardno FROM aliases")} == {
            "XXXXXXXXXXXX0002", "XXXXXXXXXXXX9999", "XXXXXXXXXXX1111"}


def _aliases(server, pspid):
    return {a["alias"] for a in admin(server, "GET", "aliases", params={"pspid": pspid})["aliases"]}


def test_customer_who_ticks_the_checkbox_keeps_the_card(sandbox):
    merchant = new_merchant(sandbox, alias_checkbox=True)
    alias = unique("CB")
    request = HostedPaymentRequest(unique("O"), Decimal("5"), "EUR", alias=alias,
                                   alias_usage="Keep my card for the next invoices",
                                   accept_url="http://shop.example/ok")
    form = request.render(merchant.account())
    page = requests.post(form.action, data=list(form.fields), timeout=30).text
    # ALIASUSAGE labels the checkbox, which starts unticked: keeping the card is the customer's choice.
    assert ('<input type="checkbox" id="STOREALIAS" name="STOREALIAS" value="Y"> '
            'Keep my card for the next invoices</label>') in page
    result = pay(form.action, form.fields, "5555555555554444", save_card=True)
    feedback = verify_feedback(result.pairs, merchant.settings["sha_out"], "sha512")
    assert feedback.status is Status.PAYMENT_REQUESTED and feedback.alias == alias
    assert alias in _aliases(sandbox, merchant.pspid)
    charge = merchant.client().new_order(OrderRequest(unique("O"), Decimal("7"), "EUR", alias=alias, eci="9"))
    assert charge.status is Status.PAYMENT_REQUESTED


@pytest.mark.parametrize("card", ["4111111111111111", "4000000000000002"])
def test_customer_who_leaves_the_checkbox_keeps_no_card(sandbox, card):
    merchant = new_merchant(sandbox, alias_checkbox=True)
    alias = unique("CB")
    request = HostedPaymentRequest(unique("O"), Decimal("5"), "EUR", alias=alias, accept_url="http://shop.example/ok")
    form = request.render(merchant.account())
    # 4000000000000002 asks for 3-D Secure: the choice made on the card page holds after the challenge.
    result = pay(form.action, form.fields, card)
    assert result.status == 9
    assert result.params["ALIAS"] == ""
    feedback = verify_feedback(result.pairs, merchant.settings["sha_out"], "sha512")
    assert feedback.status is Status.PAYMENT_REQUESTED and feedback.alias == ""
    assert alias not in _aliases(sandbox, merchant.pspid)
    transaction, = admin(sandbox, "GET", "transactions", params={"orderid": request.order_id})["transactions"]
    assert transaction["alias"] == ""
    charge = merchant.client().new_order(OrderRequest(unique("O"), Decimal("7"), "EUR", alias=alias, eci="9"))
    assert charge.status is not Status.PAYMENT_REQUESTED and charge.ncerror == "50001111"


def test_checkbox_ticked_through_3d_secure_keeps_the_card(sandbox):
    merchant = new_merchant(sandbox, alias_checkbox=True)
    alias = unique("CB")
    request = HostedPaymentRequest(unique("O"), Decimal("5"), "EUR", alias=alias, accept_url="http://shop.example/ok")
    form = request.render(merchant.account())
    result = pay(form.action, form.fields, "4000000000000002", save_card=True)
    assert result.status == 9 and result.params["ALIAS"] == alias
    assert alias in _aliases(sandbox, merchant.pspid)


def test_no_checkbox_without_the_setting_or_without_alias(sandbox):
    merchant = new_merchant(sandbox)
    alias = unique("CB")
    request = HostedPaymentRequest(unique("O"), Decimal("5"), "EUR", alias=alias, accept_url="http://shop.example/ok")
    form = request.render(merchant.account())
    assert "STOREALIAS" not in requests.post(form.action, data=list(form.fields), timeout=30).text
    with pytest.raises(CustomerError, match="^the payment page offers no checkbox to save the card$"):
        pay(form.action, form.fields, "4111111111111111", save_card=True)
    # The merchant decides alone, as before: the card is kept.
    assert pay(form.action, form.fields, "4111111111111111").params["ALIAS"] == alias
    assert alias in _aliases(sandbox, merchant.pspid)
    merchant.update(alias_checkbox=True)
    plain = HostedPaymentRequest(unique("O"), Decimal("5"), "EUR", accept_url="http://shop.example/ok")
    form = plain.render(merchant.account())
    assert "STOREALIAS" not in requests.post(form.action, data=list(form.fields), timeout=30).text


def test_alias_checkbox_setting_is_checked(sandbox):
    response = requests.post(f"{sandbox.url}/admin/api/merchants",
                             json={"pspid": unique("M"), "sha_in": "x" * 20, "alias_checkbox": "yes"}, timeout=10)
    assert response.status_code == 400 and "alias_checkbox is true or false" in response.text
