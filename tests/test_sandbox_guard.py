"""The sandbox's own side cannot be driven by another web page; it listens on loopback unless told otherwise;
its command says which extra it needs when werkzeug is missing."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from ogone_core.sandbox import start_server
from ogone_core.sandbox.server import NotLoopback, bind
from sandbox_fixtures import admin, unique

MERCHANT = {"sha_in": "in-passphrase", "sha_out": "out-passphrase", "api_user": "U", "api_password": "p"}


def merchant_exists(server, pspid: str) -> bool:
    return any(m["pspid"] == pspid for m in admin(server, "GET", "merchants")["merchants"])


def home_token(server) -> str:
    return re.search(r'name="FORM_TOKEN" value="([^"]+)"', requests.get(server.url, timeout=30).text).group(1)


# --------------------------------------------------------------------------------------------- Host

@pytest.mark.parametrize("path", ["", "admin/", "admin/transactions/1", "admin/api/merchants", "admin/api/health"])
def test_a_rebound_host_name_is_refused_on_the_sandboxs_own_side(sandbox, path):
    port = sandbox.port
    answer = requests.get(f"{sandbox.url}{path}", headers={"Host": f"attacker.example:{port}"}, timeout=30)
    assert answer.status_code == 403
    assert "the sandbox does not answer to the host name attacker.example here" in answer.text
    assert "sandbox_sha_in_passphrase_0001" not in answer.text


@pytest.mark.parametrize("path", ["", "admin/", "admin/api/health", "nothing"])
def test_the_sandboxs_own_pages_cannot_be_framed(sandbox, path):
    assert requests.get(f"{sandbox.url}{path}", timeout=30).headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST", "[::1]:{port}",
                                  "192.0.2.7:{port}"])
def test_addresses_and_localhost_are_the_sandboxs_own_hosts(sandbox, host):
    answer = requests.get(f"{sandbox.url}admin/api/health", headers={"Host": host.format(port=sandbox.port)},
                          timeout=30)
    assert answer.status_code == 200 and answer.json()["ok"] is True


def test_protocol_pages_answer_whatever_the_host(sandbox):
    # Merchants' pages and servers reach the platform under any name; those pages are not the admin side.
    answer = requests.post(f"{sandbox.url}ncol/test/querydirect_utf8.asp", data={"PSPID": "NOBODY"},
                           headers={"Host": "shop.example"}, timeout=30)
    assert answer.status_code == 200 and 'NCERROR="50001118"' in answer.text


def test_a_host_name_given_to_the_server_is_its_own():
    with start_server(allowed_hosts=["sandbox.test"]) as server:
        ok = requests.get(f"{server.url}admin/api/health", headers={"Host": f"sandbox.test:{server.port}"},
                          timeout=30)
        other = requests.get(f"{server.url}admin/api/health", headers={"Host": "other.test"}, timeout=30)
    assert ok.status_code == 200 and other.status_code == 403


# ---------------------------------------------------------------------------------------- admin API

@pytest.mark.parametrize("headers, data", [
    ({"Content-Type": "application/x-www-form-urlencoded"}, "pspid={pspid}&sha_in=x"),
    ({"Content-Type": "text/plain"}, '{{"pspid": "{pspid}", "sha_in": "x"}}'),
    ({"Content-Type": "multipart/form-data; boundary=b"},
     '--b\r\nContent-Disposition: form-data; name="pspid"\r\n\r\n{pspid}\r\n--b--\r\n'),
    ({}, '{{"pspid": "{pspid}", "sha_in": "x"}}'),
])
def test_the_admin_api_takes_json_only(sandbox, headers, data):
    pspid = unique("G")[:30]
    answer = requests.post(f"{sandbox.url}admin/api/merchants", data=data.format(pspid=pspid).encode(),
                           headers=headers, timeout=30)
    assert answer.status_code == 403
    assert answer.json() == {"error": "the admin API takes JSON only: send Content-Type: application/json"}
    assert not merchant_exists(sandbox, pspid)


@pytest.mark.parametrize("headers", [{"Origin": "http://attacker.example"}, {"Origin": "null"},
                                     {"Origin": "https://127.0.0.1:{port}"},
                                     {"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"}])
def test_the_admin_api_refuses_changes_from_another_origin(sandbox, headers):
    pspid = unique("G")[:30]
    headers = {name: value.format(port=sandbox.port) for name, value in headers.items()}
    answer = requests.post(f"{sandbox.url}admin/api/merchants", json={"pspid": pspid, **MERCHANT},
                           headers=headers, timeout=30)
    assert answer.status_code == 403 and "another" in answer.json()["error"]
    assert not merchant_exists(sandbox, pspid)


def test_the_admin_api_takes_changes_from_its_own_origin(sandbox):
    pspid = unique("G")[:30]
    answer = requests.post(f"{sandbox.url}admin/api/merchants", json={"pspid": pspid, **MERCHANT},
                           headers={"Origin": sandbox.url.rstrip("/"), "Sec-Fetch-Site": "same-origin"},
                           timeout=30)
    assert answer.status_code == 201
    assert merchant_exists(sandbox, pspid)


# ------------------------------------------------------------------------------------- demo checkout

DEMO = {"PSPID": "SANDBOX", "AMOUNT": "12.50", "CURRENCY": "EUR", "OPERATION": "SAL", "CHARSET": "utf-8"}


@pytest.mark.parametrize("token", [None, "", "forged-token", "é"])
def test_the_demo_form_needs_the_token_of_the_sandboxs_own_page(sandbox, token):
    form = dict(DEMO) if token is None else {**DEMO, "FORM_TOKEN": token}
    answer = requests.post(f"{sandbox.url}demo/checkout", data=form, timeout=30)
    assert answer.status_code == 403
    assert "form token" in answer.text and "orderstandard" not in answer.text


def test_the_demo_form_with_its_token_signs_an_order(sandbox):
    answer = requests.post(f"{sandbox.url}demo/checkout", data={**DEMO, "FORM_TOKEN": home_token(sandbox)},
                           timeout=30)
    assert answer.status_code == 200 and "orderstandard_utf8.asp" in answer.text


def test_the_demo_form_from_another_origin_is_refused_even_with_the_token(sandbox):
    answer = requests.post(f"{sandbox.url}demo/checkout", data={**DEMO, "FORM_TOKEN": home_token(sandbox)},
                           headers={"Origin": "http://attacker.example"}, timeout=30)
    assert answer.status_code == 403 and "another origin" in answer.text


# ------------------------------------------------------------------------------------------ loopback

@pytest.mark.parametrize("host", ["0.0.0.0", "", "192.0.2.7", "example.com"])
def test_the_server_listens_on_loopback_only_unless_told(host):
    with pytest.raises(NotLoopback, match="refusing to listen on .*: the sandbox is a test platform"):
        bind(host, 0)
    with pytest.raises(NotLoopback):
        start_server(host, 0)


def test_listening_on_every_interface_when_told():
    with start_server("0.0.0.0", 0, allow_remote=True) as server:
        answer = requests.get(f"http://127.0.0.1:{server.port}/admin/api/health", timeout=30)
    assert answer.status_code == 200


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "127.0.0.2"])
def test_loopback_addresses_are_accepted(host):
    with start_server(host, 0) as server:
        assert requests.get(f"http://{host}:{server.port}/admin/api/health", timeout=30).status_code == 200


# ------------------------------------------------------------------------------------- missing extra

CORE_DEPENDENCIES = ("requests", "urllib3", "idna", "certifi", "charset_normalizer", "lxml")


def test_the_command_without_its_extra_says_which_to_install(tmp_path):
    """Runs the installed ``ogone-sandbox`` script where only the core and its own dependencies exist."""
    import importlib

    site = tmp_path / "site"
    site.mkdir()
    for name in ("ogone_core",) + CORE_DEPENDENCIES:
        module = importlib.import_module(name)
        (site / name).symlink_to(Path(module.__file__).parent, target_is_directory=True)
    script = Path(sys.executable).with_name("ogone-sandbox")
    assert "ogone_core.sandbox_command" in script.read_text(), "reinstall: the entry point changed"
    environment = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(site)}
    # -S: no site-packages, so no werkzeug, as in an installation without the [sandbox] extra.
    probe = subprocess.run([sys.executable, "-S", "-c", "import ogone_core\nimport werkzeug"], env=environment,
                           capture_output=True, text=True, timeout=60)
    assert "No module named 'werkzeug'" in probe.stderr, probe.stderr
    run = subprocess.run([sys.executable, "-S", str(script), "--port", "0", "--memory"], env=environment,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert run.stdout == ""
    assert run.stderr == ("ogone-sandbox: the sandbox needs the 'sandbox' extra (werkzeug): "
                          "pip install 'ogone-payments[sandbox]'\n")
