"""What the hosted page and DirectLink orders share: the order checks, the customer fields, ``extra``."""
from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from urllib.parse import urlencode

from .amounts import to_decimal, to_wire_amount
from .errors import InvalidRequest
from .validation import Operation, validate_order_id

# Parameter name -> attribute of the request, for the customer data both kinds of order carry.
CUSTOMER_FIELDS = (
    ("CN", "customer_name"),
    ("EMAIL", "email"),
    ("OWNERADDRESS", "owner_address"),
    ("OWNERZIP", "owner_zip"),
    ("OWNERTOWN", "owner_town"),
    ("OWNERCTY", "owner_country"),
    ("OWNERTELNO", "owner_phone"),
    ("COM", "description"),
)
# Never taken from ``extra``: credentials and the signature are the library's to set.
_RESERVED = frozenset({"PSPID", "USERID", "PSWD", "SHASIGN"})


def check_order(order_id: str, amount: object, currency: str, operation: "Operation | str",
                allowed: tuple[Operation, ...], kind: str, where: str) -> tuple[Decimal, Operation]:
    """Validate what every new order has; return the amount as Decimal and the parsed operation.

    ``kind`` names the order in messages ("an order"), ``where`` the page ("a new order").
    """
    validate_order_id(order_id)
    value = to_decimal(amount)
    if value <= 0:
        raise InvalidRequest(f"the amount of {kind} must be positive")
    to_wire_amount(value, currency)
    parsed = Operation.parse(operation)
    if parsed not in allowed:
        codes = [code.value for code in allowed]
        raise InvalidRequest(f"{where} takes OPERATION {', '.join(codes[:-1])} or {codes[-1]}")
    return value, parsed


def check_yes_no(value: str, name: str) -> None:
    if value not in ("", "Y", "N"):
        raise InvalidRequest(f"{name} is 'Y' or 'N'")


def order_parameters(request: object, **after_currency: str) -> dict[str, str]:
    """ORDERID, AMOUNT (the amount x 100), CURRENCY, OPERATION and the customer fields of a request, in the
    order of the guide's form template (``after_currency`` goes where LANGUAGE stands there)."""
    values = {
        "ORDERID": request.order_id,
        "AMOUNT": str(to_wire_amount(request.amount, request.currency)),
        "CURRENCY": request.currency,
        **after_currency,
        "OPERATION": request.operation.value,
    }
    values.update((name, getattr(request, attribute)) for name, attribute in CUSTOMER_FIELDS)
    return values


def encode_paramplus(values: Mapping[str, str], charset: str) -> str:
    """PARAMPLUS is a query string the platform parses with the page's charset, so it is encoded in it."""
    try:
        return urlencode(list(values.items()), encoding=charset, errors="strict")
    except UnicodeEncodeError:
        raise InvalidRequest(f"PARAMPLUS cannot be written in {charset}: use the UTF-8 pages") from None


def merge_extra(values: dict[str, str], extra: Mapping[str, str]) -> dict[str, str]:
    """Add the caller's other parameters; a name that has its own field is refused, not overwritten."""
    for name, value in extra.items():
        if name.upper() in values or name.upper() in _RESERVED:
            raise InvalidRequest(f"{name} has its own field; do not pass it in extra")
        values[name.upper()] = value
    return values
