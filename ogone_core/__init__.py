"""ogone_core: the Ogone (Ingenico ePayments) e-Commerce and DirectLink protocols, framework-neutral."""
from .account import Account, Page
from .account_check import CheckOutcome, CheckResult, check_account
from .alias_gateway import AliasFeedback, AliasGatewayRequest, AliasStatus, verify_alias_feedback
from .amounts import (amount_is_expressible, from_wire_amount, is_currency_code, parse_major_amount,
                      to_wire_amount)
from .directlink import Card, DirectLinkClient, MaintenanceRequest, OrderRequest, ThreeDSecure
from .errors import (CertificateFailed, ConfigurationError, ConnectionFailed, InvalidRequest, OgoneError, OutcomeUnknown,
                     ProtocolError, ServerError, SignatureError, TransportError, UnknownStatus,
                     UnreadableOutcome)
from .feedback import Feedback, VerifiedParams, verify_feedback, verify_signature
from .hosted_page import HostedPaymentRequest, SignedForm
from .ncerror import describe as describe_ncerror
from .ncresponse import DirectLinkResponse, parse_ncresponse
from .refusal_diagnosis import RefusalCause, RefusalDiagnosis, diagnose_refusal
from .transport_pool import shared_transport
from .signing import Algorithm, canonical_string, compute_shasign, explain, signatures_match, signed_pairs
from .status import Category, Status
from .transport import HttpResponse, RequestsTransport, Transport, mask_parameters
from .validation import Operation, validate_order_id

__version__ = "0.1.0"

__all__ = [
    "Account", "Algorithm", "AliasFeedback", "AliasGatewayRequest", "AliasStatus", "Card", "Category",
    "CertificateFailed", "CheckOutcome", "CheckResult", "RefusalCause", "RefusalDiagnosis", "check_account",
    "diagnose_refusal",
    "ConfigurationError", "ConnectionFailed", "DirectLinkClient", "DirectLinkResponse", "Feedback",
    "HostedPaymentRequest", "HttpResponse", "InvalidRequest", "MaintenanceRequest", "OgoneError",
    "Operation", "OrderRequest", "OutcomeUnknown", "Page", "ProtocolError", "RequestsTransport",
    "ServerError", "SignatureError", "SignedForm", "Status", "ThreeDSecure", "Transport", "TransportError",
    "UnknownStatus", "UnreadableOutcome", "VerifiedParams", "canonical_string", "compute_shasign",
    "amount_is_expressible", "describe_ncerror", "explain", "from_wire_amount", "is_currency_code",
    "mask_parameters", "parse_major_amount", "parse_ncresponse", "shared_transport", "signatures_match", "signed_pairs",
    "to_wire_amount", "validate_order_id", "verify_alias_feedback", "verify_feedback", "verify_signature",
]
