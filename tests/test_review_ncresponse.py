"""A DirectLink answer that says two things at once is not read as either."""
import pytest

from ogone_core import ProtocolError, parse_ncresponse


@pytest.mark.parametrize("body", [
    b'<ncresponse orderID="R-1" PAYID="1" STATUS="2" status="9" NCERROR="0"/>',
    b'<ncresponse orderID="R-1" PAYID="1" STATUS="9" NCERROR="0" ncError="30001001"/>',
    b'<ncresponse orderID="R-1" PAYID="1" STATUS="9" amount="10" AMOUNT="1000" currency="EUR"/>',
])
def test_attribute_given_twice_in_other_case_is_refused(body):
    "Names are case-insensitive (the feedback refuses the same ambiguity): the last one must not silently win"
    with pytest.raises(ProtocolError):
        response = parse_ncresponse(body, "text/xml")
        pytest.fail(f"read as STATUS {response.status.value}, NCERROR {response.ncerror}, amount {response.amount}")
