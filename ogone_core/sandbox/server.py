"""Running the sandbox on a real socket, in a background thread (tests, demos) or in the foreground (CLI)."""
from __future__ import annotations

import io
import ipaddress
import socket
import logging
import threading
from typing import Any, Optional

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .app import SandboxApp, create_app

log = logging.getLogger("ogone_core.sandbox.http")


# Ogone keeps a connection open from one request to the next, and a merchant's pooled transport counts on it.
# werkzeug's server closes each one, since it cannot tell whether the application read the whole body; here
# the body is read before the application runs, so the next request starts where this one ends. An idle
# connection is closed after KEEP_ALIVE_SECONDS, longer than a client keeps one idle (ogone_core's
# KEEP_ALIVE_IDLE_SECONDS): the client gives up first, never the sandbox while a request is on its way.
KEEP_ALIVE_SECONDS = 15.0
MAX_BUFFERED_BODY = 8 * 1024 * 1024


class SandboxRequestHandler(WSGIRequestHandler):
    """Logs method, path and status only: query strings may carry feedback or order data. Keeps the
    connection open when the request's body was read whole."""

    timeout = KEEP_ALIVE_SECONDS
    _body_read = False

    def setup(self) -> None:
        super().setup()
        # The headers and the body of an answer are two writes: on a connection kept open, Nagle's algorithm
        # holds the body until the client acknowledges the headers, which it delays (40 ms on Linux) when
        # requests follow each other closely, as the charges of a group do.
        if self.connection.family in (socket.AF_INET, socket.AF_INET6):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.open_connections.add(self.connection)  # type: ignore[attr-defined]

    def finish(self) -> None:
        self.server.open_connections.discard(self.connection)  # type: ignore[attr-defined]
        super().finish()

    def run_wsgi(self) -> None:
        # isascii: headers are read as ISO-8859-1, whose "²" is a digit to isdigit() and not to int()
        length = self.headers.get("Content-Length") or "0"
        if ("chunked" in (self.headers.get("Transfer-Encoding") or "").lower() or self.headers.get("Expect")
                or not (length.isascii() and length.isdigit()) or int(length) > MAX_BUFFERED_BODY):
            self._body_read = False
            return super().run_wsgi()  # the connection is closed after the answer, as werkzeug does
        body = self.rfile.read(int(length))
        if len(body) < int(length):
            self.close_connection = True  # the client went away mid-request
            return None
        # werkzeug reads whatever follows the answer on the socket's file, which would be the next request:
        # during the request, the body stands in for it.
        socket_file, self.rfile = self.rfile, io.BytesIO(body)
        self._body_read = True
        try:
            return super().run_wsgi()
        finally:
            self.rfile = socket_file

    def send_header(self, keyword: str, value: str) -> None:
        # A client that asked to close (Connection: close, HTTP/1.0) is told so, or it would send its next
        # request on a connection the sandbox is closing.
        if (keyword.lower() == "connection" and value.lower() == "close" and self._body_read
                and not self.close_connection):
            return
        super().send_header(keyword, value)

    def log_request(self, code: "int | str" = "-", size: "int | str" = "-") -> None:
        # A request line that cannot be parsed (a TLS handshake sent to this plain HTTP server) sets no path.
        path = getattr(self, "path", "").split("?", 1)[0]
        log.info("%s %s %s %s", self.address_string(), self.command, path, code)

    def log(self, type: str, message: str, *args: Any) -> None:
        log.debug("%s " + message, self.address_string(), *args)


class SandboxServer:
    """A running sandbox: ``url``, ``test_base_url`` (for ``Account(environment=...)``), ``app``, ``stop()``."""

    def __init__(self, server: BaseWSGIServer, app: SandboxApp):
        self._server = server
        self.app = app
        self.host = server.server_address[0]
        self.port = server.server_port
        self._thread: Optional[threading.Thread] = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    @property
    def test_base_url(self) -> str:
        return f"{self.url}ncol/test/"

    @property
    def prod_base_url(self) -> str:
        return f"{self.url}ncol/prod/"

    def start(self) -> "SandboxServer":
        self.app.start_worker()
        self._thread = threading.Thread(target=self._server.serve_forever, name="sandbox-server", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.app.start_worker()
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        # A stopped platform refuses connections: the ones kept open for more requests are closed too.
        for connection in list(self._server.open_connections):  # type: ignore[attr-defined]
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.app.close()

    def __enter__(self) -> "SandboxServer":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<SandboxServer {self.url}>"


class NotLoopback(ValueError):
    """The sandbox was asked to listen where other machines can reach it, without ``allow_remote``."""


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bind(host: str = "127.0.0.1", port: int = 0, *, allow_remote: bool = False,
         **create_app_kwargs: Any) -> SandboxServer:
    """A threaded server bound to ``host:port`` (0 = a free port), not yet serving.

    Only a loopback address unless ``allow_remote``: the sandbox is a test platform that shows its test
    merchants' passphrases on its home page, never something to expose by accident.
    """
    if not is_loopback(host) and not allow_remote:
        raise NotLoopback(f"refusing to listen on {host}: the sandbox is a test platform; allow_remote=True "
                          "(--allow-remote) if other machines of your test network must reach it")
    allowed_hosts = list(create_app_kwargs.pop("allowed_hosts", ()))
    if host and not is_loopback(host):
        allowed_hosts.append(host)  # the name it was told to listen on is its own
    app = create_app(allowed_hosts=allowed_hosts, **create_app_kwargs)
    try:
        server = make_server(host, port, app, threaded=True, request_handler=SandboxRequestHandler)
    except BaseException:
        app.close()
        raise
    server.open_connections = set()  # type: ignore[attr-defined]
    return SandboxServer(server, app)


def start_server(host: str = "127.0.0.1", port: int = 0, *, allow_remote: bool = False,
                 **create_app_kwargs: Any) -> SandboxServer:
    """Serve the sandbox in a background thread; use as a context manager or call ``stop()``."""
    return bind(host, port, allow_remote=allow_remote, **create_app_kwargs).start()
