"""``ogone check``, run as a real process against the sandbox, secrets from the environment."""
import os
import subprocess

from sandbox_fixtures import new_merchant
from test_cli import ROOT, command


def run_check(*args, sha_in=None, api_password=None):
    env = {name: value for name, value in os.environ.items()
           if name not in ("OGONE_PASSPHRASE", "OGONE_SHA_IN", "OGONE_API_PASSWORD")}
    if sha_in is not None:
        env["OGONE_SHA_IN"] = sha_in
    if api_password is not None:
        env["OGONE_API_PASSWORD"] = api_password
    return subprocess.run(command() + ["check", *args], env=env, cwd=ROOT, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=60)


def merchant_args(merchant, base_url):
    return ["--pspid", merchant.pspid, "--api-user", merchant.settings["api_user"], "--base-url", base_url]


def test_check_all_good(sandbox):
    merchant = new_merchant(sandbox)
    result = run_check(*merchant_args(merchant, sandbox.test_base_url), sha_in=merchant.settings["sha_in"],
                       api_password=merchant.settings["api_password"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"OK (ok) at {sandbox.test_base_url}\nAll good")
    for secret in (merchant.settings["sha_in"], merchant.settings["api_password"]):
        assert secret not in result.stdout + result.stderr


def test_check_wrong_sha_in(sandbox):
    merchant = new_merchant(sandbox)
    result = run_check(*merchant_args(merchant, sandbox.test_base_url), sha_in="typed-wrong-passphrase",
                       api_password=merchant.settings["api_password"])
    assert result.returncode == 1
    assert result.stdout.startswith("PROBLEM (signature)")
    assert "  platform: NCERROR 50001184: unknown order/1/s\n" in result.stdout
    assert "typed-wrong-passphrase" not in result.stdout + result.stderr


def test_check_wrong_algorithm(sandbox):
    merchant = new_merchant(sandbox, algorithm="sha1")
    result = run_check(*merchant_args(merchant, sandbox.test_base_url), "--algorithm", "sha256",
                       sha_in=merchant.settings["sha_in"], api_password=merchant.settings["api_password"])
    assert (result.returncode, result.stdout.splitlines()[0][:19]) == (1, "PROBLEM (signature)")


def test_check_wrong_api_password(sandbox):
    merchant = new_merchant(sandbox)
    result = run_check(*merchant_args(merchant, sandbox.test_base_url), sha_in=merchant.settings["sha_in"],
                       api_password="wrong-api-password")
    assert result.returncode == 1
    assert result.stdout.startswith("PROBLEM (credentials)")
    assert "wrong-api-password" not in result.stdout + result.stderr


def test_check_production_url_with_a_test_pspid(sandbox):
    merchant = new_merchant(sandbox)
    result = run_check(*merchant_args(merchant, sandbox.prod_base_url), sha_in=merchant.settings["sha_in"],
                       api_password=merchant.settings["api_password"])
    assert result.returncode == 1
    assert result.stdout.startswith("PROBLEM (wrong_environment)")
    assert f"it is known at {sandbox.test_base_url}" in result.stdout


def test_check_needs_the_secrets_from_the_environment(sandbox):
    merchant = new_merchant(sandbox)
    result = run_check(*merchant_args(merchant, sandbox.test_base_url), api_password="x")
    assert result.returncode == 1
    assert result.stderr == ("set OGONE_SHA_IN or OGONE_PASSPHRASE or run in a terminal to be asked for the "
                             "SHA-IN passphrase\n")
    result = run_check(*merchant_args(merchant, sandbox.test_base_url), sha_in="x")
    assert result.stderr == "set OGONE_API_PASSWORD or run in a terminal to be asked for the API password\n"


def test_check_a_base_url_that_is_not_one():
    result = run_check("--pspid", "SHOP", "--api-user", "API", "--base-url", "ftp://example.com/",
                       sha_in="x", api_password="y")
    assert result.returncode == 2
    assert result.stderr.startswith("error: environment must be 'test', 'prod' or an http(s) base URL")
