"""The hosted payment page: rendered fields, their signature, the action URL and the auto-submit page."""
import hashlib
from decimal import Decimal
from urllib.parse import parse_qsl

import pytest

from ogone_core.account import Account
from ogone_core.errors import InvalidRequest
from ogone_core.hosted_page import HostedPaymentRequest, SignedForm
from ogone_core.signing import compute_shasign
from ogone_core.validation import Operation

SHA_IN = "Shop-SHA-in-2024!"


def account(**overrides):
    settings = dict(pspid="MyPSPID", sha_in=SHA_IN, sha_out="Shop-SHA-out-2024?", algorithm="sha512")
    settings.update(overrides)
    return Account(**settings)


def test_minimal_request_fields_and_signature():
    form = HostedPaymentRequest("1234", Decimal("15.00"), "EUR").render(account(algorithm="sha1"))
    assert form.fields[:-1] == (
        ("PSPID", "MyPSPID"), ("ORDERID", "1234"), ("AMOUNT", "1500"), ("CURRENCY", "EUR"),
        ("LANGUAGE", "en_US"), ("OPERATION", "SAL"))
    assert form.fields[-1][0] == "SHASIGN"
    string = "".join(f"{name}={value}{SHA_IN}" for name, value in sorted(form.fields[:-1]))
    assert form.fields[-1][1] == hashlib.sha1(string.encode("utf-8")).hexdigest().upper()


def test_official_example_request():
    # V1 with the documentation's passphrase: the same fields plus OPERATION, signed with SHA-1.
    form = HostedPaymentRequest("1234", Decimal("15.00"), "EUR").render(
        Account("MyPSPID", "Mysecretsig1875!?", "out", algorithm="sha1"))
    expected = compute_shasign(
        {"AMOUNT": "1500", "CURRENCY": "EUR", "LANGUAGE": "en_US", "ORDERID": "1234", "PSPID": "MyPSPID",
         "OPERATION": "SAL"}, "Mysecretsig1875!?", "sha1")
    assert form.as_dict()["SHASIGN"] == expected


@pytest.mark.parametrize("amount, currency, wire", [
    (Decimal("19.99"), "EUR", "1999"), ("0.01", "EUR", "1"), (Decimal("1500"), "JPY", "150000"),
    (Decimal("1.23"), "KWD", "123"), (7, "EUR", "700"), (Decimal("12.5"), "EUR", "1250"),
])
def test_amount_is_the_amount_times_100_in_every_currency(amount, currency, wire):
    form = HostedPaymentRequest("A-1", amount, currency).render(account())
    assert form.as_dict()["AMOUNT"] == wire
    assert form.as_dict()["CURRENCY"] == currency


def test_operation_res():
    request = HostedPaymentRequest("A-1", Decimal("10"), "EUR", operation=Operation.AUTHORIZATION)
    assert request.render(account()).as_dict()["OPERATION"] == "RES"
    assert HostedPaymentRequest("A-1", Decimal("10"), "EUR", operation="RES").render(
        account()).as_dict()["OPERATION"] == "RES"


@pytest.mark.parametrize("operation", [Operation.REFUND_PARTIAL, "DEL", "PAU"])
def test_other_operations_are_refused(operation):
    with pytest.raises(InvalidRequest, match="RES or SAL"):
        HostedPaymentRequest("A-1", Decimal("10"), "EUR", operation=operation)


def test_paramplus_is_url_encoded():
    request = HostedPaymentRequest("A-1", Decimal("10"), "EUR",
                                   paramplus={"payment": "42", "token": "a b&c=d"})
    fields = request.render(account()).as_dict()
    assert fields["PARAMPLUS"] == "payment=42&token=a+b%26c%3Dd"
    assert dict(parse_qsl(fields["PARAMPLUS"])) == {"payment": "42", "token": "a b&c=d"}


def test_alias_fields():
    request = HostedPaymentRequest("A-1", Decimal("10"), "EUR", alias="CUST-0042",
                                   alias_usage="Save your card for next time", alias_operation="BYMERCHANT")
    fields = request.render(account()).as_dict()
    assert fields["ALIAS"] == "CUST-0042"
    assert fields["ALIASUSAGE"] == "Save your card for next time"
    assert fields["ALIASOPERATION"] == "BYMERCHANT"


