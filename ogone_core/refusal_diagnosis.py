"""Why a feedback's SHA-OUT signature was refused: the setting that differs between the ERP and the back office.

A refused signature has three usual causes, tried here in that order:
- the hash algorithm (Global security parameters) or the charset of the pages differs: another combination
  of the same passphrase matches;
- a parameter outside the official SHA-OUT list was selected in the dynamic e-Commerce parameters and the
  platform signed it: the signature matches once that parameter is counted in;
- none of these: the SHA-OUT passphrase differs (or the feedback was not sent by the platform).

Only names are reported, never values: a feedback carries the card holder's name and the masked card number.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import Enum
from itertools import combinations
from typing import Optional

from .account import CHARSETS
from .errors import InvalidRequest, OgoneError
from .feedback import _pairs, verify_signature
from .signing import Algorithm, Params, signatures_match, signed_pairs

_UNDERSCORE_FIRST = str.maketrans({"_": "\x01"})
# Subsets of unlisted parameters tried together; a feedback rarely carries more than a few.
_MAX_UNLISTED_TRIED = 6


class RefusalCause(str, Enum):
    NO_SIGNATURE = "no_signature"
    ALGORITHM_OR_CHARSET = "algorithm_or_charset"
    UNLISTED_PARAMETER = "unlisted_parameter"
    PASSPHRASE = "passphrase"
    VALID = "valid"


@dataclass(frozen=True)
class RefusalDiagnosis:
    """What would have made a refused feedback valid. ``algorithm``/``charset`` are the matching ones for
    ``ALGORITHM_OR_CHARSET``; ``parameters`` are the unlisted names the platform signed for
    ``UNLISTED_PARAMETER``."""

    cause: RefusalCause
    algorithm: Optional[Algorithm] = None
    charset: str = ""
    parameters: tuple[str, ...] = ()

    @property
    def message(self) -> str:
        if self.cause is RefusalCause.VALID:
            return "The signature is valid with these settings."
        if self.cause is RefusalCause.NO_SIGNATURE:
            return ("The feedback carries no SHASIGN: set the SHA-OUT passphrase in Technical information > "
                    "Transaction feedback > All transaction submission modes, or the request was not sent by "
                    "the platform.")
        if self.cause is RefusalCause.ALGORITHM_OR_CHARSET:
            return (f"It would be valid with {self.algorithm.value} and {self.charset}: check the hash algorithm "
                    "in Technical information > Global security parameters and the page charset.")
        if self.cause is RefusalCause.UNLISTED_PARAMETER:
            return (f"The platform signed {', '.join(self.parameters)}, which is not in the SHA-OUT list: "
                    "unselect it in Technical information > Transaction feedback > Dynamic e-Commerce "
                    "parameters.")
        return ("No other algorithm or charset matches: check the SHA-OUT passphrase in Technical information > "
                "Transaction feedback > All transaction submission modes.")


def _valid(pairs, passphrase: str, algorithm: Algorithm, charset: str) -> bool:
    try:
        verify_signature(pairs, passphrase, algorithm, charset)
    except OgoneError:
        return False
    return True


def _signed_with(extra: list[tuple[str, str]], listed: list[tuple[str, str]], received: str, passphrase: str,
                 algorithm: Algorithm, charset: str) -> bool:
    pairs = sorted(listed + extra, key=lambda pair: pair[0].translate(_UNDERSCORE_FIRST))
    text = "".join(f"{name}={value}{passphrase}" for name, value in pairs)
    try:
        data = text.encode(charset)
    except UnicodeEncodeError:
        return False
    return signatures_match(hashlib.new(algorithm.value, data).hexdigest(), received)


def diagnose_refusal(params: Params, passphrase: str, algorithm: "Algorithm | str" = "sha512",
                     charset: str = "utf-8") -> RefusalDiagnosis:
    """Diagnose a feedback whose SHASIGN did not verify with these settings."""
    algorithm = Algorithm.parse(algorithm)
    if charset not in CHARSETS:
        raise InvalidRequest(f"charset must be one of {', '.join(CHARSETS)}")
    pairs = _pairs(params)
    received = [value for name, value in pairs if name.upper() == "SHASIGN"]
    if len(received) != 1 or not received[0].strip():
        return RefusalDiagnosis(RefusalCause.NO_SIGNATURE)
    if _valid(pairs, passphrase, algorithm, charset):
        return RefusalDiagnosis(RefusalCause.VALID, algorithm, charset)
    settings = [(algorithm, charset)] + [(a, c) for a in Algorithm for c in CHARSETS if (a, c) != (algorithm, charset)]
    for other_algorithm, other_charset in settings[1:]:
        if _valid(pairs, passphrase, other_algorithm, other_charset):
            return RefusalDiagnosis(RefusalCause.ALGORITHM_OR_CHARSET, other_algorithm, other_charset)
    rest = [(name, value) for name, value in pairs if name.upper() != "SHASIGN"]
    try:
        listed = signed_pairs(rest, "out")
    except InvalidRequest:
        return RefusalDiagnosis(RefusalCause.PASSPHRASE)
    listed_names = {name.upper() for name, _ in listed}
    unlisted = [(name.upper(), value) for name, value in rest
                if value and name.isascii() and name.upper() not in listed_names]
    unlisted = unlisted[:_MAX_UNLISTED_TRIED]
    listed = [(name.upper(), value) for name, value in listed]
    for size in range(1, len(unlisted) + 1):
        for extra in combinations(unlisted, size):
            for other_algorithm, other_charset in settings:
                if _signed_with(list(extra), listed, received[0], passphrase, other_algorithm, other_charset):
                    return RefusalDiagnosis(RefusalCause.UNLISTED_PARAMETER, other_algorithm, other_charset,
                                            tuple(name for name, _ in extra))
    return RefusalDiagnosis(RefusalCause.PASSPHRASE)
