"""Alias Gateway: the signed fields of the merchant's card form, and the verified redirect back."""
from urllib.parse import parse_qsl, urlencode

import pytest

from ogone_core.account import Account
from ogone_core.alias_gateway import CARD_FIELDS, AliasGatewayRequest, AliasStatus, verify_alias_feedback
from ogone_core.errors import InvalidRequest, ProtocolError, SignatureError
from ogone_core.signing import compute_shasign

SHA_IN = "Alias-SHA-in-2024!"
SHA_OUT = "Alias-SHA-out-2024?"


def account(**overrides) -> Account:
    settings = dict(pspid="MyPSPID", sha_in=SHA_IN, sha_out=SHA_OUT, algorithm="sha256")
    settings.update(overrides)
    return Account(**settings)


def signed(pairs, algorithm="sha256", passphrase=SHA_OUT, encoding="utf-8"):
    """What the platform redirects with: the pairs plus their SHA-OUT signature."""
    return list(pairs) + [("SHASIGN", compute_shasign(pairs, passphrase, algorithm, "out", encoding))]


# ------------------------------------------------------------------------------------------ request

def test_rendered_form_fields_and_signature():
    request = AliasGatewayRequest(accept_url="https://shop.example/alias/ok",
                                  exception_url="https://shop.example/alias/ko", alias="CUST-42-CARD",
                                  alias_persisted_after_use="Y", order_id="ORD-1001", brand="VISA",
                                  language="nl_BE", paramplus={"customer": "42", "next": "/pay?x=1"})
    form = request.render(account())
    assert form.action == "https://ogone.test.v-psp.com/ncol/test/alias_gateway_utf8.asp"
    assert form.charset == "utf-8"
    assert form.fields[:-1] == (
        ("PSPID", "MyPSPID"), ("ACCEPTURL", "https://shop.example/alias/ok"),
        ("EXCEPTIONURL", "https://shop.example/alias/ko"), ("ALIAS", "CUST-42-CARD"),
        ("ALIASPERSISTEDAFTERUSE", "Y"), ("ORDERID", "ORD-1001"), ("BRAND", "VISA"), ("LANGUAGE", "nl_BE"),
        ("PARAMPLUS", "customer=42&next=%2Fpay%3Fx%3D1"))
    assert form.fields[-1] == ("SHASIGN", compute_shasign(form.fields[:-1], SHA_IN, "sha256", "in"))
    assert len(form.fields[-1][1]) == 64
    # The customer types the card data into the same form: none of it is pre-filled or signed.
    assert not {name for name, _ in form.fields} & set(CARD_FIELDS)


def test_minimal_form_leaves_empty_fields_out():
    form = AliasGatewayRequest("https://shop.example/ok", "https://shop.example/ko").render(
        account(algorithm="sha512"))
    assert [name for name, _ in form.fields] == ["PSPID", "ACCEPTURL", "EXCEPTIONURL", "SHASIGN"]
    assert form.as_dict()["SHASIGN"] == compute_shasign(form.fields[:-1], SHA_IN, "sha512")


def test_iso_8859_1_account_gets_the_plain_page_and_a_latin_1_form():
    request = AliasGatewayRequest("https://shop.example/ok", "https://shop.example/ko",
                                  paramplus={"name": "Zoë"})
    form = request.render(account(charset="iso-8859-1"))
    assert form.action == "https://ogone.test.v-psp.com/ncol/test/alias_gateway.asp"
    # The browser must post in the charset the signature was computed in.
    assert form.charset == "iso-8859-1"
    assert 'accept-charset="iso-8859-1"' in form.html()
    assert form.as_dict()["SHASIGN"] == compute_shasign(form.fields[:-1], SHA_IN, "sha256", "in", "iso-8859-1")


@pytest.mark.parametrize("kwargs, message", [
    (dict(accept_url="", exception_url="https://e.example/"), "needs an ACCEPTURL and an EXCEPTIONURL"),
    (dict(accept_url="https://a.example/", exception_url=""), "needs an ACCEPTURL and an EXCEPTIONURL"),
    (dict(alias="no spaces"), "^invalid ALIAS 'no spaces'"),
    (dict(order_id="ORD/1"), "^invalid ORDERID 'ORD/1'"),
    (dict(alias_persisted_after_use="yes"), "^alias_persisted_after_use is 'Y' or 'N'$"),
])
def test_request_refused(kwargs, message):
    settings = dict(accept_url="https://a.example/", exception_url="https://e.example/")
    settings.update(kwargs)
    with pytest.raises(InvalidRequest, match=message):
        AliasGatewayRequest(**settings)


# ----------------------------------------------------------------------------------------- feedback

SUCCESS = [("ALIAS", "CUST-42-CARD"), ("STATUS", "0"), ("NCERROR", "0"), ("CARDNO", "XXXXXXXXXXXX1111"),
           ("CN", "Zoë Ærø"), ("ED", "1230"), ("BRAND", "VISA"), ("ORDERID", "ORD-1001")]