@pytest.mark.parametrize("alias", ["bad alias", "x" * 51, "alias\n", "ålias"])
def test_invalid_alias_is_refused(alias):
    with pytest.raises(InvalidRequest, match="ALIAS"):
        HostedPaymentRequest("A-1", Decimal("10"), "EUR", alias=alias)


def test_empty_optional_fields_are_not_sent():
    names = [name for name, _ in HostedPaymentRequest("A-1", Decimal("10"), "EUR").render(account()).fields]
    assert names == ["PSPID", "ORDERID", "AMOUNT", "CURRENCY", "LANGUAGE", "OPERATION", "SHASIGN"]


def test_full_request_is_verifiable_by_recomputing_the_signature():
    request = HostedPaymentRequest(
        "ORDER_2024-0001", Decimal("1234.56"), "EUR", language="fr_FR", customer_name="Zoë d'Arc",
        email="zoe@example.com", owner_address="1 rue de la Paix", owner_zip="75002", owner_town="Paris",
        owner_country="FR", owner_phone="+33 1 23 45 67 89", description="Invoice 42",
        accept_url="https://shop.example/ok?x=1&y=2", decline_url="https://shop.example/ko",
        exception_url="https://shop.example/ex", cancel_url="https://shop.example/cancel",
        alias="A1", alias_usage="keep", complus="c+1", paramplus={"p": "1"}, template="https://shop.example/t",
        title="Pay", payment_method="CreditCard", brand="VISA", win3ds="MAINW", extra={"ecom_shipto_dob": "01/01/1990"})
    acc = account(algorithm="sha256")
    form = request.render(acc)
    fields = form.as_dict()
    assert fields["CN"] == "Zoë d'Arc"
    assert fields["ECOM_SHIPTO_DOB"] == "01/01/1990"
    assert fields["TP"] == "https://shop.example/t"
    assert fields["COM"] == "Invoice 42"
    unsigned = [pair for pair in form.fields if pair[0] != "SHASIGN"]
    assert fields["SHASIGN"] == compute_shasign(unsigned, SHA_IN, "sha256", "in")
    assert len(fields["SHASIGN"]) == 64
    assert form.fields[-1][0] == "SHASIGN"


def test_signature_changes_with_the_passphrase():
    request = HostedPaymentRequest("A-1", Decimal("10"), "EUR")
    assert request.render(account()).as_dict()["SHASIGN"] != request.render(
        account(sha_in="another")).as_dict()["SHASIGN"]


def test_action_url():
    request = HostedPaymentRequest("A-1", Decimal("10"), "EUR")
    assert request.render(account()).action == "https://ogone.test.v-psp.com/ncol/test/orderstandard_utf8.asp"
    assert request.render(account(environment="prod")).action == (
        "https://secure.ogone.com/ncol/prod/orderstandard_utf8.asp")
    assert request.render(account(environment="prod", charset="iso-8859-1")).action == (
        "https://secure.ogone.com/ncol/prod/orderstandard.asp")
    assert request.render(account(environment="http://127.0.0.1:8080")).action == (
        "http://127.0.0.1:8080/ncol/test/orderstandard_utf8.asp")


def test_iso_8859_1_account_signs_in_latin_1_and_posts_in_latin_1():
    acc = account(charset="iso-8859-1", algorithm="sha1")
    form = HostedPaymentRequest("A-1", Decimal("10"), "EUR", customer_name="Zoë").render(acc)
    unsigned = [pair for pair in form.fields if pair[0] != "SHASIGN"]
    string = "".join(f"{name}={value}{SHA_IN}" for name, value in sorted(unsigned))
    assert form.as_dict()["SHASIGN"] == hashlib.sha1(string.encode("iso-8859-1")).hexdigest().upper()
    # The browser must post the bytes the signature was computed over.
    assert 'accept-charset="iso-8859-1"' in form.html()
    assert 'accept-charset="utf-8"' in HostedPaymentRequest("A-1", Decimal("10"), "EUR").render(account()).html()


