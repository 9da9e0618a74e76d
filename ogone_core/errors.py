"""The exceptions of ogone_core.

Business outcomes (a refused card, an uncertain status) are results, not exceptions. These classes are for
what a caller must not mistake for an answer: bad configuration or input, a signature that does not match,
a reply that breaks the protocol, and transport failures, among which ``OutcomeUnknown`` is the one that
matters most: the request may have moved money, so the caller must query before sending anything again.
"""
from __future__ import annotations


class OgoneError(Exception):
    """Base class of every error raised by ogone_core."""


class ConfigurationError(OgoneError, ValueError):
    """An account or environment setting is missing or invalid."""


class InvalidRequest(OgoneError, ValueError):
    """A request cannot be built: bad amount, currency, order id, or parameters."""


class SignatureError(OgoneError):
    """A SHASIGN is missing or does not match the parameters it should sign."""


class ProtocolError(OgoneError):
    """The platform answered something the protocol does not allow (malformed or hostile XML, ...)."""


class UnknownStatus(ProtocolError):
    """A STATUS code that is not in the documented table."""

    def __init__(self, code: object):
        super().__init__(f"unknown Ogone STATUS code {code!r}")
        self.code = code


class TransportError(OgoneError):
    """The request could not be completed over HTTP."""


class ConnectionFailed(TransportError):
    """The connection failed before the request was sent: nothing reached the platform."""


class CertificateFailed(ConnectionFailed):
    """The TLS certificate of the platform does not verify: nothing was sent."""


class ServerError(TransportError):
    """The platform answered with an HTTP error status."""

    def __init__(self, message: str, status_code: int):
        super().__init__(message)
        self.status_code = status_code


class OutcomeUnknown(TransportError):
    """The request may have been processed but no answer arrived.

    Never resend an order or maintenance request after this: query the order by ``order_id`` first.
    """

    def __init__(self, message: str, order_id: str | None = None, pay_id: str | None = None):
        super().__init__(message)
        self.order_id = order_id
        self.pay_id = pay_id


class UnreadableOutcome(ProtocolError, OutcomeUnknown):
    """A request that moves money got an answer nobody can read: both a protocol error and an unknown outcome."""
