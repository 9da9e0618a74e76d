"""The log guard the whole suite runs under: what it catches, what it lets through, what its report shows."""
import logging

import pytest

from ogone_core.sandbox.log_guard import LogGuard

PASSPHRASE = "Guard-Test-Passphrase-5521"
CARD = "4111111111111111"


@pytest.fixture
def guarded():
    guard = LogGuard([PASSPHRASE, CARD], ignore=["guard_test.sql"])
    logger = logging.getLogger("guard_test")
    logger.addHandler(guard)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield guard, logger
    logger.removeHandler(guard)
    logger.propagate = True
    logger.setLevel(logging.NOTSET)


def test_a_secret_in_the_arguments_of_a_record_is_caught_and_masked(guarded):
    guard, logger = guarded
    logger.debug("signing with %s", PASSPHRASE)
    logger.info("card %s", CARD)
    assert [leak.level for leak in guard.leaks] == ["DEBUG", "INFO"]
    report = guard.report()
    assert PASSPHRASE not in report and CARD not in report
    assert "signing with <secret of 26 characters>" in report


def test_a_secret_in_a_traceback_is_caught(guarded):
    guard, logger = guarded
    try:
        raise ValueError(f"bad passphrase {PASSPHRASE.lower()}")
    except ValueError:
        logger.exception("failed")
    assert len(guard.leaks) == 1
    assert "ValueError: bad passphrase <secret" in guard.leaks[0].text


@pytest.mark.parametrize("text, leaks", [
    ("CVC=123&CARDNO=XXXXXXXXXXXX1111", True),
    ("{'CVC': '9876'}", True),
    ('{"cvc": "123"}', True),
    ("amount 123, order 1234, PAYID 123456, masked XXXXXXXXXXXX1111", False),
    ("CVC= &CN=Jane", False),
    ("CVCCHECK=NO", False),
])
def test_a_cvc_is_looked_for_where_a_cvc_is_written(guarded, text, leaks):
    guard, logger = guarded
    logger.debug("%s", text)
    assert bool(guard.leaks) is leaks
    if leaks:
        assert "***" in guard.leaks[0].text and "123" not in guard.leaks[0].text.replace("XXXX1111", "")


def test_an_ignored_logger_is_not_checked(guarded):
    guard, _ = guarded
    logging.getLogger("guard_test.sql").debug("INSERT ... %s", PASSPHRASE)
    assert not guard.leaks


def test_short_secrets_are_refused():
    with pytest.raises(ValueError):
        LogGuard(["wrong"])
