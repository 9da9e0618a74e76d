"""The DirectLink client: exactly what it sends, what it refuses to build, and how it reports outcomes."""
import logging
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from ogone_core.account import Account
from ogone_core.amounts import format_plain_amount
from ogone_core.directlink import Card, DirectLinkClient, MaintenanceRequest, OrderRequest, ThreeDSecure
from ogone_core.errors import (ConfigurationError, ConnectionFailed, InvalidRequest, OutcomeUnknown,
                               ProtocolError, ServerError, UnreadableOutcome)
from ogone_core.signing import compute_shasign
from ogone_core.status import Category, Status
from ogone_core.transport import HttpResponse
from ogone_core.validation import Operation

FIXTURES = Path(__file__).parent / "fixtures" / "directlink"
SHA_IN = "Dl-SHA-in-2024!"
API_PASSWORD = "api-Pa55word!"
TEST_BASE = "https://ogone.test.v-psp.com/ncol/test/"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def account(**overrides) -> Account:
    settings = dict(pspid="MyPSPID", sha_in=SHA_IN, sha_out="Dl-SHA-out-2024?", api_user_id="apiuser",
                    api_password=API_PASSWORD, algorithm="sha512")
    settings.update(overrides)
    return Account(**settings)


@dataclass
class Call:
    url: str
    data: list
    encoding: str
    retry_safe: bool
    reference: str


class RecordingTransport:
    """Records what the client posts; answers from a list (an exception in the list is raised), with the
    ORDERID, PAYID, the plain amount (AMOUNT / 100) and the currency that were sent in place of the fixture's, as the
    platform echoes them (unless ``echo=False``)."""

    def __init__(self, *replies, echo=True):
        self.replies = list(replies) or [HttpResponse(200, fixture("approved_9.xml"), "text/xml")]
        self.calls: list[Call] = []
        self.echo = echo

    def post(self, url, data, *, encoding, retry_safe, reference=""):
        self.calls.append(Call(url, list(data), encoding, retry_safe, reference))
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if isinstance(reply, Exception):
            raise reply
        sent = dict(data)
        if self.echo:
            body = reply.body
            if sent.get("ORDERID"):
                body = re.sub(rb'orderID="[^"]*"', b'orderID="' + sent["ORDERID"].encode() + b'"', body)
            if sent.get("PAYID"):
                body = re.sub(rb'PAYID="[^"]*"', b'PAYID="' + sent["PAYID"].encode() + b'"', body)
            if sent.get("AMOUNT"):
                plain = format_plain_amount(int(sent["AMOUNT"])).encode()
                body = re.sub(rb'amount="[^"]+"', b'amount="' + plain + b'"', body)
                body = re.sub(rb'currency="[^"]+"', b'currency="' + sent["CURRENCY"].encode() + b'"', body)
            reply = HttpResponse(reply.status_code, body, reply.content_type)
        return reply

    @property
    def sent(self) -> list:
        assert len(self.calls) == 1
        return self.calls[0].data


def client(transport=None, **account_overrides):
    transport = transport or RecordingTransport()
    return DirectLinkClient(account(**account_overrides), transport), transport


def assert_signed(sent, sha_in=SHA_IN, algorithm="sha512", encoding="utf-8"):
    """SHASIGN comes last and is the SHA-IN signature of everything before it, as sent."""
    assert sent[-1][0] == "SHASIGN"
    assert [name for name, _ in sent].count("SHASIGN") == 1
    assert sent[-1][1] == compute_shasign(sent[:-1], sha_in, algorithm, "in", encoding)


def credentials():
    return [("PSPID", "MyPSPID"), ("USERID", "apiuser"), ("PSWD", API_PASSWORD)]


def visa(**overrides) -> Card:
    settings = dict(number="4111 1111 1111 1111", expiry="12/30", cvc="123", holder="Zoë Ærø")
    settings.update(overrides)
    return Card(**settings)


# ------------------------------------------------------------------------------------------ new order

def test_new_order_with_a_card_sends_exactly_these_parameters():
    dl, transport = client()
    response = dl.new_order(OrderRequest("ORD-1001", Decimal("15.00"), "EUR", card=visa(), email="a@b.example"))
    call = transport.calls[0]
    assert call.url == TEST_BASE + "orderdirect_utf8.asp"
    assert (call.encoding, call.retry_safe, call.reference) == ("utf-8", False, "ORD-1001")
    assert call.data[:-1] == credentials() + [
        ("ORDERID", "ORD-1001"), ("AMOUNT", "1500"), ("CURRENCY", "EUR"), ("OPERATION", "SAL"),
        ("CN", "Zoë Ærø"), ("EMAIL", "a@b.example"), ("RTIMEOUT", "30"), ("CARDNO", "4111111111111111"),
        ("ED", "1230"), ("CVC", "123")]
    assert_signed(call.data)
    assert (response.status, response.pay_id, response.amount) == (
        Status.PAYMENT_REQUESTED, "3014726912", Decimal("15"))


