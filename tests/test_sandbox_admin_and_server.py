"""The admin API, the back office, the demo page, restarts with --state (the real console script), and
20 clients ordering at once."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from decimal import Decimal
from pathlib import Path

import pytest
import requests

from ogone_core import Account, Card, DirectLinkClient, OrderRequest, RequestsTransport, Status
from ogone_core.sandbox import DEFAULT_MERCHANT, create_app, start_server
from ogone_core.sandbox.customer import pay
from sandbox_fixtures import admin, default_merchant, new_merchant, unique

VISA = Card("4111111111111111", "12/39", "123")


def test_default_merchant_contract():
    assert (DEFAULT_MERCHANT.pspid, DEFAULT_MERCHANT.api_user, DEFAULT_MERCHANT.api_password) == \
        ("SANDBOX", "SANDBOXAPI", "sandbox-password")
    assert DEFAULT_MERCHANT.sha_in == "sandbox_sha_in_passphrase_0001"
    assert DEFAULT_MERCHANT.sha_out == "sandbox_sha_out_passphrase_001"
    assert DEFAULT_MERCHANT.algorithm.value == "sha512"
    assert DEFAULT_MERCHANT.feedback_parameters == ("ALIAS", "AMOUNT", "CARDNO", "CN", "CURRENCY", "IP", "NCERROR",
                                                    "ORDERID", "PAYID", "PM", "STATUS", "TRXDATE")
    assert "sandbox-password" not in repr(DEFAULT_MERCHANT) and "passphrase" not in repr(DEFAULT_MERCHANT)


def test_admin_transactions_and_merchants(sandbox):
    merchant = new_merchant(sandbox)
    placed = merchant.client().new_order(OrderRequest(unique("A"), Decimal("3.5"), "EUR", card=VISA))
    listed = admin(sandbox, "GET", "transactions", params={"pspid": merchant.pspid})["transactions"]
    assert [(tx["payid"], tx["orderid"], tx["amount"], tx["status"]) for tx in listed] == \
        [(int(placed.pay_id), placed.order_id, "3.5", 9)]
    assert admin(sandbox, "GET", "transactions", params={"orderid": placed.order_id})["transactions"][0]["cardno"] \
        == "XXXXXXXXXXXX1111"
    assert admin(sandbox, "GET", "transactions/999", expect=404)["error"] == "no transaction with PAYID 999"
    merchants = admin(sandbox, "GET", "merchants")["merchants"]
    mine = next(m for m in merchants if m["pspid"] == merchant.pspid)
    assert mine["sha_in"] == mine["sha_out"] == mine["api_password"] == "set"
    assert merchant.settings["api_password"] not in requests.get(f"{sandbox.url}admin/api/merchants").text
    changed = admin(sandbox, "POST", "merchants", json={"pspid": merchant.pspid, "settle_delay": 5})
    assert changed["created"] is False and changed["merchant"]["settle_delay"] == 5.0
    for bad, message in [({"pspid": merchant.pspid, "algorithm": "md5"}, "unknown hash algorithm"),
                         ({"pspid": merchant.pspid, "colour": 1}, "unknown merchant setting(s): colour"),
                         ({"pspid": merchant.pspid, "feedback_method": "PUT"}, "feedback_method is POST or GET"),
                         ({"pspid": merchant.pspid, "feedback_parameters": ["NOPE"]}, "unknown feedback parameter"),
                         ({"pspid": "", "sha_in": "x"}, "pspid is required"),
                         ({"pspid": "NEWONE"}, "the SHA-IN passphrase is required")]:
        assert message in admin(sandbox, "POST", "merchants", json=bad, expect=400)["error"]
    assert admin(sandbox, "GET", "nothing", expect=404)["error"] == "no admin endpoint GET /admin/api/nothing"
    assert requests.post(f"{sandbox.url}admin/api/settle", data="{", timeout=30,
                         headers={"Content-Type": "application/json"}).json() == {"error": "the body is not JSON"}
    assert admin(sandbox, "GET", "health")["ok"] is True


def test_back_office_pages(sandbox):
    merchant = default_merchant(sandbox)
    placed = merchant.client().new_order(OrderRequest(unique("A"), Decimal("1"), "EUR", card=VISA))
    listing = requests.get(f"{sandbox.url}admin/", params={"orderid": placed.order_id}, timeout=30).text
    assert placed.order_id in listing and f"/admin/transactions/{placed.pay_id}" in listing
    detail = requests.get(f"{sandbox.url}admin/transactions/{placed.pay_id}", timeout=30).text
    assert "History" in detail and "Feedback requests" in detail and "XXXXXXXXXXXX1111" in detail
    assert "4111111111111111" not in detail and DEFAULT_MERCHANT.sha_in not in listing
    assert requests.get(f"{sandbox.url}admin/transactions/x", timeout=30).status_code == 404
    assert requests.get(f"{sandbox.url}ncol/test/nothing.asp", timeout=30).status_code == 404
    assert requests.get(f"{sandbox.url}static/sandbox.css", timeout=30).headers["Content-Type"].startswith("text/css")


def form_token(page: str) -> str:
    found = re.search(r'name="FORM_TOKEN" value="([^"]+)"', page)
    assert found, "the sandbox's form carries its token"
    return found.group(1)


def test_home_page_and_demo_checkout(sandbox):
    home = requests.get(sandbox.url, timeout=30).text
    assert "4000000000000028" in home and "sandbox_sha_in_passphrase_0001" in home
    token = form_token(home)
    session = requests.Session()
    signed = session.post(f"{sandbox.url}demo/checkout", data={"PSPID": "SANDBOX", "AMOUNT": "12.50",
                                                              "CURRENCY": "EUR", "OPERATION": "SAL",
                                                              "CHARSET": "iso-8859-1", "FORM_TOKEN": token},
                          timeout=30)
    assert 'action="' in signed.text and "orderstandard.asp" in signed.text
    from html.parser import HTMLParser

    class Inputs(HTMLParser):
        fields, action = [], ""

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "form":
                self.action = attrs["action"]
            if tag == "input":
                self.fields.append((attrs["name"], attrs["value"]))

    parser = Inputs()
    parser.feed(signed.text)
    result = pay(parser.action, parser.fields, "4111111111111111", session=session)
    assert result.url == "" and result.status == 9
    bad = session.post(f"{sandbox.url}demo/checkout", data={"PSPID": "SANDBOX", "AMOUNT": "x", "FORM_TOKEN": token},
                       timeout=30)
    assert bad.status_code == 400


def test_twenty_clients_ordering_at_once(sandbox):
    merchant = new_merchant(sandbox)
    account = merchant.account()
    order_ids = [unique("C") for _ in range(20)]
    answers, errors = {}, []
    barrier = threading.Barrier(20)

    def place(order_id):
        client = DirectLinkClient(account, RequestsTransport(read_timeout=30))
        barrier.wait()
        try:
            answers[order_id] = client.new_order(OrderRequest(order_id, Decimal("2"), "EUR", card=VISA))
            # Each client also sends its order a second time: exactly one must win.
            answers[order_id + "-again"] = client.new_order(OrderRequest(order_id, Decimal("2"), "EUR", card=VISA))
        except Exception as error:  # collected so the main thread fails with the reason
            errors.append(error)

    threads = [threading.Thread(target=place, args=(order_id,)) for order_id in order_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert all(answers[o].status is Status.PAYMENT_REQUESTED for o in order_ids)
    assert all(answers[o + "-again"].is_duplicate and answers[o + "-again"].pay_id == answers[o].pay_id
               for o in order_ids)
    listed = admin(sandbox, "GET", "transactions", params={"pspid": merchant.pspid})["transactions"]
    assert sorted(tx["orderid"] for tx in listed) == sorted(order_ids)
    assert len({tx["payid"] for tx in listed}) == 20


def test_same_orderid_from_many_clients_makes_one_transaction(sandbox):
    merchant = new_merchant(sandbox)
    order_id = unique("C")
    answers = []
    barrier = threading.Barrier(10)

    def place():
        client = merchant.client()
        barrier.wait()
        answers.append(client.new_order(OrderRequest(order_id, Decimal("2"), "EUR", card=VISA)))

    threads = [threading.Thread(target=place) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(1 for a in answers if a.status is Status.PAYMENT_REQUESTED) == 1
    assert sum(1 for a in answers if a.is_duplicate) == 9 and len({a.pay_id for a in answers}) == 1


def test_state_survives_a_restart_in_process(tmp_path):
    state = tmp_path / "s.sqlite3"
    with start_server(state_path=state) as server:
        merchant = new_merchant(server)
        placed = merchant.client().new_order(OrderRequest(unique("R"), Decimal("4"), "EUR", operation="RES",
                                                          card=VISA, alias="KEEP-ME"))
        merchant.client().capture(placed.pay_id, Decimal("1"), "EUR", last=False)
    with start_server(state_path=state) as server:
        merchant.server = server
        client = merchant.client()
        assert client.query(pay_id=placed.pay_id).status is Status.PAYMENT_PROCESSING
        again = client.new_order(OrderRequest(placed.order_id, Decimal("4"), "EUR", card=VISA))
        assert again.is_duplicate
        charged = client.new_order(OrderRequest(unique("R"), Decimal("1"), "EUR", alias="KEEP-ME", eci="9"))
        assert charged.status is Status.PAYMENT_REQUESTED
        assert int(charged.pay_id) > int(placed.pay_id)


def _start_cli(*args):
    script = Path(sys.executable).with_name("ogone-sandbox")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "ogone_core.sandbox.cli"]
    process = subprocess.Popen(command + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    url = process.stdout.readline().strip()
    return process, url


def _default_client(url):
    account = Account(pspid="SANDBOX", sha_in=DEFAULT_MERCHANT.sha_in, sha_out=DEFAULT_MERCHANT.sha_out,
                      api_user_id="SANDBOXAPI", api_password="sandbox-password", environment=f"{url}ncol/test/")
    return DirectLinkClient(account, RequestsTransport(read_timeout=15))


def _stop(process):
    process.terminate()
    process.wait(10)
    process.stdout.close()
    process.stderr.close()


def test_console_script_keeps_state_across_restarts(tmp_path):
    state = tmp_path / "cli.sqlite3"
    process, url = _start_cli("--port", "0", "--state", str(state))
    try:
        assert url.startswith("http://127.0.0.1:") and url.endswith("/")
        placed = _default_client(url).new_order(OrderRequest(unique("CLI"), Decimal("6"), "EUR", card=VISA))
        assert placed.status is Status.PAYMENT_REQUESTED
    finally:
        _stop(process)
    process, url = _start_cli("--port", "0", "--state", str(state), "--quiet")
    try:
        found = _default_client(url).query(order_id=placed.order_id)
        assert (found.pay_id, found.status) == (placed.pay_id, Status.PAYMENT_REQUESTED)
    finally:
        _stop(process)


def test_console_script_refuses_to_listen_on_the_network():
    process = subprocess.run([sys.executable, "-m", "ogone_core.sandbox.cli", "--host", "0.0.0.0", "--memory"],
                             capture_output=True, text=True, timeout=30)
    assert process.returncode == 2 and "the sandbox is a test platform" in process.stderr


def test_configuration_file(tmp_path):
    config = tmp_path / "sandbox.json"
    config.write_text('{"merchants": [{"pspid": "SHOP1", "sha_in": "a", "sha_out": "b", "api_user": "U",'
                      ' "api_password": "p", "algorithm": "sha1"}],'
                      ' "scenarios": [{"pspid": "SHOP1", "faults": {"latency": 0.01}}],'
                      ' "default_merchant": false}', encoding="utf-8")
    app = create_app(config=str(config))
    try:
        assert [m.pspid for m in app.sandbox.merchants()] == ["SHOP1"]
        assert app.sandbox.merchant("SHOP1").algorithm.value == "sha1"
        assert len(app.store.fault_rules("SHOP1")) == 1
    finally:
        app.close()
    with pytest.raises(ValueError, match="unknown configuration key"):
        create_app(config={"merchant": []})


@pytest.mark.parametrize("setting, value, message", [
    ("feedback_timeout", float("nan"), "feedback_timeout must be a number of seconds from 0 to 300"),
    ("feedback_timeout", float("inf"), "feedback_timeout must be a number of seconds from 0 to 300"),
    ("feedback_timeout", 0, "feedback_timeout must be more than 0 seconds"),
    ("settle_delay", 1e308, "settle_delay must be a number of seconds from 0 to 86400"),
    ("uncertain_delay", -1, "uncertain_delay must be a number of seconds from 0 to 86400"),
    ("feedback_retry_interval", "600", "feedback_retry_interval must be a number of seconds"),
    ("feedback_retries", 10 ** 30, "feedback_retries must be an integer from 0 to 100"),
    ("hosted_page_attempts", 1.5, "hosted_page_attempts must be an integer from 0 to 100"),
    ("sha_in", 12345, "sha_in is a string"),
    ("sha_out", ["a"], "sha_out is a string"),
    ("api_password", {"a": 1}, "api_password is a string"),
    ("api_user", None, "api_user is a string"),
    ("feedback_url", 1, "feedback_url is a string"),
    ("feedback_method", ["POST"], "feedback_method"),
    ("feedback_timing", {"x": 1}, "feedback_timing is a string"),
    ("feedback_parameters", 5, "feedback_parameters is a list of parameter names"),
    ("feedback_parameters", [["AMOUNT"]], "feedback_parameters is a list of parameter names"),
    ("redirect_with_parameters", "yes", "redirect_with_parameters is true or false"),
    ("allow_prod", 1, "allow_prod is true or false"),
    ("pspid", ["X"], "pspid is a string"),
])
def test_hostile_merchant_settings_are_refused_and_change_nothing(sandbox, setting, value, message):
    merchant = new_merchant(sandbox)
    before = next(m for m in admin(sandbox, "GET", "merchants")["merchants"] if m["pspid"] == merchant.pspid)
    body = {"pspid": merchant.pspid, setting: value}
    answer = requests.post(f"{sandbox.url}admin/api/merchants", data=json.dumps(body), timeout=30,
                           headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert message in answer.json()["error"]
    after = next(m for m in admin(sandbox, "GET", "merchants")["merchants"] if m["pspid"] == merchant.pspid)
    assert after == before
    # The merchant still works, end to end.
    assert merchant.client().new_order(OrderRequest(unique("H"), Decimal("1"), "EUR", card=VISA)).status \
        is Status.PAYMENT_REQUESTED


@pytest.mark.parametrize("faults, message", [
    ({"latency": float("nan")}, "latency is a number of seconds from 0 to 300"),
    ({"latency": float("inf")}, "latency is a number of seconds from 0 to 300"),
    ({"latency": 1e308}, "latency is a number of seconds from 0 to 300"),
    ({"feedback_delay": float("nan")}, "feedback_delay is a number of seconds from 0 to 86400"),
    ({"pages": 5}, "pages is a list of page names"),
    ({"pages": [["orderdirect"]]}, "pages is a list of page names"),
    ([], "faults is a JSON object"),
])
def test_hostile_fault_settings_are_refused(sandbox, faults, message):
    merchant = new_merchant(sandbox)
    answer = requests.post(f"{sandbox.url}admin/api/faults", timeout=30, headers={"Content-Type": "application/json"},
                           data=json.dumps({"pspid": merchant.pspid, "faults": faults}))
    assert answer.status_code == 400 and message in answer.json()["error"]
    assert admin(sandbox, "GET", "faults", params={"pspid": merchant.pspid})["faults"] == []


@pytest.mark.parametrize("body, message", [
    ({"payid": []}, "payid is a PAYID number"), ({"payid": "²"}, "payid is a PAYID number"),
    ({"payid": 10 ** 30}, "payid is a PAYID number"), ({"payid": True}, "payid is a PAYID number"),
    ({"pspid": ["SANDBOX"]}, "pspid is a string"), ({"orderid": {"a": 1}}, "orderid is a string"),
    ({"due_only": "no"}, "due_only is true or false"),
])
def test_settle_refuses_values_of_the_wrong_type(sandbox, body, message):
    assert admin(sandbox, "POST", "settle", json=body, expect=400)["error"] == message


@pytest.mark.parametrize("content, message", [
    (b'{"merchants": [5]}', "a merchant is a JSON object of settings"),
    (b'{"merchants": "SHOP1"}', "merchants and scenarios are lists of JSON objects"),
    (b'{"scenarios": [1]}', "merchants and scenarios are lists of JSON objects"),
    (b'{"merchants": [{"pspid": "A", "sha_in": "x", "settle_delay": NaN}]}', "settle_delay must be a number"),
    (b'{"merchants": [{"pspid": "A", "sha_in": 7}]}', "sha_in is a string"),
    (b'{"scenarios": [{"pspid": "SANDBOX", "faults": {"latency": Infinity}}]}', "latency is a number of seconds"),
    (b'{"scenarios": [{"pspid": "SANDBOX", "faults": []}]}', "faults is a JSON object"),
    (b'\xff\xfe{', "cannot read the configuration"),
])
def test_console_script_explains_a_bad_configuration_in_one_line(tmp_path, content, message):
    config = tmp_path / "sandbox.json"
    config.write_bytes(content)
    process = subprocess.run([sys.executable, "-m", "ogone_core.sandbox.cli", "--memory", "--port", "0",
                              "--config", str(config)], capture_output=True, text=True, timeout=60)
    assert process.returncode == 2 and process.stdout == ""
    assert process.stderr.startswith("ogone-sandbox: ") and message in process.stderr
    assert "Traceback" not in process.stderr and process.stderr.count("\n") == 1
