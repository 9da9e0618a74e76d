"""Feedback verification: SHA-OUT over the raw received pairs, then typed fields from signed values only."""
import datetime
import hashlib
from decimal import Decimal

import pytest

from ogone_core.errors import ProtocolError, SignatureError, UnknownStatus
from ogone_core.feedback import Feedback, verify_feedback
from ogone_core.signing import compute_shasign
from ogone_core.status import Category, Status

SHA_OUT = "Out-Secret-8842!?"

# The official redirection example (e-Commerce Advanced guide 9.2.3.1), names as the platform sends them.
ACCEPT_EXAMPLE = [
    ("orderID", "ref12345"), ("currency", "EUR"), ("amount", "25"), ("PM", "CreditCard"), ("ACCEPTANCE", "test123"),
    ("STATUS", "5"), ("CARDNO", "XXXXXXXXXXXX1111"), ("PAYID", "1136745"), ("NCERROR", "0"), ("BRAND", "VISA"),
    ("ED", "0514"), ("TRXDATE", "12/25/08"), ("CN", "John Doe"),
]
ACCEPT_EXAMPLE_STRING = (
    "ACCEPTANCE=test123{p}AMOUNT=25{p}BRAND=VISA{p}CARDNO=XXXXXXXXXXXX1111{p}CN=John Doe{p}CURRENCY=EUR{p}"
    "ED=0514{p}NCERROR=0{p}ORDERID=ref12345{p}PAYID=1136745{p}PM=CreditCard{p}STATUS=5{p}TRXDATE=12/25/08{p}"
).format(p=SHA_OUT)
SIGNED_NAMES = ["ACCEPTANCE", "AMOUNT", "BRAND", "CARDNO", "CN", "CURRENCY", "ED", "NCERROR", "ORDERID", "PAYID",
                "PM", "STATUS", "TRXDATE"]


def signed(pairs, algorithm="sha512", passphrase=SHA_OUT):
    return list(pairs) + [("SHASIGN", compute_shasign(pairs, passphrase, algorithm, "out"))]


def reference_shasign(algorithm="sha512"):
    """The example's signature computed from the documented composition, without the library."""
    return hashlib.new(algorithm, ACCEPT_EXAMPLE_STRING.encode("utf-8")).hexdigest().upper()


def assert_signature_error_message(error, algorithm="SHA512", names=SIGNED_NAMES):
    message = str(error)
    assert algorithm in message
    for name in names:
        assert name in message
    assert SHA_OUT not in message


def test_feedback_verifies_and_is_typed():
    feedback = verify_feedback(ACCEPT_EXAMPLE + [("SHASIGN", reference_shasign())], SHA_OUT, "sha512")
    assert isinstance(feedback, Feedback)
    assert feedback.order_id == "ref12345"
    assert feedback.status is Status.AUTHORIZED
    assert feedback.category is Category.AUTHORIZED
    assert feedback.amount == Decimal("25")
    assert isinstance(feedback.amount, Decimal)
    assert feedback.currency == "EUR"
    assert feedback.pay_id == "1136745"
    assert feedback.pay_id_sub == ""
    assert feedback.ncerror == "0"
    assert feedback.brand == "VISA"
    assert feedback.card_number == "XXXXXXXXXXXX1111"
    assert feedback.card_holder == "John Doe"
    assert feedback.expiry == "0514"
    assert feedback.acceptance == "test123"
    assert feedback.payment_method == "CreditCard"
    assert feedback.transaction_date == datetime.date(2008, 12, 25)
    assert feedback.alias == ""
    assert feedback.unsigned == {}
    assert dict(feedback.signed)["ORDERID"] == "ref12345"
    assert feedback.raw[-1][0] == "SHASIGN"
    assert feedback.raw[:-1] == tuple(ACCEPT_EXAMPLE)


def test_feedback_is_frozen():
    feedback = verify_feedback(signed(ACCEPT_EXAMPLE), SHA_OUT)
    with pytest.raises(AttributeError):
        feedback.status = Status.PAYMENT_REQUESTED


@pytest.mark.parametrize("algorithm", ["sha1", "sha256", "sha512"])
def test_every_algorithm(algorithm):
    feedback = verify_feedback(ACCEPT_EXAMPLE + [("SHASIGN", reference_shasign(algorithm))], SHA_OUT, algorithm)
    assert feedback.order_id == "ref12345"


def test_mapping_input():
    params = dict(ACCEPT_EXAMPLE, SHASIGN=reference_shasign())
    assert verify_feedback(params, SHA_OUT).status is Status.AUTHORIZED


def test_lowercase_hex_shasign_is_accepted():
    feedback = verify_feedback(ACCEPT_EXAMPLE + [("SHASIGN", reference_shasign().lower())], SHA_OUT)
    assert feedback.order_id == "ref12345"