@pytest.mark.parametrize("algorithm", ["sha1", "sha256", "sha512"])
def test_signature_follows_the_account_algorithm(algorithm):
    dl, transport = client(algorithm=algorithm)
    dl.new_order(OrderRequest("ORD-1", Decimal("1"), "EUR", card=visa()))
    assert len(transport.sent[-1][1]) == {"sha1": 40, "sha256": 64, "sha512": 128}[algorithm]
    assert_signed(transport.sent, algorithm=algorithm)


def test_api_password_and_user_are_signed():
    dl, transport = client()
    dl.new_order(OrderRequest("ORD-1", Decimal("1"), "EUR", card=visa()))
    without_password = [pair for pair in transport.sent[:-1] if pair[0] != "PSWD"]
    assert transport.sent[-1][1] != compute_shasign(without_password, SHA_IN, "sha512")


@pytest.mark.parametrize("operation, code", [
    (Operation.AUTHORIZATION, "RES"), (Operation.SALE, "SAL"), ("RES", "RES"), ("SAL", "SAL")])
def test_new_order_operation(operation, code):
    dl, transport = client()
    dl.new_order(OrderRequest("ORD-1", Decimal("10"), "EUR", operation=operation, card=visa()))
    assert dict(transport.sent)["OPERATION"] == code


@pytest.mark.parametrize("amount, currency, wire", [
    (Decimal("1500"), "JPY", "150000"), (Decimal("15.00"), "EUR", "1500"), (Decimal("0.01"), "EUR", "1"),
    (Decimal("1.23"), "KWD", "123"), (Decimal("1.230"), "KWD", "123"), (Decimal("1.5"), "KWD", "150"),
    (7, "EUR", "700"), ("19.99", "EUR", "1999"), (Decimal("12.5"), "EUR", "1250"),
])
def test_amount_is_the_amount_times_100_in_every_currency(amount, currency, wire):
    dl, transport = client()
    response = dl.new_order(OrderRequest("ORD-1", amount, currency, card=visa()))
    sent = dict(transport.sent)
    assert (sent["AMOUNT"], sent["CURRENCY"]) == (wire, currency)
    assert response.amount == Decimal(amount)


@pytest.mark.parametrize("sent_amount, currency, answer", [
    (Decimal("1500"), "JPY", b'amount="15"'),  # the ISO-exponent reading of AMOUNT=1500
    (Decimal("1.5"), "KWD", b'amount="15"'),
    (Decimal("12.5"), "EUR", b'amount="125"'),
    (Decimal("12.5"), "EUR", b'amount="12.5" currency="USD"'),
])
def test_an_answer_about_another_amount_is_an_unknown_outcome(sent_amount, currency, answer):
    body = b'<ncresponse orderID="ORD-7" PAYID="77" NCERROR="0" STATUS="9" ' + answer + (
        b' currency="' + currency.encode() + b'"/>' if b"currency" not in answer else b"/>")
    dl, _ = client(RecordingTransport(HttpResponse(200, body, "text/xml"), echo=False))
    with pytest.raises(UnreadableOutcome, match="the answer says .* the request asked .*query") as caught:
        dl.new_order(OrderRequest("ORD-7", sent_amount, currency, card=visa()))
    assert caught.value.order_id == "ORD-7"


@pytest.mark.parametrize("answer_amount", [b"15", b"1500", b"2000", b"3000"])
def test_a_maintenance_answer_is_read_whatever_amount_it_carries(answer_amount):
    "Undocumented whether it is the order's amount or the operation's: the PAYID says which payment it is"
    body = (b'<ncresponse orderID="ORD-7" PAYID="77" PAYIDSUB="1" NCERROR="0" STATUS="91" amount="'
            + answer_amount + b'" currency="JPY"/>')
    dl, _ = client(RecordingTransport(HttpResponse(200, body, "text/xml"), echo=False))
    response = dl.capture("77", Decimal("1500"), "JPY", last=False)
    assert (response.status, response.pay_id, response.amount) == (
        Status.PAYMENT_PROCESSING, "77", Decimal(answer_amount.decode()))


