"""The dynamic template (``TP``): the merchant's own page, in which the platform puts its payment form.

The platform fetches the page at the URL given in ``TP`` and replaces the marker ``$$$PAYMENT ZONE$$$`` with
its payment zone, so the customer pays on a page that looks like the merchant's site. The sandbox does the
same, with limits of its own where the guides say nothing (they are sandbox choices, not the platform's):
- it fetches only from this machine (a host that resolves to loopback addresses only), so that a page
  posted to the sandbox cannot make it reach into another network;
- the answer must be a 200 ``text/html`` page of at most ``MAX_TEMPLATE_BYTES``, readable in its charset
  (UTF-8 when the header names none), fetched within ``FETCH_TIMEOUT`` seconds and without redirect;
- the marker must be there exactly once.
Anything else refuses the payment request, as the platform refuses a template it cannot use.
"""
from __future__ import annotations

import ipaddress
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

MARKER = "$$$PAYMENT ZONE$$$"
MAX_TEMPLATE_BYTES = 256 * 1024
FETCH_TIMEOUT = 5.0


class TemplateRefused(Exception):
    """The template cannot be used; the message says why (shown on the sandbox's error page)."""


@dataclass(frozen=True)
class DynamicTemplate:
    """A fetched template, cut at its marker."""

    url: str
    before: str
    after: str

    def wrap(self, payment_zone: str) -> str:
        return f"{self.before}{payment_zone}{self.after}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a template that moved is refused, not followed
        return None


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TemplateRefused(f"TP must be an absolute http or https URL, not {url!r}")
    try:
        port = parts.port
        infos = socket.getaddrinfo(parts.hostname, port or 80, proto=socket.IPPROTO_TCP)
    except (OSError, ValueError) as error:
        raise TemplateRefused(f"the template host {parts.hostname} cannot be resolved ({error})") from None
    addresses = {ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos}
    if not addresses or not all(address.is_loopback for address in addresses):
        raise TemplateRefused(
            f"the sandbox fetches templates from this machine only; {parts.hostname} is not a loopback host")


def fetch_template(url: str, timeout: float = FETCH_TIMEOUT) -> DynamicTemplate:
    """Fetch and check the template at ``url``; raise TemplateRefused with the reason."""
    _check_url(url)
    request = urllib.request.Request(url, headers={"User-Agent": "ogone-sandbox template"}, method="GET")
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            status = response.status
            content_type = response.headers.get_content_type()
            charset = response.headers.get_content_charset() or "utf-8"
            body = response.read(MAX_TEMPLATE_BYTES + 1)
    except urllib.error.HTTPError as error:
        error.close()
        raise TemplateRefused(f"the template URL answered HTTP {error.code}") from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise TemplateRefused(f"the template cannot be fetched ({type(reason).__name__}: {reason})") from None
    if status != 200:
        raise TemplateRefused(f"the template URL answered HTTP {status}")
    if content_type != "text/html":
        raise TemplateRefused(f"the template must be text/html, not {content_type}")
    if len(body) > MAX_TEMPLATE_BYTES:
        raise TemplateRefused(f"the template is larger than {MAX_TEMPLATE_BYTES} bytes")
    try:
        text = body.decode(charset)
    except (LookupError, UnicodeDecodeError):
        raise TemplateRefused(f"the template is not readable in its charset {charset}") from None
    count = text.count(MARKER)
    if count != 1:
        raise TemplateRefused(
            f"the template must hold the marker {MARKER} exactly once (found {count} times)")
    before, after = text.split(MARKER)
    return DynamicTemplate(url, before, after)
