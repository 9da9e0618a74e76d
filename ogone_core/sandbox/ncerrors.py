"""The NCERROR codes the sandbox answers with, and their texts.

Texts are the platform's own wording (its published error list). Codes are grouped by their first digit, which
is also the NCSTATUS: 0 ok, 2 uncertain, 3 refused by the acquirer, 4 technical or 3-D Secure, 5 invalid data.
"""
from __future__ import annotations

from ..ncerror import text  # noqa: F401  (one table of texts for the library and the sandbox)

OK = "0"
OK_PLUS = "!"

UNCERTAIN = "20001001"
ACQUIRER_REFUSED = "30001001"
AUTHORIZATION_DECLINED = "30051001"
TECHNICAL_PROBLEM = "40001001"
AUTHENTICATION_FAILED = "40001134"
CARD_INCORRECT = "50001054"
PAN_INVALID = "50001068"
CVC_MISSING = "50001090"
DATA_VALIDATION = "50001111"
ALREADY_PROCESSED = "50001113"
PSPID_NOT_FOUND = "50001118"
PASSWORD_INCORRECT = "50001119"
INVALID_CURRENCY = "50001120"
CAPTURE_OVERFLOW = "50001126"
NOT_IN_CORRECT_STATUS = "50001127"
REFUND_OVERFLOW = "50001129"
ORIGINAL_ORDER_ACCESS = "50001130"
HISTORY_ITEM_ACCESS = "50001131"
OPERATION_NOT_ALLOWED = "50001007"
AMOUNT_NOT_A_NUMBER = "50001006"
NAME_TOO_LONG = "50001174"
CARD_NUMBER_TOO_LONG = "50001176"
CARD_NUMBER_NOT_NUMERIC = "50001177"
CARD_NUMBER_EMPTY = "50001178"
CVC_TOO_LONG = "50001179"
CVC_NOT_NUMERIC = "50001180"
EXPIRY_NOT_NUMERIC = "50001181"
EXPIRY_INVALID_MONTH = "50001182"
EXPIRY_IN_THE_PAST = "50001183"
SHA_MISMATCH = "50001184"
ALIAS_EQUALS_CARD = "50001216"

# Ogone's own origin-check texts, shown on the error page and in NCERRORPLUS.
SHA_MISMATCH_TEXT = "unknown order/1/s"
SHA_MISSING_TEXT = "unknown order/0/s"
API_NOT_ALLOWED_TEXT = "Connection to API feature not allowed for this user"
IDENTIFICATION_REQUESTED = "Identification requested"


def ncstatus(code: str) -> str:
    """NCSTATUS is the first digit of NCERROR ("0" when all is well)."""
    return code[:1] if code and code != OK else "0"
