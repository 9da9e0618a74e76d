"""A scripted customer for tests and demos: fills the sandbox's pages the way a person would.

    result = pay(form.action, form.fields, "4111111111111111")
    result.url        # where the platform sends the browser (not followed)
    result.params     # the feedback parameters on that URL, decoded
    result.status     # their STATUS as an int

The customer never follows the final redirect: the caller decides whether to hand it to the merchant.
Uses ``requests`` (pass ``session`` to reuse one).
"""
from __future__ import annotations

import base64
import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Optional, Union
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import requests

from .service import STORE_ALIAS_FIELD

Fields = Union[Mapping[str, str], Iterable[tuple[str, str]]]


class CustomerError(Exception):
    """The platform did not take the customer to a result: an error page, or the form came back with errors."""

    def __init__(self, message: str, page: str = ""):
        super().__init__(message)
        self.page = page


@dataclass(frozen=True)
class PaymentResult:
    url: str  # the redirect target with its query; "" when the sandbox showed its own result page
    pairs: tuple[tuple[str, str], ...] = ()
    page: str = field(default="", repr=False)

    @property
    def params(self) -> dict[str, str]:
        return dict(self.pairs)

    @property
    def status(self) -> Optional[int]:
        for name, value in self.pairs:
            if name.upper() == "STATUS" and value.strip().isascii() and value.strip().isdigit():
                return int(value)
        return None

    @property
    def base_url(self) -> str:
        return self.url.split("?", 1)[0]


@dataclass
class _Form:
    id: str
    action: str
    method: str
    inputs: list[tuple[str, str]] = field(default_factory=list)
    checkboxes: list[str] = field(default_factory=list)


class _FormReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[_Form] = []
        self.errors: list[str] = []
        self.error_text: list[str] = []
        self._in_error_item = False
        self._in_error_text = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, Optional[str]]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append(_Form(values.get("id") or values.get("name", ""), values.get("action", ""),
                                    values.get("method", "get").lower()))
        elif tag == "input" and self.forms and values.get("name"):
            if values.get("type", "text") == "hidden":
                self.forms[-1].inputs.append((values["name"], values.get("value", "")))
            elif values.get("type") == "checkbox":
                self.forms[-1].checkboxes.append(values["name"])
        elif tag == "ul" and "errors" in values.get("class", ""):
            self._in_error_item = True
        elif tag == "strong" and values.get("id") == "error-text":
            self._in_error_text = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "ul":
            self._in_error_item = False
        elif tag == "strong":
            self._in_error_text = False

    def handle_data(self, data: str) -> None:
        if self._in_error_item and data.strip():
            self.errors.append(data.strip())
        if self._in_error_text and data.strip():
            self.error_text.append(data.strip())

    def form(self, form_id: str) -> Optional[_Form]:
        return next((form for form in self.forms if form.id == form_id), None)


def _read(html: str) -> _FormReader:
    reader = _FormReader()
    reader.feed(html)
    return reader


def _charset(url: str) -> str:
    return "utf-8" if urlsplit(url).path.lower().endswith("_utf8.asp") else "iso-8859-1"


def _pairs(fields: Fields) -> list[tuple[str, str]]:
    return list(fields.items()) if isinstance(fields, Mapping) else [tuple(pair) for pair in fields]


def _post(session: requests.Session, url: str, pairs: list[tuple[str, str]], charset: str) -> requests.Response:
    body = urlencode(pairs, encoding=charset)
    return session.post(url, data=body, allow_redirects=False, timeout=30,
                        headers={"Content-Type": "application/x-www-form-urlencoded"})


def default_expiry(today: Optional[datetime.date] = None) -> str:
    """December of next year, as MM/YY."""
    today = today or datetime.date.today()
    return f"12/{(today.year + 1) % 100:02d}"