def test_an_order_answer_giving_status_twice_is_an_unknown_outcome():
    body = b'<ncresponse orderID="ORD-7" PAYID="77" NCERROR="0" STATUS="2" status="9" amount="15" currency="EUR"/>'
    dl, _ = client(RecordingTransport(HttpResponse(200, body, "text/xml"), echo=False))
    with pytest.raises(UnreadableOutcome, match="STATUS twice, in different case; the request may have been") as caught:
        dl.new_order(OrderRequest("ORD-7", Decimal("15"), "EUR", card=visa()))
    assert caught.value.order_id == "ORD-7"


def test_a_maintenance_answer_about_another_payment_is_an_unknown_outcome():
    body = b'<ncresponse orderID="ORD-7" PAYID="78" PAYIDSUB="1" NCERROR="0" STATUS="91" amount="15" currency="JPY"/>'
    dl, _ = client(RecordingTransport(HttpResponse(200, body, "text/xml"), echo=False))
    with pytest.raises(UnreadableOutcome, match="^the answer is about PAYID '78', not '77'; query before") as caught:
        dl.refund("77", Decimal("15"), "JPY")
    assert caught.value.pay_id == "77"


def test_a_maintenance_by_order_id_answered_about_another_order_is_an_unknown_outcome():
    body = b'<ncresponse orderID="ORD-8" PAYID="78" PAYIDSUB="1" NCERROR="0" STATUS="81" amount="15" currency="JPY"/>'
    dl, _ = client(RecordingTransport(HttpResponse(200, body, "text/xml"), echo=False))
    with pytest.raises(UnreadableOutcome, match="the answer is about ORDERID 'ORD-8', not 'ORD-7'") as caught:
        dl.maintenance(MaintenanceRequest("RFD", order_id="ORD-7", amount=Decimal("15"), currency="JPY"))
    assert caught.value.order_id == "ORD-7"


def test_a_refusal_without_an_amount_is_an_answer():
    body = (b'<ncresponse orderID="ORD-7" PAYID="0" NCERROR="50001111" NCERRORPLUS=" no card no" STATUS="0" '
            b'amount="" currency="JPY"/>')
    dl, _ = client(RecordingTransport(HttpResponse(200, body, "text/xml"), echo=False))
    response = dl.new_order(OrderRequest("ORD-7", Decimal("1500"), "JPY", card=visa()))
    assert (response.status, response.amount) == (Status.INVALID, None)


@pytest.mark.parametrize("amount, currency, message", [
    (Decimal("1500.001"), "JPY", "1500.001 JPY cannot be sent to Ogone: AMOUNT is the amount x 100, so an amount "
                                 "has at most 2 decimals"),
    (Decimal("1.001"), "EUR", "1.001 EUR cannot be sent to Ogone"),
    (Decimal("1.235"), "KWD", "1.235 KWD cannot be sent to Ogone"),
    (Decimal("10"), "XXY", "unknown currency 'XXY'"),
    (Decimal("0"), "EUR", "the amount of an order must be positive"),
    (Decimal("-5"), "EUR", "the amount of an order must be positive"),
])
def test_amount_refused(amount, currency, message):
    with pytest.raises(InvalidRequest, match=message):
        OrderRequest("ORD-1", amount, currency, card=visa())


def test_float_amount_is_refused():
    with pytest.raises(InvalidRequest, match="never float"):
        OrderRequest("ORD-1", 15.0, "EUR", card=visa())
    with pytest.raises(InvalidRequest, match="never float"):
        MaintenanceRequest(Operation.REFUND_PARTIAL, pay_id="1", amount=1.5, currency="EUR")


def test_alias_order_with_eci_9_sends_no_card_data():
    dl, transport = client()
    dl.new_order(OrderRequest("ORD-2", Decimal("42.00"), "EUR", alias="CUST-42-CARD", eci="9",
                              alias_persisted_after_use="Y", remote_addr="192.0.2.10"))
    assert transport.sent[:-1] == credentials() + [
        ("ORDERID", "ORD-2"), ("AMOUNT", "4200"), ("CURRENCY", "EUR"), ("OPERATION", "SAL"),
        ("ALIAS", "CUST-42-CARD"), ("ALIASPERSISTEDAFTERUSE", "Y"), ("ECI", "9"), ("REMOTE_ADDR", "192.0.2.10"),
        ("RTIMEOUT", "30")]
    assert_signed(transport.sent)


