"""The HTTP transport against a real local server (no network): retries, timeouts, unknown outcomes."""
import http.server
import logging
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
from decimal import Decimal
from urllib.parse import parse_qsl

import pytest
import requests

import ogone_core.transport as transport_module
from ogone_core.account import Account
from ogone_core.directlink import Card, DirectLinkClient, OrderRequest
from ogone_core.errors import (ConfigurationError, ConnectionFailed, InvalidRequest, OutcomeUnknown, ProtocolError,
                               ServerError, TransportError, UnreadableOutcome)
from ogone_core.transport import SECRET_PARAMETERS, HttpResponse, RequestsTransport, mask_parameters

APPROVED = (b'<?xml version="1.0"?><ncresponse orderID="ORDER-1" PAYID="3014726912" NCERROR="0" STATUS="9" '
            b'NCERRORPLUS="!" amount="15" currency="EUR"/>')
FORM = [("PSPID", "MyPSPID"), ("ORDERID", "ORDER-1"), ("AMOUNT", "1500")]
HOLD_SECONDS = 5.0  # how long a "hang" answer keeps the client waiting at most; released at teardown


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


class Server:
    """A local HTTP server playing a script: one action per request, the last one repeated."""

    def __init__(self, tls_context: ssl.SSLContext | None = None):
        self.requests: list[dict] = []
        self.script: list[tuple] = [("ok", APPROVED)]
        self.release = threading.Event()
        self.lock = threading.Lock()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with server.lock:
                    server.requests.append({"path": self.path, "headers": dict(self.headers), "body": body,
                                            "peer": self.client_address})
                    index = len(server.requests) - 1
                    action = server.script[min(index, len(server.script) - 1)]
                kind = action[0]
                if kind == "hang":
                    server.release.wait(HOLD_SECONDS)
                    self.close_connection = True
                    return
                if kind == "drop":  # the request was read; the socket closes without a byte of answer
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if kind == "trickle":  # the answer one byte at a time, each byte well within the read timeout
                    self.close_connection = True
                    phase, interval = action[1], action[2]
                    length = b"" if phase == "close-delimited body" else b"Content-Length: %d\r\n" % len(APPROVED)
                    head = (b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n" + length
                            + b"Connection: close\r\n\r\n")
                    slow = head + APPROVED if phase == "headers" else APPROVED
                    if phase != "headers":
                        self.wfile.write(head)
                    for byte in slow:
                        if server.release.wait(interval):
                            return
                        try:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                        except OSError:
                            return
                    return
                if kind == "redirect":
                    self.send_response(action[1])
                    self.send_header("Location", action[2])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                status, payload, content_type = {
                    "ok": lambda: (200, action[1], action[2] if len(action) > 2 else "text/xml"),
                    "echo": lambda: (200, body, "text/plain"),  # the request's own body
                    "cookie": lambda: (200, APPROVED, "text/xml"),
                    "status": lambda: (action[1], b"<html><body>error</body></html>", "text/html"),
                }[kind]()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                if kind == "cookie":
                    self.send_header("Set-Cookie", "BALANCER=node-7; Path=/")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        if tls_context is not None:
            self.httpd.socket = tls_context.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.01,), daemon=True)
        self.thread.start()
        scheme = "https" if tls_context else "http"
        self.url = f"{scheme}://127.0.0.1:{self.httpd.server_address[1]}/ncol/test/orderdirect_utf8.asp"

    @property
    def count(self) -> int:
        with self.lock:
            return len(self.requests)

    def wait_for(self, count: int, deadline: float = 3.0) -> None:
        end = time.monotonic() + deadline
        while self.count < count and time.monotonic() < end:
            time.sleep(0.005)

    def stop(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    running = Server()
    yield running
    running.stop()


class Pauses:
    """Stands in for the backoff sleeps: records them instead of waiting."""

    def __init__(self):
        self.delays: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.delays.append(seconds)

    @staticmethod
    def monotonic() -> float:
        return time.monotonic()


@pytest.fixture
def pauses(monkeypatch):
    recorder = Pauses()
    monkeypatch.setattr(transport_module, "time", recorder)
    return recorder


class CountingSession(requests.Session):
    def __init__(self):
        super().__init__()
        self.calls: list[dict] = []

    def post(self, url, **kwargs):
        self.calls.append(dict(kwargs, url=url))
        return super().post(url, **kwargs)


def make_transport(**options) -> RequestsTransport:
    settings = dict(connect_timeout=0.5, read_timeout=0.3, connect_retries=2, query_retries=2, backoff=0.5)
    settings.update(options)
    return RequestsTransport(**settings)


def closed_port_url() -> tuple[socket.socket, str]:
    """A port bound but not listening: connecting to it is refused, and nobody else can take it meanwhile."""
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    return holder, f"http://127.0.0.1:{holder.getsockname()[1]}/ncol/test/querydirect_utf8.asp"


# ------------------------------------------------------------------------------------------- success

def test_success_returns_the_body_and_content_type(server):
    server.script = [("ok", APPROVED, "text/XML; Charset=iso-8859-1")]
    reply = make_transport().post(server.url, FORM, encoding="utf-8", retry_safe=False, reference="ORDER-1")
    assert reply == HttpResponse(200, APPROVED, "text/XML; Charset=iso-8859-1")
    assert server.count == 1
    assert server.requests[0]["path"] == "/ncol/test/orderdirect_utf8.asp"
    assert server.requests[0]["body"] == b"PSPID=MyPSPID&ORDERID=ORDER-1&AMOUNT=1500"


# ------------------------------------------------------------------------------------------ deadline

TRICKLE = 0.1  # seconds between two bytes: each read is quick, the whole answer takes ~30 s


@pytest.mark.parametrize("phase", ["headers", "body", "close-delimited body"])
def test_a_trickling_answer_to_a_money_request_ends_at_the_deadline(server, pauses, phase):
    server.script = [("trickle", phase, TRICKLE)]
    assert len(APPROVED) * TRICKLE > 10  # without a deadline the call would last that long
    transport = make_transport(read_timeout=3.0, deadline=1.0)
    started = time.monotonic()
    with pytest.raises(OutcomeUnknown, match=r": no complete answer within the 1 s deadline; the request may "
                                             r"have been processed, query before sending it again$") as caught:
        transport.post(server.url, FORM, encoding="utf-8", retry_safe=False, reference="ORDER-1")
    elapsed = time.monotonic() - started
    assert caught.value.order_id == "ORDER-1"
    assert server.count == 1
    assert elapsed < 5.0  # a sanity bound only: the deadline is 1 s, the trickle would last 30 s


def test_a_trickling_answer_to_a_query_is_retried_then_a_transport_error(server, pauses):
    server.script = [("trickle", "body", TRICKLE)]
    with pytest.raises(TransportError, match=r": no complete answer within the 0.5 s deadline$") as caught:
        make_transport(read_timeout=3.0, deadline=0.5, query_retries=1).post(
            server.url, FORM, encoding="utf-8", retry_safe=True)
    assert not isinstance(caught.value, OutcomeUnknown)
    assert server.count == 2
    assert pauses.delays == [0.5]


def test_new_order_with_a_trickling_server_is_an_unknown_outcome(server, pauses):
    server.script = [("trickle", "headers", TRICKLE)]
    client = DirectLinkClient(secret_account(server.url), make_transport(read_timeout=3.0, deadline=1.0))
    started = time.monotonic()
    with pytest.raises(OutcomeUnknown) as caught:
        client.new_order(card_order())
    assert caught.value.order_id == "ORDER-1"
    assert time.monotonic() - started < 5.0
    assert server.count == 1


def test_an_answer_within_the_deadline_is_read_and_the_connection_reused(server):
    transport = make_transport(read_timeout=3.0, deadline=1.0)
    for _ in range(3):
        assert transport.post(server.url, FORM, encoding="utf-8", retry_safe=False).body == APPROVED
    assert server.count == 3
    assert len({request["peer"] for request in server.requests}) == 1


def test_the_deadline_holds_on_a_pooled_connection_used_again(server, pauses):
    server.script = [("ok", APPROVED), ("trickle", "body", TRICKLE)]
    transport = make_transport(read_timeout=3.0, deadline=1.0)
    assert transport.post(server.url, FORM, encoding="utf-8", retry_safe=False).body == APPROVED
    started = time.monotonic()
    with pytest.raises(OutcomeUnknown, match="deadline"):
        transport.post(server.url, FORM, encoding="utf-8", retry_safe=False, reference="ORDER-1")
    assert time.monotonic() - started < 5.0
    assert server.count == 2
    assert server.requests[0]["peer"] == server.requests[1]["peer"]  # the same connection, used again


def test_default_deadline_is_connect_plus_read_timeout():
    assert RequestsTransport(connect_timeout=2, read_timeout=3).deadline == 5.0
    assert RequestsTransport(deadline=7).deadline == 7.0


@pytest.mark.parametrize("options", [dict(deadline=0), dict(deadline=-1), dict(deadline=float("nan")),
                                     dict(deadline=float("inf")), dict(deadline="5"),
                                     dict(read_timeout=float("nan")), dict(connect_timeout=0)])
def test_bad_timeouts_are_refused(options):
    with pytest.raises(ConfigurationError, match="must be a positive number of seconds"):
        RequestsTransport(**options)


# ------------------------------------------------------------------------------------ unreadable answers

UTF16_ANSWER = '<?xml version="1.0" encoding="UTF-16"?><ncresponse orderID="ORDER-1" STATUS="9"/>'.encode("utf-16")


def test_an_answer_in_utf_16_to_a_money_request_is_an_unreadable_outcome(server):
    server.script = [("ok", UTF16_ANSWER, "text/xml; charset=utf-16")]
    client = DirectLinkClient(secret_account(server.url), make_transport())
    with pytest.raises(UnreadableOutcome, match="query before sending it again") as caught:
        client.new_order(card_order())
    assert caught.value.order_id == "ORDER-1"


def test_an_answer_in_utf_16_to_a_query_is_a_protocol_error(server):
    server.script = [("ok", UTF16_ANSWER, "text/xml; charset=utf-16")]
    client = DirectLinkClient(secret_account(server.url), make_transport())
    with pytest.raises(ProtocolError) as caught:
        client.query(order_id="ORDER-1")
    assert not isinstance(caught.value, OutcomeUnknown)


# ------------------------------------------------------------------------------------------ refused

@pytest.mark.parametrize("retry_safe", [False, True])
def test_connection_refused_is_retried_then_connection_failed(pauses, retry_safe):
    holder, url = closed_port_url()
    session = CountingSession()
    try:
        with pytest.raises(ConnectionFailed, match=r"cannot connect to .* \(ConnectionError\); nothing was sent$"):
            make_transport(session=session, connect_retries=2, backoff=0.5).post(
                url, FORM, encoding="utf-8", retry_safe=retry_safe, reference="ORDER-1")
    finally:
        holder.close()
    # Nothing reached the platform, so even a money request may be tried again: 1 + connect_retries.
    assert len(session.calls) == 3
    assert pauses.delays == [0.5, 1.0]


def test_connection_refused_without_retries(pauses):
    holder, url = closed_port_url()
    session = CountingSession()
    try:
        with pytest.raises(ConnectionFailed):
            make_transport(session=session, connect_retries=0).post(url, FORM, encoding="utf-8",
                                                                    retry_safe=True)
    finally:
        holder.close()
    assert len(session.calls) == 1
    assert pauses.delays == []


def test_connection_refused_then_the_platform_answers(pauses, server):
    holder, refused_url = closed_port_url()
    session = CountingSession()
    transport = make_transport(session=session)
    original = session.post
    urls = iter([refused_url, server.url])
    session.post = lambda url, **kwargs: original(next(urls), **kwargs)
    try:
        reply = transport.post(server.url, FORM, encoding="utf-8", retry_safe=False, reference="ORDER-1")
    finally:
        holder.close()
    assert reply.body == APPROVED
    assert server.count == 1
    assert pauses.delays == [0.5]


# ------------------------------------------------------------------------------------- read timeout

def test_read_timeout_on_money_is_an_unknown_outcome_sent_once(server, pauses):
    server.script = [("hang",)]
    started = time.monotonic()
    with pytest.raises(OutcomeUnknown) as caught:
        make_transport(read_timeout=0.3).post(server.url, FORM, encoding="utf-8", retry_safe=False,
                                              reference="ORDER-1")
    assert time.monotonic() - started < 2.0
    error = caught.value
    assert type(error) is OutcomeUnknown
    assert error.order_id == "ORDER-1"
    assert str(error) == (f"{server.url}: no answer within 0.3 s; the request may have been processed, "
                          "query before sending it again")
    server.wait_for(1)
    assert server.count == 1
    assert pauses.delays == []


def test_read_timeout_on_query_is_retried_then_succeeds(server, pauses):
    server.script = [("hang",), ("ok", APPROVED)]
    reply = make_transport(read_timeout=0.3, backoff=0.5).post(server.url, FORM, encoding="utf-8",
                                                               retry_safe=True, reference="ORDER-1")
    assert reply.body == APPROVED
    assert server.count == 2
    assert pauses.delays == [0.5]


def test_read_timeout_on_query_every_time_gives_a_transport_error(server, pauses):
    server.script = [("hang",)]
    with pytest.raises(TransportError) as caught:
        make_transport(read_timeout=0.2, query_retries=2, backoff=0.25).post(
            server.url, FORM, encoding="utf-8", retry_safe=True)
    assert str(caught.value) == f"{server.url}: no answer within 0.2 s"
    # Not ConnectionFailed ("nothing reached the platform"): the queries did reach it.
    assert not isinstance(caught.value, (OutcomeUnknown, ConnectionFailed))
    server.wait_for(3)
    assert server.count == 3
    assert pauses.delays == [0.25, 0.5]


# ------------------------------------------------------------------------------------------ HTTP 5xx

@pytest.mark.parametrize("status", [500, 502, 503])
def test_http_5xx_on_money_is_an_unknown_outcome(server, pauses, status):
    server.script = [("status", status)]
    with pytest.raises(OutcomeUnknown) as caught:
        make_transport().post(server.url, FORM, encoding="utf-8", retry_safe=False, reference="ORDER-1")
    assert caught.value.order_id == "ORDER-1"
    assert str(caught.value) == (f"{server.url} answered HTTP {status}: the request may have been processed; "
                                 "query before sending it again")
    assert server.count == 1
    assert pauses.delays == []


def test_http_500_on_query_is_retried_then_server_error(server, pauses):
    server.script = [("status", 500)]
    with pytest.raises(ServerError) as caught:
        make_transport(query_retries=2).post(server.url, FORM, encoding="utf-8", retry_safe=True)
    assert caught.value.status_code == 500
    assert str(caught.value) == f"{server.url} answered HTTP 500"
    assert server.count == 3
    assert pauses.delays == [0.5, 1.0]


def test_http_503_on_query_then_success(server, pauses):
    server.script = [("status", 503), ("status", 503), ("ok", APPROVED)]
    assert make_transport(query_retries=2).post(server.url, FORM, encoding="utf-8",
                                                retry_safe=True).body == APPROVED
    assert server.count == 3


# ------------------------------------------------------------------------------------- dropped socket

def test_connection_dropped_after_the_request_on_money_is_an_unknown_outcome(server, pauses):
    server.script = [("drop",)]
    with pytest.raises(OutcomeUnknown) as caught:
        make_transport().post(server.url, FORM, encoding="utf-8", retry_safe=False, reference="ORDER-1")
    assert caught.value.order_id == "ORDER-1"
    assert "connection lost after sending (ConnectionError)" in str(caught.value)
    assert server.count == 1
    assert pauses.delays == []


def test_connection_dropped_on_query_is_retried(server, pauses):
    server.script = [("drop",), ("ok", APPROVED)]
    reply = make_transport().post(server.url, FORM, encoding="utf-8", retry_safe=True)
    assert reply.body == APPROVED
    assert server.count == 2
    assert pauses.delays == [0.5]


def test_connection_dropped_on_every_query(server, pauses):
    server.script = [("drop",)]
    with pytest.raises(TransportError, match=r": connection lost after sending \(ConnectionError\)$") as caught:
        make_transport(query_retries=1).post(server.url, FORM, encoding="utf-8", retry_safe=True)
    assert not isinstance(caught.value, ConnectionFailed)
    assert server.count == 2
    assert pauses.delays == [0.5]


# ------------------------------------------------------------------------------------ HTTP 4xx, size

@pytest.mark.parametrize("retry_safe", [False, True])
@pytest.mark.parametrize("status", [403, 404])
def test_http_4xx_is_a_server_error_not_retried(server, pauses, status, retry_safe):
    server.script = [("status", status)]
    with pytest.raises(ServerError) as caught:
        make_transport().post(server.url, FORM, encoding="utf-8", retry_safe=retry_safe)
    assert caught.value.status_code == status
    assert str(caught.value) == f"{server.url} answered HTTP {status}"
    assert not isinstance(caught.value, OutcomeUnknown)
    assert server.count == 1


@pytest.fixture
def elsewhere():
    running = Server()
    yield running
    running.stop()


@pytest.mark.parametrize("retry_safe", [False, True])
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirects_are_not_followed(server, elsewhere, pauses, status, retry_safe):
    # Following a 307/308 would post the API password and the card number to wherever Location points.
    server.script = [("redirect", status, elsewhere.url)]
    data = FORM + [("PSWD", "api-Pa55word!"), ("CARDNO", "4111111111111111")]
    with pytest.raises(ServerError) as caught:
        make_transport().post(server.url, data, encoding="utf-8", retry_safe=retry_safe, reference="ORDER-1")
    assert caught.value.status_code == status
    assert str(caught.value) == f"{server.url} answered HTTP {status}"
    assert server.count == 1
    assert elsewhere.count == 0


def test_oversized_answer_is_a_protocol_error(server):
    server.script = [("ok", b"<ncresponse " + b"x" * 5000 + b"/>")]
    with pytest.raises(ProtocolError, match="^the answer is larger than 1024 bytes$"):
        make_transport(max_response_bytes=1024).post(server.url, FORM, encoding="utf-8", retry_safe=True)
    assert server.count == 1


def test_answer_of_exactly_the_limit_is_accepted(server):
    server.script = [("ok", b"x" * 1024)]
    assert len(make_transport(max_response_bytes=1024).post(
        server.url, FORM, encoding="utf-8", retry_safe=True).body) == 1024


# ------------------------------------------------------------------------------------------ charset

@pytest.mark.parametrize("encoding, expected_body", [
    ("utf-8", b"CN=Zo%C3%AB+%C3%86r%C3%B8&COM=a+b%26c%3Dd%2B%2F&OWNERTOWN=Li%C3%A8ge"),
    ("iso-8859-1", b"CN=Zo%EB+%C6r%F8&COM=a+b%26c%3Dd%2B%2F&OWNERTOWN=Li%E8ge"),
])
def test_form_is_encoded_in_the_account_charset(server, encoding, expected_body):
    data = [("CN", "Zoë Ærø"), ("COM", "a b&c=d+/"), ("OWNERTOWN", "Liège")]
    make_transport().post(server.url, data, encoding=encoding, retry_safe=True)
    received = server.requests[0]
    assert received["body"] == expected_body
    assert received["headers"]["Content-Type"] == f"application/x-www-form-urlencoded; charset={encoding}"
    assert parse_qsl(received["body"].decode("ascii"), encoding=encoding) == data


# ---------------------------------------------------------------------------------------------- TLS

def test_tls_verification_and_timeouts_are_passed_on_every_call(server):
    session = CountingSession()
    transport = make_transport(session=session, connect_timeout=0.4, read_timeout=0.3)
    assert transport.verify is True
    transport.post(server.url, FORM, encoding="utf-8", retry_safe=True)
    assert len(session.calls) == 1
    assert session.calls[0]["verify"] is True
    assert session.calls[0]["timeout"] == (0.4, 0.3)
    assert RequestsTransport().verify is True


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a self-signed certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


@pytest.fixture
def tls_server(self_signed):
    cert, key = self_signed
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    running = Server(context)
    yield running
    running.stop()


def test_a_certificate_nobody_vouches_for_is_refused_by_default(tls_server, self_signed, pauses, monkeypatch):
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    session = CountingSession()
    # Even for a money request: the handshake fails before the request is sent, so the outcome is known.
    with pytest.raises(ConnectionFailed, match=r"the TLS certificate of .* does not verify; nothing was sent$"):
        make_transport(session=session).post(tls_server.url, FORM, encoding="utf-8", retry_safe=False)
    assert tls_server.count == 0
    assert len(session.calls) == 1  # a certificate does not get better by asking again
    # The same server is fine once its certificate is trusted explicitly: the failure above was verification.
    reply = make_transport(verify=str(self_signed[0])).post(tls_server.url, FORM, encoding="utf-8",
                                                            retry_safe=True)
    assert reply.body == APPROVED
    assert tls_server.count == 1


# ------------------------------------------------------------------------------------------ secrets

def test_mask_parameters():
    assert mask_parameters([("PSPID", "MyPSPID"), ("USERID", "api"), ("PSWD", "pw-secret"),
                            ("CARDNO", "4111111111111111"), ("cvc", "123"), ("ED", "1230"),
                            ("SHASIGN", "ABCDEF"), ("ECOM_PAYMENT_CARD_VERIFICATION", "999"),
                            ("CN", "Zoë")]) == [
        ("PSPID", "MyPSPID"), ("USERID", "api"), ("PSWD", "***"), ("CARDNO", "XXXXXXXXXXXX1111"),
        ("cvc", "***"), ("ED", "1230"), ("SHASIGN", "***"), ("ECOM_PAYMENT_CARD_VERIFICATION", "***"),
        ("CN", "Zoë")]
    assert mask_parameters({"CARDNO": "12345678", "PSWD": ""}) == [("CARDNO", "XXXX"), ("PSWD", "")]
    assert SECRET_PARAMETERS >= {"PSWD", "CVC", "CARDNO"}


# The CVC is above any port number or millisecond count the log lines may carry.
SECRETS = ("api-Pa55word!", "4111111111111111", "98765", "SHA-in-passphrase-42", "SHA-out-passphrase-42")


def secret_account(server_url: str) -> Account:
    return Account(pspid="MyPSPID", sha_in="SHA-in-passphrase-42", sha_out="SHA-out-passphrase-42",
                   api_user_id="apiuser", api_password="api-Pa55word!",
                   environment=server_url.rsplit("/", 1)[0] + "/")


def card_order() -> OrderRequest:
    return OrderRequest("ORDER-1", Decimal("15.00"), "EUR",
                        card=Card("4111 1111 1111 1111", "12/30", cvc="98765", holder="Zoë Ærø"))


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert not re.search(rf"(?<![0-9]){re.escape(secret)}(?![0-9])", text), (secret, text)


@pytest.mark.parametrize("script, error", [
    ([("ok", APPROVED)], None),
    ([("status", 500)], OutcomeUnknown),
    ([("drop",)], OutcomeUnknown),
    ([("hang",)], OutcomeUnknown),
    ([("status", 404)], ServerError),
    ([("ok", b"<html>oops</html>", "text/html")], UnreadableOutcome),
])
def test_no_secret_in_logs_or_errors(server, pauses, caplog, script, error):
    server.script = script
    client = DirectLinkClient(secret_account(server.url), make_transport())
    caplog.set_level(logging.DEBUG)
    if error is None:
        response = client.new_order(card_order())
        assert response.pay_id == "3014726912"
        texts = [repr(response)]
    else:
        with pytest.raises(error) as caught:
            client.new_order(card_order())
        texts = [str(caught.value), repr(caught.value)]
    server.wait_for(1)
    # The secrets did travel to the platform; that is where they belong, and the only place.
    assert b"PSWD=api-Pa55word%21" in server.requests[0]["body"]
    assert b"CARDNO=4111111111111111" in server.requests[0]["body"]
    assert caplog.records, "the transport logs each exchange"
    texts += [record.getMessage() for record in caplog.records]
    for text in texts:
        assert_no_secret(text)
    assert_no_secret(caplog.text)
    assert_no_secret(repr(client.account))
    assert_no_secret(repr(card_order()))


def test_a_value_the_charset_cannot_carry_is_refused_before_sending(server):
    with pytest.raises(InvalidRequest, match="cannot be written in iso-8859-1"):
        make_transport().post(server.url, [("COM", "5 €")], encoding="iso-8859-1", retry_safe=False)
    assert server.count == 0
