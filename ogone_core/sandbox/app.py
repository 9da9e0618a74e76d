"""The WSGI application: routing of the platform's real paths, faults, the demo shop page, the admin side,
and the background worker that settles pending statuses and delivers deferred feedback."""
from __future__ import annotations

import logging
import re
import select
import socket
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Optional

from werkzeug.wrappers import Request, Response

from ..account import Account
from ..errors import OgoneError
from ..hosted_page import HostedPaymentRequest
from ..validation import Operation
from . import admin, alias_gateway, directlink, hosted
from .checks import PageRequest
from .clock import Clock, system_clock
from .merchants import DEFAULT_MERCHANT, load_config
from .guard import FORM_TOKEN_FIELD, Guard
from .pages import Html, hidden, page, table
from .service import Sandbox
from .store import Store
from .wire import UTF8, page_charset, read_params, whole_number

log = logging.getLogger("ogone_core.sandbox")

_PAGE_PATH = re.compile(r"^/ncol/(test|prod)/([A-Za-z0-9_]+)\.asp$", re.IGNORECASE)

Handler = Callable[[Sandbox, PageRequest], Response]
# page name (lower case, without _utf8) -> (handler, fault page name, whether its form comes from the sandbox)
PAGES: dict[str, tuple[Handler, str, bool]] = {
    "orderstandard": (hosted.order_standard, "orderstandard", False),
    "order_agree": (hosted.order_agree, "order_agree", True),
    "test_3d_acs": (hosted.acs, "order_agree", True),
    "order_a3ds": (hosted.order_a3ds, "order_agree", True),
    "orderdirect": (directlink.order_direct, "orderdirect", False),
    "maintenancedirect": (directlink.maintenance_direct, "maintenancedirect", False),
    "querydirect": (directlink.query_direct, "querydirect", False),
    "alias_gateway": (alias_gateway.alias_gateway, "alias_gateway", False),
}

WORKER_POLL_SECONDS = 0.2
HANG_UP_POLL_SECONDS = 0.1
FEEDBACK_THREADS = 4


class ConnectionDropped(ConnectionError):
    """Raised after the socket is shut: the WSGI server treats it as a client that went away."""


def _hung_up(connection: Optional[socket.socket]) -> bool:
    "Whether the client closed its end (in-process, without a socket, it never does)"
    if connection is None:
        return False
    try:
        # poll, not select: select() refuses a descriptor numbered past 1024, as a busy sandbox's are
        poller = select.poll()
        poller.register(connection, select.POLLIN)
        readable = poller.poll(0)
        # Readable with nothing to read is the end of the stream; bytes waiting are the client's next request.
        return bool(readable) and connection.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):
        return True