def test_card_and_alias_together_store_the_card_under_the_alias():
    dl, transport = client()
    dl.new_order(OrderRequest("ORD-3", Decimal("1"), "EUR", card=visa(holder=""), alias="NEW-ALIAS",
                              operation="RES", request_timeout=None))
    sent = dict(transport.sent)
    assert sent["ALIAS"] == "NEW-ALIAS"
    assert sent["CARDNO"] == "4111111111111111"
    assert "CN" not in sent  # an empty holder is not sent
    assert "RTIMEOUT" not in sent


def test_3d_secure_parameters():
    dl, transport = client()
    secure = ThreeDSecure(accept_url="https://shop.example/ok", decline_url="https://shop.example/ko",
                          exception_url="https://shop.example/ex", http_accept="text/html",
                          http_user_agent="Mozilla/5.0", paramplus={"payment": "17", "x": "a b"},
                          complus="P17", language="fr_FR")
    dl.new_order(OrderRequest("ORD-4", Decimal("99.99"), "EUR", card=visa(), three_d_secure=secure))
    assert transport.sent[:-1] == credentials() + [
        ("ORDERID", "ORD-4"), ("AMOUNT", "9999"), ("CURRENCY", "EUR"), ("OPERATION", "SAL"),
        ("CN", "Zoë Ærø"), ("RTIMEOUT", "30"), ("CARDNO", "4111111111111111"), ("ED", "1230"), ("CVC", "123"),
        ("FLAG3D", "Y"), ("HTTP_ACCEPT", "text/html"), ("HTTP_USER_AGENT", "Mozilla/5.0"),
        ("WIN3DS", "MAINW"), ("ACCEPTURL", "https://shop.example/ok"),
        ("DECLINEURL", "https://shop.example/ko"), ("EXCEPTIONURL", "https://shop.example/ex"),
        ("LANGUAGE", "fr_FR"), ("COMPLUS", "P17"), ("PARAMPLUS", "payment=17&x=a+b")]
    assert_signed(transport.sent)


def test_3d_secure_answer_gives_the_html_to_show():
    transport = RecordingTransport(HttpResponse(200, fixture("secure3d_46.xml"), "text/xml"))
    dl, _ = client(transport)
    response = dl.new_order(OrderRequest("ORD-5", Decimal("5"), "EUR", card=visa(),
                                         three_d_secure=ThreeDSecure("https://a.example/", "https://d.example/",
                                                                     "https://e.example/")))
    assert response.needs_authentication is True
    assert response.html_answer.startswith('<form name="downloadform3D"')
    sent = dict(transport.sent)
    assert (sent["HTTP_ACCEPT"], sent["WIN3DS"], sent["LANGUAGE"]) == ("*/*", "MAINW", "en_US")
    assert "HTTP_USER_AGENT" not in sent and "CANCELURL" not in sent and "PARAMPLUS" not in sent


def test_extra_parameters_are_sent_upper_cased_but_cannot_override():
    dl, transport = client()
    dl.new_order(OrderRequest("ORD-6", Decimal("1"), "EUR", card=visa(), extra={"withroot": "Y"}))
    assert dict(transport.sent)["WITHROOT"] == "Y"
    assert_signed(transport.sent)
    for name in ("AMOUNT", "pswd", "SHASIGN", "USERID", "PSPID", "cardno"):
        with pytest.raises(InvalidRequest, match=f"^{name} has its own field"):
            dl.new_order(OrderRequest("ORD-6", Decimal("1"), "EUR", card=visa(), extra={name: "x"}))
    assert len(transport.calls) == 1


# ---------------------------------------------------------------------------------------- charsets

def test_iso_8859_1_account_uses_the_plain_pages_and_signs_in_latin_1():
    dl, transport = client(charset="iso-8859-1")
    dl.new_order(OrderRequest("ORD-7", Decimal("1"), "EUR", card=visa()))
    call = transport.calls[0]
    assert call.url == TEST_BASE + "orderdirect.asp"
    assert call.encoding == "iso-8859-1"
    assert_signed(call.data, encoding="iso-8859-1")
    # The holder's name is not ASCII: the two charsets give different signatures.
    assert call.data[-1][1] != compute_shasign(call.data[:-1], SHA_IN, "sha512", "in", "utf-8")


@pytest.mark.parametrize("charset, suffix", [("utf-8", "_utf8"), ("iso-8859-1", "")])
def test_every_page_follows_the_charset(charset, suffix):
    dl, transport = client(charset=charset)
    dl.new_order(OrderRequest("ORD-8", Decimal("1"), "EUR", alias="A1"))
    dl.capture("3014726912")
    dl.query(order_id="ORD-8")
    assert [call.url for call in transport.calls] == [
        f"{TEST_BASE}orderdirect{suffix}.asp", f"{TEST_BASE}maintenancedirect{suffix}.asp",
        f"{TEST_BASE}querydirect{suffix}.asp"]
    assert {call.encoding for call in transport.calls} == {charset}


