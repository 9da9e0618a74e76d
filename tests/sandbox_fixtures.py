"""Fixtures and helpers for the sandbox tests: a sandbox on a free port, merchants made through the admin
API, and a merchant-side HTTP server that records the feedback requests it receives."""
from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Optional
from urllib.parse import parse_qsl

import pytest
import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from ogone_core import Account, DirectLinkClient, RequestsTransport
from ogone_core.sandbox import DEFAULT_MERCHANT, ManualClock, start_server
from ogone_core.sandbox.server import SandboxServer


def unique(prefix: str = "T") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.01) -> Any:
    """Poll until ``predicate()`` is truthy; fail the test at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


def admin(server: SandboxServer, method: str, path: str, json: Optional[dict] = None,
          params: Optional[dict] = None, expect: int = 200) -> Any:
    if json is None and method == "POST":
        json = {}  # the admin API takes JSON only, an empty object included
    response = requests.request(method, f"{server.url}admin/api/{path}", json=json, params=params, timeout=30)
    assert response.status_code == expect, response.text
    return response.json()


@dataclass
class TestMerchant:
    pspid: str
    settings: dict
    server: SandboxServer

    def account(self, charset: str = "utf-8", env: str = "test") -> Account:
        return Account(pspid=self.pspid, sha_in=self.settings["sha_in"], sha_out=self.settings["sha_out"],
                       api_user_id=self.settings["api_user"], api_password=self.settings["api_password"],
                       algorithm=self.settings.get("algorithm", "sha512"),
                       environment=self.server.test_base_url if env == "test" else self.server.prod_base_url,
                       charset=charset)

    def client(self, charset: str = "utf-8", **transport_options: Any) -> DirectLinkClient:
        options = {"read_timeout": 15.0, "backoff": 0.01, **transport_options}
        return DirectLinkClient(self.account(charset), RequestsTransport(**options))

    def update(self, **changes: Any) -> None:
        self.settings.update(changes)
        admin(self.server, "POST", "merchants", json={"pspid": self.pspid, **changes})


def new_merchant(server: SandboxServer, **settings: Any) -> TestMerchant:
    pspid = unique("M")[:30]
    values = {"pspid": pspid, "sha_in": f"in-{uuid.uuid4().hex}", "sha_out": f"out-{uuid.uuid4().hex}",
              "api_user": f"{pspid}API", "api_password": f"pw-{uuid.uuid4().hex}", "algorithm": "sha512",
              **settings}
    admin(server, "POST", "merchants", json=values, expect=201)
    return TestMerchant(pspid, values, server)


def default_merchant(server: SandboxServer) -> TestMerchant:
    values = {"sha_in": DEFAULT_MERCHANT.sha_in, "sha_out": DEFAULT_MERCHANT.sha_out,
              "api_user": DEFAULT_MERCHANT.api_user, "api_password": DEFAULT_MERCHANT.api_password,
              "algorithm": "sha512"}
    return TestMerchant(DEFAULT_MERCHANT.pspid, values, server)


@dataclass
class Received:
    method: str
    path: str
    pairs: list = field(default_factory=list)
    raw_query: str = ""
    raw_body: bytes = b""
    at: float = 0.0

    @property
    def params(self) -> dict:
        return dict(self.pairs)


class FeedbackReceiver:
    """The merchant's server-to-server feedback URL: records every request and answers from a plan."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.plan: list[tuple[int, float]] = []  # (HTTP status, seconds to wait) per request; then 200
        self._lock = threading.Lock()
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}/feedback"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def respond(self, *plan: "int | tuple[int, float]") -> None:
        with self._lock:
            self.plan = [item if isinstance(item, tuple) else (item, 0.0) for item in plan]

    def _app(self, environ, start_response):
        request = Request(environ)
        body = request.get_data()
        charset = "utf-8"
        source = body.decode("latin-1") if request.method == "POST" else request.query_string.decode("latin-1")
        received = Received(request.method, request.path,
                            parse_qsl(source, keep_blank_values=True, encoding=charset),
                            request.query_string.decode("latin-1"), body, time.monotonic())
        with self._lock:
            self.requests.append(received)
            status, delay = self.plan.pop(0) if self.plan else (200, 0.0)
        if delay:
            time.sleep(delay)
        return Response("ok" if status < 300 else "no", status=status)(environ, start_response)

    def received(self, count: int, timeout: float = 10.0) -> list[Received]:
        wait_for(lambda: len(self.requests) >= count, timeout)
        return list(self.requests)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="session")
def sandbox():
    with start_server() as server:
        yield server


@pytest.fixture
def clocked_sandbox():
    clock = ManualClock()
    with start_server(clock=clock) as server:
        yield server, clock


@pytest.fixture
def receiver():
    feedback = FeedbackReceiver()
    yield feedback
    feedback.close()
