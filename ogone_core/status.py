"""Transaction STATUS codes and their classification.

Names follow Ingenico's status list (statuses-and-errors guide, Worldline full list). The classification
answers "where is the money?", which is what a caller needs:

- ``PAID`` the payment is requested or done (9, 95), or a later operation on it was refused, so the payment
  stands (73 deletion refused, 83 refund refused, 94 refund declined, 96 refund reversed).
- ``AUTHORIZED`` the amount is reserved but not captured (5), or a deletion of that authorisation was
  refused (63), so the authorisation stands.
- ``PENDING`` still moving, the result will come (4, 40, 41, 46, 50, 51, 55, 56, 59, 61, 71, 91, 97-99).
- ``UNCERTAIN`` the platform does not know the result (52, 62, 72, 82, 92) or the query failed (88):
  never success, never failure; query again later.
- ``REFUSED`` declined (2, 93). ``CANCELLED`` by customer or merchant (1, 6, 64, 7, 74, 75).
- ``REFUNDED`` money returned (8, 85; 84 "payment declined by the acquirer, will be debited").
- ``REFUND_PENDING`` (81). ``ERROR`` invalid or incomplete (0), scheduled payment error (57).
"""
from __future__ import annotations

from enum import Enum, IntEnum

from .errors import UnknownStatus


class Category(str, Enum):
    PENDING = "pending"
    AUTHORIZED = "authorized"
    PAID = "paid"
    UNCERTAIN = "uncertain"
    REFUSED = "refused"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    REFUND_PENDING = "refund-pending"
    ERROR = "error"

    def __str__(self) -> str:
        return self.value


class Status(IntEnum):
    INVALID = 0
    CANCELLED_BY_CUSTOMER = 1
    AUTHORIZATION_REFUSED = 2
    ORDER_STORED = 4
    STORED_WAITING_EXTERNAL_RESULT = 40
    WAITING_CLIENT_PAYMENT = 41
    WAITING_AUTHENTICATION = 46
    AUTHORIZED = 5
    AUTHORIZED_WAITING_EXTERNAL_RESULT = 50
    AUTHORIZATION_WAITING = 51
    AUTHORIZATION_NOT_KNOWN = 52
    STANDBY = 55
    OK_WITH_SCHEDULED_PAYMENTS = 56
    ERROR_IN_SCHEDULED_PAYMENTS = 57
    AUTHORIZATION_TO_REQUEST_MANUALLY = 59
    AUTHORIZED_AND_CANCELLED = 6
    AUTHORIZATION_DELETION_WAITING = 61
    AUTHORIZATION_DELETION_UNCERTAIN = 62
    AUTHORIZATION_DELETION_REFUSED = 63
    AUTHORIZED_AND_CANCELLED_64 = 64
    PAYMENT_DELETED = 7
    PAYMENT_DELETION_PENDING = 71
    PAYMENT_DELETION_UNCERTAIN = 72
    PAYMENT_DELETION_REFUSED = 73
    PAYMENT_DELETED_74 = 74
    DELETION_HANDLED_BY_MERCHANT = 75
    REFUND = 8
    REFUND_PENDING = 81
    REFUND_UNCERTAIN = 82
    REFUND_REFUSED = 83
    PAYMENT_DECLINED_BY_ACQUIRER = 84
    REFUND_HANDLED_BY_MERCHANT = 85
    QUERY_FAILED = 88
    PAYMENT_REQUESTED = 9
    PAYMENT_PROCESSING = 91
    PAYMENT_UNCERTAIN = 92
    PAYMENT_REFUSED = 93
    REFUND_DECLINED_BY_ACQUIRER = 94
    PAYMENT_HANDLED_BY_MERCHANT = 95
    REFUND_REVERSED = 96
    BEING_PROCESSED_97 = 97
    BEING_PROCESSED_98 = 98
    BEING_PROCESSED = 99

    @classmethod
    def parse(cls, code: "str | int") -> "Status":
        """The status for a code as received (``"9"``, ``9``); unknown codes raise ``UnknownStatus``."""
        if isinstance(code, cls):
            return code
        known = _BY_CODE.get(code) if code.__class__ is str else None
        if known is not None:
            return known
        text = str(code).strip()
        # Only the plain ASCII decimal form the platform sends: no sign, no leading zero, no other digits.
        if not (text.isascii() and text.isdigit()) or (len(text) > 1 and text[0] == "0"):
            raise UnknownStatus(code)
        try:
            return cls(int(text))
        except ValueError:
            raise UnknownStatus(code) from None

    @property
    def category(self) -> Category:
        return _CATEGORIES[self]

    @property
    def description(self) -> str:
        return _DESCRIPTIONS[self]

    @property
    def is_uncertain(self) -> bool:
        return self.category is Category.UNCERTAIN

    def __str__(self) -> str:
        return f"{self.value} ({self.description})"