def test_production_and_custom_base_urls():
    dl, transport = client(environment="prod")
    dl.query(pay_id="1")
    assert transport.calls[0].url == "https://secure.ogone.com/ncol/prod/querydirect_utf8.asp"
    dl, transport = client(environment="http://127.0.0.1:8080")
    dl.query(pay_id="1")
    assert transport.calls[0].url == "http://127.0.0.1:8080/ncol/test/querydirect_utf8.asp"


def test_a_value_that_latin_1_cannot_carry_is_refused_before_sending():
    dl, transport = client(charset="iso-8859-1")
    with pytest.raises(InvalidRequest, match="cannot be written in iso-8859-1"):
        dl.new_order(OrderRequest("ORD-9", Decimal("1"), "EUR", card=visa(holder="Łukasz €")))
    assert transport.calls == []


# ------------------------------------------------------------------------------------- maintenance

@pytest.mark.parametrize("action, operation, amount", [
    (lambda dl: dl.capture("3014726912"), "SAS", None),
    (lambda dl: dl.capture("3014726912", Decimal("10.50"), "EUR"), "SAS", "1050"),
    (lambda dl: dl.capture("3014726912", Decimal("10.50"), "EUR", last=False), "SAL", "1050"),
    (lambda dl: dl.refund("3014726912", Decimal("5"), "EUR"), "RFD", "500"),
    (lambda dl: dl.refund("3014726912", Decimal("5"), "EUR", last=True), "RFS", "500"),
    (lambda dl: dl.refund("3014726912", last=True), "RFS", None),
    (lambda dl: dl.cancel("3014726912"), "DES", None),
    (lambda dl: dl.cancel("3014726912", close=False), "DEL", None),
    (lambda dl: dl.renew("3014726912"), "REN", None),
])
def test_maintenance_operations(action, operation, amount):
    dl, transport = client(RecordingTransport(HttpResponse(200, fixture("capture_91.xml"), "text/xml")))
    response = action(dl)
    call = transport.calls[0]
    assert call.url == TEST_BASE + "maintenancedirect_utf8.asp"
    assert (call.retry_safe, call.reference) == (False, "3014726912")
    expected = credentials() + [("PAYID", "3014726912"), ("OPERATION", operation)]
    if amount:
        expected += [("AMOUNT", amount), ("CURRENCY", "EUR")]
    assert call.data[:-1] == expected
    assert_signed(call.data)
    assert (response.status, response.pay_id_sub) == (Status.PAYMENT_PROCESSING, "1")


def test_maintenance_by_order_id_in_a_three_decimal_currency():
    dl, transport = client()
    dl.maintenance(MaintenanceRequest("RFS", order_id="ORD-1001", amount=Decimal("1.5"), currency="KWD"))
    call = transport.calls[0]
    assert call.data[:-1] == credentials() + [
        ("ORDERID", "ORD-1001"), ("OPERATION", "RFS"), ("AMOUNT", "150"), ("CURRENCY", "KWD")]
    assert call.reference == "ORD-1001"
    assert_signed(call.data)


@pytest.mark.parametrize("kwargs, message", [
    (dict(operation="RFD", pay_id="1"), "^a partial capture or refund needs an amount$"),
    (dict(operation="SAL", pay_id="1"), "^a partial capture or refund needs an amount$"),
    (dict(operation="RFS", pay_id="1", amount=Decimal("5")), "^give the currency with the amount$"),
    (dict(operation="RFS", pay_id="1", amount=Decimal("0"), currency="EUR"), "must be positive"),
    (dict(operation="RFS"), r"^give the PAYID \(recommended\) or the ORDERID$"),
    (dict(operation="RFS", pay_id="12AB"), "^PAYID is a number, not '12AB'$"),
    (dict(operation="RFS", pay_id="３０１"), "^PAYID is a number, not '３０１'$"),
    (dict(operation="RFS", order_id="no spaces allowed"), "^invalid ORDERID 'no spaces allowed'"),
    (dict(operation="RES", pay_id="1"), "^maintenance takes OPERATION SAL, SAS, RFD, RFS, DEL, DES or REN$"),
    (dict(operation="DLS", pay_id="1"), "^unknown OPERATION 'DLS'$"),
])
def test_maintenance_refused(kwargs, message):
    with pytest.raises(InvalidRequest, match=message):
        MaintenanceRequest(**kwargs)


