"""SHA-IN / SHA-OUT signatures ("each parameter followed by the passphrase").

Rules (e-Commerce Advanced guide 11.1-11.2): names upper-cased, only names in the official list for the
direction, empty values left out, values verbatim, names sorted, ``NAME=value`` followed by the passphrase
for every pair, hashed as UTF-8 (``_utf8`` pages) or ISO-8859-1, uppercase hex.

Sorting: the platform orders ``_`` before digits and letters (ICU root collation; the official SHA-OUT list
puts SCO_CATEGORY before SCORING), which plain byte order gets wrong. Numbered line-item and travel fields
(``ITEMNAME1`` ... ``ITEMNAME10``, ``AIFLNUM1`` ...) follow the "logical" ascending order of their index
(guide 10.5 and 15): ``ITEMNAME9`` before ``ITEMNAME10``. The sort key below encodes both.
"""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from operator import add, itemgetter
from typing import Union

from .errors import InvalidRequest
from .parameters import Direction, logically_ordered_families, parameter_list

Params = Union[Mapping[str, object], Iterable[tuple[str, object]]]

_UNDERSCORE_FIRST = str.maketrans({"_": "\x01"})
_CACHE_LIMIT = 4096
# Names are cached only up to this many characters in all: a request may carry names anyone made up, and
# the official ones are short.
_CACHEABLE_NAMES_LENGTH = 2048


class Algorithm(str, Enum):
    SHA1 = "sha1"
    SHA256 = "sha256"
    SHA512 = "sha512"

    @classmethod
    def parse(cls, value: "Algorithm | str") -> "Algorithm":
        if isinstance(value, cls):
            return value
        normalised = str(value).lower().replace("-", "")
        try:
            return cls(normalised)
        except ValueError:
            raise InvalidRequest(
                f"unknown hash algorithm {value!r}: use sha1, sha256 or sha512") from None

    @property
    def hex_length(self) -> int:
        return {"sha1": 40, "sha256": 64, "sha512": 128}[self.value]

    def __str__(self) -> str:
        return self.value


_HASHES = {
    Algorithm.SHA1: hashlib.sha1,
    Algorithm.SHA256: hashlib.sha256,
    Algorithm.SHA512: hashlib.sha512,
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha512": hashlib.sha512,
}

# raw name -> (sort key, NAME) when the name takes part, None when it does not; one cache per direction.
_name_cache: dict[str, dict[str, tuple[tuple, str] | None]] = {"in": {}, "out": {}}
# (direction, names in the order given) -> _Plan. Requests of one kind always carry the same names, so
# the filtering and sorting are done once per kind, not once per request.
_plan_cache: dict[tuple[str, tuple[str, ...]], "_Plan"] = {}


def _getter(keys: list) -> Callable:
    """``itemgetter`` that always returns a tuple, whatever the number of keys."""
    if len(keys) > 1:
        return itemgetter(*keys)
    return lambda container: tuple(container[key] for key in keys)


class _Plan:
    """Which parameters of a list are signed, in signing order, with their ``NAME=`` prefixes."""

    __slots__ = ("entries", "prefixes", "select", "pick")

    def __init__(self, entries: tuple[tuple[int, str], ...], names: tuple[str, ...]):
        self.entries = entries
        self.prefixes = tuple(f"{name}=" for _, name in entries)
        self.select = _getter([index for index, _ in entries])  # from the values, by position
        self.pick = _getter([names[index] for index, _ in entries])  # from a dict, by name


def _sort_key(upper: str, direction: Direction) -> tuple:
    """Names compare by their first element (``_`` first); a member of a logically ordered family compares
    as its stem followed by ``0`` (where its first digit stands, so it sorts among the other names as before),
    then by the value of its index, then by the index as written (``ITEMNAME01`` and ``ITEMNAME1`` differ).
    The value compares as (number of significant digits, digits): no int() of a hostile 10,000-digit index."""
    member = parameter_list(direction).family_member(upper)
    if member is not None and member[0] in logically_ordered_families():
        stem, index = member
        significant = index.lstrip("0")
        return (stem.translate(_UNDERSCORE_FIRST) + "0", len(significant), significant, index)
    return (upper.translate(_UNDERSCORE_FIRST),)


def _classify(name: str, direction: Direction) -> tuple[tuple, str] | None:
    cache = _name_cache[direction]
    try:
        return cache[name]
    except KeyError:
        pass
    upper = name.upper()
    # ASCII only: Unicode case folding would turn "ſtatus" into STATUS.
    signed = name.isascii() and upper != "SHASIGN" and upper in parameter_list(direction)
    entry = (_sort_key(upper, direction), upper) if signed else None
    if len(cache) < _CACHE_LIMIT and len(name) <= _CACHEABLE_NAMES_LENGTH:
        cache[name] = entry
    return entry


