"""One pooled transport per process for each platform address and set of transport settings.

A DirectLink client made for each payment used to come with a transport of its own, hence a new TCP (and TLS)
connection per charge. The clients of every account that talks to the same platform with the same settings
share one transport instead, and its connections are used again from one call to the next.

The transport is found by what its connections depend on: scheme, host and port of the platform, and the
transport's settings (timeouts, TLS verification, pool size, retries). Never by credentials: they go in each
request's body, so the accounts of one platform may share connections, and nothing secret is kept in the key.
A changed address or setting finds another transport; the one no longer used is dropped after
``MAX_SHARED_TRANSPORTS`` others.
"""
from __future__ import annotations

import os
import threading
from collections import OrderedDict
from typing import Any
from urllib.parse import urlsplit

from .errors import ConfigurationError
from .transport import RequestsTransport

MAX_SHARED_TRANSPORTS = 16

_transports: "OrderedDict[tuple, RequestsTransport]" = OrderedDict()
_lock = threading.Lock()


def _forget_after_fork() -> None:
    # A forked process holds copies of its parent's pooled sockets: writing to one would mix both processes'
    # requests and answers on one connection. The child starts with transports of its own (and a new lock, in
    # case another thread of the parent held it when forking).
    global _transports, _lock
    _transports = OrderedDict()
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)


def transport_key(url: str, **settings: Any) -> tuple:
    """Scheme, host, port and settings: what a connection to ``url`` depends on (user and password of the URL
    left out)."""
    if "session" in settings:
        raise ConfigurationError("a shared transport makes its own session")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"not an http(s) URL: {parts.scheme}://{parts.hostname or ''}")
    port = parts.port or (443 if scheme == "https" else 80)
    return (scheme, parts.hostname.lower(), port, tuple(sorted(settings.items())))


def shared_transport(url: str, **settings: Any) -> RequestsTransport:
    """The process's ``RequestsTransport`` for the platform at ``url`` with ``settings`` (the keyword arguments
    of ``RequestsTransport`` but ``session``). Thread-safe; never close it, other clients use it."""
    key = transport_key(url, **settings)
    with _lock:
        transport = _transports.get(key)
        if transport is None:
            transport = _transports[key] = RequestsTransport(**settings)
            while len(_transports) > MAX_SHARED_TRANSPORTS:
                # Not closed: a client may still be using it; its connections close when it is collected.
                _transports.popitem(last=False)
        else:
            _transports.move_to_end(key)
        return transport
