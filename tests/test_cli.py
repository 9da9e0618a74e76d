"""The ``ogone`` command and the demo, run as real processes."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PASSPHRASE = "Mysecretsig1875!?"
V1 = ["AMOUNT=1500", "CURRENCY=EUR", "LANGUAGE=en_US", "ORDERID=1234", "PSPID=MyPSPID"]
V1_SHA1 = "F4CC376CD7A834D997B91598FA747825A238BE0A"
V2 = ("orderID=12&currency=EUR&amount=15&PM=CreditCard&ACCEPTANCE=1234&STATUS=9&CARDNO=XXXXXXXXXXXX1111"
      "&PAYID=32100123&NCERROR=0&BRAND=VISA&SHASIGN=209113288F93A9AB8E474EA78D899AFDBB874355")


def command() -> list[str]:
    script = Path(sys.executable).parent / "ogone"
    return [str(script)] if script.exists() else [sys.executable, "-m", "ogone_core.cli"]


def run(*args, passphrase: "str | None" = PASSPHRASE, module: "list[str] | None" = None):
    env = {name: value for name, value in os.environ.items() if name != "OGONE_PASSPHRASE"}
    if passphrase is not None:
        env["OGONE_PASSPHRASE"] = passphrase
    return subprocess.run((module or command()) + list(args), env=env, cwd=ROOT, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=30)


def test_sign_reproduces_the_documentation_vector():
    result = run("sign", "-a", "sha1", *V1)
    assert (result.returncode, result.stdout, result.stderr) == (0, V1_SHA1 + "\n", "")


def test_sign_as_a_module_too():
    result = run("sign", "--algorithm", "sha1", *V1, module=[sys.executable, "-m", "ogone_core.cli"])
    assert (result.returncode, result.stdout) == (0, V1_SHA1 + "\n")


def test_sign_default_algorithm_is_sha512():
    result = run("sign", *V1)
    assert result.returncode == 0
    assert len(result.stdout.strip()) == 128
    assert result.stdout.strip() != V1_SHA1


def test_explain_lists_what_is_signed_and_what_is_left_out():
    result = run("explain", "-a", "sha1", *V1, "FOO=bar", "COM=", "--with-digest")
    assert result.returncode == 0
    assert result.stdout == (
        "Signed parameters (SHA-IN), in order:\n"
        "  AMOUNT=1500\n  CURRENCY=EUR\n  LANGUAGE=en_US\n  ORDERID=1234\n  PSPID=MyPSPID\n"
        "Left out:\n"
        "  FOO: not in the official SHA-IN list\n"
        "  COM: empty value\n"
        "String to hash (passphrase masked):\n"
        "  AMOUNT=1500<passphrase>CURRENCY=EUR<passphrase>LANGUAGE=en_US<passphrase>ORDERID=1234<passphrase>"
        "PSPID=MyPSPID<passphrase>\n"
        f"SHA1 (utf-8): {V1_SHA1}\n")
    assert PASSPHRASE not in result.stdout + result.stderr


def test_explain_with_a_matching_shasign():
    result = run("explain", "-a", "sha1", *V1, f"SHASIGN={V1_SHA1.lower()}")
    assert result.returncode == 0
    assert "  SHASIGN: the signature itself is never signed\n" in result.stdout
    assert result.stdout.endswith(f"SHA1 (utf-8): {V1_SHA1}\nThe given SHASIGN matches.\n")
    assert PASSPHRASE not in result.stdout + result.stderr


def test_explain_with_a_shasign_that_does_not_match():
    result = run("explain", "-a", "sha1", *V1[:2], *V1[3:], f"SHASIGN={V1_SHA1}")  # LANGUAGE forgotten
    assert result.returncode == 1
    assert result.stdout.endswith(f"The given SHASIGN does NOT match: {V1_SHA1}\n")
    assert "LANGUAGE" not in result.stdout
    assert PASSPHRASE not in result.stdout + result.stderr


def test_explain_without_digest_needs_no_passphrase():
    result = run("explain", *V1, passphrase=None)
    assert result.returncode == 0
    assert result.stdout.startswith("Signed parameters (SHA-IN), in order:\n  AMOUNT=1500\n")


def test_verify_the_documentation_feedback():
    result = run("verify", "-a", "sha1", V2)
    assert result.returncode == 0
    assert result.stdout == ("VALID\n"
                             "  ORDERID 12  PAYID 32100123  STATUS 9 (Payment requested) -> paid\n"
                             "  amount 15 EUR\n")
    assert PASSPHRASE not in result.stdout + result.stderr


def test_verify_a_whole_redirect_url_and_name_unsigned_parameters():
    result = run("verify", "-a", "sha1", f"https://shop.example/ogone/return?{V2}&lang=fr")
    assert result.returncode == 0
    assert result.stdout.startswith("VALID\n")
    assert result.stdout.endswith("  not covered by the signature (do not trust): lang\n")


def test_verify_with_the_wrong_algorithm_names_the_right_one():
    result = run("verify", "-a", "sha256", V2)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("INVALID: SHASIGN does not match (SHA256, SHA-OUT over ACCEPTANCE, AMOUNT, BRAND, "
                               "CARDNO, CURRENCY, NCERROR, ORDERID, PAYID, PM, STATUS)")
    assert lines[1].startswith("It would be valid with sha1 and utf-8:")
    assert PASSPHRASE not in result.stdout + result.stderr


def test_verify_with_the_wrong_passphrase():
    result = run("verify", "-a", "sha1", V2, passphrase="not-the-passphrase")
    assert result.returncode == 1
    assert result.stdout.splitlines()[1] == (
        "No other algorithm or charset matches: check the SHA-OUT passphrase in Technical information > "
        "Transaction feedback > All transaction submission modes.")
    assert "not-the-passphrase" not in result.stdout + result.stderr


def test_verify_tampered_amount():
    result = run("verify", "-a", "sha1", V2.replace("amount=15", "amount=1"))
    assert result.returncode == 1
    assert result.stdout.startswith("INVALID: SHASIGN does not match (SHA1,")


def test_no_passphrase_and_no_terminal():
    result = run("sign", "-a", "sha1", *V1, passphrase=None)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == "set OGONE_PASSPHRASE or run in a terminal to be asked for the SHA-IN passphrase\n"
    result = run("verify", "-a", "sha1", V2, passphrase=None)
    assert result.returncode == 1
    assert result.stderr == "set OGONE_PASSPHRASE or run in a terminal to be asked for the SHA-OUT passphrase\n"


@pytest.mark.parametrize("option", ["--passphrase", "-p", "--sha-in", "--secret"])
def test_a_passphrase_on_the_command_line_is_not_an_option(option):
    result = run("sign", "-a", "sha1", option, PASSPHRASE, *V1, passphrase=None)
    assert result.returncode == 2
    assert "error: unrecognized arguments:" in result.stderr or "error: ambiguous option" in result.stderr
    assert result.stdout == ""


def test_malformed_parameter():
    result = run("sign", "AMOUNT")
    assert result.returncode == 1
    assert result.stderr == "expected NAME=VALUE, got 'AMOUNT'\n"


def test_library_errors_are_reported_not_raised():
    result = run("sign", "FOO=bar")  # nothing in the SHA-IN list
    assert result.returncode == 2
    assert result.stderr == "error: no parameter to sign: the signature of nothing is public\n"
    assert "Traceback" not in result.stderr


def test_demo_runs():
    result = subprocess.run([sys.executable, "-m", "ogone_core.demo"], cwd=ROOT, capture_output=True, text=True,
                            timeout=30, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "   POST https://ogone.test.v-psp.com/ncol/test/orderstandard_utf8.asp\n" in out
    assert ("     signature valid: ORDERID 12, PAYID 32100123, 15 EUR, STATUS 9 (Payment requested) -> paid\n"
            in out)
    assert ("     the same feedback with amount=1 is refused: SHASIGN does not match (SHA1, SHA-OUT over "
            "ACCEPTANCE, AMOUNT, BRAND") in out
    assert PASSPHRASE not in out
    assert ("AMOUNT is the amount x 100 in every currency: 1500 JPY -> 150000, 12.50 EUR -> 1250, "
            "1.23 KWD -> 123\n") in out
    # The round trip through the sandbox: each step's outcome, as the platform gives it.
    assert "-> paid, card XXXXXXXXXXXX1111 saved as ALIAS DEMO-" in out
    assert "authorisation only: STATUS 5 (Authorised) -> authorized" in out
    assert "capture 60.00 of 99.90 and close: STATUS 91 (Payment processing) (PAYIDSUB 1)" in out
    assert "settles the capture overnight: 9 (Payment requested)" in out
    assert "refund 10.00: STATUS 81 (Refund pending) (PAYIDSUB 2)" in out
    assert "STATUS 0, NCERROR 50001113 (This order has already been processed)" in out
    assert "STATUS 2 (Authorisation refused), NCERROR 30051001" in out
    assert "after the platform processed an order: OutcomeUnknown" in out
    assert "so the order is queried, not re-sent: STATUS 9 (Payment requested) -> paid" in out
    assert "sandbox_sha_in_passphrase_0001" not in out and "sandbox-password" not in out


def test_verify_reads_an_iso_8859_1_feedback_in_its_own_charset():
    from urllib.parse import urlencode

    from ogone_core import compute_shasign
    params = {"orderID": "12", "amount": "15", "currency": "EUR", "STATUS": "9", "CN": "Zoë Ünal"}
    params["SHASIGN"] = compute_shasign(params, PASSPHRASE, "sha512", "out", "iso-8859-1")
    query = urlencode(params, encoding="iso-8859-1")  # CN=Zo%EB+%DCnal, as the plain pages send it
    result = run("verify", "-e", "iso-8859-1", query)
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith("VALID\n")


def test_verify_names_a_signed_parameter_outside_the_sha_out_list():
    # A platform that signs SHOPREF, which the official SHA-OUT list this version ships does not have.
    import hashlib
    pairs = [("orderID", "12"), ("currency", "EUR"), ("amount", "15"), ("STATUS", "9"), ("SHOPREF", "abc")]
    text = "".join(f"{name.upper()}={value}{PASSPHRASE}" for name, value in
                   sorted(pairs, key=lambda pair: pair[0].upper()))
    query = "&".join(f"{name}={value}" for name, value in pairs)
    result = run("verify", f"{query}&SHASIGN={hashlib.sha512(text.encode()).hexdigest().upper()}")
    assert result.returncode == 1
    assert result.stdout.splitlines()[1] == (
        "The platform signed SHOPREF, which is not in the SHA-OUT list: unselect it in Technical information > "
        "Transaction feedback > Dynamic e-Commerce parameters.")