def test_partial_refund_helper_without_amount_sends_nothing():
    dl, transport = client()
    with pytest.raises(InvalidRequest, match="needs an amount"):
        dl.refund("3014726912", last=False)
    assert transport.calls == []


# ------------------------------------------------------------------------------------------- query

@pytest.mark.parametrize("kwargs, expected, reference", [
    (dict(pay_id="3014726912"), [("PAYID", "3014726912")], "3014726912"),
    (dict(order_id="ORD-1001"), [("ORDERID", "ORD-1001")], "ORD-1001"),
    (dict(pay_id="3014726912", pay_id_sub="3"), [("PAYID", "3014726912"), ("PAYIDSUB", "3")], "3014726912"),
])
def test_query(kwargs, expected, reference):
    dl, transport = client(RecordingTransport(HttpResponse(200, fixture("query_9.xml"), "text/xml")))
    response = dl.query(**kwargs)
    call = transport.calls[0]
    assert call.url == TEST_BASE + "querydirect_utf8.asp"
    assert (call.retry_safe, call.reference) == (True, reference)
    assert call.data[:-1] == credentials() + expected
    assert_signed(call.data)
    assert (response.status, response.card_number, response.pay_id_sub) == (
        Status.PAYMENT_REQUESTED, "XXXXXXXXXXXX1111", "3")


@pytest.mark.parametrize("kwargs, message", [
    (dict(), r"^give the PAYID \(recommended\) or the ORDERID$"),
    (dict(order_id="ORD-1", pay_id_sub="2"), "^PAYIDSUB is a number and goes with a PAYID$"),
    (dict(pay_id="1", pay_id_sub="x"), "^PAYIDSUB is a number and goes with a PAYID$"),
    (dict(pay_id="1", pay_id_sub="²"), "^PAYIDSUB is a number and goes with a PAYID$"),
    (dict(order_id="x" * 41), "^invalid ORDERID"),
])
def test_query_refused(kwargs, message):
    dl, transport = client()
    with pytest.raises(InvalidRequest, match=message):
        dl.query(**kwargs)
    assert transport.calls == []


# -------------------------------------------------------------------------------------- validation

@pytest.mark.parametrize("kwargs, message", [
    (dict(), "^a new order needs a card or an ALIAS$"),
    (dict(order_id="ORD 1", alias="A"), r"^invalid ORDERID 'ORD 1': 1 to 40 characters"),
    (dict(order_id="", alias="A"), "^invalid ORDERID ''"),
    (dict(order_id="Ä-1", alias="A"), "^invalid ORDERID 'Ä-1'"),
    (dict(order_id="x" * 41, alias="A"), "^invalid ORDERID"),
    (dict(alias="bad alias!"), "^invalid ALIAS 'bad alias!'"),
    (dict(alias="A", eci="10"), "^ECI is one digit"),
    (dict(alias="A", request_timeout=29), "^RTIMEOUT must be between 30 and 90 seconds$"),
    (dict(alias="A", request_timeout=91), "^RTIMEOUT must be between 30 and 90 seconds$"),
    (dict(alias="A", operation="SAS"), "^a new order takes OPERATION RES, SAL, PAU or RFD$"),
    (dict(alias="A", operation="XYZ"), "^unknown OPERATION 'XYZ'$"),
])
def test_order_refused(kwargs, message):
    settings = dict(order_id="ORD-1", amount=Decimal("10"), currency="EUR")
    settings.update(kwargs)
    with pytest.raises(InvalidRequest, match=message):
        OrderRequest(**settings)


def test_order_id_of_40_characters_and_rtimeout_bounds_are_accepted():
    OrderRequest("A" * 40, Decimal("1"), "EUR", alias="A", request_timeout=30)
    OrderRequest("a_b-C9", Decimal("1"), "EUR", alias="A", request_timeout=90)


@pytest.mark.parametrize("kwargs, message", [
    (dict(number="4111 1111 111"), "^the card number must be 12 to 19 digits$"),
    (dict(number="4" * 20), "^the card number must be 12 to 19 digits$"),
    (dict(number="4111-1111-1111-1111"), "^the card number must be 12 to 19 digits$"),
    (dict(number="４１１１１１１１１１１１１１１１"), "^the card number must be 12 to 19 digits$"),
    (dict(expiry="13/30"), "^the expiry date must be MM/YY or MMYY$"),
    (dict(expiry="1/30"), "^the expiry date must be MM/YY or MMYY$"),
    (dict(expiry="12/2030"), "^the expiry date must be MM/YY or MMYY$"),
    (dict(expiry="00/30"), "^the expiry date must be MM/YY or MMYY$"),
    (dict(cvc="12a"), "^the CVC must be up to 5 digits$"),
    (dict(cvc="123456"), "^the CVC must be up to 5 digits$"),
    (dict(cvc="١٢٣"), "^the CVC must be up to 5 digits$"),
])
def test_card_refused(kwargs, message):
    with pytest.raises(InvalidRequest, match=message) as caught:
        visa(**kwargs)
    assert "4111111111111111" not in str(caught.value)


