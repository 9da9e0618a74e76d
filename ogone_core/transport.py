"""HTTP for DirectLink: the only place in ogone_core that does I/O.

Retry policy, the heart of "never lose or double money":
- a failure *before the request was sent* (DNS, refused, connect timeout) is retried: nothing reached the
  platform;
- once the request may have reached the platform (read timeout, connection dropped, HTTP 5xx), a request
  that moves money (``retry_safe=False``) raises ``OutcomeUnknown`` and is never sent again; a query
  (``retry_safe=True``) is retried with backoff.

A read timeout bounds each wait for a byte, not the exchange: a server that sends one byte a second would
hold a caller indefinitely. So every exchange also has an overall deadline (connect, send, read): when it
passes, the socket is shut and the exchange fails like a read timeout (a query may then be retried).
"""
from __future__ import annotations

import http.cookiejar
import logging
import socket
import ssl
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import quote_plus

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from .errors import (CertificateFailed, ConfigurationError, ConnectionFailed, InvalidRequest, OutcomeUnknown,
                     ProtocolError, ServerError, TransportError)
from .validation import mask_card_number

log = logging.getLogger(__name__)

SECRET_PARAMETERS = frozenset({"PSWD", "CVC", "CARDNO", "ECOM_PAYMENT_CARD_VERIFICATION", "SHASIGN"})


@dataclass(frozen=True)
class HttpResponse:
    status_code: int
    body: bytes = field(repr=False)
    content_type: str = ""


class Transport(Protocol):
    """The seam tests and integrators replace: post a form, get bytes back."""

    def post(self, url: str, data: Sequence[tuple[str, str]], *, encoding: str,
             retry_safe: bool, reference: str = "") -> HttpResponse:
        ...


def mask_parameters(data: Sequence[tuple[str, str]] | Mapping[str, str]) -> list[tuple[str, str]]:
    """The parameters as they may appear in a log: secrets replaced, card numbers cut to the last 4 digits."""
    items = data.items() if isinstance(data, Mapping) else data
    masked = []
    for name, value in items:
        upper = name.upper()
        if upper == "CARDNO" and value:
            value = mask_card_number(value)
        elif upper in SECRET_PARAMETERS and value:
            value = "***"
        masked.append((name, value))
    return masked


def _failed_before_sending(error: requests.ConnectionError) -> str:
    """Why the connection failed before any byte of the request left ("" when it may have been sent):
    no route, refused, connect timeout, or a TLS certificate that does not verify (the handshake comes
    before the request)."""
    if isinstance(error, requests.ConnectTimeout):
        return "connect timeout"
    seen = set()
    pending = [error]
    while pending:
        cause = pending.pop()
        if cause is None or id(cause) in seen:
            continue
        seen.add(id(cause))
        if isinstance(cause, ssl.SSLCertVerificationError):
            return "certificate"
        if isinstance(cause, (NewConnectionError, ConnectTimeoutError)):
            return "connect"
        # urllib3's ``reason`` is an exception, ssl's is a string such as "UNEXPECTED_EOF_WHILE_READING".
        linked = [getattr(cause, "reason", None), cause.__cause__, cause.__context__, *getattr(cause, "args", ())]
        pending.extend(link for link in linked if isinstance(link, BaseException))
    return ""


class _Watchdog:
    """Shuts the sockets of one exchange when its deadline passes, which ends any read blocked on them."""

    _current = threading.local()

    def __init__(self, seconds: float):
        self.expired = False
        self._finished = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> "_Watchdog":
        _Watchdog._current.watchdog = self
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        with self._lock:
            self._finished = True
        self._timer.cancel()
        _Watchdog._current.watchdog = None

    @classmethod
    def watch_current(cls, sock: "socket.socket | None") -> None:
        watchdog = getattr(cls._current, "watchdog", None)
        if watchdog is not None and sock is not None:
            watchdog._watch(sock)

    def _watch(self, sock: socket.socket) -> None:
        with self._lock:
            if not any(sock is known for known in self._sockets):
                self._sockets.append(sock)
            late = self.expired and not self._finished
        if late:
            _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            if self._finished:
                return
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


