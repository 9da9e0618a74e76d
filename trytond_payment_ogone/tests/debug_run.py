"""Run the module's tests (unittest's command line) with every logger at DEBUG under a log guard

    python -m trytond_payment_ogone.tests.debug_run discover -s trytond_payment_ogone.tests

A record that shows a passphrase, an API password, a full test card number
or a CVC fails the run, with the record masked. trytond.backend is left
above DEBUG: it writes every SQL statement with its values, which the
setup documentation tells to keep out of production.
"""
import logging
import sys
import unittest
from pathlib import Path

from ogone_core.sandbox import DEFAULT_MERCHANT, TEST_CARDS
from ogone_core.sandbox.log_guard import LogGuard, secrets_written_in

from . import tools


def secrets():
    "What the tests give the accounts and the sandbox, and the test cards"
    here = Path(__file__).parent
    return [
        tools.SHA_IN, tools.SHA_OUT,
        DEFAULT_MERCHANT.sha_in, DEFAULT_MERCHANT.sha_out,
        DEFAULT_MERCHANT.api_password,
        *(card.number for card in TEST_CARDS),
        *secrets_written_in([*here.glob('*.py'), *here.glob('*.rst')]),
        ]


class GuardedResult(unittest.TextTestResult):
    "Tells the guard which test is running, for its report"
    guard = None

    def startTest(self, test):
        self.guard.where = test.id()
        super().startTest(test)

    def stopTest(self, test):
        super().stopTest(test)
        self.guard.where = ''


def main(argv=None):
    # Selenium's command log writes the card number a browser test types
    guard = LogGuard(secrets(), ignore=[
            'trytond.backend',
            'selenium.webdriver.remote.remote_connection']).install()
    # What Python prints when no handler is set (warnings and errors on
    # stderr), which the guard's handler would otherwise silence
    stderr = logging.StreamHandler()
    stderr.setLevel(logging.WARNING)
    logging.getLogger().addHandler(stderr)
    GuardedResult.guard = guard
    runner = unittest.TextTestRunner(resultclass=GuardedResult)
    try:
        program = unittest.main(
            module=None, argv=[sys.argv[0]] + list(
                sys.argv[1:] if argv is None else argv),
            testRunner=runner, exit=False)
    finally:
        logging.getLogger().removeHandler(stderr)
        guard.uninstall()
    if guard.leaks:
        print(guard.report(), file=sys.stderr)
        return 1
    return 0 if program.result.wasSuccessful() else 1


if __name__ == '__main__':
    sys.exit(main())
