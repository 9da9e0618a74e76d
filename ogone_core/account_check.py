"""Check an account's settings against the platform, with calls that move no money.

One DirectLink query of an ORDERID that cannot exist, signed with the account's SHA-IN: the platform checks
the PSPID, then the API user and password, then the signature, before it looks for the order. So the
answer tells which setting is wrong; "order not found" means all of them are right. When the PSPID is
unknown, the same query on the other environment (test or production) tells whether the PSPID is of the
other kind. The DirectLink guide forbids systematic queries: run a check when a person asks for it, never
on a schedule.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from enum import Enum
from typing import Optional

from .account import BASE_URLS, Account
from .directlink import DirectLinkClient
from .errors import (CertificateFailed, ConfigurationError, ConnectionFailed, InvalidRequest, ProtocolError,
                     ServerError, TransportError)
from .ncerror import describe
from .ncresponse import DirectLinkResponse
from .transport import RequestsTransport, Transport

PSPID_NOT_FOUND = "50001118"
PASSWORD_INCORRECT = "50001119"
SHA_MISMATCH = "50001184"
IP_NOT_ALLOWED = ("50001116", "50001117")
API_NOT_ALLOWED_TEXT = "connection to api feature not allowed"
# The origin check's own words: "unknown order/1/s" (wrong SHASIGN), "unknown order/0/s" (none).
SIGNATURE_TEXT = re.compile(r"unknown order/[01]/s", re.IGNORECASE)


class CheckOutcome(str, Enum):
    OK = "ok"
    MISSING_CREDENTIALS = "missing_credentials"
    UNKNOWN_PSPID = "unknown_pspid"
    WRONG_ENVIRONMENT = "wrong_environment"
    NOT_API_USER = "not_api_user"
    CREDENTIALS = "credentials"
    SIGNATURE = "signature"
    IP_NOT_ALLOWED = "ip_not_allowed"
    UNREACHABLE = "unreachable"
    TLS = "tls"
    NO_ANSWER = "no_answer"
    NOT_OGONE = "not_ogone"
    UNEXPECTED = "unexpected"


# Where to look, in the administrator's words; the Tryton module has its own translated texts per outcome.
_MESSAGES = {
    CheckOutcome.OK: "All good: the PSPID, the API user and password, the SHA-IN passphrase and the hash "
                     "algorithm are those of the back office.",
    CheckOutcome.MISSING_CREDENTIALS: "Set the API user and its password (Configuration > Users, a user with "
                                      "the profile \"Special user for API\").",
    CheckOutcome.UNKNOWN_PSPID: "The platform does not know this PSPID at {base_url}: check the PSPID and the "
                                "environment or base URL.",
    CheckOutcome.WRONG_ENVIRONMENT: "This PSPID is a {other_kind} account: it is known at {other_base_url}, not "
                                    "at {base_url}. Set the environment to {other_kind}.",
    CheckOutcome.NOT_API_USER: "The user is not allowed to use the API: create a user with the profile "
                               "\"Special user for API\" in Configuration > Users and use it, not the PSPID.",
    CheckOutcome.CREDENTIALS: "The API user or its password is wrong (or the user is locked after too many "
                              "errors): check them in Configuration > Users.",
    CheckOutcome.SIGNATURE: "The signature is refused (unknown order/1/s): the SHA-IN passphrase or the hash "
                            "algorithm differs. Check Technical information > Data and origin verification > "
                            "Checks for DirectLink and Batch (SHA-IN passphrase) and Technical information > "
                            "Global security parameters (hash algorithm).",
    CheckOutcome.IP_NOT_ALLOWED: "The platform refuses this server's IP address: add it in Technical information "
                                 "> Data and origin verification > Checks for DirectLink and Batch.",
    CheckOutcome.UNREACHABLE: "Cannot connect to {base_url} (name resolution, refused connection or connect "
                              "timeout): check the base URL, the DNS, the firewall or the proxy.",
    CheckOutcome.TLS: "The TLS connection to {base_url} fails (certificate or protocol): check the base URL "
                      "(https:// only where the platform serves TLS) and the server's CA certificates.",
    CheckOutcome.NO_ANSWER: "{base_url} did not answer in time: try again later; if it lasts, check the base "
                            "URL and the network.",
    CheckOutcome.NOT_OGONE: "{base_url} does not answer like Ogone's DirectLink pages: check the base URL (the "
                            "folder that holds querydirect.asp, e.g. https://secure.ogone.com/ncol/prod/).",
    CheckOutcome.UNEXPECTED: "The platform answered something unexpected: {detail}",
}


@dataclass(frozen=True)
class CheckResult:
    """The outcome of a check. ``detail`` is the platform's NCERROR and text or the transport failure, never a
    secret; ``other_base_url`` and ``other_kind`` ("test" or "production") go with ``WRONG_ENVIRONMENT``."""

    outcome: CheckOutcome
    base_url: str
    detail: str = ""
    ncerror: str = ""
    other_base_url: str = ""
    other_kind: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome is CheckOutcome.OK

    @property
    def message(self) -> str:
        return _MESSAGES[self.outcome].format(base_url=self.base_url, other_base_url=self.other_base_url,
                                              other_kind=self.other_kind, detail=self.detail)


def check_order_id() -> str:
    """An ORDERID no order can have: the check queries it and expects "not found"."""
    return f"CHECK-{secrets.token_hex(12)}"


def other_environment(account: Account) -> Optional[tuple[str, str]]:
    """(base URL, kind) of the other environment of the same platform, or None when there is none."""
    base_url = account.base_url
    if base_url == BASE_URLS["test"]:
        return BASE_URLS["prod"], "production"
    if base_url == BASE_URLS["prod"]:
        return BASE_URLS["test"], "test"
    if "/ncol/test/" in base_url:
        return base_url.replace("/ncol/test/", "/ncol/prod/", 1), "production"
    if "/ncol/prod/" in base_url:
        return base_url.replace("/ncol/prod/", "/ncol/test/", 1), "test"
    return None


def check_transport() -> RequestsTransport:
    """Short timeouts and no retry: an administrator is waiting for the answer."""
    return RequestsTransport(connect_timeout=5.0, read_timeout=15.0, connect_retries=0, query_retries=0)


def _query(account: Account, transport: Transport, order_id: str) -> "DirectLinkResponse | CheckResult":
    base_url = account.base_url
    try:
        return DirectLinkClient(account, transport).query(order_id=order_id)
    except CertificateFailed as error:
        return CheckResult(CheckOutcome.TLS, base_url, str(error))
    except ConnectionFailed as error:
        return CheckResult(CheckOutcome.UNREACHABLE, base_url, str(error))
    except ServerError as error:
        return CheckResult(CheckOutcome.NOT_OGONE, base_url, str(error))
    except ProtocolError as error:
        return CheckResult(CheckOutcome.NOT_OGONE, base_url, str(error))
    except TransportError as error:  # no answer in time, connection lost, a TLS handshake that failed
        outcome = CheckOutcome.TLS if "SSLError" in str(error) else CheckOutcome.NO_ANSWER
        return CheckResult(outcome, base_url, str(error))
    except InvalidRequest as error:  # a setting the page's charset cannot carry
        return CheckResult(CheckOutcome.UNEXPECTED, base_url, str(error))


def _classify(response: DirectLinkResponse, base_url: str) -> CheckResult:
    ncerror = response.ncerror
    detail = f"NCERROR {ncerror or '-'}: {response.ncerror_plus or describe(ncerror) or '-'}"
    if ncerror == PSPID_NOT_FOUND:
        outcome = CheckOutcome.UNKNOWN_PSPID
    elif ncerror == PASSWORD_INCORRECT:
        outcome = (CheckOutcome.NOT_API_USER if API_NOT_ALLOWED_TEXT in response.ncerror_plus.lower()
                   else CheckOutcome.CREDENTIALS)
    elif ncerror == SHA_MISMATCH or SIGNATURE_TEXT.search(response.ncerror_plus):
        outcome = CheckOutcome.SIGNATURE
    elif ncerror in IP_NOT_ALLOWED:
        outcome = CheckOutcome.IP_NOT_ALLOWED
    else:
        # Past the PSPID, the user, the password and the signature, the platform looked for the order:
        # whatever it says about an order that cannot exist, the settings are right.
        outcome = CheckOutcome.OK
    return CheckResult(outcome, base_url, detail, ncerror)


def check_account(account: Account, transport: Optional[Transport] = None,
                  order_id: Optional[str] = None) -> CheckResult:
    """Check ``account`` against its platform with queries only. Never raises for a wrong setting: every
    finding is a ``CheckResult``."""
    base_url = account.base_url
    try:
        account.require_api_credentials()
    except ConfigurationError as error:
        return CheckResult(CheckOutcome.MISSING_CREDENTIALS, base_url, str(error))
    transport = transport or check_transport()
    order_id = order_id or check_order_id()
    answer = _query(account, transport, order_id)
    if isinstance(answer, CheckResult):
        return answer
    result = _classify(answer, base_url)
    if result.outcome is not CheckOutcome.UNKNOWN_PSPID:
        return result
    other = other_environment(account)
    if other is None:
        return result
    other_base_url, other_kind = other
    other_account = Account(pspid=account.pspid, sha_in=account.sha_in, sha_out=account.sha_out,
                            api_user_id=account.api_user_id, api_password=account.api_password,
                            algorithm=account.algorithm, environment=other_base_url, charset=account.charset)
    other_answer = _query(other_account, transport, order_id)
    if isinstance(other_answer, CheckResult) or other_answer.ncerror == PSPID_NOT_FOUND:
        return result
    return CheckResult(CheckOutcome.WRONG_ENVIRONMENT, base_url, result.detail, result.ncerror,
                       other_base_url, other_kind)
