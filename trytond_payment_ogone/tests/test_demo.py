"""The demo a new user runs with `make demo`: a Tryton payment paid through the sandbox."""
import os
import re
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
        # An invoice paid from its link ends up paid through the clearing
        self.assertRegex(
            out, r'the customer pays it with MasterCard 5399\.\.\.: STATUS 9; '
            r'payment succeeded, clearing move (draft|posted); '
            r'invoice paid, 0(\.00)? EUR to pay\n')
        # The month end: each saved card charged once, every payment in
        # the state the sandbox shows for it, nobody clicking but process
        # (and capture for the authorization)
        self.assertIn('connection lost after the charge  -> processing, no answer yet', out)
        self.assertIn('bank unsure (92)                  -> processing, 92 (Payment uncertain)', out)
        for customer, amount, state, status in [
                ('Anna Berg', '89.00', 'succeeded', '9 (Payment requested)'),
                ('Bruno Costa', '45.00', 'failed', '2 (Authorisation refused)'),
                ('Chloé Martin', '120.00', 'succeeded', '9 (Payment requested)'),
                ('David Olsen', '64.50', 'succeeded', '9 (Payment requested)'),
                ('Emma Weber', '230.00', 'succeeded', '9 (Payment requested)'),
                ]:
            self.assertRegex(
                out, rf'\n +{customer} +{re.escape(amount)} EUR +{state} +'
                rf'{re.escape(status)} +{re.escape(status)} +1\n')
        # Refunds: a partial one approved and settled, a double payment
        # refunded from the review
        self.assertIn(
            "refund of 20.00 EUR on Anna Berg's 89.00 EUR, approved and sent "
            "as RFD: processing, 81 (Refund pending)", out)
        self.assertIn(
            'refund succeeded, 8 (Refund); payment succeeded, amount now 69.00 EUR', out)
        self.assertIn('Ogone review needed: True', out)
        self.assertRegex(
            out, r'Refund Paid Twice, approved: refund of order \S+ succeeded, '
            r'8 \(Refund\); payment succeeded, amount 75.00 EUR')
        for secret in ['sandbox_sha_in_passphrase_0001', 'sandbox_sha_out_passphrase_001',
                'sandbox-password']:
            self.assertNotIn(secret, out + result.stderr)
