"""DirectLink: server-to-server orders, maintenance (capture, refund, cancel, renew) and queries."""
from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Optional

from .account import Account, Page
from .amounts import to_decimal, to_wire_amount
from .errors import InvalidRequest, OutcomeUnknown, ProtocolError, UnreadableOutcome
from .ncresponse import DirectLinkResponse, parse_ncresponse
from .order_fields import check_order, encode_paramplus, merge_extra, order_parameters
from .transport_pool import shared_transport
from .signing import compute_shasign
from .transport import Transport
from .validation import Operation, mask_card_number, validate_alias, validate_order_id

log = logging.getLogger(__name__)

_EXPIRY = re.compile(r"^(0[1-9]|1[0-2])/?(\d{2})$")
_ECI = frozenset("0123456789")


@dataclass(frozen=True)
class Card:
    """Card data typed by a customer. Never logged; the repr shows the last four digits only."""

    number: str = field(repr=False)
    expiry: str = field(repr=False)  # MM/YY or MMYY
    cvc: str = field(default="", repr=False)
    holder: str = ""

    def __post_init__(self) -> None:
        number = self.number.replace(" ", "")
        if not (number.isascii() and number.isdigit()) or not 12 <= len(number) <= 19:
            raise InvalidRequest("the card number must be 12 to 19 digits")
        object.__setattr__(self, "number", number)
        if not _EXPIRY.match(self.expiry):
            raise InvalidRequest("the expiry date must be MM/YY or MMYY")
        if self.cvc and (not (self.cvc.isascii() and self.cvc.isdigit()) or len(self.cvc) > 5):
            raise InvalidRequest("the CVC must be up to 5 digits")

    @property
    def masked(self) -> str:
        return mask_card_number(self.number)

    def __repr__(self) -> str:
        return f"Card(number={self.masked!r}, holder={self.holder!r})"

    def parameters(self) -> dict[str, str]:
        month, year = _EXPIRY.match(self.expiry).groups()
        return {"CARDNO": self.number, "ED": f"{month}{year}", "CVC": self.cvc, "CN": self.holder}


@dataclass(frozen=True)
class ThreeDSecure:
    """3-D Secure parameters: the result reaches the merchant through the e-Commerce feedback channels."""

    accept_url: str
    decline_url: str
    exception_url: str
    cancel_url: str = ""
    http_accept: str = "*/*"
    http_user_agent: str = ""
    win3ds: str = "MAINW"
    language: str = "en_US"
    complus: str = ""
    paramplus: Mapping[str, str] = field(default_factory=dict)

    def parameters(self, charset: str = "utf-8") -> dict[str, str]:
        return {"FLAG3D": "Y", "HTTP_ACCEPT": self.http_accept, "HTTP_USER_AGENT": self.http_user_agent,
                "WIN3DS": self.win3ds, "ACCEPTURL": self.accept_url, "DECLINEURL": self.decline_url,
                "EXCEPTIONURL": self.exception_url, "CANCELURL": self.cancel_url, "LANGUAGE": self.language,
                "COMPLUS": self.complus, "PARAMPLUS": encode_paramplus(self.paramplus, charset)}


@dataclass(frozen=True)
class OrderRequest:
    """A new DirectLink order, with a card, a saved ALIAS, or both (to store the card under that alias)."""

    order_id: str
    amount: Decimal
    currency: str
    operation: Operation = Operation.SALE
    card: Optional[Card] = None
    alias: str = ""
    alias_persisted_after_use: str = ""
    eci: str = ""
    customer_name: str = ""
    email: str = ""
    owner_address: str = ""
    owner_zip: str = ""
    owner_town: str = ""
    owner_country: str = ""
    owner_phone: str = ""
    description: str = ""
    remote_addr: str = ""
    request_timeout: Optional[int] = 30
    global_order_id: str = ""
    three_d_secure: Optional[ThreeDSecure] = None
    extra: Mapping[str, str] = field(default_factory=dict, repr=False)  # may carry card data

    def __post_init__(self) -> None:
        amount, operation = check_order(
            self.order_id, self.amount, self.currency, self.operation,
            (Operation.AUTHORIZATION, Operation.SALE, Operation.PRE_AUTHORIZATION, Operation.REFUND_PARTIAL),
            "an order", "a new order")
        object.__setattr__(self, "amount", amount)
        object.__setattr__(self, "operation", operation)
        if self.card is None and not self.alias:
            raise InvalidRequest("a new order needs a card or an ALIAS")
        if self.alias:
            validate_alias(self.alias)
        if self.eci and self.eci not in _ECI:
            raise InvalidRequest("ECI is one digit (7 e-commerce, 9 recurring e-commerce, ...)")
        if self.request_timeout is not None and not 30 <= self.request_timeout <= 90:
            raise InvalidRequest("RTIMEOUT must be between 30 and 90 seconds")
        self.parameters()  # refuses a clash in ``extra`` now rather than when the order is sent

    def parameters(self, charset: str = "utf-8") -> dict[str, str]:
        values = order_parameters(self)
        values.update({
            "ALIAS": self.alias,
            "ALIASPERSISTEDAFTERUSE": self.alias_persisted_after_use,
            "ECI": self.eci,
            "REMOTE_ADDR": self.remote_addr,
            "RTIMEOUT": str(self.request_timeout or ""),
            "GLOBORDERID": self.global_order_id,
        })
        if self.card is not None:
            card = self.card.parameters()
            values.update({key: value for key, value in card.items() if key != "CN" or value})
        if self.three_d_secure is not None:
            values.update(self.three_d_secure.parameters(charset))
        return merge_extra(values, self.extra)


