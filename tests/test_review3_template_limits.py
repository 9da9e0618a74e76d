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