def test_shasign_name_is_case_insensitive():
    assert verify_feedback(ACCEPT_EXAMPLE + [("SHASign", reference_shasign())], SHA_OUT).pay_id == "1136745"


def test_missing_shasign():
    with pytest.raises(SignatureError, match="no SHASIGN") as caught:
        verify_feedback(ACCEPT_EXAMPLE, SHA_OUT)
    assert_signature_error_message(caught.value)


@pytest.mark.parametrize("empty", ["", "   "])
def test_empty_shasign(empty):
    with pytest.raises(SignatureError, match="no SHASIGN") as caught:
        verify_feedback(ACCEPT_EXAMPLE + [("SHASIGN", empty)], SHA_OUT)
    assert_signature_error_message(caught.value)


def test_duplicate_shasign():
    good = reference_shasign()
    with pytest.raises(SignatureError, match="more than once") as caught:
        verify_feedback(ACCEPT_EXAMPLE + [("SHASIGN", good), ("shasign", good)], SHA_OUT)
    assert_signature_error_message(caught.value)


def test_wrong_passphrase():
    with pytest.raises(SignatureError, match="does not match") as caught:
        verify_feedback(signed(ACCEPT_EXAMPLE, passphrase="not-the-passphrase"), SHA_OUT)
    assert_signature_error_message(caught.value)
    assert "not-the-passphrase" not in str(caught.value)


def test_wrong_algorithm():
    with pytest.raises(SignatureError, match="does not match") as caught:
        verify_feedback(ACCEPT_EXAMPLE + [("SHASIGN", reference_shasign("sha256"))], SHA_OUT, "sha512")
    assert_signature_error_message(caught.value, "SHA512")
    with pytest.raises(SignatureError) as caught:
        verify_feedback(ACCEPT_EXAMPLE + [("SHASIGN", reference_shasign("sha512"))], SHA_OUT, "sha1")
    assert_signature_error_message(caught.value, "SHA1")


@pytest.mark.parametrize("name, value", [("amount", "2500"), ("STATUS", "9"), ("orderID", "ref12346"),
                                         ("CN", "John Doe "), ("CARDNO", "xxxxxxxxxxxx1111"), ("currency", "")])
def test_tampered_value(name, value):
    pairs = signed(ACCEPT_EXAMPLE)
    tampered = [(n, value if n == name else v) for n, v in pairs]
    with pytest.raises(SignatureError, match="does not match") as caught:
        verify_feedback(tampered, SHA_OUT)
    assert SHA_OUT not in str(caught.value)
    assert "SHA512" in str(caught.value)


def test_added_signed_parameter():
    pairs = signed(ACCEPT_EXAMPLE) + [("ALIAS", "stolen-alias")]
    with pytest.raises(SignatureError, match="does not match") as caught:
        verify_feedback(pairs, SHA_OUT)
    assert_signature_error_message(caught.value, names=SIGNED_NAMES + ["ALIAS"])


def test_removed_signed_parameter():
    pairs = [pair for pair in signed(ACCEPT_EXAMPLE) if pair[0] != "NCERROR"]
    with pytest.raises(SignatureError, match="does not match"):
        verify_feedback(pairs, SHA_OUT)


def test_unsigned_paramplus_values_are_reported_apart():
    pairs = signed(ACCEPT_EXAMPLE) + [("SessionID", "abc123"), ("NCERRORPLUS", "!"), ("payment", "42")]
    feedback = verify_feedback(pairs, SHA_OUT)
    assert feedback.unsigned == {"SessionID": "abc123", "NCERRORPLUS": "!", "payment": "42"}
    typed = [getattr(feedback, f) for f in ("order_id", "pay_id", "pay_id_sub", "ncerror", "currency", "alias",
                                            "brand", "card_number", "card_holder", "expiry", "acceptance",
                                            "payment_method", "ip", "complus")]
    for value in ("abc123", "!", "42"):
        assert value not in typed
    assert "SESSIONID" not in feedback.signed


def test_unsigned_lookalike_of_a_typed_field_is_not_used():
    # PAYIDSUB is signed; "PAYID_SUB" is not in the list and must not fill pay_id_sub.
    pairs = signed(ACCEPT_EXAMPLE) + [("PAYID_SUB", "7"), ("ALIAS ", "forged")]
    feedback = verify_feedback(pairs, SHA_OUT)
    assert feedback.pay_id_sub == ""
    assert feedback.alias == ""
    assert feedback.unsigned == {"PAYID_SUB": "7", "ALIAS ": "forged"}


