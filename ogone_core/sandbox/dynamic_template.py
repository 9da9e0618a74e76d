"""The dynamic template (``TP``): the merchant's own page, in which the platform puts its payment form.

The platform fetches the page at the URL given in ``TP`` and replaces the marker ``$$$PAYMENT ZONE$$$`` with
its payment zone, so the customer pays on a page that looks like the merchant's site. The sandbox does the
same, with limits of its own where the guides say nothing (they are sandbox choices, not the platform's):
- it fetches only from this machine (a host that resolves to loopback addresses only), so that a page
  posted to the sandbox cannot make it reach into another network; it connects to the very address it
  checked (sending the URL's host name as Host and, for https, as TLS server name), so a second DNS answer
  cannot lead it elsewhere;
- the answer must be a 200 ``text/html`` page of at most ``MAX_TEMPLATE_BYTES``, readable in its charset
  (UTF-8 when the header names none), fetched within ``FETCH_TIMEOUT`` seconds in all (not per read) and
  without redirect;
- the marker must be there exactly once.
Anything else refuses the payment request, as the platform refuses a template it cannot use.
"""
from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
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


def _check_url(url: str):
    """Return the checked address to connect to, so that a second resolution cannot lead elsewhere."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TemplateRefused(f"TP must be an absolute http or https URL, not {url!r}")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except (OSError, ValueError) as error:
        raise TemplateRefused(f"the template host {parts.hostname} cannot be resolved ({error})") from None
    addresses = [info[4][0].split("%")[0] for info in infos]
    if not addresses or not all(ipaddress.ip_address(address).is_loopback for address in addresses):
        raise TemplateRefused(
            f"the sandbox fetches templates from this machine only; {parts.hostname} is not a loopback host")
    return parts, addresses[0], port


def _connection(parts, address: str, port: int, timeout: float) -> http.client.HTTPConnection:
    """A connection to the checked ``address`` that still sends the URL's Host (and, for https, SNI)."""
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(parts.hostname, port, timeout=timeout,
                                                 context=ssl.create_default_context())
    else:
        connection = http.client.HTTPConnection(parts.hostname, port, timeout=timeout)
    connection._create_connection = (  # http.client's own seam for opening the socket
        lambda _address, conn_timeout, source=None: socket.create_connection(
            (address, port), conn_timeout, source))
    return connection


def fetch_template(url: str, timeout: float = FETCH_TIMEOUT) -> DynamicTemplate:
    """Fetch and check the template at ``url`` within ``timeout`` seconds in all; raise TemplateRefused."""
    parts, address, port = _check_url(url)
    deadline = time.monotonic() + timeout
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    connection = _connection(parts, address, port, timeout)
    response = None
    try:
        connection.request("GET", path, headers={"User-Agent": "ogone-sandbox template"})
        sock = connection.sock  # getresponse() drops it from the connection when the server will close
        response = connection.getresponse()
        status = response.status
        content_type = response.headers.get_content_type()
        charset = response.headers.get_content_charset() or "utf-8"
        chunks, size = [], 0
        while size <= MAX_TEMPLATE_BYTES:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TemplateRefused(f"the template was not fetched within {timeout:g} s")
            sock.settimeout(remaining)
            chunk = response.read1(MAX_TEMPLATE_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        body = b"".join(chunks)
    except TemplateRefused:
        raise
    except (OSError, ValueError, http.client.HTTPException) as error:
        raise TemplateRefused(f"the template cannot be fetched ({type(error).__name__}: {error})") from None
    finally:
        if response is not None:
            response.close()
        connection.close()
    # Redirects are refused like any other status but 200: a template that moved is not followed.
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
