"""Checks on values a merchant sends, made before anything leaves the process."""
from __future__ import annotations

import re
from enum import Enum

from .errors import InvalidRequest

_ORDER_ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
_ALIAS = re.compile(r"^[A-Za-z0-9_.-]{1,50}$")


class Operation(str, Enum):
    """OPERATION codes. New orders: RES, SAL (PAU, RFD). Maintenance: SAL, SAS, RFD, RFS, DEL, DES, REN."""

    AUTHORIZATION = "RES"
    SALE = "SAL"
    PRE_AUTHORIZATION = "PAU"
    CAPTURE_PARTIAL = "SAL"
    CAPTURE_LAST = "SAS"
    REFUND_PARTIAL = "RFD"
    REFUND_LAST = "RFS"
    DELETE = "DEL"
    DELETE_AND_CLOSE = "DES"
    RENEW = "REN"

    @classmethod
    def parse(cls, value: "Operation | str") -> "Operation":
        try:
            return cls(value)
        except ValueError:
            raise InvalidRequest(f"unknown OPERATION {value!r}") from None

    def __str__(self) -> str:
        return self.value


def mask_card_number(number: str) -> str:
    """Every digit but the last four as X, as the platform masks them; a value too short to be a card
    number is hidden whole."""
    return "X" * (len(number) - 4) + number[-4:] if len(number) > 8 else "XXXX"


def validate_order_id(order_id: str) -> str:
    if not isinstance(order_id, str) or not _ORDER_ID.fullmatch(order_id):
        raise InvalidRequest(
            f"invalid ORDERID {order_id!r}: 1 to 40 characters among letters, digits, '_' and '-'")
    return order_id


def validate_alias(alias: str) -> str:
    if not isinstance(alias, str) or not _ALIAS.fullmatch(alias):
        raise InvalidRequest(f"invalid ALIAS {alias!r}: 1 to 50 letters, digits, '_', '-' or '.'")
    return alias
