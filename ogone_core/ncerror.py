"""NCERROR codes: what they mean, for people reading a payment's history.

Texts from Ingenico's error table (as shipped with Odoo's Ogone module) and the DirectLink guide. The first
digit is the class (NCSTATUS): 0 ok, 1 communication, 2 uncertain, 3 refused by the acquirer, 4 technical or
3-D Secure, 5 invalid or incomplete data, 6 direct-debit bank errors.
"""
from __future__ import annotations

DUPLICATE_ORDER = "50001113"
NOT_IN_CORRECT_STATUS = "50001127"
SHA_MISMATCH = "50001184"

_TEXTS = {
    "0": "OK",
    "20001001": ("We received an unknown status for the transaction. We will contact your acquirer"
            " and update the status of the transaction within one working day. Please check the status later."),
    "30001001": "Payment refused by the acquirer",
    "30001002": "Duplicate request",
    "30001015": "The acquirer is temporarily unavailable",
    "30001057": "The acquirer is temporarily unavailable",
    "30001058": "The acquirer is temporarily unavailable",
    "30001090": "CVC check returned invalid by the acquirer",
    "30001091": "ZIP check returned invalid by the acquirer",
    "30001092": "Address check returned invalid by the acquirer",
    "30001999": "The acquirer is temporarily unavailable",
    "30041001": "Retain card",
    "30051001": "Authorization declined",
    "30131001": "Invalid amount",
    "30141001": "Invalid card number",
    "30331001": "Card expired",
    "30341001": "Suspicion of fraud",
    "30511001": "Insufficient funds",
    "30541001": "Card expired",
    "30591001": "Suspicion of fraud",
    "40001001": "A technical problem occurred, please try again.",
    "40001133": "3-D Secure: the ACS signature is incorrect",
    "40001134": "Authentication failed, please retry or cancel.",
    "40001135": "3-D Secure authentication temporarily unavailable",
    "40001136": "Technical problem with the customer's browser during 3-D Secure",
    "40001137": "3-D Secure access control server unavailable",
    "50001005": "Expiration date error",
    "50001006": "Amount is not a number",
    "50001007": "Requested Operation code not allowed",
    "50001054": "Card number incorrect or incompatible",
    "50001068": "The card number or account number (PAN) is invalid",
    "50001090": "CVC missing at input, but CVC check asked",
    "50001111": "Data validation error",
    "50001113": "This order has already been processed",
    "50001116": "Unknown IP address origin",
    "50001117": "No IP address origin",
    "50001118": "Pspid not found or not correct",
    "50001119": "Password incorrect or disabled due to numbers of errors",
    "50001120": "Invalid currency",
    "50001121": "Invalid number of decimals for the currency",
    "50001122": "Currency not accepted by the merchant",
    "50001123": "Card type not active",
    "50001126": "Overflow in data capture requests for the original order",
    "50001127": "The original order is not in a correct status",
    "50001129": "Overflow in refunds requests",
    "50001130": "Error access to original order",
    "50001131": "Error access to original history item",
    "50001133": "Duplicate request",
    "50001134": "3-D Secure authentication failed",
    "50001135": "3-D Secure authentication temporarily unavailable",
    "50001136": "Technical problem with the customer's browser during 3-D Secure",
    "50001137": "3-D Secure access control server unavailable",
    "50001174": "Card Holder Name is too long",
    "50001175": "Card holder name contains invalid characters",
    "50001176": "Card number is too long",
    "50001177": "Card number contains non-numeric info",
    "50001178": "Card Number Empty",
    "50001179": "CVC too long",
    "50001180": "CVC contains non-numeric info",
    "50001181": "Expiration date contains non-numeric info",
    "50001182": "Invalid expiration month",
    "50001183": "Expiration date must be in the future",
    "50001184": "SHA Mismatch",
    "50001216": "The alias must be different than the card number",
}

_CLASSES = {
    "1": "Communication failure",
    "2": "The result of the transaction is not known yet",
    "3": "Refused by the acquirer",
    "4": "A technical problem occurred, please try again",
    "5": "Invalid or incomplete data",
    "6": "Refused by the bank",
}


def text(code: str) -> str:
    """The platform's own text for an NCERROR code, or "" when the code is not in the table."""
    return _TEXTS.get((code or "").strip(), "") if code != "0" else ""


def describe(code: str) -> str:
    """A readable text for an NCERROR code; unknown codes get their class text, never a guess of detail."""
    code = (code or "").strip()
    if not code or code == "0":
        return "" if not code else _TEXTS["0"]
    if code in _TEXTS:
        return _TEXTS[code]
    if code[0] in _CLASSES and code.isdigit():
        return f"{_CLASSES[code[0]]} (error {code})"
    return f"Unknown error {code}"