@pytest.mark.parametrize("expiry", ["12/30", "1230"])
def test_card_expiry_forms(expiry):
    assert visa(expiry=expiry).parameters()["ED"] == "1230"


def test_card_never_shows_its_number_or_cvc():
    card = visa(cvc="98765")
    for text in (repr(card), str(card), f"{card}", repr(OrderRequest("ORD-1", Decimal("1"), "EUR", card=card))):
        assert "4111111111111111" not in text
        assert "98765" not in text
        assert "XXXXXXXXXXXX1111" in text
    assert repr(card) == "Card(number='XXXXXXXXXXXX1111', holder='Zoë Ærø')"
    assert card.masked == "XXXXXXXXXXXX1111"


# --------------------------------------------------------------------------------------- outcomes

def test_unknown_outcome_of_an_order_carries_the_order_id():
    dl, transport = client(RecordingTransport(OutcomeUnknown("no answer within 45 s")))
    with pytest.raises(OutcomeUnknown, match="^no answer within 45 s$") as caught:
        dl.new_order(OrderRequest("ORD-1001", Decimal("1"), "EUR", alias="A"))
    assert (caught.value.order_id, caught.value.pay_id) == ("ORD-1001", None)
    assert len(transport.calls) == 1


def test_unknown_outcome_of_a_maintenance_carries_the_pay_id():
    dl, transport = client(RecordingTransport(OutcomeUnknown("HTTP 502", order_id="3014726912")))
    with pytest.raises(OutcomeUnknown) as caught:
        dl.refund("3014726912", Decimal("5"), "EUR")
    assert (caught.value.order_id, caught.value.pay_id) == (None, "3014726912")
    assert len(transport.calls) == 1


@pytest.mark.parametrize("body", ["truncated.xml", "html_error_page.xml", "unknown_status_3.xml", "empty.xml"])
def test_unreadable_answer_to_a_money_request_is_an_unknown_outcome(body):
    dl, transport = client(RecordingTransport(HttpResponse(200, fixture(body), "text/xml")))
    with pytest.raises(UnreadableOutcome, match="the request may have been processed, query before sending "
                                                "it again$") as caught:
        dl.new_order(OrderRequest("ORD-1001", Decimal("1"), "EUR", alias="A"))
    error = caught.value
    assert isinstance(error, ProtocolError) and isinstance(error, OutcomeUnknown)
    assert (error.order_id, error.pay_id) == ("ORD-1001", None)


def test_order_answer_asking_for_3d_secure_without_the_page_is_an_unknown_outcome():
    dl, _ = client(RecordingTransport(HttpResponse(200, fixture("secure3d_46_no_html_answer.xml"), "text/xml")))
    with pytest.raises(UnreadableOutcome, match="^STATUS 46 without the HTML_ANSWER") as caught:
        dl.new_order(OrderRequest("ORD-1001", Decimal("1"), "EUR", alias="A"))
    assert (caught.value.order_id, caught.value.pay_id) == ("ORD-1001", "26187586")


def test_query_of_a_payment_waiting_for_3d_secure_is_an_answer():
    dl, _ = client(RecordingTransport(HttpResponse(200, fixture("secure3d_46_no_html_answer.xml"), "text/xml")))
    reply = dl.query(pay_id="26187586")
    assert (reply.status, reply.pay_id, reply.html_answer) == (Status.WAITING_AUTHENTICATION, "26187586", None)


def test_unreadable_answer_to_a_maintenance_is_an_unknown_outcome():
    dl, _ = client(RecordingTransport(HttpResponse(200, b"unknown order/1/i/192.0.2.1", "text/plain")))
    with pytest.raises(UnreadableOutcome) as caught:
        dl.capture("3014726912")
    assert (caught.value.order_id, caught.value.pay_id) == (None, "3014726912")


def test_oversized_answer_from_the_transport_to_a_money_request_is_an_unknown_outcome():
    dl, _ = client(RecordingTransport(ProtocolError("the answer is larger than 524288 bytes")))
    with pytest.raises(UnreadableOutcome, match="^the answer is larger than 524288 bytes; "):
        dl.new_order(OrderRequest("ORD-1001", Decimal("1"), "EUR", alias="A"))


