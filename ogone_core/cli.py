"""The ``ogone`` command: sign, explain, verify and check, for people chasing ``unknown order/1/s``.

Passphrases are read from the environment variable OGONE_PASSPHRASE or asked for without echo; never from
the command line, where they would end up in the shell history and the process list. ``check`` reads the
SHA-IN passphrase from OGONE_SHA_IN (or OGONE_PASSPHRASE) and the API password from OGONE_API_PASSWORD.
"""
from __future__ import annotations

import argparse
import getpass
import os
import sys
from urllib.parse import parse_qsl, urlsplit

from .account import Account
from .account_check import check_account
from .errors import OgoneError, SignatureError
from .feedback import verify_feedback
from .refusal_diagnosis import diagnose_refusal
from .signing import Algorithm, compute_shasign, explain, signatures_match

PASSPHRASE_VARIABLE = "OGONE_PASSPHRASE"
SHA_IN_VARIABLE = "OGONE_SHA_IN"
API_PASSWORD_VARIABLE = "OGONE_API_PASSWORD"


def _secret(what: str, *variables: str) -> str:
    for variable in variables:
        value = os.environ.get(variable)
        if value:
            return value
    if not sys.stdin.isatty():
        raise SystemExit(f"set {' or '.join(variables)} or run in a terminal to be asked for the {what}")
    return getpass.getpass(f"{what}: ")


def _passphrase(what: str) -> str:
    return _secret(what, PASSPHRASE_VARIABLE)


def _pairs(arguments: list[str]) -> list[tuple[str, str]]:
    pairs = []
    for argument in arguments:
        name, sep, value = argument.partition("=")
        if not sep or not name:
            raise SystemExit(f"expected NAME=VALUE, got {argument!r}")
        pairs.append((name, value))
    return pairs


def _query_pairs(text: str, encoding: str) -> list[tuple[str, str]]:
    query = urlsplit(text).query if "://" in text or text.startswith("/") else text
    # The ISO-8859-1 pages send their feedback percent-encoded in ISO-8859-1.
    return parse_qsl(query.lstrip("?"), keep_blank_values=True, encoding=encoding)


def _print_explanation(pairs, direction: str) -> None:
    explanation = explain(pairs, direction)
    print(f"Signed parameters (SHA-{direction.upper()}), in order:")
    for name, value in explanation.included:
        print(f"  {name}={value}")
    if explanation.excluded:
        print("Left out:")
        for name, reason in explanation.excluded:
            print(f"  {name}: {reason}")
    print("String to hash (passphrase masked):")
    print(f"  {explanation.masked_string()}")


