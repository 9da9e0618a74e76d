"""The dynamic template (TP): the sandbox fetches the merchant's page and pays inside it, or refuses it."""
from __future__ import annotations

import socket
import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from ogone_core import HostedPaymentRequest
from ogone_core.sandbox.customer import pay
from ogone_core.sandbox.dynamic_template import MARKER, MAX_TEMPLATE_BYTES, TemplateRefused, fetch_template
from sandbox_fixtures import default_merchant, unique
from test_sandbox_hosted_page import error_text, forms_of, post_form

SHOP = "http://shop.example"
TEMPLATE = ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Chez Zoë</title></head><body>"
            "<header id=\"shop-header\">Chez Zoë, fine cheese</header>"
            f"<main>{MARKER}</main><footer id=\"shop-footer\">Chez Zoë, Gent</footer></body></html>")


class TemplateSite:
    """Serves ``/<name>`` with the status, content type and body given to ``put``."""

    def __init__(self) -> None:
        self.pages: dict[str, tuple[int, str, bytes, dict]] = {}
        self.hits: list[str] = []
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}/"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def put(self, name: str, body: "str | bytes", status: int = 200, content_type: str = "text/html; charset=utf-8",
            headers: "dict | None" = None) -> str:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.pages[name] = (status, content_type, data, headers or {})
        return f"{self.url}{name}"

    def _app(self, environ, start_response):
        name = Request(environ).path.strip("/")
        self.hits.append(name)
        status, content_type, body, headers = self.pages.get(name, (404, "text/plain", b"Not found", {}))
        return Response(body, status=status, content_type=content_type, headers=headers)(environ, start_response)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="module")
def site():
    instance = TemplateSite()
    yield instance
    instance.close()


def order(merchant, template: str, order_id: str = "", **options):
    request = HostedPaymentRequest(order_id or unique("TP"), Decimal("12.50"), "EUR", accept_url=f"{SHOP}/accept",
                                   decline_url=f"{SHOP}/decline", template=template, **options)
    return request, request.render(merchant.account())


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/template"


def test_payment_form_is_shown_inside_the_merchant_template(sandbox, site):
    url = site.put("shop-template", TEMPLATE)
    merchant = default_merchant(sandbox)
    request, form = order(merchant, url)
    assert ("TP", url) in form.fields
    response = post_form(form.action, form.fields)
    assert response.status_code == 200
    page = response.text
    assert MARKER not in page
    assert page.index('id="shop-header"') < page.index('id="payment-form"') < page.index('id="shop-footer"')
    assert "<title>Chez Zoë</title>" in page
    assert request.order_id in page and "12.50 EUR" in page
    # The payment zone is the sandbox's form: the payment goes on as without a template.
    assert {"CN", "CARDNO", "ED", "CVC", "PAYMENT_TOKEN"} <= set(forms_of(page)["payment-form"]["inputs"])


def test_payment_in_the_template_completes_and_card_errors_stay_inside_it(sandbox, site):
    url = site.put("shop-template-pay", TEMPLATE)
    merchant = default_merchant(sandbox)
    _, form = order(merchant, url)
    response = post_form(form.action, form.fields)
    fields = forms_of(response.text)["payment-form"]["inputs"]
    token = fields["PAYMENT_TOKEN"]["value"]
    action = requests.compat.urljoin(response.url, forms_of(response.text)["payment-form"]["attrs"]["action"])
    again = requests.post(action, data={"PAYMENT_TOKEN": token, "CN": "Zoë", "CARDNO": "123", "ED": "12/39",
                                        "CVC": "123", "action": "pay"}, allow_redirects=False, timeout=30)
    assert again.status_code == 200
    assert 'class="errors"' in again.text and 'id="shop-header"' in again.text
    hits = site.hits.count("shop-template-pay")
    assert hits == 2  # fetched for each display, as the platform does
    _, fresh = order(merchant, url)
    result = pay(fresh.action, fresh.fields, "4111111111111111", holder="Zoë")
    assert result.status == 9 and result.base_url == f"{SHOP}/accept"


@pytest.mark.parametrize("case, expected", [
    ("missing", "answered HTTP 404"),
    ("no-marker", "exactly once (found 0 times)"),
    ("two-markers", "exactly once (found 2 times)"),
    ("plain-text", "must be text/html, not text/plain"),
    ("too-large", f"larger than {MAX_TEMPLATE_BYTES} bytes"),
    ("moved", "answered HTTP 302"),
    ("bad-charset", "not readable in its charset utf-8"),
    ("closed-port", "cannot be fetched (ConnectionRefusedError"),
    ("not-loopback", "192.0.2.1 is not a loopback host"),
    ("not-http", "absolute http or https URL"),
])
def test_unusable_template_refuses_the_payment_request_and_stores_nothing(sandbox, site, case, expected):
    urls = {
        "missing": f"{site.url}nothing-here",
        "no-marker": site.put("no-marker", "<html><body>no zone</body></html>"),
        "two-markers": site.put("two-markers", f"<html><body>{MARKER}{MARKER}</body></html>"),
        "plain-text": site.put("plain-text", f"text {MARKER}", content_type="text/plain"),
        "too-large": site.put("too-large", MARKER + "x" * MAX_TEMPLATE_BYTES),
        "moved": site.put("moved", "", status=302, headers={"Location": f"{site.url}shop-template"}),
        "bad-charset": site.put("bad-charset", b"<html>\xff\xfe " + MARKER.encode() + b"</html>"),
        "closed-port": closed_port_url(),
        # TEST-NET-1: refused before any connection is tried
        "not-loopback": "http://192.0.2.1/template",
        "not-http": "file:///etc/hostname",
    }
    merchant = default_merchant(sandbox)
    order_id = unique("TPX")
    _, form = order(merchant, urls[case], order_id)
    response = post_form(form.action, form.fields)
    assert response.status_code == 200
    assert 'id="payment-form"' not in response.text
    assert '<span id="ncerror">50001111</span>' in response.text
    assert error_text(response.text).startswith("TP: ") and expected in error_text(response.text)
    # Nothing was stored: the same ORDERID without a template is a new payment.
    _, plain = order(merchant, "", order_id)
    assert pay(plain.action, plain.fields, "4111111111111111").status == 9


def test_template_is_signed_like_every_sha_in_parameter(sandbox, site):
    url = site.put("signed-template", TEMPLATE)
    merchant = default_merchant(sandbox)
    _, form = order(merchant, url)
    tampered = [(name, site.put("other", TEMPLATE) if name == "TP" else value) for name, value in form.fields]
    response = post_form(form.action, tampered)
    assert 'id="payment-form"' not in response.text
    assert "unknown order/1/s" in error_text(response.text)


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


def test_template_dripping_bytes_is_refused_at_the_fetch_timeout():
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
