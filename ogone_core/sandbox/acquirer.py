"""The acquirer behind the sandbox: what a new order or a maintenance operation turns into.

Pure functions over the card's behaviour and the history lines, so the rules can be read in one place:
authorisation (RES) gives 5 and sale (SAL) 9 on an approved card; captures, refunds and deletions are
processed offline as on the platform (91, 81, 61, settling later to 9, 8, 6); a renewal is online (5).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional, Union

from . import ncerrors
from .cards import Behaviour
from .store import HistoryLine

ACCEPTANCE = "test123"  # the acceptance code the test platform gives to every approved payment

OFFLINE = "offline"
UNCERTAIN = "uncertain"

NEW_ORDER_OPERATIONS = ("RES", "SAL", "PAU")
MAINTENANCE_OPERATIONS = ("SAL", "SAS", "RFD", "RFS", "DEL", "DES", "REN")
_CAPTURES = ("SAL", "SAS")
_REFUNDS = ("RFD", "RFS")
_DELETIONS = ("DEL", "DES")


@dataclass(frozen=True)
class Outcome:
    """A status now, and for pending statuses the status it will settle to and when (``settle_kind``)."""

    status: int
    ncerror: str = ncerrors.OK
    acceptance: str = ""
    settle_status: Optional[int] = None
    settle_ncerror: Optional[str] = None
    settle_kind: Optional[str] = None

    @property
    def approved(self) -> bool:
        return self.status in (5, 9) or self.settle_status in (5, 9)


def line_operation(operation: str) -> str:
    # The platform processes a pre-authorisation as an authorisation where the acquirer has no PAU.
    return "RES" if operation == "PAU" else operation


def new_order(behaviour: Behaviour, operation: str) -> Outcome:
    """The result of authorising (RES) or selling (SAL) on a card, 3-D Secure already passed if needed."""
    sale = line_operation(operation) == "SAL"
    done, refused = (9, 93) if sale else (5, 2)
    if behaviour in (Behaviour.APPROVED, Behaviour.THREE_D_SECURE):
        return Outcome(done, acceptance=ACCEPTANCE)
    if behaviour is Behaviour.REFUSED:
        return Outcome(2, ncerrors.AUTHORIZATION_DECLINED)
    if behaviour is Behaviour.PAYMENT_REFUSED:
        return Outcome(93, ncerrors.ACQUIRER_REFUSED) if sale else Outcome(5, acceptance=ACCEPTANCE)
    if behaviour is Behaviour.UNCERTAIN_THEN_APPROVED:
        return Outcome(92 if sale else 52, ncerrors.UNCERTAIN, settle_status=done,
                       settle_ncerror=ncerrors.OK, settle_kind=UNCERTAIN)
    if behaviour is Behaviour.UNCERTAIN_THEN_REFUSED:
        return Outcome(92 if sale else 52, ncerrors.UNCERTAIN, settle_status=refused,
                       settle_ncerror=ncerrors.ACQUIRER_REFUSED if sale else ncerrors.AUTHORIZATION_DECLINED,
                       settle_kind=UNCERTAIN)
    if behaviour is Behaviour.OFFLINE:
        return Outcome(91 if sale else 51, acceptance=ACCEPTANCE, settle_status=done,
                       settle_ncerror=ncerrors.OK, settle_kind=OFFLINE)
    if behaviour is Behaviour.EXCEPTION:
        return Outcome(0, ncerrors.TECHNICAL_PROBLEM)
    raise ValueError(f"no new-order rule for {behaviour}")


def authentication_failed() -> Outcome:
    return Outcome(2, ncerrors.AUTHENTICATION_FAILED)


@dataclass(frozen=True)
class Refusal:
    ncerror: str


@dataclass(frozen=True)
class NewLine:
    operation: str
    amount: int
    outcome: Outcome


@dataclass(frozen=True)
class Position:
    """Where the money stands, read from the history lines."""

    authorised: bool
    remaining_authorisation: int
    settled_captured: int
    refunded: int
    capture_closed: bool
    refund_closed: bool
    deleted: bool

    @property
    def refundable(self) -> int:
        return self.settled_captured - self.refunded


def position(lines: Sequence[HistoryLine]) -> Position:
    original = lines[0]
    authorised = original.status == 5
    captured = settled = refunded = 0
    capture_closed = refund_closed = deleted = False
    if original.status == 9:
        captured = settled = original.amount
    for line in lines[1:]:
        if line.operation in _CAPTURES and line.status in (9, 91):
            captured += line.amount
            settled += line.amount if line.status == 9 else 0
            capture_closed = capture_closed or line.operation == "SAS"
        elif line.operation in _REFUNDS and line.status in (8, 81):
            refunded += line.amount
            refund_closed = refund_closed or line.operation == "RFS"
        elif line.operation in _DELETIONS and line.status in (6, 61):
            deleted = True
            capture_closed = capture_closed or line.operation == "DES"
        elif line.operation == "REN" and line.status == 5:
            deleted = False
    remaining = original.amount - captured if authorised else 0
    return Position(authorised, remaining, settled, refunded, capture_closed, refund_closed, deleted)


def maintenance(lines: Sequence[HistoryLine], behaviour: Behaviour, operation: str,
                amount: Optional[int]) -> Union[Refusal, NewLine]:
    """Decide one maintenance request; ``amount`` None means "what is left"."""
    if operation not in MAINTENANCE_OPERATIONS:
        return Refusal(ncerrors.OPERATION_NOT_ALLOWED)
    where = position(lines)
    if operation in _CAPTURES:
        if not where.authorised or where.capture_closed or where.deleted or where.remaining_authorisation <= 0:
            return Refusal(ncerrors.NOT_IN_CORRECT_STATUS)
        value = where.remaining_authorisation if amount is None else amount
        if value > where.remaining_authorisation:
            return Refusal(ncerrors.CAPTURE_OVERFLOW)
        settles_to, settle_error = (93, ncerrors.ACQUIRER_REFUSED) if behaviour is Behaviour.PAYMENT_REFUSED \
            else (9, ncerrors.OK)
        return NewLine(operation, value, Outcome(91, acceptance=ACCEPTANCE, settle_status=settles_to,
                                                 settle_ncerror=settle_error, settle_kind=OFFLINE))
    if operation in _REFUNDS:
        if where.refund_closed or where.refundable <= 0:
            return Refusal(ncerrors.NOT_IN_CORRECT_STATUS)
        value = where.refundable if amount is None else amount
        if value > where.refundable:
            return Refusal(ncerrors.REFUND_OVERFLOW)
        return NewLine(operation, value, Outcome(81, settle_status=8, settle_ncerror=ncerrors.OK,
                                                 settle_kind=OFFLINE))
    if operation in _DELETIONS:
        if not where.authorised or where.capture_closed or where.deleted or where.remaining_authorisation <= 0:
            return Refusal(ncerrors.NOT_IN_CORRECT_STATUS)
        return NewLine(operation, where.remaining_authorisation,
                       Outcome(61, settle_status=6, settle_ncerror=ncerrors.OK, settle_kind=OFFLINE))
    # REN: renewals are processed online.
    if not where.authorised or where.capture_closed or where.remaining_authorisation <= 0:
        return Refusal(ncerrors.NOT_IN_CORRECT_STATUS)
    return NewLine(operation, where.remaining_authorisation, Outcome(5, acceptance=ACCEPTANCE))