@pytest.mark.parametrize("duplicate", [("ORDERID", "other"), ("Amount", "25"), ("status", "9")])
def test_duplicate_names_differing_by_case(duplicate):
    pairs = signed(ACCEPT_EXAMPLE) + [duplicate]
    with pytest.raises(SignatureError, match="more than once") as caught:
        verify_feedback(pairs, SHA_OUT)
    assert SHA_OUT not in str(caught.value)


def test_unknown_status_is_refused_after_a_valid_signature():
    pairs = [(n, "3" if n == "STATUS" else v) for n, v in ACCEPT_EXAMPLE]
    with pytest.raises(UnknownStatus):
        verify_feedback(signed(pairs), SHA_OUT)


@pytest.mark.parametrize("missing", ["orderID", "STATUS"])
def test_missing_order_id_or_status(missing):
    pairs = [pair for pair in ACCEPT_EXAMPLE if pair[0] != missing]
    with pytest.raises(ProtocolError, match=missing.upper()) as caught:
        verify_feedback(signed(pairs), SHA_OUT)
    assert not isinstance(caught.value, UnknownStatus)


@pytest.mark.parametrize("missing", ["orderID", "STATUS"])
def test_empty_order_id_or_status(missing):
    pairs = [(n, "" if n == missing else v) for n, v in ACCEPT_EXAMPLE]
    with pytest.raises(ProtocolError, match=missing.upper()):
        verify_feedback(signed(pairs), SHA_OUT)


@pytest.mark.parametrize("amount, currency, expected", [("1.95", "EUR", Decimal("1.95")),
                                                         ("1500", "JPY", Decimal("1500")),
                                                         ("1.23", "KWD", Decimal("1.23")),
                                                         ("12.5", "JPY", Decimal("12.5"))])
def test_amount_is_the_plain_amount_in_every_currency(amount, currency, expected):
    pairs = [(n, {"amount": amount, "currency": currency}.get(n, v)) for n, v in ACCEPT_EXAMPLE]
    feedback = verify_feedback(signed(pairs), SHA_OUT)
    assert feedback.amount == expected
    assert feedback.currency == currency


def test_malformed_signed_amount_is_a_protocol_error():
    pairs = [(n, "1,95" if n == "amount" else v) for n, v in ACCEPT_EXAMPLE]
    with pytest.raises(ProtocolError, match="malformed amount"):
        verify_feedback(signed(pairs), SHA_OUT)


def test_without_amount_and_date():
    pairs = [pair for pair in ACCEPT_EXAMPLE if pair[0] not in ("amount", "TRXDATE")]
    feedback = verify_feedback(signed(pairs), SHA_OUT)
    assert feedback.amount is None
    assert feedback.transaction_date is None


def test_signed_extra_fields():
    pairs = ACCEPT_EXAMPLE + [("ALIAS", "CUST-1"), ("PAYIDSUB", "2"), ("IP", "192.0.2.1"), ("COMPLUS", "inv-42")]
    feedback = verify_feedback(signed(pairs), SHA_OUT)
    assert (feedback.alias, feedback.pay_id_sub, feedback.ip, feedback.complus) == (
        "CUST-1", "2", "192.0.2.1", "inv-42")


def test_non_ascii_value_verified_as_utf8_and_as_iso_8859_1():
    pairs = [(n, "Zoë Ørsted" if n == "CN" else v) for n, v in ACCEPT_EXAMPLE]
    utf8 = pairs + [("SHASIGN", compute_shasign(pairs, SHA_OUT, "sha512", "out", "utf-8"))]
    latin1 = pairs + [("SHASIGN", compute_shasign(pairs, SHA_OUT, "sha512", "out", "iso-8859-1"))]
    assert verify_feedback(utf8, SHA_OUT).card_holder == "Zoë Ørsted"
    assert verify_feedback(latin1, SHA_OUT, encoding="iso-8859-1").card_holder == "Zoë Ørsted"
    with pytest.raises(SignatureError):
        verify_feedback(latin1, SHA_OUT)


# --- the public vectors as feedback ---------------------------------------------------------------------------

DOC_SECRET = "Mysecretsig1875!?"
V2_PAIRS = [
    ("ACCEPTANCE", "1234"), ("amount", "15"), ("BRAND", "VISA"), ("CARDNO", "XXXXXXXXXXXX1111"),
    ("currency", "EUR"), ("NCERROR", "0"), ("orderID", "12"), ("PAYID", "32100123"), ("PM", "CreditCard"),
    ("STATUS", "9"),
]
V11_PAIRS = [(n, "xxxxxxxxxxxx1111" if n == "CARDNO" else v) for n, v in V2_PAIRS] + [("unknownparam", "some value")]
V11_SHASIGN = ("5377F95D498947BECC23E02C2C7DDE182EE1221F1A6629B091110DF653FE0C32FCACF5F9B87B4C5168FC12B7183095623"
               "750004355DE938A2B8DECC6DB6D9F62")