def test_iso_8859_1_account_refuses_characters_outside_latin_1():
    request = HostedPaymentRequest("A-1", Decimal("10"), "EUR", customer_name="Лев Толстой")
    with pytest.raises(InvalidRequest, match="iso-8859-1"):
        request.render(account(charset="iso-8859-1"))


def test_html_page_posts_every_field_and_escapes_hostile_values():
    hostile = '"><script>alert(1)</script>'
    request = HostedPaymentRequest("A-1", Decimal("10"), "EUR", customer_name=hostile,
                                   accept_url='https://shop.example/ok?a=1&b="x"')
    form = request.render(account())
    page = form.html(title="<b>Pay</b>", button="Go & pay")
    assert "<script>" not in page
    assert '"><script>' not in page
    assert 'name="CN" value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in page
    assert 'value="https://shop.example/ok?a=1&amp;b=&quot;x&quot;"' in page
    assert "<title>&lt;b&gt;Pay&lt;/b&gt;</title>" in page
    assert "Go &amp; pay" in page
    assert ('<form method="post" action="https://ogone.test.v-psp.com/ncol/test/orderstandard_utf8.asp"'
            in page)
    assert 'onload="document.forms[0].submit()"' in page
    for name, value in form.fields:
        if name not in ("CN", "ACCEPTURL"):
            assert f'<input type="hidden" name="{name}" value="{value}">' in page
    assert page.count('<input type="hidden"') == len(form.fields)
    # the signature covers the raw value, not the escaped one
    unsigned = [pair for pair in form.fields if pair[0] != "SHASIGN"]
    assert form.as_dict()["CN"] == hostile
    assert form.as_dict()["SHASIGN"] == compute_shasign(unsigned, SHA_IN, "sha512")


def test_html_escapes_the_action_url():
    page = SignedForm('https://x.example/"onmouseover="alert(1)', (("A", "1"),)).html()
    assert 'action="https://x.example/&quot;onmouseover=&quot;alert(1)"' in page


@pytest.mark.parametrize("order_id", ["x" * 41, "order 1", "commandé", "", "a/b", "a.b", "id\n", "\nid",
                                      "ORDER\u0661", None, 1234])
def test_invalid_order_ids_are_refused(order_id):
    with pytest.raises(InvalidRequest, match="ORDERID"):
        HostedPaymentRequest(order_id, Decimal("10"), "EUR")


@pytest.mark.parametrize("order_id", ["x" * 40, "A", "ORDER_2024-0001", "0"])
def test_valid_order_ids_are_accepted(order_id):
    assert HostedPaymentRequest(order_id, Decimal("10"), "EUR").render(account()).as_dict()["ORDERID"] == order_id


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("0.00"), Decimal("-1"), -5, "0"])
def test_non_positive_amounts_are_refused(amount):
    with pytest.raises(InvalidRequest, match="positive|negative"):
        HostedPaymentRequest("A-1", amount, "EUR")


@pytest.mark.parametrize("amount, currency", [(19.99, "EUR"), (Decimal("19.999"), "EUR"),
                                              (Decimal("1500.001"), "JPY"), (Decimal("1.235"), "KWD"),
                                              (Decimal("10"), "ZZZ")])
def test_bad_amounts_and_currencies_are_refused(amount, currency):
    with pytest.raises(InvalidRequest):
        HostedPaymentRequest("A-1", amount, currency)


def test_extra_may_not_override_own_fields_or_the_signature():
    for name in ("amount", "ORDERID", "PSPID", "SHASign"):
        with pytest.raises(InvalidRequest, match="own field"):
            HostedPaymentRequest("A-1", Decimal("10"), "EUR", extra={name: "1"}).render(account())


def test_alias_persisted_after_use_is_y_or_n():
    with pytest.raises(InvalidRequest):
        HostedPaymentRequest("A-1", Decimal("10"), "EUR", alias_persisted_after_use="yes")
    request = HostedPaymentRequest("A-1", Decimal("10"), "EUR", alias="A1", alias_persisted_after_use="N")
    assert request.render(account()).as_dict()["ALIASPERSISTEDAFTERUSE"] == "N"


def test_request_amount_is_kept_as_decimal():
    assert HostedPaymentRequest("A-1", "19.99", "EUR").amount == Decimal("19.99")
