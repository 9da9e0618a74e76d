"""Hostile input to the parsers of what comes back from Ogone: feedback query strings and DirectLink XML.

Whatever arrives, only the library's documented errors (OgoneError subclasses) come out, their text names no
secret, and a feedback verifies only when it is signed with the SHA-OUT passphrase exactly as received.
The budget is fixed and the examples derandomized: the same inputs, the same few seconds, every run.
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ogone_core.errors import OgoneError, SignatureError
from ogone_core.feedback import verify_feedback
from ogone_core.ncresponse import MAX_RESPONSE_BYTES, parse_ncresponse
from ogone_core.sandbox.cards import TEST_CARDS
from ogone_core.signing import compute_shasign, signed_pairs

FUZZ = settings(max_examples=400, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

SHA_OUT = "hostile-sha-out-Passphrase-7731"
OTHER_SHA_OUT = "hostile-other-account-sha-out-4419"
CARD_NUMBER = TEST_CARDS[0].number
CVC = "8642"  # distinctive: "123" is in amounts and ids everywhere
FEEDBACK = [
    ("orderID", "shop-42-1"), ("currency", "EUR"), ("amount", "42.5"), ("PM", "CreditCard"),
    ("ACCEPTANCE", "test123"), ("STATUS", "9"), ("CARDNO", "XXXXXXXXXXXX1111"), ("ED", "1230"),
    ("CN", "Jane Doe"), ("TRXDATE", "01/31/26"), ("PAYID", "3000001"), ("NCERROR", "0"), ("BRAND", "VISA"),
]
SIGNED_NAMES = [name for name, _ in signed_pairs(FEEDBACK, "out")]


def sign(pairs, passphrase=SHA_OUT):
    return list(pairs) + [("SHASIGN", compute_shasign(pairs, passphrase, "sha512", "out"))]


def assert_no_secret(error: BaseException) -> None:
    for text in (str(error), repr(error)):
        for secret in (SHA_OUT, OTHER_SHA_OUT, CARD_NUMBER, f"CVC={CVC}"):
            assert secret not in text, f"{type(error).__name__} shows a secret"


def verify_or_documented_error(params):
    """The feedback, or None when it was refused with one of the library's errors."""
    try:
        return verify_feedback(params, SHA_OUT)
    except OgoneError as error:
        assert_no_secret(error)
        return None


# -- feedback: query strings and parameter lists ---------------------------------------------------------------

NASTY = ["", " ", "\x00", "%00", "%", "%zz", "%C3", "%FF%FE", "&", "=", "+", ";", "\u2028", "ſ", "€", "😀",
         "\ud800", "9" * 5000, "A" * 40, "1e308", "NaN", "-0", "١", "²", CARD_NUMBER, CVC]
names = st.one_of(
    st.sampled_from(SIGNED_NAMES + ["SHASIGN", "PARAMPLUS", "COMPLUS", "CVC", "CARDNO"]).flatmap(
        lambda name: st.sampled_from([name, name.lower(), name.title(), name.swapcase()])),
    st.sampled_from(["ſtatus", "ORDERİD", "STATUS\x00", " STATUS", "orderid ", "SHASIGN\u200b", "ITEMNAME1",
                     "ITEMNAME" + "0" * 3000 + "1"]),
    st.text(max_size=10))
values = st.one_of(st.sampled_from(NASTY), st.text(max_size=20), st.integers(-10 ** 30, 10 ** 30).map(str),
                   st.text(alphabet="0123456789ABCDEF", min_size=128, max_size=128))


@FUZZ
@given(pairs=st.lists(st.tuples(names, values), max_size=25), signed=st.booleans(),
       passphrase=st.sampled_from([SHA_OUT, OTHER_SHA_OUT]))
def test_any_parameter_list_verifies_or_raises_a_documented_error(pairs, signed, passphrase):
    if signed:
        try:
            pairs = sign(pairs, passphrase)
        except OgoneError:
            pass  # nothing the platform could sign: sent unsigned
    feedback = verify_or_documented_error(pairs)
    if feedback is not None:
        # Verified: it was signed here with the account's passphrase, over exactly these pairs.
        assert signed and passphrase == SHA_OUT
        assert feedback.order_id and feedback.status is not None


