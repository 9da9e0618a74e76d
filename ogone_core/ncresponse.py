"""DirectLink answers: the ``<ncresponse .../>`` XML of orderdirect, maintenancedirect and querydirect.

Parsed defensively: no DTD, no entities, no network, bounded size. Attribute names are matched
case-insensitively and unknown attributes are kept, as the DirectLink guide asks ("parse this XML response
as tolerantly as possible").
"""
from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Optional

from lxml import etree

from .amounts import parse_major_amount
from .errors import ProtocolError
from .ncerror import DUPLICATE_ORDER, describe
from .status import Category, Status

MAX_RESPONSE_BYTES = 512 * 1024

_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_DECLARED_ENCODING = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([^\"']*)[\"']", re.IGNORECASE)
_DIRECTLINK_ENCODINGS = frozenset({"utf-8", "utf8", "iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii",
                                          "windows-1252", "cp1252", "iso-8859-15"})
_CHARSET = re.compile(r"charset\s*=\s*\"?([A-Za-z0-9_.:-]+)", re.IGNORECASE)

_PARSER_OPTIONS = dict(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                       huge_tree=False, remove_comments=True, remove_pis=True)


@dataclass(frozen=True)
class DirectLinkResponse:
    """One DirectLink answer. A refused card is a normal answer: look at ``status`` and ``ncerror``."""

    status: Status
    order_id: str = ""
    pay_id: str = ""
    pay_id_sub: str = ""
    ncstatus: str = ""
    ncerror: str = ""
    ncerror_plus: str = ""
    acceptance: str = ""
    amount: Optional[Decimal] = None
    currency: str = ""
    payment_method: str = ""
    brand: str = ""
    card_number: str = ""
    alias: str = ""
    eci: str = ""
    html_answer: Optional[str] = field(default=None, repr=False)
    attributes: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def category(self) -> Category:
        # A duplicate says nothing about the original order, which may well be paid: never a failure.
        if self.is_duplicate:
            return Category.UNCERTAIN
        return self.status.category

    @property
    def is_duplicate(self) -> bool:
        """The ORDERID was already processed; ``pay_id`` is the original payment's."""
        return self.ncerror == DUPLICATE_ORDER

    @property
    def needs_authentication(self) -> bool:
        """3-D Secure: show ``html_answer`` to the customer; the result comes through the feedback channels."""
        return self.status is Status.WAITING_AUTHENTICATION

    @property
    def error_text(self) -> str:
        return describe(self.ncerror) if self.ncerror not in ("", "0") else ""

    def attribute(self, name: str) -> str:
        return self.attributes.get(name.upper(), "")


def _decode_html_answer(text: str) -> str:
    compact = "".join(text.split())
    try:
        raw = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolError("HTML_ANSWER is not valid base64") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("iso-8859-1")


class _AnswerCollector:
    """An lxml parser target that keeps what the answer needs, in one pass.

    A tree would do, but reading the attributes of a tree element costs a search of the attribute list per
    attribute: quadratic, 19 s of CPU for a hostile 490 KB answer. The target receives them as one dict.
    """

    def __init__(self) -> None:
        self.root_tag = ""
        self.answers: list[dict[str, str]] = []
        self.html_answer: Optional[list[str]] = None
        self._depth = 0
        self._in_html_answer = False

    def start(self, tag: str, attrib: Mapping[str, str]) -> None:
        depth = self._depth
        self._depth += 1
        self._in_html_answer = False
        if depth == 0:
            self.root_tag = tag
        answer_depth = 0 if self.root_tag == "ncresponse" else 1
        # The answer is the root, or (WITHROOT=Y) a child of one more element.
        if tag == "ncresponse" and depth == answer_depth:
            self.answers.append(dict(attrib))
        elif depth == answer_depth + 1 and len(self.answers) == 1 and tag.upper() == "HTML_ANSWER":
            self.html_answer = []
            self._in_html_answer = True

    def end(self, tag: str) -> None:
        self._depth -= 1
        self._in_html_answer = False

    def data(self, text: str) -> None:
        if self._in_html_answer:
            self.html_answer.append(text)

    def close(self) -> "_AnswerCollector":
        return self


def _xml_input(body: bytes, content_type: str, default_charset: str) -> str:
    """The answer as text, decoded here rather than by lxml, so that any encoding trouble is a ProtocolError.

    The platform declares no encoding in the XML itself but in Content-Type (``Charset=iso-8859-1``); an
    encoding declared in the XML wins. Either must be one a DirectLink answer can be in (ASCII-compatible):
    anything else (UTF-16, an unknown name) is refused rather than guessed at.
    """
    declared = _DECLARED_ENCODING.match(body)
    if declared:
        charset = declared.group(1).decode("ascii", "replace")
    else:
        found = _CHARSET.search(content_type)
        charset = found.group(1) if found else default_charset
    if charset.lower().replace("_", "-") not in _DIRECTLINK_ENCODINGS:
        raise ProtocolError(f"the answer is in the encoding {charset!r}, which DirectLink never uses")
    try:
        text = body.decode(charset)
    except (LookupError, UnicodeDecodeError):
        raise ProtocolError(f"the answer is not valid {charset} text") from None
    # lxml refuses a str that still says which encoding its bytes were in; a BOM has no business in it either.
    return _XML_DECLARATION.sub("", text.lstrip("\ufeff"), count=1)


def parse_ncresponse(body: bytes, content_type: str = "",
                     default_charset: str = "utf-8") -> DirectLinkResponse:
    """Parse a DirectLink answer, or raise ``ProtocolError`` saying what was wrong with it."""
    if len(body) > MAX_RESPONSE_BYTES:
        raise ProtocolError(f"the answer is larger than {MAX_RESPONSE_BYTES} bytes")
    start = body.lstrip()[:64].lower()
    if not start:
        raise ProtocolError("the answer is empty")
    if start.startswith((b"<!doctype html", b"<html")) or "html" in content_type.lower():
        raise ProtocolError("the platform answered an HTML page instead of XML (wrong URL or platform error)")
    lowered = body.lower()  # a DOCTYPE may follow any amount of comments: look at the whole (bounded) body
    if b"<!doctype" in lowered or b"<!entity" in lowered:
        raise ProtocolError("the answer declares a DTD or entities, which DirectLink never does")
    collector = _AnswerCollector()
    parser = etree.XMLParser(target=collector, **_PARSER_OPTIONS)
    try:
        etree.fromstring(_xml_input(body, content_type, default_charset), parser)
    except etree.XMLSyntaxError as error:
        raise ProtocolError(f"the answer is not well-formed XML: {error}") from None
    except (etree.LxmlError, ValueError, LookupError) as error:  # lxml's own complaints about odd input
        raise ProtocolError(f"the answer cannot be read as XML: {error}") from None
    if len(collector.answers) != 1:
        raise ProtocolError(f"expected an <ncresponse> element, got <{collector.root_tag}>")
    attributes: dict[str, str] = {}
    for name, value in collector.answers[0].items():
        # Names are case-insensitive: STATUS="2" status="9" says two things, and neither may silently win.
        if name.upper() in attributes:
            raise ProtocolError(f"the answer gives {name.upper()} twice, in different case")
        attributes[name.upper()] = value
    html_answer = None
    if collector.html_answer is not None:
        html_answer = _decode_html_answer("".join(collector.html_answer))
    if "STATUS" not in attributes:
        raise ProtocolError("the answer has no STATUS attribute")
    status = Status.parse(attributes["STATUS"]) if attributes["STATUS"].strip() else Status.INVALID
    currency = attributes.get("CURRENCY", "")
    amount_text = attributes.get("AMOUNT", "").strip()
    amount = parse_major_amount(amount_text, currency or None) if amount_text else None
    get = attributes.get
    return DirectLinkResponse(
        status=status,
        order_id=get("ORDERID", ""),
        pay_id=get("PAYID", "") if get("PAYID", "") != "0" else "",
        pay_id_sub=get("PAYIDSUB", ""),
        ncstatus=get("NCSTATUS", ""),
        ncerror=get("NCERROR", "").strip(),
        ncerror_plus=get("NCERRORPLUS", "").strip(),
        acceptance=get("ACCEPTANCE", ""),
        amount=amount,
        currency=currency,
        payment_method=get("PM", ""),
        brand=get("BRAND", ""),
        card_number=get("CARDNO", ""),
        alias=get("ALIAS", ""),
        eci=get("ECI", ""),
        html_answer=html_answer,
        attributes=attributes,
    )
