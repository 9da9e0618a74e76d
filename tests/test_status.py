"""STATUS codes: every documented code parses, with the documented classification; unknown codes raise."""
import pytest

from ogone_core.errors import ProtocolError, UnknownStatus
from ogone_core.status import Category, Status

C = Category
# The documented table (ogone-protocol.md 6.1) with the classification the status module documents.
DOCUMENTED = {
    0: C.ERROR, 1: C.CANCELLED, 2: C.REFUSED, 4: C.PENDING, 40: C.PENDING, 41: C.PENDING, 46: C.PENDING,
    5: C.AUTHORIZED, 50: C.PENDING, 51: C.PENDING, 52: C.UNCERTAIN, 55: C.PENDING, 56: C.PENDING, 57: C.ERROR,
    59: C.PENDING, 6: C.CANCELLED, 61: C.PENDING, 62: C.UNCERTAIN, 63: C.AUTHORIZED, 64: C.CANCELLED,
    7: C.CANCELLED, 71: C.PENDING, 72: C.UNCERTAIN, 73: C.PAID, 74: C.CANCELLED, 75: C.CANCELLED,
    8: C.REFUNDED, 81: C.REFUND_PENDING, 82: C.UNCERTAIN, 83: C.PAID, 84: C.REFUNDED, 85: C.REFUNDED,
    88: C.UNCERTAIN, 9: C.PAID, 91: C.PENDING, 92: C.UNCERTAIN, 93: C.REFUSED, 94: C.PAID, 95: C.PAID,
    96: C.PAID, 97: C.PENDING, 98: C.PENDING, 99: C.PENDING,
}


@pytest.mark.parametrize("code", sorted(DOCUMENTED))
def test_every_documented_code_parses_from_text_and_int(code):
    from_text = Status.parse(str(code))
    assert from_text.value == code
    assert Status.parse(code) is from_text
    assert from_text.category is DOCUMENTED[code]
    assert from_text.description  # every status has a wording for people


def test_the_enum_holds_exactly_the_documented_codes():
    assert {status.value for status in Status} == set(DOCUMENTED)


@pytest.mark.parametrize("code", ["52", "62", "72", "82", "92"])
def test_uncertain_statuses_are_never_success_or_failure(code):
    status = Status.parse(code)
    assert status.category is Category.UNCERTAIN
    assert status.is_uncertain
    assert status.category not in (Category.PAID, Category.REFUSED, Category.AUTHORIZED, Category.ERROR)


@pytest.mark.parametrize("code, category", [
    ("5", Category.AUTHORIZED), ("9", Category.PAID), ("2", Category.REFUSED), ("93", Category.REFUSED),
    ("1", Category.CANCELLED), ("81", Category.REFUND_PENDING), ("8", Category.REFUNDED),
])
def test_main_classification(code, category):
    assert Status.parse(code).category is category
    assert not Status.parse(code).is_uncertain


@pytest.mark.parametrize("code", ["3", "999", "", "abc", "10", "-9", "+9", "09", "9.0", " ", "\u0669", None, True,
                                  100])
def test_unknown_codes_raise(code):
    with pytest.raises(UnknownStatus) as caught:
        Status.parse(code)
    assert caught.value.code == code
    assert isinstance(caught.value, ProtocolError)
    assert repr(code) in str(caught.value)


def test_surrounding_whitespace_is_tolerated():
    assert Status.parse(" 9\n") is Status.PAYMENT_REQUESTED


def test_parse_accepts_a_status():
    assert Status.parse(Status.AUTHORIZATION_NOT_KNOWN) is Status.AUTHORIZATION_NOT_KNOWN


def test_str_and_category_text():
    assert str(Status.PAYMENT_UNCERTAIN) == "92 (Payment uncertain)"
    assert str(Category.REFUND_PENDING) == "refund-pending"
    assert Status.AUTHORIZED == 5