@FUZZ
@given(query=st.one_of(
    st.text(max_size=300),
    st.lists(st.tuples(names, values), max_size=20).map(lambda pairs: urlencode(pairs, safe="%", errors="surrogatepass")),
    st.lists(st.sampled_from(["orderID=shop-42-1", "STATUS=9", "status=2", "SHASIGN=", "SHASIGN=00", "amount=42.5",
                              "%4fRDERID=x", "ORDERID=%00", "STATUS=%C3%28", "a=%", "=&=", "&&&", "CN=M%FCller",
                              "ORDERID=" + "%41" * 3000, f"CARDNO={CARD_NUMBER}", f"CVC={CVC}"]),
             max_size=12).map("&".join)),
    encoding=st.sampled_from(["utf-8", "iso-8859-1"]))
def test_any_query_string_is_refused_with_a_documented_error(query, encoding):
    # Decoded like the return route decodes the body or the query string of a request
    params = parse_qsl(query, keep_blank_values=True, encoding=encoding, errors="replace")
    assert verify_or_documented_error(params) is None


def mutations():
    """One change to a signed parameter of a valid feedback, which its signature covers."""
    index = st.integers(0, len(FEEDBACK) - 1)
    changed_value = st.tuples(index, values).map(lambda change: ("value", *change))
    removed = index.map(lambda at: ("remove", at, None))
    duplicated = st.tuples(index, values).map(lambda change: ("duplicate", *change))
    added = st.tuples(st.sampled_from(["ALIAS", "IP", "ECI", "PAYIDSUB", "COMPLUS", "CVCCHECK", "SUBBRAND"]),
                      values.filter(bool)).map(lambda change: ("add", *change))
    return st.one_of(changed_value, removed, duplicated, added)


def mutate(pairs, mutation):
    kind, where, value = mutation
    pairs = list(pairs)
    if kind == "value":
        name, old = pairs[where]
        pairs[where] = (name, value)
        return pairs if value != old else None
    if kind == "remove":
        del pairs[where]
    elif kind == "duplicate":
        # The same name again (in another case), before the genuine one or after it
        name = pairs[where][0]
        pairs.insert(where + (len(value) % 2), (name.swapcase(), value))
    else:
        pairs.insert(len(pairs) // 2, (where, value))
    return pairs


@FUZZ
@given(mutation=mutations(), shasign_case=st.sampled_from([str.upper, str.lower]))
def test_a_changed_signed_parameter_is_refused(mutation, shasign_case):
    genuine = sign(FEEDBACK)
    assert verify_feedback(genuine, SHA_OUT).order_id == "shop-42-1"
    *pairs, (_, shasign) = genuine
    changed = mutate(pairs, mutation)
    if changed is None:
        return
    with pytest.raises(SignatureError) as caught:
        verify_feedback(changed + [("SHASIGN", shasign_case(shasign))], SHA_OUT)
    assert_no_secret(caught.value)


@FUZZ
@given(passphrase=st.text(min_size=1, max_size=40).filter(lambda text: text != SHA_OUT),
       shasign=st.one_of(st.text(max_size=130), st.text(alphabet="0123456789abcdefABCDEF", min_size=128,
                                                         max_size=128)))
def test_a_signature_made_without_the_passphrase_is_refused(passphrase, shasign):
    for forged in (shasign, compute_shasign(FEEDBACK, passphrase, "sha512", "out"),
                   compute_shasign(FEEDBACK, SHA_OUT, "sha256", "out")):
        with pytest.raises(SignatureError) as caught:
            verify_feedback(FEEDBACK + [("SHASIGN", forged)], SHA_OUT)
        assert_no_secret(caught.value)


def test_a_feedback_carrying_card_data_keeps_it_out_of_errors():
    pairs = [(name, CARD_NUMBER if name == "CARDNO" else value) for name, value in FEEDBACK] + [("CVC", CVC)]
    for params in (pairs + [("SHASIGN", "00")], sign(pairs, OTHER_SHA_OUT), pairs):
        with pytest.raises(SignatureError) as caught:
            verify_feedback(params, SHA_OUT)
        assert_no_secret(caught.value)


# -- DirectLink answers -----------------------------------------------------------------------------------------

ANSWERS = [path.read_bytes() for path in sorted((Path(__file__).parent / "fixtures" / "directlink").iterdir())]
XML_PIECES = [b"<!DOCTYPE ncresponse [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>", b"&x;", b"&amp;", b"&#0;",
              b"&#x110000;", b"<!ENTITY lol 'lol'>", b'<!ENTITY % p SYSTEM "http://127.0.0.1:9/">', b"%p;",
              b"<![CDATA[", b"]]>", b"<!--", b"-->", b"<?xml version='1.0' encoding='utf-16'?>", b"<?pi x?>",
              b"<ncresponse", b"/>", b"</ncresponse>", b'STATUS="9"', b'status="2"', b'AMOUNT="1e999"',
              b'PAYID="' + b"9" * 5000 + b'"', b"<HTML_ANSWER>", b"</HTML_ANSWER>", b"\x00", b"\xff\xfe", b"\xef\xbb\xbf",
              b"\xc3\x28", b"\x80", b"<xi:include xmlns:xi='http://www.w3.org/2001/XInclude' href='/etc/passwd'/>",
              b"<", b">", b'"', b"'", b"=", b" "]
CONTENT_TYPES = ["", "text/xml", "text/XML; Charset=iso-8859-1", "text/xml; charset=utf-16", "text/html",
                 "text/xml; charset=\x00", "application/xml; charset=" + "x" * 300]


@st.composite
def mutated_answers(draw):
    answer = draw(st.sampled_from(ANSWERS))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(answer)))
        kind = draw(st.sampled_from(["insert", "cut", "truncate", "byte"]))
        if kind == "insert":
            answer = answer[:at] + draw(st.one_of(st.sampled_from(XML_PIECES), st.binary(max_size=8))) + answer[at:]
        elif kind == "cut":
            answer = answer[:at] + answer[at + draw(st.integers(1, 20)):]
        elif kind == "truncate":
            answer = answer[:at]
        elif at < len(answer):
            answer = answer[:at] + bytes([draw(st.integers(0, 255))]) + answer[at + 1:]
    return answer


