"""The demo a new user runs with `make demo`: a Tryton payment paid through the sandbox."""
import os
import subprocess
import sys
import unittest

from trytond import backend


@unittest.skipUnless(backend.name == 'sqlite', "the demo makes its own SQLite database: run once")
class DemoTestCase(unittest.TestCase):

    def test_demo_pays_through_the_sandbox(self):
        environment = {k: v for k, v in os.environ.items()
            if not k.startswith('TRYTOND_') and k not in {'DB_NAME', 'DB_CACHE'}}
        result = subprocess.run(
            [sys.executable, '-m', 'trytond_payment_ogone.demo'],
            env=environment, capture_output=True, text=True, timeout=300,
            stdin=subprocess.DEVNULL)
        self.assertEqual(result.returncode, 0, result.stderr[-2000:])
        out = result.stdout
        self.assertRegex(
            out, r'return URL for the back office:\n     http://127\.0\.0\.1:\d+/ogone_demo/r/'
            r'account_payment_ogone/return\n')
        self.assertIn(
            'on the sandbox page with VISA 4111...: STATUS 9\n', out)
        self.assertIn(
            'the browser comes back to Tryton: HTTP 200, "Payment accepted"', out)
        self.assertIn(
            'the payment is succeeded: PAYID 3000000001, status 9 (Payment requested)', out)
        self.assertIn('feedback from the server: STATUS 9, applied', out)
        self.assertIn(
            'feedback from the browser: STATUS 9, already known, history only', out)
        self.assertIn(
            'card the bank refuses: failed, NCERROR 30051001 (Authorization declined)', out)
        self.assertIn(
            'STATUS changed to 9: HTTP 400, payment still failed', out)
        for secret in ['sandbox_sha_in_passphrase_0001', 'sandbox_sha_out_passphrase_001',
                'sandbox-password']:
            self.assertNotIn(secret, out + result.stderr)