@dataclass(frozen=True)
class MaintenanceRequest:
    """A maintenance operation on an existing payment (PAYID recommended, ORDERID accepted)."""

    operation: Operation
    pay_id: str = ""
    order_id: str = ""
    amount: Optional[Decimal] = None
    currency: str = ""
    extra: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "operation", Operation.parse(self.operation))
        if self.operation not in _MAINTENANCE:
            raise InvalidRequest("maintenance takes OPERATION SAL, SAS, RFD, RFS, DEL, DES or REN")
        _check_reference(self.pay_id, self.order_id)
        if self.amount is not None:
            object.__setattr__(self, "amount", to_decimal(self.amount))
            if self.amount <= 0:
                raise InvalidRequest("the amount of a maintenance operation must be positive")
            if not self.currency:
                raise InvalidRequest("give the currency with the amount")
            to_wire_amount(self.amount, self.currency)
        elif self.operation in (Operation.REFUND_PARTIAL, Operation.CAPTURE_PARTIAL):
            raise InvalidRequest("a partial capture or refund needs an amount")

    def parameters(self) -> dict[str, str]:
        values = {"PAYID": self.pay_id, "ORDERID": self.order_id, "OPERATION": self.operation.value}
        if self.amount is not None:
            values["AMOUNT"] = str(to_wire_amount(self.amount, self.currency))
            values["CURRENCY"] = self.currency
        return merge_extra(values, self.extra)


_MAINTENANCE = frozenset({Operation.CAPTURE_PARTIAL, Operation.CAPTURE_LAST, Operation.REFUND_PARTIAL,
                          Operation.REFUND_LAST, Operation.DELETE, Operation.DELETE_AND_CLOSE, Operation.RENEW})


def _check_amount(response: DirectLinkResponse, amount: Decimal, currency: str, order_id: str,
                  pay_id: str = "") -> None:
    """An answer carries the plain amount (``1500`` for ``AMOUNT=150000`` JPY): it must be what was asked.

    Refusals carry no amount. Another amount means the answer is not about this request, or the amount was
    read by another rule than Ogone's: the outcome is not known until the payment is queried.
    """
    if response.amount is None:
        return
    if response.amount != amount or (response.currency and response.currency != currency):
        raise UnreadableOutcome(
            f"the answer says {response.amount} {response.currency}, the request asked {amount} {currency}; "
            "query before sending it again", order_id=order_id or None, pay_id=response.pay_id or pay_id or None)


def _check_reference(pay_id: str, order_id: str) -> None:
    if not pay_id and not order_id:
        raise InvalidRequest("give the PAYID (recommended) or the ORDERID")
    if pay_id and not (pay_id.isascii() and pay_id.isdigit()):
        raise InvalidRequest(f"PAYID is a number, not {pay_id!r}")
    if order_id:
        validate_order_id(order_id)