def cmd_sign(args: argparse.Namespace) -> int:
    pairs = _pairs(args.params)
    passphrase = _passphrase(f"SHA-{args.direction.upper()} passphrase")
    print(compute_shasign(pairs, passphrase, args.algorithm, args.direction, args.encoding))
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    pairs = _pairs(args.params)
    _print_explanation(pairs, args.direction)
    received = [value for name, value in pairs if name.upper() == "SHASIGN"]
    if received or args.with_digest:
        passphrase = _passphrase(f"SHA-{args.direction.upper()} passphrase")
        digest = compute_shasign(pairs, passphrase, args.algorithm, args.direction, args.encoding)
        print(f"{Algorithm.parse(args.algorithm).value.upper()} ({args.encoding}): {digest}")
        if received:
            same = signatures_match(digest, received[0])
            print("The given SHASIGN matches." if same else f"The given SHASIGN does NOT match: {received[0]}")
            return 0 if same else 1
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    pairs = _query_pairs(args.feedback, args.encoding)
    passphrase = _passphrase("SHA-OUT passphrase")
    try:
        feedback = verify_feedback(pairs, passphrase, args.algorithm, args.encoding)
    except SignatureError as error:
        print(f"INVALID: {error}")
        print(diagnose_refusal(pairs, passphrase, args.algorithm, args.encoding).message)
        if args.explain:
            _print_explanation(pairs, "out")
        return 1
    except OgoneError as error:
        print(f"Signature valid, but the feedback is unusable: {error}")
        return 1
    print("VALID")
    print(f"  ORDERID {feedback.order_id}  PAYID {feedback.pay_id or '-'}  STATUS {feedback.status}"
          f" -> {feedback.category}")
    if feedback.amount is not None:
        print(f"  amount {feedback.amount} {feedback.currency}")
    if feedback.unsigned:
        print(f"  not covered by the signature (do not trust): {', '.join(feedback.unsigned)}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    sha_in = _secret("SHA-IN passphrase", SHA_IN_VARIABLE, PASSPHRASE_VARIABLE)
    api_password = _secret("API password", API_PASSWORD_VARIABLE)
    # The check signs with SHA-IN only; the account wants a SHA-OUT passphrase, which is never used here.
    account = Account(pspid=args.pspid, sha_in=sha_in, sha_out="not used by the check",
                      api_user_id=args.api_user, api_password=api_password, algorithm=args.algorithm,
                      environment=args.base_url, charset=args.encoding)
    result = check_account(account)
    print(f"{'OK' if result.ok else 'PROBLEM'} ({result.outcome.value}) at {result.base_url}")
    print(result.message)
    if result.detail:
        print(f"  platform: {result.detail}")
    return 0 if result.ok else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ogone", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    def common(sub: argparse.ArgumentParser, direction: bool = True) -> None:
        sub.add_argument("--algorithm", "-a", default="sha512", choices=[a.value for a in Algorithm])
        sub.add_argument("--encoding", "-e", default="utf-8", choices=["utf-8", "iso-8859-1"],
                         help="utf-8 for the *_utf8.asp pages (default), iso-8859-1 for the others")
        if direction:
            sub.add_argument("--direction", "-d", default="in", choices=["in", "out"],
                             help="in: what you send (SHA-IN); out: what Ogone sends back (SHA-OUT)")

    sign = commands.add_parser("sign", help="print the SHASIGN of NAME=VALUE parameters")
    common(sign)
    sign.add_argument("params", nargs="+", metavar="NAME=VALUE")
    sign.set_defaults(run=cmd_sign)

    explain_cmd = commands.add_parser("explain", help="show what is signed, what is left out and why")
    common(explain_cmd)
    explain_cmd.add_argument("--with-digest", action="store_true", help="also compute the digest")
    explain_cmd.add_argument("params", nargs="+", metavar="NAME=VALUE")
    explain_cmd.set_defaults(run=cmd_explain)

    verify = commands.add_parser("verify", help="check a feedback query string or URL")
    common(verify, direction=False)
    verify.add_argument("--explain", action="store_true", help="show the canonical string on failure")
    verify.add_argument("feedback", help="the query string, or the whole redirect URL")
    verify.set_defaults(run=cmd_verify)

    check = commands.add_parser(
        "check", help="check an account's settings with a harmless DirectLink query (moves no money)",
        description="Query an ORDERID that cannot exist and tell a wrong PSPID, environment, API user or "
                    f"password, SHA-IN or hash algorithm from all good. Secrets from {SHA_IN_VARIABLE} and "
                    f"{API_PASSWORD_VARIABLE}, or asked for without echo.")
    check.add_argument("--pspid", required=True)
    check.add_argument("--api-user", required=True, help="the API user (Configuration > Users)")
    check.add_argument("--base-url", default="test",
                       help="test, prod, or the base URL of the platform's pages (default: test)")
    check.add_argument("--algorithm", "-a", default="sha512", choices=[a.value for a in Algorithm])
    check.add_argument("--encoding", "-e", default="utf-8", choices=["utf-8", "iso-8859-1"],
                       help="utf-8 for the *_utf8.asp pages (default), iso-8859-1 for the others")
    check.set_defaults(run=cmd_check)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except OgoneError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
