"""Verifying what the platform sends back: browser redirects and server-to-server post-sale requests."""
from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from operator import add
from decimal import Decimal
from hmac import compare_digest
from types import MappingProxyType
from typing import Optional

from .amounts import parse_major_amount
from .errors import InvalidRequest, ProtocolError, SignatureError
from .signing import _CACHE_LIMIT, _HASHES, Algorithm, Params, _getter, _plan, compute_shasign, signatures_match
from .signing import signed_pairs
from .status import _BY_CODE as _STATUSES
from .status import Status


class _Signed:
    """A text field of the feedback: the signed value of one parameter, "" when it was not signed."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __get__(self, feedback, owner=None):
        if feedback is None:
            return self
        position = feedback._signed_index.get(self.name)
        return "" if position is None else feedback._signed_values[position]


class Feedback:
    """A verified feedback. Every typed field comes from signed parameters only.

    Read-only. The fields that can refuse a feedback (ORDERID, STATUS, AMOUNT, CURRENCY) are checked when it
    is verified; the others are read from the signed values when asked, through a position per name shared
    by every feedback with the same names, which keeps a feedback cheap to make on a busy return URL.
    """

    __slots__ = ("status", "amount", "_signed_index", "_signed_values", "_names", "_values")

    order_id = _Signed("ORDERID")
    currency = _Signed("CURRENCY")
    pay_id = _Signed("PAYID")
    pay_id_sub = _Signed("PAYIDSUB")
    ncerror = _Signed("NCERROR")
    alias = _Signed("ALIAS")
    brand = _Signed("BRAND")
    card_number = _Signed("CARDNO")
    card_holder = _Signed("CN")
    expiry = _Signed("ED")
    acceptance = _Signed("ACCEPTANCE")
    payment_method = _Signed("PM")
    ip = _Signed("IP")
    complus = _Signed("COMPLUS")

    def __init__(self, status: Status, amount: Optional[Decimal], signed_index: Mapping[str, int],
                 signed_values: tuple[str, ...], names: tuple[str, ...], values: tuple[str, ...]):
        set_ = object.__setattr__
        set_(self, "status", status)
        set_(self, "amount", amount)
        set_(self, "_signed_index", signed_index)
        set_(self, "_signed_values", signed_values)
        set_(self, "_names", names)
        set_(self, "_values", values)

    def __setattr__(self, name, value):
        raise AttributeError(f"a verified feedback cannot be changed (field {name!r})")

    __delattr__ = __setattr__

    def __reduce__(self):
        # Rebuilt through __init__: the slots cannot be set one by one on a read-only feedback.
        return (Feedback, (self.status, self.amount, self._signed_index, self._signed_values, self._names,
                           self._values))

    @property
    def signed(self) -> Mapping[str, str]:
        "The signed values by upper-case name, in signing order (read-only)"
        values = self._signed_values
        return MappingProxyType({name: values[position] for name, position in self._signed_index.items()})

    @property
    def raw(self) -> tuple[tuple[str, str], ...]:
        "The pairs as received, SHASIGN included"
        return tuple(zip(self._names, self._values))

    @property
    def unsigned(self) -> Mapping[str, str]:
        "What the signature does not cover (PARAMPLUS values, ...), by name as received: not to be trusted"
        return MappingProxyType(_unsigned(self._names, self._values, self.signed))

    @property
    def transaction_date(self) -> Optional[datetime.date]:
        return _date(self.signed.get("TRXDATE", ""))

    @property
    def category(self):
        return self.status.category

    def __eq__(self, other):
        if other.__class__ is not self.__class__:
            return NotImplemented
        return (self.raw, self.signed) == (other.raw, other.signed)

    def __hash__(self):
        return hash(self.raw)

    def __repr__(self):
        # The signed, unsigned and raw values stay out: they repeat the fields and carry what a log need not.
        shown = ("order_id", "status", "pay_id", "pay_id_sub", "ncerror", "amount", "currency", "alias", "brand",
                 "card_number", "card_holder", "expiry", "acceptance", "payment_method", "ip", "complus",
                 "transaction_date")
        return f"Feedback({', '.join(f'{name}={getattr(self, name)!r}' for name in shown)})"


def _unsigned(names, values, signed: Mapping[str, str]) -> dict[str, str]:
    return {name: value for name, value in zip(names, values)
            if name.upper() not in signed and name.upper() != "SHASIGN"}


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


class _ReceivedPlan:
    """What a feedback of one set of names needs, worked out once for that set: where SHASIGN is, which
    values are signed and in what order, with their ``NAME=`` prefixes."""

    __slots__ = ("shasign", "prefixes", "select", "signed_index")

    def __init__(self, names: tuple[str, ...]):
        # None when these names cannot be verified quickly: the general path converts them or says why.
        self.shasign = None
        if not all(name.__class__ is str for name in names):
            return
        shasign = [index for index, name in enumerate(names) if name.upper() == "SHASIGN"]
        if len(shasign) != 1:
            return
        rest = tuple(index for index in range(len(names)) if index not in shasign)
        try:
            signing = _plan(tuple(names[index] for index in rest), "out")
        except InvalidRequest:
            return
        self.shasign = shasign[0]
        self.prefixes = signing.prefixes
        self.select = _getter([rest[index] for index, _ in signing.entries])
        self.signed_index = {name: position for position, (_, name) in enumerate(signing.entries)}


# names in the order received -> _ReceivedPlan, bounded like the signing plans
_received_plans: dict[tuple[str, ...], _ReceivedPlan] = {}


def _verified_quickly(params: Params, passphrase: str, algorithm: "Algorithm | str", encoding: str):
    """The names, values and signed values of a well-formed feedback whose signature matches, with the work
    that depends only on the names cached; None for anything else (a value that is not a string, an empty
    signed value, a signature that does not match, ...), which the general path then handles and explains."""
    hash_function = _HASHES.get(algorithm)
    if hash_function is None or not passphrase or passphrase.__class__ is not str:
        return None
    if params.__class__ is dict:
        names = tuple(params)
        values = tuple(params.values())
    elif params.__class__ is list and params:
        try:
            names, values = zip(*params)
        except (TypeError, ValueError):
            return None
    else:
        return None
    try:
        "".join(values)  # in C: every value is a string, as the general path makes them (names: in the plan)
    except TypeError:
        return None
    plan = _received_plans.get(names)
    known = plan is not None
    if not known:
        plan = _ReceivedPlan(names)
    if plan.shasign is None or not plan.signed_index:
        return None
    selected = plan.select(values)
    if "" in selected:
        return None
    text = passphrase.join(map(add, plan.prefixes, selected)) + passphrase
    try:
        data = text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return None
    digest = hash_function(data).digest()
    received = values[plan.shasign].strip()
    # Exactly the hex of a digest, in either case (fromhex alone would also take spaces between the bytes)
    if len(received) != 2 * len(digest):
        return None
    try:
        if not compare_digest(digest, bytes.fromhex(received)):
            return None
    except ValueError:
        return None
    # Kept only once signed with the passphrase: anyone can post made-up names to the return URL.
    if not known and len(_received_plans) < _CACHE_LIMIT:
        _received_plans[names] = plan
    return names, values, plan.signed_index, selected


def verify_signature(params: Params, passphrase: str, algorithm: "Algorithm | str" = "sha512",
                     encoding: str = "utf-8") -> VerifiedParams:
    """Check the SHA-OUT SHASIGN over the raw received pairs (constant time, hex case-insensitive)."""
    quick = _verified_quickly(params, passphrase, algorithm, encoding)
    if quick is not None:
        names, values, index, selected = quick
        signed = dict(zip(index, selected))
        return VerifiedParams(MappingProxyType(signed), MappingProxyType(_unsigned(names, values, signed)),
                              tuple(zip(names, values)))
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
    quick = _verified_quickly(params, passphrase, algorithm, encoding)
    if quick is not None:
        names, values, index, selected = quick
    else:
        verified = verify_signature(params, passphrase, algorithm, encoding)
        names = tuple(name for name, _ in verified.raw)
        values = tuple(value for _, value in verified.raw)
        index = {name: position for position, name in enumerate(verified.signed)}
        selected = tuple(verified.signed.values())

    # Only non-empty values are signed: a name in the index has a value.
    if "ORDERID" not in index:
        raise ProtocolError("the signed feedback has no ORDERID: select it in the dynamic e-Commerce parameters")
    position = index.get("STATUS")
    if position is None:
        raise ProtocolError("the signed feedback has no STATUS: select it in the dynamic e-Commerce parameters")
    status = selected[position]
    position = index.get("AMOUNT")
    amount = None
    if position is not None:
        currency = index.get("CURRENCY")
        amount = parse_major_amount(selected[position], None if currency is None else selected[currency])
    return Feedback(_STATUSES.get(status) or Status.parse(status), amount, index, selected, names, values)
