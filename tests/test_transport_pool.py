"""The process's shared transport: connections used again across clients and threads, one transport per platform
address and settings, and the deadline and unknown outcomes unchanged on pooled connections."""
import threading
from collections import OrderedDict

import pytest
import requests

import ogone_core.transport_pool as pool_module
import ogone_core.transport as transport_module
from ogone_core.account import Account
from ogone_core.directlink import DirectLinkClient
from ogone_core.errors import ConfigurationError, ConnectionFailed, OutcomeUnknown
from ogone_core.transport_pool import shared_transport, transport_key
from test_transport import APPROVED, FORM, TRICKLE, card_order, no_proxy, pauses, server  # noqa: F401


@pytest.fixture(autouse=True)
def fresh_transports(monkeypatch):
    """Each test starts with no shared transport and leaves none behind for the other tests."""
    monkeypatch.setattr(pool_module, "_transports", OrderedDict())


def account(server_url: str) -> Account:
    return Account(pspid="MyPSPID", sha_in="SHA-in-passphrase-42", sha_out="SHA-out-passphrase-42",
                   api_user_id="apiuser", api_password="api-Pa55word!",
                   environment=server_url.rsplit("/", 1)[0] + "/")


def connections(server) -> int:
    "How many TCP connections the requests came on (a connection's client port is its own)"
    return len({request["peer"] for request in server.requests})


def test_clients_made_one_per_payment_use_one_connection(server):
    for _ in range(20):
        response = DirectLinkClient(account(server.url)).query(order_id="ORDER-1")
        assert response.pay_id == "3014726912"
    assert server.count == 20
    assert connections(server) == 1


def test_clients_with_their_own_transport_open_a_connection_each(server):
    """The former way, for contrast: what the shared transport saves"""
    for _ in range(5):
        DirectLinkClient(account(server.url), transport_module.RequestsTransport()).query(order_id="ORDER-1")
    assert connections(server) == 5


