"""ogone_core: the Ogone (Ingenico ePayments) e-Commerce and DirectLink protocols, framework-neutral."""
from .account import Account, Page
from .amounts import currency_exponent, from_minor_units, parse_major_amount, to_minor_units
from .errors import (ConfigurationError, ConnectionFailed, InvalidRequest, OgoneError, OutcomeUnknown,
                     ProtocolError, ServerError, SignatureError, TransportError, UnknownStatus)
from .feedback import Feedback, verify_feedback
from .hosted_page import HostedPaymentRequest, SignedForm
from .signing import Algorithm, canonical_string, compute_shasign, explain, signatures_match, signed_pairs
from .status import Category, Status
from .validation import Operation, validate_order_id

__version__ = "0.1.0"

__all__ = [
    "Account", "Algorithm", "Category", "ConfigurationError", "ConnectionFailed", "Feedback",
    "HostedPaymentRequest", "InvalidRequest", "OgoneError", "Operation", "OutcomeUnknown", "Page",
    "ProtocolError", "ServerError", "SignatureError", "SignedForm", "Status", "TransportError",
    "UnknownStatus", "canonical_string", "compute_shasign", "currency_exponent", "explain",
    "from_minor_units", "parse_major_amount", "signatures_match", "signed_pairs", "to_minor_units",
    "validate_order_id", "verify_feedback",
]