def test_alias_created():
    received = signed(SUCCESS) + [("NCERRORCARDNO", "0"), ("NCERRORCN", "0"), ("NCERRORCVC", "0"),
                                   ("NCERRORED", "0"), ("NCERRORPLUS", "!")]
    feedback = verify_alias_feedback(received, SHA_OUT, "sha256")
    assert feedback.status is AliasStatus.OK
    assert feedback.ok is True
    assert (feedback.alias, feedback.ncerror, feedback.card_number, feedback.card_holder, feedback.expiry,
            feedback.brand, feedback.order_id) == (
        "CUST-42-CARD", "0", "XXXXXXXXXXXX1111", "Zoë Ærø", "1230", "VISA", "ORD-1001")
    assert feedback.field_errors == {}
    assert feedback.unsigned == {"NCERRORCARDNO": "0", "NCERRORCN": "0", "NCERRORCVC": "0", "NCERRORED": "0",
                                 "NCERRORPLUS": "!"}


def test_alias_updated_is_a_success():
    pairs = [(name, "2" if name == "STATUS" else value) for name, value in SUCCESS]
    feedback = verify_alias_feedback(signed(pairs), SHA_OUT, "sha256")
    assert feedback.status is AliasStatus.UPDATED
    assert feedback.ok is True


def test_alias_refused_reports_the_fields_in_error():
    pairs = [("ALIAS", ""), ("STATUS", "1"), ("NCERROR", "50001111"), ("CARDNO", "XXXXXXXXXXXX1234"),
             ("ORDERID", "ORD-1001")]
    received = signed(pairs) + [("NCERRORCARDNO", "50001068"), ("NCERRORCVC", "50001090"),
                                ("NCERRORED", ""), ("NCERRORCN", "0"),
                                ("NCERRORPLUS", "The card number or account number (PAN) is invalid")]
    feedback = verify_alias_feedback(received, SHA_OUT, "sha256")
    assert feedback.status is AliasStatus.NOT_OK
    assert feedback.ok is False
    assert feedback.alias == ""
    assert feedback.ncerror == "50001111"
    # Per-field codes of the fields in error only ("0" is a field without error); NCERRORPLUS is the general
    # explanation, not a field.
    assert feedback.field_errors == {"NCERRORCARDNO": "50001068", "NCERRORCVC": "50001090"}
    assert feedback.unsigned["NCERRORPLUS"] == "The card number or account number (PAN) is invalid"


def test_feedback_from_a_redirect_query_string():
    query = urlencode(signed(SUCCESS, "sha1"))
    feedback = verify_alias_feedback(parse_qsl(query, keep_blank_values=True), SHA_OUT, "sha1")
    assert feedback.alias == "CUST-42-CARD"


@pytest.mark.parametrize("status", ["0", "2"])
def test_success_without_alias_is_a_protocol_error(status):
    pairs = [("STATUS", status), ("NCERROR", "0"), ("CARDNO", "XXXXXXXXXXXX1111")]
    with pytest.raises(ProtocolError, match="^the alias gateway reported success without a signed ALIAS$"):
        verify_alias_feedback(signed(pairs), SHA_OUT, "sha256")


def test_alias_added_after_signing_is_refused():
    pairs = [("STATUS", "0"), ("NCERROR", "0")]
    with pytest.raises(SignatureError, match=r"^SHASIGN does not match \(SHA256, SHA-OUT over ALIAS, NCERROR, "):
        verify_alias_feedback(signed(pairs) + [("ALIAS", "INJECTED")], SHA_OUT, "sha256")


@pytest.mark.parametrize("status", ["3", "", "OK"])
def test_unknown_status_is_a_protocol_error(status):
    pairs = [("ALIAS", "A1"), ("STATUS", status)]
    with pytest.raises(ProtocolError, match=f"^unknown alias gateway STATUS '{status}'$"):
        verify_alias_feedback(signed(pairs), SHA_OUT, "sha256")


@pytest.mark.parametrize("tamper", [
    lambda pairs: [(n, "OTHER-ALIAS" if n == "ALIAS" else v) for n, v in pairs],
    lambda pairs: [(n, "1" if n == "STATUS" else v) for n, v in pairs],
    lambda pairs: [(n, v) for n, v in pairs if n != "BRAND"],
    lambda pairs: pairs + [("ED", "0131")],
    lambda pairs: [(n, v) for n, v in pairs if n != "SHASIGN"],
])
def test_tampered_feedback_is_refused(tamper):
    with pytest.raises(SignatureError):
        verify_alias_feedback(tamper(signed(SUCCESS)), SHA_OUT, "sha256")


def test_wrong_passphrase_or_algorithm_is_refused_without_showing_the_passphrase():
    with pytest.raises(SignatureError, match=r"^SHASIGN does not match \(SHA256, SHA-OUT over ALIAS, BRAND, "
                                             r"CARDNO, CN, ED, NCERROR, ORDERID, STATUS\)") as caught:
        verify_alias_feedback(signed(SUCCESS, passphrase="another"), SHA_OUT, "sha256")
    assert SHA_OUT not in str(caught.value)
    with pytest.raises(SignatureError, match=r"^SHASIGN does not match \(SHA512"):
        verify_alias_feedback(signed(SUCCESS), SHA_OUT, "sha512")


def test_feedback_signed_in_latin_1():
    feedback = verify_alias_feedback(signed(SUCCESS, encoding="iso-8859-1"), SHA_OUT, "sha256",
                                     encoding="iso-8859-1")
    assert feedback.card_holder == "Zoë Ærø"
    with pytest.raises(SignatureError):
        verify_alias_feedback(signed(SUCCESS, encoding="iso-8859-1"), SHA_OUT, "sha256")