def billion_laughs(depth: int) -> bytes:
    entities = b"".join(b'<!ENTITY l%d "&l%d;&l%d;&l%d;">' % (level, level - 1, level - 1, level - 1)
                        for level in range(1, depth))
    return (b'<?xml version="1.0"?><!DOCTYPE ncresponse [<!ENTITY l0 "lol">' + entities + b"]>"
            b'<ncresponse STATUS="9" ORDERID="&l%d;"/>' % (depth - 1))


def parse_or_documented_error(body, content_type):
    try:
        return parse_ncresponse(body, content_type)
    except OgoneError as error:
        assert_no_secret(error)
        return None


@FUZZ
@given(body=st.one_of(mutated_answers(), st.binary(max_size=200),
                      st.builds(billion_laughs, st.integers(2, 12)),
                      st.text(max_size=200).map(lambda text: text.encode("utf-8", "surrogatepass"))),
       content_type=st.sampled_from(CONTENT_TYPES))
def test_any_directlink_answer_parses_or_raises_a_documented_error(body, content_type):
    answer = parse_or_documented_error(body, content_type)
    if answer is not None:
        assert answer.status is not None


@pytest.mark.parametrize("body", [
    b"<ncresponse STATUS='9' ORDERID='" + b"A" * (MAX_RESPONSE_BYTES - 40) + b"'/>",
    b"<ncresponse " + b" ".join(b'A%d="1"' % index for index in range(40_000)) + b' STATUS="9"/>',
    b"<a>" * 50_000 + b"<ncresponse STATUS='9'/>" + b"</a>" * 50_000,
    b"<ncresponse STATUS='9'>" + b"<HTML_ANSWER>" + b"QUFB" * 100_000 + b"</HTML_ANSWER></ncresponse>",
    billion_laughs(30),
    b'<!-- ' + b"x" * 10_000 + b' --><!DOCTYPE x SYSTEM "http://127.0.0.1:9/x.dtd"><ncresponse STATUS="9"/>',
])
def test_huge_or_nested_answers_are_refused_or_read(body):
    answer = parse_or_documented_error(body, "text/xml")
    assert answer is None or answer.status is not None


def test_a_card_number_sent_back_in_an_answer_stays_out_of_errors():
    body = (f'<ncresponse STATUS="x9" CARDNO="{CARD_NUMBER}" CVC="{CVC}" AMOUNT="oops"/>').encode()
    with pytest.raises(OgoneError) as caught:
        parse_ncresponse(body, "text/xml")
    assert_no_secret(caught.value)


def test_percent_encoded_query_names_cannot_pass_for_signed_ones():
    # A name decoded to "STATUS" is STATUS; a name whose bytes only look like it is not signed.
    genuine = sign(FEEDBACK)
    query = urlencode(genuine).replace("STATUS=9", "%53TATUS=9")
    assert verify_feedback(parse_qsl(query), SHA_OUT).status.value == 9
    lookalike = urlencode(genuine).replace("STATUS=9", quote("ЅTATUS") + "=9")
    with pytest.raises(SignatureError):
        verify_feedback(parse_qsl(lookalike), SHA_OUT)
