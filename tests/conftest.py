from pathlib import Path

import pytest

from ogone_core.sandbox import DEFAULT_MERCHANT, TEST_CARDS
from ogone_core.sandbox.log_guard import LogGuard, secrets_written_in
from sandbox_fixtures import clocked_sandbox, receiver, sandbox  # noqa: F401  (sandbox test fixtures)


def _test_secrets():
    merchant = [DEFAULT_MERCHANT.sha_in, DEFAULT_MERCHANT.sha_out, DEFAULT_MERCHANT.api_password,
                DEFAULT_MERCHANT.directlink_sha_in]
    cards = [card.number for card in TEST_CARDS]
    return [secret for secret in merchant + cards if secret] + secrets_written_in(Path(__file__).parent.glob("*.py"))


def pytest_configure(config):
    # The whole suite runs with every logger at DEBUG, and no record may show a secret. Selenium's command log
    # is the test harness's, not the product's: it writes each command's body, so the card number a browser
    # test types as a customer would.
    config._ogone_log_guard = LogGuard(
        _test_secrets(), ignore=["selenium.webdriver.remote.remote_connection"]).install()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    guard = item.config._ogone_log_guard
    guard.where = item.nodeid
    try:
        return (yield)
    finally:
        guard.where = ""


def pytest_sessionfinish(session, exitstatus):
    guard = session.config._ogone_log_guard
    guard.uninstall()
    if guard.leaks:
        session.config._ogone_leak_report = guard.report()
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, config):
    report = getattr(config, "_ogone_leak_report", None)
    if report:
        terminalreporter.section("secrets in the logs", red=True)
        terminalreporter.write_line(report)
