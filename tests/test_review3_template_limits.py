"""Review: the sandbox's template fetch must be bounded in total time, not only per socket read."""
from __future__ import annotations

import socket
import threading
import time

import pytest

from ogone_core.sandbox.dynamic_template import TemplateRefused, fetch_template

DRIP_GAP = 0.3  # below the per-read timeout, so each read succeeds
DRIP_BYTES = 20  # 20 x 0.3 s = 6 s in all


def _drip_server():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    stop = threading.Event()

    def serve():
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n")
            for _ in range(DRIP_BYTES):
                if stop.is_set():
                    return
                try:
                    connection.sendall(b"x")
                except OSError:
                    return
                stop.wait(DRIP_GAP)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return listener, stop, thread


def test_slow_drip_template_is_refused_within_the_fetch_timeout():
    listener, stop, thread = _drip_server()
    try:
        started = time.monotonic()
        with pytest.raises(TemplateRefused):
            fetch_template(f"http://127.0.0.1:{listener.getsockname()[1]}/t", timeout=1.0)
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        thread.join(10)
        listener.close()
    # A template server dripping one byte under the per-read timeout holds a sandbox worker for as long as
    # it likes (here 6 s, unbounded in general): the whole fetch must stop near its timeout.
    assert elapsed < 2.5, f"fetch took {elapsed:.1f} s with a 1 s timeout"


def test_template_is_fetched_from_the_address_that_was_checked(monkeypatch):
    """DNS rebinding: a host that resolves to loopback when checked and elsewhere when fetched.

    Nothing real on a test machine answers DNS like an attacker's server, hence the patched resolver: the
    first lookup says 127.0.0.1 (where the template is served), every later one says 192.0.2.1 (TEST-NET,
    standing for another network). The sandbox must connect to the address it checked.
    """
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"<html><body>$$$PAYMENT ZONE$$$</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    real_getaddrinfo = socket.getaddrinfo
    lookups = []

    def rebinding(host, port, *args, **kwargs):
        if host != "rebind.test":
            return real_getaddrinfo(host, port, *args, **kwargs)
        lookups.append(host)
        address = "127.0.0.1" if len(lookups) == 1 else "192.0.2.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    try:
        template = fetch_template(f"http://rebind.test:{server.server_port}/t", timeout=1.0)
    finally:
        server.shutdown()
        server.server_close()
    assert template.after == "</body></html>"