# The socket is watched when it is made (a TLS handshake can trickle too) and when a pooled connection is
# used again. http.client lets go of ``sock`` once a closing answer starts: the watchdog keeps its own hold.
class _WatchedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _Watchdog.watch_current(sock)
        return sock

    def request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        _Watchdog.watch_current(self.sock)
        return super().request(*args, **kwargs)


class _WatchedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _Watchdog.watch_current(sock)
        return sock

    def request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        _Watchdog.watch_current(self.sock)
        return super().request(*args, **kwargs)


# A connection idle for longer is closed instead of used again: a server that closes an idle connection just as
# a charge is written to it would leave the charge's outcome unknown. Servers keep idle connections open for
# 5 s or more (Apache's default), and the requests of a group being charged follow each other within that.
KEEP_ALIVE_IDLE_SECONDS = 3.0


class _IdleLimitedPool:
    """Hands out a pooled connection only if it came back within ``KEEP_ALIVE_IDLE_SECONDS``."""

    def _get_conn(self, timeout: "float | None" = None):  # type: ignore[no-untyped-def]
        conn = super()._get_conn(timeout)  # type: ignore[misc]
        returned_at = getattr(conn, "returned_at", None)
        if returned_at is not None and time.monotonic() - returned_at > KEEP_ALIVE_IDLE_SECONDS:
            conn.close()  # connects again when the request is written
        return conn

    def _put_conn(self, conn) -> None:  # type: ignore[no-untyped-def]
        if conn is not None:
            conn.returned_at = time.monotonic()
        super()._put_conn(conn)  # type: ignore[misc]


