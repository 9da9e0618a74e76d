"""Checking an account against a sandbox merchant configured wrongly on purpose, over real HTTP."""
import dataclasses
import socket

import pytest

from ogone_core import Account, CheckOutcome, RequestsTransport, check_account
from ogone_core.account_check import check_order_id, other_environment
from ogone_core.sandbox.ncerrors import API_NOT_ALLOWED_TEXT

from sandbox_fixtures import admin, new_merchant


def fast_transport(**options):
    return RequestsTransport(**{"connect_timeout": 2.0, "read_timeout": 5.0, "connect_retries": 0,
                                "query_retries": 0, **options})


def check(account, **options):
    return check_account(account, fast_transport(**options))


def test_all_good(sandbox):
    merchant = new_merchant(sandbox)
    result = check(merchant.account())
    assert result.outcome is CheckOutcome.OK and result.ok
    assert result.ncerror == "50001130"  # the order that cannot exist is not found, nothing else
    assert result.message.startswith("All good")


def test_nothing_is_created_or_moved(sandbox):
    merchant = new_merchant(sandbox)
    order_id = check_order_id()
    assert check_account(merchant.account(), fast_transport(), order_id).ok
    transactions = admin(sandbox, "GET", "transactions", params={"pspid": merchant.pspid})
    assert transactions["transactions"] == []


def test_wrong_api_password(sandbox):
    merchant = new_merchant(sandbox)
    account = dataclasses.replace(merchant.account(), api_password="not-the-password")
    result = check(account)
    assert result.outcome is CheckOutcome.CREDENTIALS
    assert result.ncerror == "50001119"
    assert "Configuration > Users" in result.message
    assert "not-the-password" not in result.message + result.detail


def test_wrong_api_user(sandbox):
    merchant = new_merchant(sandbox)
    assert check(dataclasses.replace(merchant.account(), api_user_id="SOMEONE")).outcome is CheckOutcome.CREDENTIALS


def test_pspid_as_api_user(sandbox):
    merchant = new_merchant(sandbox)
    result = check(dataclasses.replace(merchant.account(), api_user_id=merchant.pspid))
    assert result.outcome is CheckOutcome.NOT_API_USER
    assert API_NOT_ALLOWED_TEXT in result.detail


def test_wrong_sha_in(sandbox):
    merchant = new_merchant(sandbox)
    merchant.update(sha_in="the-back-office-sha-in-is-another")
    account = merchant.account()
    result = check(dataclasses.replace(account, sha_in="what-the-erp-has-typed"))
    assert result.outcome is CheckOutcome.SIGNATURE
    assert result.detail == "NCERROR 50001184: unknown order/1/s"
    assert "Checks for DirectLink and Batch" in result.message
    assert "Global security parameters" in result.message


def test_wrong_directlink_sha_in(sandbox):
    # The back office has a separate SHA-IN for DirectLink; the check tests the one DirectLink uses.
    merchant = new_merchant(sandbox, directlink_sha_in="directlink-only-passphrase")
    assert check(merchant.account()).outcome is CheckOutcome.SIGNATURE


def test_wrong_algorithm(sandbox):
    merchant = new_merchant(sandbox, algorithm="sha256")
    account = dataclasses.replace(merchant.account(), algorithm="sha512")
    assert check(account).outcome is CheckOutcome.SIGNATURE
    assert check(dataclasses.replace(account, algorithm="sha256")).ok


def test_unknown_pspid(sandbox):
    merchant = new_merchant(sandbox)
    result = check(dataclasses.replace(merchant.account(), pspid="NOSUCHPSPID"))
    assert result.outcome is CheckOutcome.UNKNOWN_PSPID
    assert result.ncerror == "50001118"


def test_production_url_with_a_test_pspid(sandbox):
    merchant = new_merchant(sandbox)
    result = check(merchant.account(env="prod"))
    assert result.outcome is CheckOutcome.WRONG_ENVIRONMENT
    assert (result.other_kind, result.other_base_url) == ("test", sandbox.test_base_url)
    assert result.base_url == sandbox.prod_base_url
    assert "test account" in result.message and "Set the environment to test" in result.message


def test_production_url_with_a_production_pspid(sandbox):
    merchant = new_merchant(sandbox, allow_prod=True)
    assert check(merchant.account(env="prod")).ok


def test_unreachable_host():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()  # nothing listens on that port any more
    account = Account("SHOP", "sha-in-passphrase", "sha-out-passphrase", "SHOPAPI", "password",
                      environment=f"http://127.0.0.1:{port}/ncol/test/")
    result = check(account)
    assert result.outcome is CheckOutcome.UNREACHABLE
    assert f"127.0.0.1:{port}" in result.message


def test_host_that_never_answers():
    with socket.socket() as listener:  # accepts connections (the kernel does), never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(5)
        port = listener.getsockname()[1]
        account = Account("SHOP", "sha-in-passphrase", "sha-out-passphrase", "SHOPAPI", "password",
                          environment=f"http://127.0.0.1:{port}/ncol/test/")
        result = check(account, read_timeout=0.5, deadline=1.0)
    assert result.outcome is CheckOutcome.NO_ANSWER


def test_tls_to_a_plain_http_server(sandbox):
    # The sandbox speaks plain HTTP: an https:// base URL fails in the handshake, before anything is sent.
    merchant = new_merchant(sandbox)
    https_url = sandbox.test_base_url.replace("http://", "https://")
    result = check(dataclasses.replace(merchant.account(), environment=https_url))
    assert result.outcome is CheckOutcome.TLS
    assert "TLS connection" in result.message


def test_url_that_is_not_ogone(sandbox):
    merchant = new_merchant(sandbox)
    result = check(dataclasses.replace(merchant.account(), environment=sandbox.url + "elsewhere/"))
    assert result.outcome is CheckOutcome.NOT_OGONE


def test_missing_credentials(sandbox):
    merchant = new_merchant(sandbox)
    result = check(dataclasses.replace(merchant.account(), api_password=""))
    assert result.outcome is CheckOutcome.MISSING_CREDENTIALS


def test_other_environment():
    def account(environment):
        return Account("SHOP", "in-passphrase", "out-passphrase", environment=environment)
    assert other_environment(account("test")) == ("https://secure.ogone.com/ncol/prod/", "production")
    assert other_environment(account("prod")) == ("https://ogone.test.v-psp.com/ncol/test/", "test")
    assert other_environment(account("https://e-payment.postfinance.ch/ncol/prod/")) == (
        "https://e-payment.postfinance.ch/ncol/test/", "test")
    assert other_environment(account("https://pay.example.com/gateway/")) is None


@pytest.mark.parametrize("ncerror", ["50001116", "50001117"])
def test_ip_not_allowed(ncerror):
    # The sandbox has no IP whitelist: the platform's answer is replayed through the transport seam.
    from ogone_core import HttpResponse

    class Replay:
        def post(self, url, data, *, encoding, retry_safe, reference=""):
            body = (f'<?xml version="1.0"?><ncresponse orderID="{reference}" PAYID="0" NCSTATUS="5" '
                    f'NCERROR="{ncerror}" NCERRORPLUS="unknown order/1/i/192.0.2.1" STATUS="0"/>')
            return HttpResponse(200, body.encode("ascii"), "text/xml")

    account = Account("SHOP", "sha-in-passphrase", "sha-out-passphrase", "SHOPAPI", "password")
    result = check_account(account, Replay())
    assert result.outcome is CheckOutcome.IP_NOT_ALLOWED