def _plan(names: tuple[str, ...], direction: Direction) -> _Plan:
    try:
        return _plan_cache[direction, names]
    except KeyError:
        pass
    if direction not in _name_cache:
        raise ValueError(f"direction must be 'in' or 'out', not {direction!r}")
    keyed: dict[tuple, tuple[int, str]] = {}
    for index, name in enumerate(names):
        entry = _classify(name, direction)
        if entry is None:
            continue
        if entry[0] in keyed:
            raise InvalidRequest(f"parameter {entry[1]} is given more than once (names are case-insensitive)")
        keyed[entry[0]] = (index, entry[1])
    plan = _Plan(tuple(keyed[key] for key in sorted(keyed)), names)
    if len(_plan_cache) < _CACHE_LIMIT and sum(map(len, names)) <= _CACHEABLE_NAMES_LENGTH:
        _plan_cache[direction, names] = plan
    return plan


def _split(params: Params) -> tuple[tuple[str, ...], tuple]:
    if params.__class__ is dict or isinstance(params, Mapping):
        return tuple(params), tuple(params.values())
    pairs = list(params)
    return tuple(name for name, _ in pairs), tuple(value for _, value in pairs)


def _text(name: str, value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise InvalidRequest(
        f"parameter {name} must be a string or an integer, not {type(value).__name__}")


def signed_pairs(params: Params, direction: Direction = "in") -> list[tuple[str, str]]:
    """The (NAME, value) pairs that take part in the signature, in signing order."""
    names, values = _split(params)
    pairs = []
    for index, name in _plan(names, direction).entries:
        value = values[index]
        if value.__class__ is not str:
            value = _text(name, value)
        if value:
            pairs.append((name, value))
    return pairs


def canonical_string(params: Params, passphrase: str, direction: Direction = "in") -> str:
    """The exact string that is hashed: ``NAME=value`` followed by the passphrase, for every signed pair."""
    if params.__class__ is dict:
        names = tuple(params)
        plan = _plan_cache.get((direction, names)) or _plan(names, direction)
        selected = plan.pick(params)
    else:
        names, values = _split(params)
        plan = _plan_cache.get((direction, names)) or _plan(names, direction)
        selected = plan.select(values)
    if selected and "" not in selected:
        try:  # the common case, all in C: every signed value is a non-empty string
            return passphrase.join(map(add, plan.prefixes, selected)) + passphrase
        except TypeError:
            pass  # a value that is not a string: the general path converts or refuses it
    return "".join([f"{name}={value}{passphrase}" for name, value in signed_pairs(params, direction)])


def compute_shasign(params: Params, passphrase: str, algorithm: "Algorithm | str" = "sha512",
                    direction: Direction = "in", encoding: str = "utf-8") -> str:
    """SHASIGN of ``params`` as uppercase hex."""
    if not passphrase:
        raise InvalidRequest("the SHA passphrase is empty")
    hash_function = _HASHES.get(algorithm) or _HASHES[Algorithm.parse(algorithm)]
    text = canonical_string(params, passphrase, direction)
    if not text:
        raise InvalidRequest("no parameter to sign: the signature of nothing is public")
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        raise InvalidRequest(
            f"a signed value cannot be written in {encoding}: use the UTF-8 pages") from None
    return hash_function(data).hexdigest().upper()


def signatures_match(expected: str, received: str) -> bool:
    """Constant-time comparison of two hex digests, hex case-insensitive."""
    return hmac.compare_digest(expected.upper().encode("ascii", "replace"),
                               received.strip().upper().encode("ascii", "replace"))


@dataclass(frozen=True)
class Explanation:
    """What a signature is made of, with the passphrase masked: the tool for ``unknown order/1/s``."""

    direction: str
    included: tuple[tuple[str, str], ...]
    excluded: tuple[tuple[str, str], ...]  # (name as given, reason)

    def masked_string(self, mask: str = "<passphrase>") -> str:
        return "".join(f"{name}={value}{mask}" for name, value in self.included)


def explain(params: Params, direction: Direction = "in") -> Explanation:
    names, values = _split(params)
    pairs = list(zip(names, values))
    excluded = []
    for name, value in pairs:
        if name.upper() == "SHASIGN":
            excluded.append((name, "the signature itself is never signed"))
        elif _classify(name, direction) is None:
            excluded.append((name, f"not in the official SHA-{direction.upper()} list"))
        elif not _text(name, value):
            excluded.append((name, "empty value"))
    return Explanation(direction, tuple(signed_pairs(pairs, direction)), tuple(excluded))
