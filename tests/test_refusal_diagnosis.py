"""Why a feedback's signature was refused: each cause, diagnosed from the feedback and the ERP's settings."""
import hashlib

import pytest

from ogone_core import Algorithm, InvalidRequest, RefusalCause, compute_shasign, diagnose_refusal

PASSPHRASE = "sha_out_passphrase_001"
FEEDBACK = {"orderID": "shop-1-1", "currency": "EUR", "amount": "15", "PM": "CreditCard", "STATUS": "9",
            "CARDNO": "XXXXXXXXXXXX1111", "CN": "Zoë Müller", "PAYID": "32100123", "NCERROR": "0",
            "BRAND": "VISA"}


def signed(params=FEEDBACK, passphrase=PASSPHRASE, algorithm="sha512", encoding="utf-8"):
    return {**params, "SHASIGN": compute_shasign(params, passphrase, algorithm, "out", encoding)}


def test_valid():
    assert diagnose_refusal(signed(), PASSPHRASE).cause is RefusalCause.VALID


@pytest.mark.parametrize("algorithm", ["sha1", "sha256"])
def test_other_algorithm(algorithm):
    diagnosis = diagnose_refusal(signed(algorithm=algorithm), PASSPHRASE, "sha512", "utf-8")
    assert diagnosis.cause is RefusalCause.ALGORITHM_OR_CHARSET
    assert (diagnosis.algorithm, diagnosis.charset) == (Algorithm(algorithm), "utf-8")
    assert f"valid with {algorithm} and utf-8" in diagnosis.message
    assert "Global security parameters" in diagnosis.message


def test_other_charset():
    # "Zoë Müller" hashes differently in ISO-8859-1: the ERP reads the _utf8 pages, the account is set up ISO.
    diagnosis = diagnose_refusal(signed(encoding="iso-8859-1"), PASSPHRASE, "sha512", "utf-8")
    assert (diagnosis.cause, diagnosis.algorithm, diagnosis.charset) == (
        RefusalCause.ALGORITHM_OR_CHARSET, Algorithm.SHA512, "iso-8859-1")


def test_passphrase_differs():
    diagnosis = diagnose_refusal(signed(passphrase="another_passphrase_01"), PASSPHRASE)
    assert diagnosis.cause is RefusalCause.PASSPHRASE
    assert "check the SHA-OUT passphrase" in diagnosis.message


def test_no_signature():
    assert diagnose_refusal(FEEDBACK, PASSPHRASE).cause is RefusalCause.NO_SIGNATURE
    assert diagnose_refusal({**FEEDBACK, "SHASIGN": " "}, PASSPHRASE).cause is RefusalCause.NO_SIGNATURE


def _platform_signature(params, names, passphrase=PASSPHRASE):
    # What a platform whose SHA-OUT list has more names than this version's would send.
    text = "".join(f"{name.upper()}={params[name]}{passphrase}"
                   for name in sorted(names, key=lambda n: n.upper().replace("_", "\x01")) if params[name])
    return hashlib.sha512(text.encode("utf-8")).hexdigest().upper()


def test_parameter_outside_the_sha_out_list():
    params = {**FEEDBACK, "SHOPREF": "abc", "lang": "fr"}
    names = [name for name in params if name != "lang"]  # SHOPREF signed, lang (PARAMPLUS) not
    feedback = {**params, "SHASIGN": _platform_signature(params, names)}
    diagnosis = diagnose_refusal(feedback, PASSPHRASE)
    assert diagnosis.cause is RefusalCause.UNLISTED_PARAMETER
    assert diagnosis.parameters == ("SHOPREF",)
    assert "SHOPREF" in diagnosis.message and "Dynamic e-Commerce parameters" in diagnosis.message


def test_the_diagnosis_names_no_value():
    params = {**FEEDBACK, "SHOPREF": "secret-looking-value"}
    feedback = {**params, "SHASIGN": _platform_signature(params, list(params))}
    diagnosis = diagnose_refusal(feedback, PASSPHRASE)
    for value in ("secret-looking-value", "Zoë Müller", "XXXXXXXXXXXX1111", PASSPHRASE):
        assert value not in repr(diagnosis) + diagnosis.message


def test_bad_charset():
    with pytest.raises(InvalidRequest):
        diagnose_refusal(signed(), PASSPHRASE, charset="utf-16")