def test_unreadable_answer_to_a_query_is_a_plain_protocol_error():
    dl, _ = client(RecordingTransport(HttpResponse(200, fixture("truncated.xml"), "text/xml")))
    with pytest.raises(ProtocolError, match="^the answer is not well-formed XML") as caught:
        dl.query(order_id="ORD-1001")
    assert not isinstance(caught.value, OutcomeUnknown)


@pytest.mark.parametrize("error", [ConnectionFailed("cannot connect"), ServerError("HTTP 404", 404)])
def test_other_transport_errors_pass_through(error):
    dl, _ = client(RecordingTransport(error))
    with pytest.raises(type(error)) as caught:
        dl.new_order(OrderRequest("ORD-1001", Decimal("1"), "EUR", alias="A"))
    assert caught.value is error
    assert not isinstance(caught.value, OutcomeUnknown)


def test_refusal_and_duplicate_are_answers():
    transport = RecordingTransport(HttpResponse(200, fixture("refused_2.xml"), "text/xml"),
                                   HttpResponse(200, fixture("duplicate_50001113.xml"), "text/xml"))
    dl, _ = client(transport)
    refused = dl.new_order(OrderRequest("ORD-1003", Decimal("50"), "EUR", card=visa()))
    assert (refused.status, refused.ncerror) == (Status.AUTHORIZATION_REFUSED, "30001001")
    duplicate = dl.new_order(OrderRequest("ORD-1001", Decimal("125"), "EUR", card=visa()))
    assert duplicate.is_duplicate and duplicate.pay_id == "3014726912"


def test_client_log_names_the_reference_not_the_secrets(caplog):
    dl, _ = client()
    caplog.set_level(logging.DEBUG, logger="ogone_core")
    dl.new_order(OrderRequest("ORD-1001", Decimal("1"), "EUR", card=visa(cvc="98765")))
    assert [record.getMessage() for record in caplog.records] == [
        "orderdirect ORD-1001 -> STATUS 9 NCERROR 0 PAYID 3014726912"]


# ---------------------------------------------------------------------------------- configuration

@pytest.mark.parametrize("overrides", [dict(api_user_id=""), dict(api_password=""),
                                       dict(api_user_id="", api_password="")])
def test_client_refuses_an_account_without_api_credentials(overrides):
    with pytest.raises(ConfigurationError, match="^DirectLink needs an API user and its password"):
        DirectLinkClient(account(**overrides), RecordingTransport())


def test_client_builds_its_own_transport():
    from ogone_core.transport import RequestsTransport
    dl = DirectLinkClient(account())
    assert isinstance(dl.transport, RequestsTransport)
    assert dl.transport.verify is True


def test_an_answer_about_another_order_is_not_taken_for_this_one():
    # DirectLink answers are unsigned: an answer naming another ORDERID says nothing about this order.
    dl, _ = client(RecordingTransport(HttpResponse(200, fixture("approved_9.xml"), "text/xml"), echo=False))
    with pytest.raises(UnreadableOutcome, match="the answer is about ORDERID") as caught:
        dl.new_order(OrderRequest("ORD-OTHER", Decimal("1"), "EUR", card=visa()))
    assert caught.value.order_id == "ORD-OTHER"


def test_a_duplicate_order_is_uncertain_never_a_failure():
    dl, _ = client(RecordingTransport(HttpResponse(200, fixture("duplicate_50001113.xml"), "text/xml")))
    reply = dl.new_order(OrderRequest("ORD-1", Decimal("1"), "EUR", alias="A"))
    assert (reply.status, reply.is_duplicate, reply.category) == (Status.INVALID, True, Category.UNCERTAIN)


def test_refund_without_an_amount_refunds_everything_and_closes():
    dl, transport = client(RecordingTransport(HttpResponse(200, fixture("refund_81.xml"), "text/xml")))
    dl.refund("3014726912")
    sent = dict(transport.sent)
    assert (sent["OPERATION"], "AMOUNT" in sent) == ("RFS", False)


def test_paramplus_is_encoded_in_the_page_charset():
    three_ds = ThreeDSecure(accept_url="https://shop.example/a", decline_url="https://shop.example/d",
                            exception_url="https://shop.example/e", paramplus={"client": "Zoë"})
    request = OrderRequest("ORD-1", Decimal("1"), "EUR", card=visa(), three_d_secure=three_ds)
    assert request.parameters("iso-8859-1")["PARAMPLUS"] == "client=Zo%EB"
    assert request.parameters("utf-8")["PARAMPLUS"] == "client=Zo%C3%AB"
