"""Keeps other web pages from driving the sandbox's own side (home page, demo checkout, back office, admin API).

A page on another site that a tester happens to open can post forms to 127.0.0.1, and with DNS rebinding
(a name of its own that resolves to 127.0.0.1) even read the answers. So on the sandbox's own side:
- the Host header must be the sandbox's: an IP address, ``localhost`` or a name it was told to answer to
  (a rebound name is none of these);
- a request that changes something must not come from another origin (``Origin``, ``Sec-Fetch-Site``);
- the admin API takes JSON only, with ``Content-Type: application/json`` (a form cannot send that, and a
  script on another page cannot without a CORS permission the sandbox never gives);
- the sandbox's HTML forms carry a token that only its own pages know.

The protocol pages (``/ncol/...``) are not guarded: merchants' pages post to them from everywhere, as to
the platform.
"""
from __future__ import annotations

import hmac
import ipaddress
import secrets
from collections.abc import Iterable
from typing import Optional
from urllib.parse import urlsplit

from werkzeug.wrappers import Request

FORM_TOKEN_FIELD = "FORM_TOKEN"
_READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def host_name(host_header: str) -> str:
    """The name or address in a Host header, without the port (``[::1]:80`` -> ``::1``)."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else ""
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class Guard:
    """The checks for one sandbox: which host names are its own, and its form token."""

    def __init__(self, allowed_hosts: Iterable[str] = ()):
        self.allowed_hosts = frozenset({"localhost"} | {host_name(name) for name in allowed_hosts if name})
        self.form_token = secrets.token_urlsafe(32)

    def is_own_host(self, host_header: str) -> bool:
        name = host_name(host_header)
        return bool(name) and (_is_address(name) or name in self.allowed_hosts)

    def refusal(self, request: Request, json_only: bool = False) -> Optional[str]:
        """Why the request may not reach the sandbox's own side, or None."""
        if not self.is_own_host(request.host):
            return (f"the sandbox does not answer to the host name {host_name(request.host) or '(none)'} here "
                    "(use an IP address or localhost, or start the sandbox with --allowed-host)")
        if request.method in _READ_ONLY_METHODS:
            return None
        origin = request.headers.get("Origin")
        if origin is not None and not self._same_origin(origin, request):
            return f"a request from another origin ({origin}) cannot change the sandbox"
        if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
            return "a request from another site cannot change the sandbox"
        # No form can send DELETE, and a page's fetch() of it needs CORS, which the sandbox never grants: a
        # DELETE without a body may come as it is.
        bodyless_delete = request.method == "DELETE" and not request.get_data(cache=True)
        if json_only and request.mimetype != "application/json" and not bodyless_delete:
            return "the admin API takes JSON only: send Content-Type: application/json"
        return None

    @staticmethod
    def _same_origin(origin: str, request: Request) -> bool:
        parts = urlsplit(origin)
        return parts.scheme == request.scheme and parts.netloc.lower() == request.host.lower()

    def form_token_ok(self, submitted: str) -> bool:
        return hmac.compare_digest(submitted.encode("utf-8", "replace"), self.form_token.encode("ascii"))