class DirectLinkClient:
    """Talks DirectLink for one account. Every reply is a ``DirectLinkResponse``; see ``transport`` for
    the retry policy and ``OutcomeUnknown``.

    Without a ``transport``, the client uses the process's shared one for the account's platform, so clients
    made one per payment still use the same connections again."""

    def __init__(self, account: Account, transport: Transport | None = None):
        account.require_api_credentials()
        self.account = account
        self.transport = transport or shared_transport(account.base_url)

    def new_order(self, request: OrderRequest) -> DirectLinkResponse:
        response = self._send(Page.ORDER_DIRECT, request.parameters(self.account.charset), retry_safe=False,
                              order_id=request.order_id)
        if response.order_id and response.order_id != request.order_id:
            # DirectLink answers are not signed: one about another order cannot be taken for this one's.
            raise UnreadableOutcome(f"the answer is about ORDERID {response.order_id!r}, not "
                                    f"{request.order_id!r}; query before sending it again",
                                    order_id=request.order_id)
        if response.needs_authentication and response.html_answer is None:
            # Only the order answer carries the page; a query of the same payment rightly has none.
            raise UnreadableOutcome("STATUS 46 without the HTML_ANSWER the customer must see; the request "
                                    "may have been processed, query before sending it again",
                                    order_id=request.order_id, pay_id=response.pay_id or None)
        _check_amount(response, request.amount, request.currency, request.order_id)
        return response

    def maintenance(self, request: MaintenanceRequest) -> DirectLinkResponse:
        response = self._send(Page.MAINTENANCE_DIRECT, request.parameters(), retry_safe=False,
                              order_id=request.order_id, pay_id=request.pay_id)
        # Which amount a maintenance answer carries (the order's or the operation's) is not documented: checking
        # it would turn every partial capture or refund into an unknown outcome on a wrong guess. The answer's
        # references say which payment it is about.
        if response.pay_id and request.pay_id and response.pay_id != request.pay_id:
            raise UnreadableOutcome(f"the answer is about PAYID {response.pay_id!r}, not {request.pay_id!r}; "
                                    "query before sending it again", order_id=request.order_id or None,
                                    pay_id=request.pay_id)
        if response.order_id and request.order_id and response.order_id != request.order_id:
            raise UnreadableOutcome(f"the answer is about ORDERID {response.order_id!r}, not "
                                    f"{request.order_id!r}; query before sending it again",
                                    order_id=request.order_id, pay_id=request.pay_id or None)
        return response

    def capture(self, pay_id: str, amount: Decimal | None = None, currency: str = "", *,
                last: bool = True) -> DirectLinkResponse:
        """Capture an authorisation: ``last`` closes it (SAS); otherwise more captures may follow (SAL)."""
        operation = Operation.CAPTURE_LAST if last else Operation.CAPTURE_PARTIAL
        return self.maintenance(MaintenanceRequest(operation, pay_id=pay_id, amount=amount, currency=currency))

    def refund(self, pay_id: str, amount: Decimal | None = None, currency: str = "", *,
               last: bool | None = None) -> DirectLinkResponse:
        """Refund a paid payment: ``last`` closes it (RFS); otherwise more refunds may follow (RFD).

        Without an amount, the whole payment is refunded and closed (RFS), unless ``last`` says otherwise.
        """
        if last is None:
            last = amount is None
        operation = Operation.REFUND_LAST if last else Operation.REFUND_PARTIAL
        return self.maintenance(MaintenanceRequest(operation, pay_id=pay_id, amount=amount, currency=currency))

    def cancel(self, pay_id: str, *, close: bool = True) -> DirectLinkResponse:
        """Delete an authorisation: ``close`` ends the transaction (DES); otherwise it stays open (DEL)."""
        operation = Operation.DELETE_AND_CLOSE if close else Operation.DELETE
        return self.maintenance(MaintenanceRequest(operation, pay_id=pay_id))

    def renew(self, pay_id: str) -> DirectLinkResponse:
        return self.maintenance(MaintenanceRequest(Operation.RENEW, pay_id=pay_id))

    def query(self, *, pay_id: str = "", order_id: str = "", pay_id_sub: str = "") -> DirectLinkResponse:
        """The current status of a payment; safe to repeat, so transient failures are retried."""
        _check_reference(pay_id, order_id)
        if pay_id_sub and not (pay_id and pay_id_sub.isascii() and pay_id_sub.isdigit()):
            raise InvalidRequest("PAYIDSUB is a number and goes with a PAYID")
        values = {"PAYID": pay_id, "ORDERID": order_id, "PAYIDSUB": pay_id_sub}
        return self._send(Page.QUERY_DIRECT, values, retry_safe=True, order_id=order_id, pay_id=pay_id)

    def _send(self, page: Page, values: dict[str, str], *, retry_safe: bool, order_id: str = "",
              pay_id: str = "") -> DirectLinkResponse:
        account = self.account
        params = [("PSPID", account.pspid), ("USERID", account.api_user_id), ("PSWD", account.api_password)]
        params += [(name, value) for name, value in values.items() if value]
        params.append(("SHASIGN", compute_shasign(params, account.sha_in, account.algorithm, "in",
                                                  account.encoding)))
        url = account.url(page)
        reference = order_id or pay_id
        try:
            reply = self.transport.post(url, params, encoding=account.encoding, retry_safe=retry_safe,
                                        reference=reference)
            response = parse_ncresponse(reply.body, reply.content_type, account.encoding)
        except OutcomeUnknown as error:
            error.order_id, error.pay_id = order_id or None, pay_id or None
            raise
        except ProtocolError as error:
            if retry_safe:
                raise
            raise UnreadableOutcome(f"{error}; the request may have been processed, query before sending "
                                    "it again", order_id=order_id or None, pay_id=pay_id or None) from None
        log.info("%s %s -> STATUS %s NCERROR %s PAYID %s", page.value, reference, response.status.value,
                 response.ncerror or "-", response.pay_id or "-")
        return response