_C = Category
_S = Status
_TABLE = {
    _S.INVALID: (_C.ERROR, "Invalid or incomplete"),
    _S.CANCELLED_BY_CUSTOMER: (_C.CANCELLED, "Cancelled by customer"),
    _S.AUTHORIZATION_REFUSED: (_C.REFUSED, "Authorisation refused"),
    _S.ORDER_STORED: (_C.PENDING, "Order stored"),
    _S.STORED_WAITING_EXTERNAL_RESULT: (_C.PENDING, "Stored waiting external result"),
    _S.WAITING_CLIENT_PAYMENT: (_C.PENDING, "Waiting for client payment"),
    _S.WAITING_AUTHENTICATION: (_C.PENDING, "Waiting authentication"),
    _S.AUTHORIZED: (_C.AUTHORIZED, "Authorised"),
    _S.AUTHORIZED_WAITING_EXTERNAL_RESULT: (_C.PENDING, "Authorised waiting external result"),
    _S.AUTHORIZATION_WAITING: (_C.PENDING, "Authorisation waiting"),
    _S.AUTHORIZATION_NOT_KNOWN: (_C.UNCERTAIN, "Authorisation not known"),
    _S.STANDBY: (_C.PENDING, "Standby"),
    _S.OK_WITH_SCHEDULED_PAYMENTS: (_C.PENDING, "OK with scheduled payments"),
    _S.ERROR_IN_SCHEDULED_PAYMENTS: (_C.ERROR, "Not OK with scheduled payments"),
    _S.AUTHORIZATION_TO_REQUEST_MANUALLY: (_C.PENDING, "Authorisation to be requested manually"),
    _S.AUTHORIZED_AND_CANCELLED: (_C.CANCELLED, "Authorised and cancelled"),
    _S.AUTHORIZATION_DELETION_WAITING: (_C.PENDING, "Authorisation deletion waiting"),
    _S.AUTHORIZATION_DELETION_UNCERTAIN: (_C.UNCERTAIN, "Authorisation deletion uncertain"),
    _S.AUTHORIZATION_DELETION_REFUSED: (_C.AUTHORIZED, "Authorisation deletion refused"),
    _S.AUTHORIZED_AND_CANCELLED_64: (_C.CANCELLED, "Authorised and cancelled"),
    _S.PAYMENT_DELETED: (_C.CANCELLED, "Payment deleted"),
    _S.PAYMENT_DELETION_PENDING: (_C.PENDING, "Payment deletion pending"),
    _S.PAYMENT_DELETION_UNCERTAIN: (_C.UNCERTAIN, "Payment deletion uncertain"),
    _S.PAYMENT_DELETION_REFUSED: (_C.PAID, "Payment deletion refused"),
    _S.PAYMENT_DELETED_74: (_C.CANCELLED, "Payment deleted"),
    _S.DELETION_HANDLED_BY_MERCHANT: (_C.CANCELLED, "Deletion handled by merchant"),
    _S.REFUND: (_C.REFUNDED, "Refund"),
    _S.REFUND_PENDING: (_C.REFUND_PENDING, "Refund pending"),
    _S.REFUND_UNCERTAIN: (_C.UNCERTAIN, "Refund uncertain"),
    _S.REFUND_REFUSED: (_C.PAID, "Refund refused"),
    _S.PAYMENT_DECLINED_BY_ACQUIRER: (_C.REFUNDED, "Payment declined by the acquirer (will be debited)"),
    _S.REFUND_HANDLED_BY_MERCHANT: (_C.REFUNDED, "Refund handled by merchant"),
    _S.QUERY_FAILED: (_C.UNCERTAIN, "The query on querydirect failed"),
    _S.PAYMENT_REQUESTED: (_C.PAID, "Payment requested"),
    _S.PAYMENT_PROCESSING: (_C.PENDING, "Payment processing"),
    _S.PAYMENT_UNCERTAIN: (_C.UNCERTAIN, "Payment uncertain"),
    _S.PAYMENT_REFUSED: (_C.REFUSED, "Payment refused"),
    _S.REFUND_DECLINED_BY_ACQUIRER: (_C.PAID, "Refund declined by the acquirer"),
    _S.PAYMENT_HANDLED_BY_MERCHANT: (_C.PAID, "Payment handled by merchant"),
    _S.REFUND_REVERSED: (_C.PAID, "Refund reversed"),
    _S.BEING_PROCESSED_97: (_C.PENDING, "Being processed"),
    _S.BEING_PROCESSED_98: (_C.PENDING, "Being processed"),
    _S.BEING_PROCESSED: (_C.PENDING, "Being processed"),
}
_CATEGORIES = {status: category for status, (category, _) in _TABLE.items()}
_DESCRIPTIONS = {status: text for status, (_, text) in _TABLE.items()}

# Each code exactly as the platform writes it; anything else goes through the checks of Status.parse.
_BY_CODE = {str(status.value): status for status in Status}
