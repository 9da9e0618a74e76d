"""The remaining texts the sandbox gives, each asserted where a client or a person meets it."""
from __future__ import annotations

from decimal import Decimal

import requests

from ogone_core import AliasGatewayRequest, Card, OrderRequest, Status, ThreeDSecure
from ogone_core.sandbox.customer import authenticate, create_alias
from sandbox_fixtures import default_merchant, unique


def card(number):
    return Card(number, "12/39", "123")


def test_directlink_status_texts(sandbox):
    client = default_merchant(sandbox).client()
    uncertain = client.new_order(OrderRequest(unique("E"), Decimal("1"), "EUR", card=card("4000000000000523")))
    assert uncertain.ncerror_plus.startswith("We received an unknown status for the transaction.")
    assert uncertain.ncstatus == "2"
    refused = client.new_order(OrderRequest(unique("E"), Decimal("1"), "EUR", card=card("4000000000000937")))
    assert refused.ncerror_plus == "Payment refused by the acquirer"
    broken = client.new_order(OrderRequest(unique("E"), Decimal("1"), "EUR", card=card("4000000000000408")))
    assert broken.ncerror_plus == "A technical problem occurred, please try again." and broken.ncstatus == "4"
    secure = ThreeDSecure("http://shop.example/ok", "http://shop.example/ko", "http://shop.example/ex")
    pending = client.new_order(OrderRequest(unique("E"), Decimal("1"), "EUR", card=card("4000000000000002"),
                                            three_d_secure=secure))
    authenticate(pending.html_answer, three_ds="fail")
    failed = client.query(pay_id=pending.pay_id)
    assert failed.status is Status.AUTHORIZATION_REFUSED
    assert failed.ncerror_plus == "Authentication failed, please retry or cancel."


def test_payment_session_texts(sandbox):
    base = sandbox.test_base_url
    unknown = requests.post(f"{base}order_agree_utf8.asp", data={"PAYMENT_TOKEN": "nope", "action": "pay"}).text
    assert 'id="error-text">unknown or expired payment session<' in unknown
    acs = requests.post(f"{base}Test_3D_ACS.asp", data={"MD": "nope"}).text
    assert 'id="error-text">unknown or expired payment session<' in acs


def test_alias_gateway_texts(sandbox):
    merchant = default_merchant(sandbox)
    form = AliasGatewayRequest("http://shop.example/ok", "http://shop.example/ko").render(merchant.account())
    fields = [(name, value) for name, value in form.fields if name not in ("ACCEPTURL", "SHASIGN")]
    from ogone_core import compute_shasign
    signed = fields + [("SHASIGN", compute_shasign(fields, merchant.settings["sha_in"], "sha512"))]
    page = requests.post(form.action, data=signed + [("CARDNO", "4111111111111111")]).text
    assert 'id="error-text">no accepturl<' in page
    bad_alias = [(n, v) for n, v in form.fields if n != "SHASIGN"] + [("ALIAS", "not valid!")]
    bad_alias.append(("SHASIGN", compute_shasign(bad_alias, merchant.settings["sha_in"], "sha512")))
    result = create_alias(form.action, bad_alias, "4111111111111111")
    assert result.params["STATUS"] == "1" and result.params["NCERROR"] == "50001111"
    assert result.params["NCERRORPLUS"] == " invalid alias"