def test_vector_v2_as_feedback():
    feedback = verify_feedback(V2_PAIRS + [("SHASIGN", "209113288F93A9AB8E474EA78D899AFDBB874355")], DOC_SECRET,
                               "sha1")
    assert feedback.order_id == "12"
    assert feedback.status is Status.PAYMENT_REQUESTED
    assert feedback.category is Category.PAID
    assert feedback.amount == Decimal("15")
    assert feedback.currency == "EUR"
    assert feedback.card_number == "XXXXXXXXXXXX1111"
    assert feedback.pay_id == "32100123"
    assert feedback.ncerror == "0"


def test_vector_v2_digest_does_not_verify_v4_values():
    pairs = [(n, "xxxxxxxxxxxx1111" if n == "CARDNO" else v) for n, v in V2_PAIRS]
    with pytest.raises(SignatureError):
        verify_feedback(pairs + [("SHASIGN", "209113288F93A9AB8E474EA78D899AFDBB874355")], DOC_SECRET, "sha1")


def test_vector_v11_as_feedback():
    feedback = verify_feedback(V11_PAIRS + [("SHASIGN", V11_SHASIGN)], DOC_SECRET, "sha512")
    assert feedback.order_id == "12"
    assert feedback.status is Status.PAYMENT_REQUESTED
    assert feedback.card_number == "xxxxxxxxxxxx1111"
    assert feedback.amount == Decimal("15")
    assert feedback.unsigned == {"unknownparam": "some value"}


def test_vector_v11_lowercase_digest():
    assert verify_feedback(V11_PAIRS + [("shasign", V11_SHASIGN.lower())], DOC_SECRET, "sha512").pay_id == "32100123"


def test_vector_v11_with_wrong_algorithm_names_it():
    with pytest.raises(SignatureError) as caught:
        verify_feedback(V11_PAIRS + [("SHASIGN", V11_SHASIGN)], DOC_SECRET, "sha256")
    message = str(caught.value)
    assert "SHA256" in message
    assert "ACCEPTANCE, AMOUNT, BRAND, CARDNO, CURRENCY, NCERROR, ORDERID, PAYID, PM, STATUS" in message
    assert "unknownparam" not in message
    assert DOC_SECRET not in message


def test_verified_values_cannot_be_edited_afterwards():
    params = {"orderID": "12", "amount": "15", "currency": "EUR", "STATUS": "9", "SessionID": "x"}
    params["SHASIGN"] = compute_shasign(params, "a-sha-out-passphrase", "sha512", "out")
    feedback = verify_feedback(params, "a-sha-out-passphrase", "sha512")
    with pytest.raises(TypeError):
        feedback.signed["STATUS"] = "5"
    with pytest.raises(TypeError):
        feedback.unsigned["SessionID"] = "y"
    assert feedback.signed["STATUS"] == "9"


def test_feedback_survives_pickling_and_copying():
    import copy
    import pickle

    feedback = verify_feedback(signed(ACCEPT_EXAMPLE) + [("SessionID", "s-1")], SHA_OUT)
    for again in (pickle.loads(pickle.dumps(feedback)), copy.deepcopy(feedback)):
        assert again == feedback
        assert again.pay_id == "1136745" and again.status is Status.AUTHORIZED
        assert again.unsigned == {"SessionID": "s-1"}
        assert again.transaction_date == datetime.date(2008, 12, 25)


def test_general_and_quick_verification_agree():
    # A tuple of pairs takes the general path, a list the quick one: same feedback.
    pairs = signed(ACCEPT_EXAMPLE) + [("SessionID", "s-1")]
    quick, general = verify_feedback(pairs, SHA_OUT), verify_feedback(tuple(pairs), SHA_OUT)
    assert quick == general
    assert repr(quick) == repr(general)
    assert dict(quick.signed) == dict(general.signed) and list(quick.signed) == SIGNED_NAMES
    assert quick.unsigned == general.unsigned == {"SessionID": "s-1"}


def test_unsigned_feedbacks_with_made_up_names_leave_no_memory_behind():
    # Anyone can post to the return URL: names it makes up must not stay in memory once the feedback is refused
    # (a 2 MB request body a time, 4096 of them would otherwise keep 8 GB).
    import gc
    import tracemalloc

    def hostile(number):
        return [("ORDERID", "1"), ("STATUS", "9"), (f"X{number:06d}" + "Y" * 100_000, ""), ("SHASIGN", "00" * 64)]

    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        for number in range(100):
            with pytest.raises(SignatureError):
                verify_feedback(hostile(number), SHA_OUT)
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    kept = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    assert kept < 1_000_000, f"{kept} bytes kept after 100 refused feedbacks of 100 kB names"