class SandboxApp:
    """The sandbox as a WSGI callable. ``close()`` stops its background worker."""

    def __init__(self, state_path: "str | Path | None" = None,
                 config: "Mapping[str, Any] | str | Path | None" = None, clock: Optional[Clock] = None,
                 allowed_hosts: Iterable[str] = ()):
        self.clock: Clock = clock or system_clock
        self.guard = Guard(allowed_hosts)
        self.store = Store(state_path)
        self._wake = threading.Event()
        self.sandbox = Sandbox(self.store, self.clock, load_config(config), self._wake.set)
        self._stopping = threading.Event()
        self._worker: Optional[threading.Thread] = None
        self._worker_lock = threading.Lock()
        self._executor = ThreadPoolExecutor(FEEDBACK_THREADS, thread_name_prefix="sandbox-feedback")

    # background work ---------------------------------------------------------------------------------------
    def start_worker(self) -> None:
        with self._worker_lock:
            if self._worker is None and not self._stopping.is_set():
                self._worker = threading.Thread(target=self._work, name="sandbox-worker", daemon=True)
                self._worker.start()

    def _work(self) -> None:
        while not self._stopping.is_set():
            try:
                self.sandbox.settle()
                for job in self.sandbox.feedback.due_jobs():
                    self._executor.submit(self.sandbox.feedback.deliver, job.id)
            except Exception:  # the worker must outlive one bad tick; the next tick retries
                log.exception("sandbox worker tick failed")
            self._wake.wait(WORKER_POLL_SECONDS)
            self._wake.clear()

    def close(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._worker is not None:
            self._worker.join(timeout=5)
        self._executor.shutdown(wait=True, cancel_futures=True)

    # WSGI --------------------------------------------------------------------------------------------------
    def __call__(self, environ: dict, start_response):
        self.start_worker()
        request = Request(environ)
        response = self.dispatch(request)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        path = request.path
        match = _PAGE_PATH.match(path)
        if match:
            return self._protocol_page(request, match.group(1).lower(), match.group(2).lower())
        if path.startswith("/static/"):
            return self._static(path[len("/static/"):])
        response = self._own_side(request, path)
        # Another site framing these pages could make a tester click in them without knowing it.
        response.headers["X-Frame-Options"] = "DENY"
        return response

    def _own_side(self, request: Request, path: str) -> Response:
        if path.startswith("/admin/api/"):
            refused = self.guard.refusal(request, json_only=True)
            if refused:
                return admin.error_response(refused, 403)
            return admin.api(self.sandbox, request, path[len("/admin/api/"):])
        refused = self.guard.refusal(request)
        if refused:
            return page("error_page.html", "Forbidden", http_status=403, text=refused, details=Html(""))
        if path == "/":
            return self._home(request)
        if path == "/demo/checkout" and request.method == "POST":
            return self._demo_checkout(request)
        if path == "/admin" or path.startswith("/admin/"):
            return admin.backoffice(self.sandbox, request, path[len("/admin"):])
        return Response("Not found", status=404, content_type="text/plain")

    def _protocol_page(self, request: Request, env: str, name: str) -> Response:
        base = name[:-len("_utf8")] if name.endswith("_utf8") else name
        if base not in PAGES:
            return Response("Not found", status=404, content_type="text/plain")
        handler, fault_page, own_form = PAGES[base]
        # The sandbox's own pages post UTF-8 whatever the merchant's page was.
        charset = UTF8 if own_form else page_charset(name)
        params = read_params(request, charset)
        page_request = PageRequest(request, env, base, page_charset(name), params)
        pspid, orderid = self._fault_scope(params, own_form)
        faults = self.sandbox.faults.for_request(pspid, orderid, fault_page) if pspid else None
        if faults and faults.latency:
            time.sleep(faults.latency)
        if faults and faults.http_500:
            return Response("Internal Server Error", status=500, content_type="text/plain")
        self.sandbox.settle()
        response = handler(self.sandbox, page_request)
        if faults and faults.answer_delay:
            self._hold_answer(request, pspid, orderid, base, faults.answer_delay)
        if faults and faults.drop_connection:
            self._drop(request.environ)
        return response

    def _fault_scope(self, params, own_form: bool) -> tuple[str, str]:
        if own_form:
            token = params.stripped("PAYMENT_TOKEN") or params.stripped("MD")
            tx = self.store.by_session(token) if token else None
            return (tx.pspid, tx.orderid) if tx else ("", "")
        pspid, orderid = params.stripped("PSPID"), params.stripped("ORDERID")
        payid = whole_number(params.stripped("PAYID"))
        if not orderid and payid is not None:
            tx = self.store.transaction(payid)
            orderid = tx.orderid if tx and tx.pspid == pspid else ""
        return pspid, orderid

    def _hold_answer(self, request: Request, pspid: str, orderid: str, page_name: str, delay: float) -> None:
        """Waits ``delay`` seconds before the answer, or until the client hangs up: then the answer is never
        given (``ConnectionDropped``) and no longer listed as held"""
        environ = request.environ
        client = f"{environ.get('REMOTE_ADDR', '')}:{environ.get('REMOTE_PORT', '')}"
        now = self.sandbox.now()
        # Real time, whatever the sandbox's clock: the client's timeouts run on it. Closing the app ends the wait.
        end = time.monotonic() + delay
        with self.sandbox.held.holding(pspid, orderid, page_name, client, now, now + delay):
            while not self._stopping.is_set() and time.monotonic() < end:
                if _hung_up(environ.get("werkzeug.socket")):
                    raise ConnectionDropped("the client hung up while its answer was held")
                self._stopping.wait(min(HANG_UP_POLL_SECONDS, max(end - time.monotonic(), 0)))

    @staticmethod
    def _drop(environ: dict) -> None:
        connection = environ.get("werkzeug.socket")
        if connection is not None:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        raise ConnectionDropped("fault: connection dropped after the request was processed")

    # people's pages ----------------------------------------------------------------------------------------
    def _home(self, request: Request) -> Response:
        default = DEFAULT_MERCHANT
        merchant = table([("PSPID", default.pspid), ("API user (USERID)", default.api_user),
                          ("API password (PSWD)", default.api_password), ("SHA-IN passphrase", default.sha_in),
                          ("SHA-OUT passphrase", default.sha_out), ("Hash algorithm", "SHA-512"),
                          ("Dynamic feedback parameters", ", ".join(default.feedback_parameters))])
        return page("home.html", "Ogone sandbox", base_url=f"{request.host_url}ncol/test/",
                    pspid=default.pspid, cards=hosted.cards_table(), merchant=merchant,
                    form_token=hidden(FORM_TOKEN_FIELD, self.guard.form_token))

    def _demo_checkout(self, request: Request) -> Response:
        """Sign a hosted-page order for a person trying the sandbox in a browser."""
        form = request.form
        if not self.guard.form_token_ok(form.get(FORM_TOKEN_FIELD, "")):
            return page("error_page.html", "Error", http_status=403, details=Html(""),
                        text="This form is not one of the sandbox's pages (missing or wrong form token)")
        merchant = self.sandbox.merchant(form.get("PSPID", "").strip())
        if merchant is None:
            return page("error_page.html", "Error", http_status=400, text="Unknown PSPID", details=Html(""))
        charset = form.get("CHARSET", UTF8)
        try:
            account = Account(pspid=merchant.pspid, sha_in=merchant.sha_in, sha_out=merchant.sha_out or "-",
                              algorithm=merchant.algorithm, environment=f"{request.host_url}ncol/test/",
                              charset=charset if charset in ("utf-8", "iso-8859-1") else UTF8)
            order = HostedPaymentRequest(order_id=f"DEMO-{uuid.uuid4().hex[:12].upper()}",
                                         amount=Decimal(form.get("AMOUNT", "").strip()),
                                         currency=form.get("CURRENCY", "EUR").strip().upper(),
                                         operation=Operation(form.get("OPERATION", "SAL")),
                                         description="Sandbox demo order")
            signed = order.render(account)
        except (OgoneError, InvalidOperation, ValueError) as error:
            return page("error_page.html", "Error", http_status=400, text=str(error), details=Html(""))
        return Response(signed.html(), content_type="text/html; charset=utf-8")

    @staticmethod
    def _static(name: str) -> Response:
        if not re.match(r"^[A-Za-z0-9_.-]+$", name):
            return Response("Not found", status=404, content_type="text/plain")
        resource = resources.files("ogone_core.sandbox").joinpath("static", name)
        if not resource.is_file():
            return Response("Not found", status=404, content_type="text/plain")
        mimetype = "text/css" if name.endswith(".css") else "application/octet-stream"
        return Response(resource.read_bytes(), mimetype=mimetype)


def create_app(state_path: "str | Path | None" = None, config: "Mapping[str, Any] | str | Path | None" = None,
               clock: Optional[Clock] = None, allowed_hosts: Iterable[str] = ()) -> SandboxApp:
    """The sandbox WSGI app. ``state_path`` None keeps the state in memory; ``config`` is a dict or a JSON path;
    ``allowed_hosts``: host names besides IP addresses and ``localhost`` its own pages answer to."""
    return SandboxApp(state_path, config, clock, allowed_hosts)