def test_threads_sharing_the_transport_each_get_their_own_answer(server):
    server.script = [("echo",)]
    transport = shared_transport(server.url)
    threads, each = 8, 25
    failures = []
    start = threading.Barrier(threads)

    def work(number):
        start.wait()
        for request in range(each):
            form = [("ORDERID", f"T{number}-{request}")]
            reply = transport.post(server.url, form, encoding="utf-8", retry_safe=False)
            if reply.body != f"ORDERID=T{number}-{request}".encode():
                failures.append((number, request, reply.body))

    workers = [threading.Thread(target=work, args=(number,)) for number in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert failures == []
    assert server.count == threads * each
    # One connection per thread at most, used again for all of its requests
    assert connections(server) <= threads


def test_one_transport_per_platform_address_and_settings(server):
    base = server.url.rsplit("/", 1)[0] + "/"
    transport = shared_transport(base)
    assert shared_transport(base + "querydirect_utf8.asp") is transport  # another page, same platform
    assert shared_transport(base.replace("127.0.0.1", "localhost")) is not transport
    assert shared_transport(base.replace("http://", "https://")) is not transport
    assert shared_transport(base, read_timeout=10.0) is not transport
    assert shared_transport(base, read_timeout=10.0) is shared_transport(base, read_timeout=10.0)
    assert shared_transport(base, read_timeout=10.0).timeout == (10.0, 10.0)
    assert shared_transport(base, verify=False) is not transport


def test_an_account_moved_to_another_platform_gets_another_transport(server):
    client = DirectLinkClient(account(server.url))
    moved = DirectLinkClient(account("http://127.0.0.1:9/ncol/test/x"))
    assert moved.transport is not client.transport
    assert DirectLinkClient(account(server.url)).transport is client.transport


def test_the_key_holds_no_credentials_of_the_url():
    key = transport_key("https://merchant:Pa55word@Secure.Example.com/ncol/prod/", read_timeout=20.0)
    assert key == ("https", "secure.example.com", 443, (("read_timeout", 20.0),))
    assert "Pa55word" not in repr(key) and "merchant" not in repr(key)


def test_a_session_cannot_be_shared_in():
    with pytest.raises(ConfigurationError):
        shared_transport("https://secure.ogone.com/", session=object())


def test_transports_no_longer_asked_for_are_dropped(monkeypatch):
    monkeypatch.setattr(pool_module, "MAX_SHARED_TRANSPORTS", 3)
    first = shared_transport("http://127.0.0.1:1/")
    for port in (2, 3):
        shared_transport(f"http://127.0.0.1:{port}/")
    assert shared_transport("http://127.0.0.1:1/") is first  # used recently: kept
    shared_transport("http://127.0.0.1:4/")
    assert len(pool_module._transports) == 3
    assert shared_transport("http://127.0.0.1:2/") is not None
    assert shared_transport("http://127.0.0.1:1/") is first


def test_a_connection_idle_too_long_is_not_used_again(server, monkeypatch):
    transport = shared_transport(server.url)
    for _ in range(2):
        transport.post(server.url, FORM, encoding="utf-8", retry_safe=False)
    assert connections(server) == 1
    monkeypatch.setattr(transport_module, "KEEP_ALIVE_IDLE_SECONDS", 0.0)
    for _ in range(2):
        transport.post(server.url, FORM, encoding="utf-8", retry_safe=False)
    assert server.count == 4
    assert connections(server) == 3


def test_no_cookie_is_kept_from_one_request_to_the_next(server):
    server.script = [("cookie",), ("ok", APPROVED)]
    transport = shared_transport(server.url)
    for _ in range(2):
        transport.post(server.url, FORM, encoding="utf-8", retry_safe=False)
    assert "Cookie" not in server.requests[1]["headers"]


def test_a_charge_on_a_pooled_connection_past_the_deadline_is_an_unknown_outcome_sent_once(server, pauses):
    server.script = [("ok", APPROVED), ("trickle", "body", TRICKLE), ("ok", APPROVED)]
    transport = shared_transport(server.url, read_timeout=3.0, deadline=1.0)
    assert transport.post(server.url, FORM, encoding="utf-8", retry_safe=False).body == APPROVED
    client = DirectLinkClient(account(server.url), shared_transport(server.url, read_timeout=3.0, deadline=1.0))
    with pytest.raises(OutcomeUnknown, match="deadline") as caught:
        client.new_order(card_order())
    assert caught.value.order_id == "ORDER-1"
    assert server.count == 2
    assert server.requests[0]["peer"] == server.requests[1]["peer"]  # it went on the pooled connection
    assert pauses.delays == []
    # The connection the deadline shut is not used again: the next request gets a new one
    assert transport.post(server.url, FORM, encoding="utf-8", retry_safe=False).body == APPROVED
    assert server.count == 3
    assert server.requests[2]["peer"] != server.requests[1]["peer"]


def test_a_charge_without_answer_on_a_pooled_connection_is_not_sent_again(server, pauses):
    server.script = [("ok", APPROVED), ("hang",)]
    client = DirectLinkClient(account(server.url), shared_transport(server.url, read_timeout=0.3))
    client.query(order_id="ORDER-1")
    with pytest.raises(OutcomeUnknown):
        client.new_order(card_order())
    server.wait_for(3, deadline=0.5)
    assert server.count == 2


# ------------------------------------------------------------------------------------------ the sandbox

@pytest.fixture
def sandbox():
    from ogone_core.sandbox import start_server
    running = start_server()
    accepted = []
    get_request = running._server.get_request

    def counting_get_request():
        request = get_request()
        accepted.append(request[1])
        return request

    running._server.get_request = counting_get_request
    running.accepted = accepted
    yield running
    if not getattr(running, "stopped", False):
        running.stop()


def sandbox_account(sandbox) -> Account:
    return Account(pspid="SANDBOX", sha_in="sandbox_sha_in_passphrase_0001",
                   sha_out="sandbox_sha_out_passphrase_001", api_user_id="SANDBOXAPI",
                   api_password="sandbox-password", environment=sandbox.test_base_url)


def test_the_sandbox_keeps_a_connection_open_for_the_next_requests(sandbox):
    for _ in range(10):
        assert DirectLinkClient(sandbox_account(sandbox)).query(order_id="NEVER-SENT").ncerror == "50001130"
    assert len(sandbox.accepted) == 1


def test_the_sandbox_sends_an_answer_without_waiting_for_the_acknowledgement_of_its_headers(sandbox):
    # Headers and body are two writes: with Nagle's algorithm on, back-to-back requests on a kept connection
    # waited 40 ms each for the client's delayed ACK (a group's charges took 45 ms instead of 6).
    import socket
    DirectLinkClient(sandbox_account(sandbox)).query(order_id="NEVER-SENT")
    kept, = sandbox._server.open_connections
    assert kept.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


def test_the_sandbox_answers_on_a_unix_socket(tmp_path):
    # TCP_NODELAY is for TCP connections only
    import socket
    from ogone_core.sandbox import start_server
    path = str(tmp_path / "sandbox.sock")
    running = start_server(f"unix://{path}", allow_remote=True)
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.connect(path)
            connection.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            connection.settimeout(10)
            assert connection.recv(12) == b"HTTP/1.1 200"
    finally:
        running.stop()


def test_a_client_that_asks_to_close_is_told_so_and_its_next_request_is_answered(sandbox):
    # A browser or a script sending "Connection: close" goes on with a new connection for its next request;
    # a sandbox closing without saying so made that next request fail with RemoteDisconnected.
    session = requests.Session()
    session.headers["Connection"] = "close"
    for number in range(3):
        answer = session.post(f"{sandbox.test_base_url}querydirect.asp", timeout=10,
                              data={"PSPID": "SANDBOX", "ORDERID": f"CLOSE-{number}"})
        assert answer.status_code == 200
        assert answer.headers.get("Connection", "").lower() == "close"
    assert len(sandbox.accepted) == 3


def test_the_sandbox_serves_concurrent_kept_connections(sandbox):
    threads, each = 4, 10
    answers = []
    start = threading.Barrier(threads)

    def work(number):
        start.wait()
        for request in range(each):
            answers.append(DirectLinkClient(sandbox_account(sandbox)).query(order_id=f"Q{number}-{request}"))

    workers = [threading.Thread(target=work, args=(number,)) for number in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(answer.order_id for answer in answers) == sorted(
        f"Q{number}-{request}" for number in range(threads) for request in range(each))
    assert len(sandbox.accepted) <= threads


def test_a_stopped_sandbox_refuses_the_connections_it_kept(sandbox, pauses):
    client = DirectLinkClient(sandbox_account(sandbox))
    client.query(order_id="NEVER-SENT")
    sandbox.stop()
    sandbox.stopped = True
    with pytest.raises(ConnectionFailed):
        client.query(order_id="NEVER-SENT")


def test_a_forked_process_opens_connections_of_its_own(server):
    # A process forked after charging (multiprocessing, a prefork server) must not write to the connection
    # its parent keeps: both would read each other's answers.
    import os

    server.script = [("echo",)]
    transport = shared_transport(server.url)
    transport.post(server.url, [("ORDERID", "PARENT-1")], encoding="utf-8", retry_safe=False)
    pid = os.fork()
    if pid == 0:
        try:
            reply = shared_transport(server.url).post(server.url, [("ORDERID", "CHILD")], encoding="utf-8",
                                                      retry_safe=False)
            os._exit(0 if reply.body == b"ORDERID=CHILD" else 1)
        finally:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    transport.post(server.url, [("ORDERID", "PARENT-2")], encoding="utf-8", retry_safe=False)
    peers = [request["peer"] for request in server.requests]
    assert len(peers) == 3
    assert peers[0] == peers[2] != peers[1]


@pytest.mark.parametrize("length", [b"\xb2", b"\xb9", b"-1", b"1e3", b"9 9"])
def test_the_sandbox_answers_a_request_whose_length_is_not_a_number(sandbox, length):
    # Header values are read as ISO-8859-1, where "²" and "¹" are digits to str.isdigit but not to int()
    import socket

    with socket.create_connection((sandbox.host, sandbox.port), timeout=10) as connection:
        connection.sendall(b"POST /ncol/test/querydirect.asp HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " + length
                           + b"\r\n\r\nPSPID=SANDBOX")
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 "), answer
    assert DirectLinkClient(sandbox_account(sandbox)).query(order_id="NEVER-SENT").ncerror == "50001130"
