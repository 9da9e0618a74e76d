"""verify_feedback's quick path (a list or dict of strings) against the general one (any other iterable of
pairs): the same feedback, or an error of the same class, for any received pairs."""
from hypothesis import given, settings
from hypothesis import strategies as st

from ogone_core.errors import OgoneError
from ogone_core.feedback import verify_feedback
from ogone_core.signing import compute_shasign

PASSPHRASE = "Out-Secret-8842!?"
NAMES = st.sampled_from(["ORDERID", "orderID", "STATUS", "status", "AMOUNT", "amount", "CURRENCY", "PAYID",
                         "NCERROR", "CARDNO", "ED", "TRXDATE", "ALIAS", "SessionID", "COMPLUS", "SHASIGN",
                         "shasign", "ſtatus", "ITEMNAME1", "ITEMNAME01", "", " STATUS"])
VALUES = st.sampled_from(["", " ", "1", "9", "5", "15", "15.5", "EUR", "JPY", "abc", "Müller", "x" * 3, "0",
                          "\u2003", "12/25/08"])


def outcome(params):
    try:
        feedback = verify_feedback(params, PASSPHRASE)
    except OgoneError as error:
        return type(error)
    return (feedback.raw, dict(feedback.signed), list(feedback.signed), dict(feedback.unsigned), repr(feedback),
            feedback.status, feedback.amount)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(NAMES, VALUES), max_size=8), st.booleans(), st.sampled_from(["sign", "lower", "none"]))
def test_quick_and_general_paths_agree(pairs, as_dict, signature):
    unsigned = [(name, value) for name, value in pairs if name.upper() != "SHASIGN"]
    if signature != "none":
        try:
            shasign = compute_shasign(unsigned, PASSPHRASE, "sha512", "out")
        except OgoneError:
            shasign = "00"
        pairs = unsigned + [("SHASIGN", shasign.lower() if signature == "lower" else shasign)]
    if as_dict:
        params = dict(pairs)
        general = outcome(tuple(params.items()))
    else:
        params = list(pairs)
        general = outcome(tuple(params))
    assert outcome(params) == general
