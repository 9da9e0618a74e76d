"""Test cards, sandbox-only trigger cards, and the format checks the platform makes on card data.

The sandbox, like the real test platform, only takes documented test numbers: any other number is answered
with NCERROR 50001054, so a real card typed by mistake is neither charged nor stored. Because every accepted
number is public, the sandbox refers to a card by its table ``key`` and never needs to store a card number.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass
from enum import Enum

from . import ncerrors


class Behaviour(str, Enum):
    APPROVED = "approved"
    THREE_D_SECURE = "3-d-secure"
    REFUSED = "refused"
    PAYMENT_REFUSED = "payment-refused"
    UNCERTAIN_THEN_APPROVED = "uncertain-then-approved"
    UNCERTAIN_THEN_REFUSED = "uncertain-then-refused"
    OFFLINE = "offline"
    EXCEPTION = "exception"


@dataclass(frozen=True)
class TestCard:
    key: str
    number: str
    brand: str
    behaviour: Behaviour
    description: str
    sandbox_only: bool = False

    @property
    def masked(self) -> str:
        return mask(self.number)

    def __repr__(self) -> str:
        return f"TestCard({self.key!r}, {self.masked}, {self.brand}, {self.behaviour.value})"


TEST_CARDS: tuple[TestCard, ...] = (
    TestCard("visa", "4111111111111111", "VISA", Behaviour.APPROVED, "approved"),
    TestCard("visa-3ds", "4000000000000002", "VISA", Behaviour.THREE_D_SECURE,
             "3-D Secure: approved when the ACS page is approved"),
    TestCard("mastercard", "5399999999999999", "MasterCard", Behaviour.APPROVED, "approved"),
    TestCard("mastercard-3ds", "5555555555554444", "MasterCard", Behaviour.THREE_D_SECURE,
             "3-D Secure: approved when the ACS page is approved"),
    TestCard("amex", "374111111111111", "American Express", Behaviour.APPROVED, "approved"),
    TestCard("amex-3ds", "371449635311004", "American Express", Behaviour.THREE_D_SECURE,
             "3-D Secure: approved when the ACS page is approved"),
    TestCard("maestro", "6759649826438453", "Maestro", Behaviour.APPROVED, "approved"),
    TestCard("jcb", "3530111333300000", "JCB", Behaviour.APPROVED, "approved"),
    TestCard("refused", "4000000000000028", "VISA", Behaviour.REFUSED,
             "authorisation refused: STATUS 2, NCERROR 30051001", sandbox_only=True),
    TestCard("payment-refused", "4000000000000937", "VISA", Behaviour.PAYMENT_REFUSED,
             "sale refused: STATUS 93 (NCERROR 30001001); an authorisation (5) is given but its capture "
             "settles to 93", sandbox_only=True),
    TestCard("uncertain-approved", "4000000000000523", "VISA", Behaviour.UNCERTAIN_THEN_APPROVED,
             "uncertain: STATUS 52 / 92 (NCERROR 20001001), resolving to 5 / 9", sandbox_only=True),
    TestCard("uncertain-refused", "4000000000000531", "VISA", Behaviour.UNCERTAIN_THEN_REFUSED,
             "uncertain: STATUS 52 / 92 (NCERROR 20001001), resolving to 2 / 93", sandbox_only=True),
    TestCard("offline", "4000000000000911", "VISA", Behaviour.OFFLINE,
             "processed offline: STATUS 51 / 91, settling to 5 / 9", sandbox_only=True),
    TestCard("exception", "4000000000000408", "VISA", Behaviour.EXCEPTION,
             "technical problem: STATUS 0, NCERROR 40001001 (EXCEPTIONURL)", sandbox_only=True),
)
_BY_NUMBER = {card.number: card for card in TEST_CARDS}
_BY_KEY = {card.key: card for card in TEST_CARDS}

MAX_CARD_NUMBER = 21
MAX_CVC = 5
MAX_HOLDER_NAME = 35


def mask(number: str) -> str:
    """``4111111111111111`` -> ``XXXXXXXXXXXX1111`` (the platform's mask: every digit but the last four)."""
    digits = number.strip()
    return "X" * max(len(digits) - 4, 0) + digits[-4:]


def card_by_key(key: str) -> TestCard:
    return _BY_KEY[key]


def luhn_valid(number: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char)
        if position % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


@dataclass(frozen=True)
class CardError:
    """One problem with what was typed: the field, the NCERROR code and its text."""

    field: str  # CARDNO, ED, CVC or CN
    ncerror: str

    @property
    def message(self) -> str:
        return ncerrors.text(self.ncerror)


def find_card(number: str) -> tuple[TestCard | None, CardError | None]:
    digits = number.replace(" ", "").strip()
    if not digits:
        return None, CardError("CARDNO", ncerrors.CARD_NUMBER_EMPTY)
    if not (digits.isascii() and digits.isdigit()):
        return None, CardError("CARDNO", ncerrors.CARD_NUMBER_NOT_NUMERIC)
    if len(digits) > MAX_CARD_NUMBER:
        return None, CardError("CARDNO", ncerrors.CARD_NUMBER_TOO_LONG)
    if not luhn_valid(digits):
        return None, CardError("CARDNO", ncerrors.PAN_INVALID)
    card = _BY_NUMBER.get(digits)
    if card is None:
        return None, CardError("CARDNO", ncerrors.CARD_INCORRECT)
    return card, None


def parse_expiry(text: str, today: datetime.date) -> tuple[str, CardError | None]:
    """``MM/YY``, ``MMYY`` or ``MM/YYYY`` -> ``MMYY`` as the platform returns it, or the error."""
    raw = text.strip().replace("/", "").replace("-", "")
    if not raw or not (raw.isascii() and raw.isdigit()) or len(raw) not in (4, 6):
        return "", CardError("ED", ncerrors.EXPIRY_NOT_NUMERIC)
    month, year = int(raw[:2]), int(raw[2:])
    if not 1 <= month <= 12:
        return "", CardError("ED", ncerrors.EXPIRY_INVALID_MONTH)
    if year < 100:
        year += 2000
    if (year, month) < (today.year, today.month):
        return "", CardError("ED", ncerrors.EXPIRY_IN_THE_PAST)
    return f"{month:02d}{year % 100:02d}", None


def check_cvc(cvc: str, required: bool) -> CardError | None:
    cvc = cvc.strip()
    if not cvc:
        return CardError("CVC", ncerrors.CVC_MISSING) if required else None
    if not (cvc.isascii() and cvc.isdigit()):
        return CardError("CVC", ncerrors.CVC_NOT_NUMERIC)
    if len(cvc) > MAX_CVC:
        return CardError("CVC", ncerrors.CVC_TOO_LONG)
    return None


def check_holder(name: str) -> CardError | None:
    if len(name.strip()) > MAX_HOLDER_NAME:
        return CardError("CN", ncerrors.NAME_TOO_LONG)
    return None


@dataclass(frozen=True)
class CardInput:
    """What a customer or a merchant sent for one card, checked. Never holds the number itself."""

    card: TestCard
    expiry: str  # MMYY
    holder: str

    @property
    def masked(self) -> str:
        return self.card.masked


def check_card_input(number: str, expiry: str, cvc: str, holder: str, today: datetime.date,
                     cvc_required: bool = True) -> tuple[CardInput | None, list[CardError]]:
    """All the format checks at once, so a page can show every problem together."""
    errors: list[CardError] = []
    card, error = find_card(number)
    if error:
        errors.append(error)
    ed, error = parse_expiry(expiry, today)
    if error:
        errors.append(error)
    error = check_cvc(cvc, cvc_required)
    if error:
        errors.append(error)
    error = check_holder(holder)
    if error:
        errors.append(error)
    if errors or card is None:
        return None, errors
    return CardInput(card, ed, holder.strip()), []
