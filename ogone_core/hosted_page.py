"""The hosted payment page (e-Commerce): a signed form the customer's browser posts to the platform."""
from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from .account import Account, Page
from .order_fields import check_order, check_yes_no, encode_paramplus, merge_extra, order_parameters
from .signing import compute_shasign
from .validation import Operation, validate_alias


@dataclass(frozen=True)
class SignedForm:
    """A form ready to post: the action URL and the fields, SHASIGN last."""

    action: str
    fields: tuple[tuple[str, str], ...]
    # The browser must post in the charset the signature was computed in (ISO-8859-1 for the plain pages).
    charset: str = "utf-8"

    def as_dict(self) -> dict[str, str]:
        return dict(self.fields)

    def html(self, title: str = "Redirecting to the payment page",
             button: str = "Continue to the payment page") -> str:
        """A complete page that posts the form by itself (and has a button when scripts are off)."""
        inputs = "\n".join(
            f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">'
            for name, value in self.fields)
        return (
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title></head>\n"
            "<body onload=\"document.forms[0].submit()\">\n"
            f'<form method="post" action="{html.escape(self.action)}"'
            f' accept-charset="{html.escape(self.charset)}">\n'
            f"{inputs}\n"
            f'<noscript><button type="submit">{html.escape(button)}</button></noscript>\n'
            "</form>\n</body></html>\n")


@dataclass(frozen=True)
class HostedPaymentRequest:
    """One payment attempt on the hosted payment page (``orderstandard[_utf8].asp``)."""

    order_id: str
    amount: Decimal
    currency: str
    language: str = "en_US"
    operation: Operation = Operation.SALE
    customer_name: str = ""
    email: str = ""
    owner_address: str = ""
    owner_zip: str = ""
    owner_town: str = ""
    owner_country: str = ""
    owner_phone: str = ""
    description: str = ""
    accept_url: str = ""
    decline_url: str = ""
    exception_url: str = ""
    cancel_url: str = ""
    back_url: str = ""
    home_url: str = ""
    catalog_url: str = ""
    alias: str = ""
    alias_usage: str = ""
    alias_operation: str = ""
    alias_persisted_after_use: str = ""
    complus: str = ""
    paramplus: Mapping[str, str] = field(default_factory=dict)
    template: str = ""
    title: str = ""
    payment_method: str = ""
    brand: str = ""
    win3ds: str = ""
    paramvar: str = ""  # replaces <PARAMVAR> in the server-to-server feedback URLs of the back office
    extra: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        amount, operation = check_order(self.order_id, self.amount, self.currency, self.operation,
                                        (Operation.AUTHORIZATION, Operation.SALE), "a payment",
                                        "the hosted payment page")
        object.__setattr__(self, "amount", amount)
        object.__setattr__(self, "operation", operation)
        if self.alias:
            validate_alias(self.alias)
        check_yes_no(self.alias_persisted_after_use, "alias_persisted_after_use")
        self._values()  # refuses a clash in ``extra`` now rather than when rendering

    def parameters(self, account: Account) -> list[tuple[str, str]]:
        values = {"PSPID": account.pspid, **self._values(account.charset)}
        return [(name, value) for name, value in values.items() if value]

    def _values(self, charset: str = "utf-8") -> dict[str, str]:
        values = order_parameters(self, LANGUAGE=self.language)
        values.update({
            "ACCEPTURL": self.accept_url,
            "DECLINEURL": self.decline_url,
            "EXCEPTIONURL": self.exception_url,
            "CANCELURL": self.cancel_url,
            "BACKURL": self.back_url,
            "HOMEURL": self.home_url,
            "CATALOGURL": self.catalog_url,
            "ALIAS": self.alias,
            "ALIASUSAGE": self.alias_usage,
            "ALIASOPERATION": self.alias_operation,
            "ALIASPERSISTEDAFTERUSE": self.alias_persisted_after_use,
            "COMPLUS": self.complus,
            "PARAMPLUS": encode_paramplus(self.paramplus, charset),
            "TP": self.template,
            "TITLE": self.title,
            "PM": self.payment_method,
            "BRAND": self.brand,
            "WIN3DS": self.win3ds,
            "PARAMVAR": self.paramvar,
        })
        return merge_extra(values, self.extra)

    def render(self, account: Account) -> SignedForm:
        params = self.parameters(account)
        shasign = compute_shasign(params, account.sha_in, account.algorithm, "in", account.encoding)
        return SignedForm(account.url(Page.HOSTED_PAYMENT), tuple(params) + (("SHASIGN", shasign),),
                          account.charset)