class _WatchedHTTPPool(_IdleLimitedPool, HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(_IdleLimitedPool, HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_WATCHED_POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class _WatchedAdapter(HTTPAdapter):
    """An adapter whose connections a ``_Watchdog`` can shut."""

    def init_poolmanager(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_WATCHED_POOLS)

    def proxy_manager_for(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        manager = super().proxy_manager_for(*args, **kwargs)
        manager.pool_classes_by_scheme = dict(_WATCHED_POOLS)
        return manager


_NO_COOKIES = http.cookiejar.DefaultCookiePolicy(allowed_domains=[])


class RequestsTransport:
    """A pooled ``requests.Session`` with separate connect/read timeouts and TLS verification on.

    It may be used by several threads at once: each exchange takes a connection of its own from the pool,
    which keeps up to ``pool_size`` idle connections per host (more may be open at once, and are closed
    after use). ``shared_transport`` gives the one of a process for a platform address.

    ``read_timeout`` should be longer than the RTIMEOUT sent to the platform (30 s by default there).
    ``deadline`` bounds each exchange, from connecting to the last byte of the answer (default:
    ``connect_timeout + read_timeout``); past it, a request that moves money raises ``OutcomeUnknown``
    (``ConnectionFailed`` if it never got connected) and a query is retried like after a read timeout, then
    raises ``TransportError``.
    """

    def __init__(self, connect_timeout: float = 10.0, read_timeout: float = 45.0,
                 connect_retries: int = 2, query_retries: int = 2, backoff: float = 0.5,
                 max_response_bytes: int = 512 * 1024, verify: "bool | str" = True,
                 session: requests.Session | None = None, pool_size: int = 10,
                 deadline: float | None = None):
        for name, value in (("connect_timeout", connect_timeout), ("read_timeout", read_timeout),
                            ("deadline", deadline)):
            if value is not None and not (isinstance(value, (int, float)) and 0 < value < float("inf")):
                raise ConfigurationError(f"{name} must be a positive number of seconds, not {value!r}")
        self.timeout = (connect_timeout, read_timeout)
        self.deadline = float(deadline if deadline is not None else connect_timeout + read_timeout)
        self.connect_retries = connect_retries
        self.query_retries = query_retries
        self.backoff = backoff
        self.max_response_bytes = max_response_bytes
        self.verify = verify
        if session is None:
            session = requests.Session()
            # DirectLink keeps no session: a cookie kept would go with the requests of every account and
            # thread that shares this transport.
            session.cookies.set_policy(_NO_COOKIES)
        self.session = session
        adapter = _WatchedAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)

    def close(self) -> None:
        self.session.close()

    def post(self, url: str, data: Sequence[tuple[str, str]], *, encoding: str,
             retry_safe: bool, reference: str = "") -> HttpResponse:
        try:
            body = "&".join(f"{_quote(name, encoding)}={_quote(value, encoding)}" for name, value in data)
        except UnicodeEncodeError:
            raise InvalidRequest(f"a parameter cannot be written in {encoding}: use the UTF-8 pages") from None
        headers = {"Content-Type": f"application/x-www-form-urlencoded; charset={encoding}"}
        connect_failures = 0
        later_failures = 0
        timeout = (min(self.timeout[0], self.deadline), min(self.timeout[1], self.deadline))
        while True:
            started = time.monotonic()
            watchdog = _Watchdog(self.deadline)
            try:
                with watchdog:
                    # Never follow a redirect: a 307/308 would re-post PSWD and card data wherever it points.
                    response = self.session.post(url, data=body.encode("ascii"), headers=headers,
                                                 timeout=timeout, verify=self.verify, stream=True,
                                                 allow_redirects=False)
                    payload = self._read(response)
            except requests.ConnectionError as error:
                before_sending = _failed_before_sending(error)
                if before_sending == "certificate":
                    raise CertificateFailed(f"the TLS certificate of {url} does not verify; nothing was sent") \
                        from None
                if before_sending:
                    connect_failures += 1
                    if connect_failures <= self.connect_retries:
                        self._pause(connect_failures, url, "connection failed")
                        continue
                    raise ConnectionFailed(
                        f"cannot connect to {url} ({type(error).__name__}); nothing was sent") from None
                failure = f"connection lost after sending ({type(error).__name__})"
            except requests.Timeout:
                failure = f"no answer within {timeout[1]:g} s"
            except requests.RequestException as error:
                failure = f"HTTP failure ({type(error).__name__})"
            else:
                if watchdog.expired:  # a close-delimited answer cut short by the deadline reads as complete
                    failure = ""
                else:
                    elapsed = (time.monotonic() - started) * 1000
                    log.info("POST %s -> HTTP %s in %.0f ms %s", url, response.status_code, elapsed, reference)
                    if response.status_code < 500:
                        if response.status_code >= 300:
                            raise ServerError(f"{url} answered HTTP {response.status_code}",
                                              response.status_code)
                        return HttpResponse(response.status_code, payload,
                                            response.headers.get("Content-Type", ""))
                    failure = f"HTTP {response.status_code}"
                    if not retry_safe:
                        raise OutcomeUnknown(f"{url} answered {failure}: the request may have been processed; "
                                             "query before sending it again", order_id=reference or None)
            if watchdog.expired:
                failure = f"no complete answer within the {self.deadline:g} s deadline"
            if not retry_safe:
                raise OutcomeUnknown(f"{url}: {failure}; the request may have been processed, "
                                     "query before sending it again", order_id=reference or None)
            later_failures += 1
            if later_failures > self.query_retries:
                if failure.startswith("HTTP "):
                    raise ServerError(f"{url} answered {failure}", int(failure[5:]))
                raise TransportError(f"{url}: {failure}")
            self._pause(later_failures, url, failure)

    def _read(self, response: requests.Response) -> bytes:
        chunks = []
        size = 0
        for chunk in response.iter_content(64 * 1024):
            size += len(chunk)
            if size > self.max_response_bytes:
                response.close()
                raise ProtocolError(f"the answer is larger than {self.max_response_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    def _pause(self, attempt: int, url: str, why: str) -> None:
        delay = self.backoff * (2 ** (attempt - 1))
        log.warning("%s: %s, retrying in %.1f s", url, why, delay)
        time.sleep(delay)


def _quote(text: str, encoding: str) -> str:
    return quote_plus(text, safe="", encoding=encoding, errors="strict")
