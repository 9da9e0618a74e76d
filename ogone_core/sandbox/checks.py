"""Checks every protocol page makes before it does anything: the PSPID, the environment, the SHA-IN
signature, and the order fields (ORDERID, AMOUNT, CURRENCY, OPERATION)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional

from werkzeug.wrappers import Request

from ..amounts import is_currency_code
from ..errors import InvalidRequest
from ..signing import compute_shasign, signatures_match
from . import ncerrors
from .merchants import Merchant
from .wire import Params, whole_number

MAX_ORDER_ID = 40
MAX_AMOUNT_DIGITS = 15


@dataclass(frozen=True)
class PageRequest:
    """One request to a protocol page, decoded in the page's charset."""

    request: Request
    env: str  # "test" or "prod"
    page: str  # page name without "_utf8" and ".asp", lower case
    charset: str
    params: Params

    @property
    def base_url(self) -> str:
        return f"{self.request.host_url}ncol/{self.env}/"

    @property
    def suffix(self) -> str:
        return "_utf8" if self.charset == "utf-8" else ""

    @property
    def client_ip(self) -> str:
        return self.request.remote_addr or ""


@dataclass(frozen=True)
class Problem:
    """Why a request is refused: the NCERROR and the NCERRORPLUS text."""

    ncerror: str
    plus: str

    @classmethod
    def of(cls, ncerror: str, plus: str = "") -> "Problem":
        return cls(ncerror, plus or ncerrors.text(ncerror))


def production_refused(merchant: Merchant, env: str) -> Optional[Problem]:
    # A test PSPID does not exist on the production platform: the sandbox answers the same way unless the
    # merchant is configured to accept /ncol/prod/ (to test a client's production URL handling).
    if env == "prod" and not merchant.allow_prod:
        return Problem.of(ncerrors.PSPID_NOT_FOUND,
                          f"{ncerrors.text(ncerrors.PSPID_NOT_FOUND)}: the sandbox is a test platform and "
                          f"serves /ncol/prod/ only for merchants configured with allow_prod")
    return None


def signature_problem(params: Params, signed: Sequence[tuple[str, str]], passphrase: str, merchant: Merchant,
                      charset: str, required: bool = True) -> Optional[Problem]:
    received = params.stripped("SHASIGN")
    if not received:
        return Problem(ncerrors.SHA_MISMATCH, ncerrors.SHA_MISSING_TEXT) if required else None
    try:
        expected = compute_shasign(signed, passphrase, merchant.algorithm, "in", charset)
    except InvalidRequest:
        # A name given twice or a value the page's charset cannot carry: no signature can match.
        return Problem(ncerrors.SHA_MISMATCH, ncerrors.SHA_MISMATCH_TEXT)
    if not signatures_match(expected, received):
        return Problem(ncerrors.SHA_MISMATCH, ncerrors.SHA_MISMATCH_TEXT)
    return None


@dataclass(frozen=True)
class OrderFields:
    orderid: str
    amount: int  # AMOUNT as sent: the amount x 100, whatever the currency
    currency: str
    operation: str


def order_fields(params: Params, default_operation: str,
                 operations: Sequence[str]) -> tuple[Optional[OrderFields], Optional[Problem]]:
    orderid = params.stripped("ORDERID")
    missing = [label for name, label in (("ORDERID", "no orderid"), ("AMOUNT", "no amount"),
                                         ("CURRENCY", "no currency")) if not params.stripped(name)]
    if missing:
        # The platform joins several data errors with "|" after a leading space.
        return None, Problem(ncerrors.DATA_VALIDATION, " " + "|".join(missing))
    if len(orderid) > MAX_ORDER_ID:
        return None, Problem(ncerrors.DATA_VALIDATION, " orderid too long")
    amount = whole_number(params.stripped("AMOUNT"), MAX_AMOUNT_DIGITS)
    if amount is None:
        return None, Problem.of(ncerrors.AMOUNT_NOT_A_NUMBER)
    if amount <= 0:
        return None, Problem(ncerrors.DATA_VALIDATION, " amount must be positive")
    currency = params.stripped("CURRENCY").upper()
    if not is_currency_code(currency):
        return None, Problem.of(ncerrors.INVALID_CURRENCY)
    operation = params.stripped("OPERATION").upper() or default_operation
    if operation not in operations:
        return None, Problem.of(ncerrors.OPERATION_NOT_ALLOWED)
    return OrderFields(orderid, amount, currency, operation), None
