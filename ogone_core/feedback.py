"""Verifying what the platform sends back: browser redirects and server-to-server post-sale requests."""
from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Optional

from .amounts import parse_major_amount
from .errors import InvalidRequest, ProtocolError, SignatureError
from .signing import Algorithm, Params, compute_shasign, signatures_match, signed_pairs
from .status import Status


@dataclass(frozen=True)
class Feedback:
    """A verified feedback. Every typed field comes from signed parameters only."""

    order_id: str
    status: Status
    pay_id: str = ""
    pay_id_sub: str = ""
    ncerror: str = ""
    amount: Optional[Decimal] = None
    currency: str = ""
    alias: str = ""
    brand: str = ""
    card_number: str = ""
    card_holder: str = ""
    expiry: str = ""
    acceptance: str = ""
    payment_method: str = ""
    ip: str = ""
    complus: str = ""
    transaction_date: Optional[datetime.date] = None
    signed: Mapping[str, str] = field(default_factory=dict, repr=False)
    unsigned: Mapping[str, str] = field(default_factory=dict, repr=False)
    raw: tuple[tuple[str, str], ...] = field(default=(), repr=False)

    @property
    def category(self):
        return self.status.category


def _pairs(params: Params) -> list[tuple[str, str]]:
    items = params.items() if isinstance(params, Mapping) else params
    return [(str(name), "" if value is None else str(value)) for name, value in items]


def _date(text: str) -> Optional[datetime.date]:
    if not text:
        return None
    try:
        return datetime.datetime.strptime(text, "%m/%d/%y").date()
    except ValueError:
        return None


@dataclass(frozen=True)
class VerifiedParams:
    """Received pairs whose SHASIGN matched: the signed values (by upper-case name) and the rest."""

    signed: Mapping[str, str]
    unsigned: Mapping[str, str]
    raw: tuple[tuple[str, str], ...]

    def get(self, name: str) -> str:
        return self.signed.get(name, "")


def verify_signature(params: Params, passphrase: str, algorithm: "Algorithm | str" = "sha512",
                     encoding: str = "utf-8") -> VerifiedParams:
    """Check the SHA-OUT SHASIGN over the raw received pairs (constant time, hex case-insensitive)."""
    algorithm = Algorithm.parse(algorithm)
    pairs = _pairs(params)
    received = [value for name, value in pairs if name.upper() == "SHASIGN"]
    rest = [(name, value) for name, value in pairs if name.upper() != "SHASIGN"]
    try:
        signed = signed_pairs(rest, "out")
    except InvalidRequest as error:
        raise SignatureError(f"the feedback cannot be verified: {error}") from None
    where = (f"{algorithm.value.upper()}, SHA-OUT over "
             f"{', '.join(name for name, _ in signed) or 'no parameters'}")
    if not received or not received[0].strip():
        raise SignatureError(f"the feedback has no SHASIGN ({where})")
    if len(received) > 1:
        raise SignatureError(f"the feedback carries SHASIGN more than once ({where})")
    try:
        expected = compute_shasign(rest, passphrase, algorithm, "out", encoding)
    except InvalidRequest as error:
        raise SignatureError(f"the feedback cannot be verified: {error}") from None
    if not signatures_match(expected, received[0]):
        raise SignatureError(f"SHASIGN does not match ({where}): check the SHA-OUT passphrase and "
                             "the hash algorithm in Technical information > Global security parameters")
    signed_map = dict(signed)
    unsigned = {name: value for name, value in rest if name.upper() not in signed_map}
    # Read-only views: what was verified cannot be edited afterwards.
    return VerifiedParams(MappingProxyType(signed_map), MappingProxyType(unsigned), tuple(pairs))


def verify_feedback(params: Params, passphrase: str, algorithm: "Algorithm | str" = "sha512",
                    encoding: str = "utf-8") -> Feedback:
    """Check SHASIGN over the raw received pairs and return the typed feedback.

    Raises ``SignatureError`` when SHASIGN is missing, appears twice or does not match, and
    ``ProtocolError`` when a signed value is malformed (ORDERID or STATUS missing, unknown STATUS, ...).
    """
    verified = verify_signature(params, passphrase, algorithm, encoding)
    get = verified.get

    if not get("ORDERID"):
        raise ProtocolError("the signed feedback has no ORDERID: select it in the dynamic e-Commerce parameters")
    if not get("STATUS"):
        raise ProtocolError("the signed feedback has no STATUS: select it in the dynamic e-Commerce parameters")
    currency = get("CURRENCY")
    amount = parse_major_amount(get("AMOUNT"), currency or None) if get("AMOUNT") else None
    return Feedback(
        order_id=get("ORDERID"),
        status=Status.parse(get("STATUS")),
        pay_id=get("PAYID"),
        pay_id_sub=get("PAYIDSUB"),
        ncerror=get("NCERROR"),
        amount=amount,
        currency=currency,
        alias=get("ALIAS"),
        brand=get("BRAND"),
        card_number=get("CARDNO"),
        card_holder=get("CN"),
        expiry=get("ED"),
        acceptance=get("ACCEPTANCE"),
        payment_method=get("PM"),
        ip=get("IP"),
        complus=get("COMPLUS"),
        transaction_date=_date(get("TRXDATE")),
        signed=verified.signed,
        unsigned=verified.unsigned,
        raw=verified.raw,
    )
