"""Alias Gateway: the merchant's own card form posts to the platform, which stores the card under an ALIAS
and redirects the browser back with a SHA-OUT-signed answer. The card data never touches the merchant."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum

from .account import Account, Page
from .errors import InvalidRequest, ProtocolError
from .feedback import verify_signature
from .hosted_page import SignedForm
from .order_fields import check_yes_no, encode_paramplus
from .signing import Algorithm, Params, compute_shasign
from .validation import validate_alias, validate_order_id

CARD_FIELDS = ("CN", "CARDNO", "ED", "CVC")


class AliasStatus(IntEnum):
    OK = 0
    NOT_OK = 1
    UPDATED = 2


@dataclass(frozen=True)
class AliasGatewayRequest:
    """The signed hidden fields of the card form; the customer types CN, CARDNO, ED (MMYY) and CVC."""

    accept_url: str
    exception_url: str
    alias: str = ""
    alias_persisted_after_use: str = ""
    order_id: str = ""
    brand: str = ""
    language: str = ""
    paramplus: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.accept_url or not self.exception_url:
            raise InvalidRequest("the alias gateway needs an ACCEPTURL and an EXCEPTIONURL")
        if self.alias:
            validate_alias(self.alias)
        if self.order_id:
            validate_order_id(self.order_id)
        check_yes_no(self.alias_persisted_after_use, "alias_persisted_after_use")

    def render(self, account: Account) -> SignedForm:
        values = {"PSPID": account.pspid, "ACCEPTURL": self.accept_url, "EXCEPTIONURL": self.exception_url,
                  "ALIAS": self.alias, "ALIASPERSISTEDAFTERUSE": self.alias_persisted_after_use,
                  "ORDERID": self.order_id, "BRAND": self.brand, "LANGUAGE": self.language,
                  "PARAMPLUS": encode_paramplus(self.paramplus, account.charset)}
        params = [(name, value) for name, value in values.items() if value]
        shasign = compute_shasign(params, account.sha_in, account.algorithm, "in", account.encoding)
        return SignedForm(account.url(Page.ALIAS_GATEWAY), tuple(params) + (("SHASIGN", shasign),),
                          account.charset)


@dataclass(frozen=True)
class AliasFeedback:
    status: AliasStatus
    alias: str
    ncerror: str = ""
    card_number: str = ""
    card_holder: str = ""
    expiry: str = ""
    brand: str = ""
    order_id: str = ""
    field_errors: Mapping[str, str] = field(default_factory=dict)
    signed: Mapping[str, str] = field(default_factory=dict, repr=False)
    unsigned: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return self.status in (AliasStatus.OK, AliasStatus.UPDATED)


def verify_alias_feedback(params: Params, passphrase: str, algorithm: "Algorithm | str" = "sha512",
                          encoding: str = "utf-8") -> AliasFeedback:
    """Verify the redirect from the alias gateway; per-field errors are informative only (not signed)."""
    verified = verify_signature(params, passphrase, algorithm, encoding)
    get = verified.get
    try:
        status = AliasStatus(int(get("STATUS")))
    except ValueError:
        raise ProtocolError(f"unknown alias gateway STATUS {get('STATUS')!r}") from None
    if status is not AliasStatus.NOT_OK and not get("ALIAS"):
        raise ProtocolError("the alias gateway reported success without a signed ALIAS")
    errors = {name.upper(): value for name, value in {**verified.unsigned, **verified.signed}.items()
              if name.upper().startswith("NCERROR") and name.upper() not in ("NCERROR", "NCERRORPLUS")
              and value not in ("", "0")}  # "0": that field is fine
    return AliasFeedback(status=status, alias=get("ALIAS"), ncerror=get("NCERROR"),
                         card_number=get("CARDNO"), card_holder=get("CN"), expiry=get("ED"),
                         brand=get("BRAND"), order_id=get("ORDERID"), field_errors=errors,
                         signed=verified.signed, unsigned=verified.unsigned)