def _finish(response: requests.Response, charset: str) -> PaymentResult:
    if response.status_code in (301, 302, 303, 307, 308):
        location = response.headers["Location"]
        query = urlsplit(location).query
        return PaymentResult(location, tuple(parse_qsl(query, keep_blank_values=True, encoding=charset)))
    reader = _read(response.text)
    if reader.error_text or response.status_code != 200:
        raise CustomerError(" ".join(reader.error_text) or f"HTTP {response.status_code}", response.text)
    if reader.form("payment-form") is not None:
        raise CustomerError("; ".join(reader.errors) or "the payment page came back", response.text)
    status = _result_status(response.text)
    pairs = (("STATUS", status),) if status else ()
    return PaymentResult("", pairs, response.text)


def _result_status(html: str) -> str:
    marker = 'id="status">'
    start = html.find(marker)
    if start < 0:
        return ""
    return html[start + len(marker):html.find("<", start + len(marker))].strip()


def _answer_acs(session: requests.Session, response: requests.Response, three_ds: str,
                charset: str) -> PaymentResult:
    reader = _read(response.text)
    acs = reader.form("acs-form")
    if acs is None:
        return _finish(response, charset)
    if three_ds not in ("approve", "fail", "cancel"):
        raise ValueError("three_ds is 'approve', 'fail' or 'cancel'")
    answer = _post(session, urljoin(response.url, acs.action), acs.inputs + [("action", three_ds)], "utf-8")
    return _finish(answer, charset)


def pay(form_action: str, form_fields: Fields, card_number: str, expiry: Optional[str] = None,
        cvc: str = "123", holder: str = "Test Customer", three_ds: str = "approve", cancel: bool = False,
        save_card: bool = False, session: Optional[requests.Session] = None) -> PaymentResult:
    """Post the merchant's signed form, fill the card page (or press Cancel), answer 3-D Secure.

    ``save_card`` ticks the page's "save my card" checkbox, which the page shows when the merchant lets
    customers decide (``alias_checkbox``); asking for it on a page without one is a ``CustomerError``.
    """
    session = session or requests.Session()
    charset = _charset(form_action)
    response = _post(session, form_action, _pairs(form_fields), charset)
    reader = _read(response.text)
    form = reader.form("payment-form")
    if form is None:
        raise CustomerError(" ".join(reader.error_text) or f"no payment page (HTTP {response.status_code})",
                            response.text)
    typed = [("CN", holder), ("CARDNO", card_number), ("ED", expiry or default_expiry()), ("CVC", cvc),
             ("action", "cancel" if cancel else "pay")]
    if save_card:
        if STORE_ALIAS_FIELD not in form.checkboxes:
            raise CustomerError("the payment page offers no checkbox to save the card", response.text)
        typed.append((STORE_ALIAS_FIELD, "Y"))
    answer = _post(session, urljoin(response.url, form.action), form.inputs + typed, "utf-8")
    return _answer_acs(session, answer, three_ds, charset)


def authenticate(html_answer: str, three_ds: str = "approve",
                 session: Optional[requests.Session] = None) -> PaymentResult:
    """Play the browser for a DirectLink STATUS 46: run the HTML_ANSWER form and answer the ACS page.

    ``html_answer`` is the decoded HTML (``DirectLinkResponse.html_answer``) or the base64 text of the XML.
    """
    session = session or requests.Session()
    if "<form" in html_answer:
        fragment = html_answer
    else:
        fragment = base64.b64decode("".join(html_answer.split())).decode("utf-8")
    reader = _read(fragment)
    form = reader.forms[0] if reader.forms else None
    if form is None:
        raise CustomerError("the HTML_ANSWER holds no form", fragment)
    term_url = dict(form.inputs).get("TermUrl", "")
    response = _post(session, form.action, form.inputs, "utf-8")
    return _answer_acs(session, response, three_ds, _charset(term_url))


def create_alias(form_action: str, form_fields: Fields, card_number: str, expiry: Optional[str] = None,
                 cvc: str = "123", holder: str = "Test Customer",
                 session: Optional[requests.Session] = None) -> PaymentResult:
    """Post an Alias Gateway form with the card fields a customer would type into it."""
    session = session or requests.Session()
    charset = _charset(form_action)
    typed = [("CN", holder), ("CARDNO", card_number), ("ED", expiry or default_expiry()), ("CVC", cvc)]
    response = _post(session, form_action, _pairs(form_fields) + typed, charset)
    return _finish(response, charset)
