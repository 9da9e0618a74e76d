"""Saved cards charged in queue tasks of several payments: a task mixing
refused, expired, sent and 3-D Secure cards, two journals and parties; the
same payment twice; a task run twice at once; a hook of another module
raising; a payment locked or changed while the answers are applied; the
feedback arriving during the calls. Real trytond, real queue tasks run by
trytond.worker's run_task, the real sandbox."""
import threading
import unittest
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from unittest import mock

import requests

from ogone_core.sandbox import DEFAULT_MERCHANT, start_server

from trytond import backend
from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, RouteTestCase
from trytond.transaction import Transaction

from .tools import (
    BusyDatabaseMixin, SMTPSink, TrytonServer, create_company,
    create_sandbox_journal, delay_order, finish_pending_tasks,
    payment_outcome, pending_tasks, sandbox_transactions, save_sandbox_card,
    signed_feedback, wait_until)

CARDS = {
    'good': '4111111111111111',
    'refused': '4000000000000028',
    'secure': '4000000000000002',
    }


def _setup_database(base_url):
    Party = Pool().get('party.party')
    company = create_company()
    accounts = {
        prefix: create_sandbox_journal(
            base_url, company, prefix, name=f"Ogone {prefix}").ogone_account
        for prefix in ['BA', 'BB']}
    parties = {}
    for name in ['Client', 'Other']:
        party = Party(name=name, contact_mechanisms=[
                {'type': 'email', 'value': f'{name.lower()}@example.com'}])
        party.save()
        parties[name] = party
    aliases = [
        ('Client', 'BA', 'good', 'BRK-GOOD'),
        ('Client', 'BA', 'refused', 'BRK-REFUSED'),
        ('Client', 'BA', 'secure', 'BRK-SECURE'),
        ('Client', 'BA', 'good', 'BRK-EXPIRED'),
        ('Client', 'BB', 'good', 'BRK-GOOD-BB'),
        ('Other', 'BA', 'good', 'BRK-OTHER'),
        ]
    for party, prefix, card, name in aliases:
        # A card that expired since it was saved
        changed = {'expiry': '0120'} if name == 'BRK-EXPIRED' else {}
        save_sandbox_card(base_url, parties[party], accounts[prefix], name,
            CARDS[card], **changed)


class ChargeBatchTestCase(BusyDatabaseMixin, RouteTestCase):
    "Charges of saved cards queued several payments to a task"
    module = 'account_payment_ogone'

    @classmethod
    def setUpClass(cls):
        cls.sandbox = start_server()
        cls.addClassCleanup(cls.sandbox.stop)
        cls.smtp = SMTPSink().start()
        cls.addClassCleanup(cls.smtp.stop)
        super().setUpClass()
        cls.tryton = TrytonServer().start()
        cls.addClassCleanup(cls.tryton.stop)

    @classmethod
    def setUpDatabase(cls):
        _setup_database(cls.sandbox.test_base_url)

    def setUp(self):
        super().setUp()
        self.configure(email={'uri': self.smtp.url})
        finish_pending_tasks()

    # Helpers

    def new_payments(self, specs, process=True):
        """Payments submitted (and processed together) for specs, a list of
        (alias name, amount, journal prefix, party name)"""
        pool = Pool(DB_NAME)
        Company = pool.get('company.company')
        Journal = pool.get('account.payment.journal')
        Party = pool.get('party.party')
        Payment = pool.get('account.payment')
        Alias = pool.get('account.payment.ogone.alias')
        with Transaction().start(DB_NAME, 1) as transaction:
            company, = Company.search([])
            with set_company(company):
                values = []
                for alias_name, amount, prefix, party_name in specs:
                    journal, = Journal.search(
                        [('name', '=', f"Ogone {prefix}")])
                    party, = Party.search([('name', '=', party_name)])
                    alias, = Alias.search([('alias', '=', alias_name)])
                    values.append({
                            'company': company.id, 'journal': journal.id,
                            'kind': 'receivable', 'party': party.id,
                            'amount': Decimal(amount),
                            'reference': "INV-BRK", 'ogone_alias': alias.id})
                payments = Payment.create(values)
                Payment.submit(payments)
                if process:
                    Payment.process(payments)
                transaction.commit()
                return [p.id for p in payments]

    def emails(self, payment_id):
        with Transaction().start(DB_NAME, 0, readonly=True):
            Email = Pool(DB_NAME).get('ir.email')
            return len(Email.search(
                    [('resource', '=', f'account.payment,{payment_id}')]))

    def sandbox_transactions(self, payment_id, prefix='BA'):
        return sandbox_transactions(
            self.sandbox.url, f'{prefix}-{payment_id}-')

    def cron(self, method):
        pool = Pool(DB_NAME)
        Payment = pool.get('account.payment')
        Company = pool.get('company.company')
        with Transaction().start(DB_NAME, 0) as transaction:
            company, = Company.search([])
            with set_company(company):
                getattr(Payment, method)()
            transaction.commit()

    # The tests

    def test_mixed_batch(self):
        """A refused card, an expired alias, a payment sent already, one
        failed by the accountant before the task runs, two journals, two
        parties and a 3-D Secure card in the middle: one task; each payment
        as the sandbox shows it, each charged at most once, one e-mail"""
        sent, = self.new_payments([('BRK-GOOD', '10.00', 'BA', 'Client')])
        self.run_pending()
        self.assertEqual(payment_outcome(sent)['state'], 'succeeded')

        (good, refused, expired, secure, other_journal, other_party,
            failed_before) = self.new_payments([
                ('BRK-GOOD', '11.00', 'BA', 'Client'),
                ('BRK-REFUSED', '12.00', 'BA', 'Client'),
                ('BRK-GOOD', '13.00', 'BA', 'Client'),
                ('BRK-SECURE', '14.00', 'BA', 'Client'),
                ('BRK-GOOD-BB', '15.00', 'BB', 'Client'),
                ('BRK-OTHER', '16.00', 'BA', 'Other'),
                ('BRK-GOOD', '17.00', 'BA', 'Client'),
                ])
        task, = pending_tasks()
        with Transaction().start(DB_NAME, 0) as transaction:
            pool = Pool(DB_NAME)
            Payment = pool.get('account.payment')
            Alias = pool.get('account.payment.ogone.alias')
            # Expired since it was processed
            Payment.write([Payment(expired)], {'ogone_alias': Alias.search(
                        [('alias', '=', 'BRK-EXPIRED')])[0].id})
            Payment.fail([Payment(failed_before)])
            transaction.commit()
        # One sent already: added to the task, as the cron may queue it
        with Transaction().start(DB_NAME, 0) as transaction:
            Queue = Pool(DB_NAME).get('ir.queue')
            record = Queue(task)
            data = dict(record.data)
            data['instances'] = [sent] + list(data['instances'])
            record.data = data
            record.save()
            transaction.commit()
        self.run_pending()
        self.assertEqual(pending_tasks(), [])

        expected = {
            sent: 'succeeded', good: 'succeeded', refused: 'failed',
            expired: 'failed', secure: 'processing',
            other_journal: 'succeeded', other_party: 'succeeded',
            failed_before: 'failed'}
        for payment_id, state in expected.items():
            with self.subTest(payment=payment_id):
                self.assertEqual(payment_outcome(payment_id)['state'], state)
        for payment_id in [sent, good, refused, secure, other_party]:
            self.assertEqual(len(self.sandbox_transactions(payment_id)), 1)
        self.assertEqual(len(self.sandbox_transactions(other_journal, 'BB')),
            1)
        for payment_id in [expired, failed_before]:
            self.assertEqual(self.sandbox_transactions(payment_id), [])
        self.assertEqual(payment_outcome(secure)['status'], '46')
        self.assertEqual(self.emails(secure), 1)
        self.assertEqual(payment_outcome(refused)['feedbacks'],
            [('directlink', '2', True)])
        # The crons afterwards send nothing again
        self.cron('ogone_charge')
        self.run_pending()
        self.cron('ogone_reconcile')
        self.run_pending()
        for payment_id in [sent, good, refused, secure, other_party]:
            self.assertEqual(len(self.sandbox_transactions(payment_id)), 1)
        self.assertEqual(self.emails(secure), 1)

    def test_same_payment_twice_in_one_task(self):
        "ogone_queue_charges given the same payment twice"
        first, second = self.new_payments([
                ('BRK-GOOD', '23.00', 'BA', 'Client'),
                ('BRK-OTHER', '24.00', 'BA', 'Other'),
                ], process=False)
        pool = Pool(DB_NAME)
        Payment = pool.get('account.payment')
        with Transaction().start(DB_NAME, 1) as transaction:
            with Transaction().set_context(_ogone_update=True):
                # processing, nothing queued
                Payment.process(Payment.browse([first, second]))
            Payment.ogone_queue_charges(Payment.browse([first, second, first]))
            transaction.commit()
        self.run_pending()
        # The task itself charges each payment once (two attempts of one
        # payment would have the same ORDERID, and none would be sent)
        for payment_id in [first, second]:
            with self.subTest(payment=payment_id):
                self.assertEqual(
                    [t['orderid'] for t in
                        self.sandbox_transactions(payment_id)],
                    [f'BA-{payment_id}-1'])
                self.assertEqual(payment_outcome(payment_id)['state'],
                    'succeeded')

    def test_task_run_twice_concurrently_and_again(self):
        "The same task run by two workers at once, then once more"
        from trytond.worker import run_task
        ids = self.new_payments([
                ('BRK-GOOD', '31.00', 'BA', 'Client'),
                ('BRK-OTHER', '32.00', 'BA', 'Other'),
                ('BRK-GOOD-BB', '33.00', 'BB', 'Client'),
                ])
        task, = pending_tasks()
        with ThreadPoolExecutor(max_workers=2) as executor:
            runs = [executor.submit(run_task, DB_NAME, task)
                for _ in range(2)]
            for run in runs:
                run.result(timeout=120)
        run_task(DB_NAME, task)
        self.run_pending()
        for payment_id, prefix in zip(ids, ['BA', 'BA', 'BB']):
            with self.subTest(payment=payment_id):
                self.assertEqual(
                    len(self.sandbox_transactions(payment_id, prefix)), 1)
                self.assertEqual(payment_outcome(payment_id)['state'],
                    'succeeded')
                self.assertEqual(payment_outcome(payment_id)['feedbacks'],
                    [('directlink', '9', True)])

    def hook_raising_for(self, payment_id):
        """Another module's hook on succeed that raises for one payment"""
        Payment = Pool(DB_NAME).get('account.payment')
        original = Payment.succeed.__func__

        def succeed(cls, payments):
            if any(p.id == payment_id for p in payments):
                raise ValueError(f"hook refuses payment {payment_id}")
            return original(cls, payments)
        return mock.patch.object(Payment, 'succeed', classmethod(succeed))

    def test_hook_raising_for_one_payment_while_applying(self):
        """A hook of another module raises for one payment while the answers
        are applied: the other answers are applied or left to the query,
        nothing is charged twice, the 3-D Secure e-mail is sent once"""
        good, secure, bad, other = self.new_payments([
                ('BRK-GOOD', '41.00', 'BA', 'Client'),
                ('BRK-SECURE', '42.00', 'BA', 'Client'),
                ('BRK-GOOD', '43.00', 'BA', 'Client'),
                ('BRK-OTHER', '44.00', 'BA', 'Other'),
                ])
        with self.hook_raising_for(bad), \
                self.assertLogs('trytond.worker', 'CRITICAL'):
            self.run_pending()
        # trytond leaves the failed task pending: a worker runs it again
        self.run_pending()
        self.assertEqual(pending_tasks(), [])
        # The reconciliation: the charge cron sends nothing, the queries
        # settle
        self.cron('ogone_charge')
        self.run_pending()
        self.cron('ogone_reconcile')
        self.run_pending()
        for payment_id, state in [(good, 'succeeded'), (secure, 'processing'),
                (bad, 'succeeded'), (other, 'succeeded')]:
            with self.subTest(payment=payment_id):
                self.assertEqual(len(self.sandbox_transactions(payment_id)),
                    1)
                self.assertEqual(payment_outcome(payment_id)['state'], state)
        self.assertEqual(payment_outcome(secure)['status'], '46')
        self.assertEqual(self.emails(secure), 1)

    def test_hook_raising_after_the_fallback_applied_a_3ds_answer(self):
        """The answers applied one by one (one payment locked), then a hook
        raises for a later payment: the 3-D Secure payment applied before
        it must still get its e-mail, now or at the query"""
        if backend.name != 'postgresql':
            raise unittest.SkipTest("row locks: PostgreSQL")
        self.configure(
            account_payment_ogone={'lock_timeout': '1'},
            database={'retry': '0'})
        locked, secure, bad = self.new_payments([
                ('BRK-GOOD', '51.00', 'BA', 'Client'),
                ('BRK-SECURE', '52.00', 'BA', 'Client'),
                ('BRK-GOOD', '53.00', 'BA', 'Client'),
                ])
        task, = pending_tasks()
        delay_order(self.sandbox.url, f'BA-{bad}-1', 3)
        with self.hook_raising_for(bad), \
                self.assertLogs('trytond.worker', 'CRITICAL'):
            self.run_task_locking(
                task, lambda: self.sandbox_transactions(secure), locked)
        self.assertEqual(payment_outcome(secure)['status'], '46')
        self.cron('ogone_reconcile')
        self.run_pending()
        self.assertEqual(payment_outcome(locked)['state'], 'succeeded')
        for payment_id in [locked, secure, bad]:
            self.assertEqual(len(self.sandbox_transactions(payment_id)), 1)
        self.assertEqual(self.emails(secure), 1)

    def test_payment_touched_before_its_3ds_email(self):
        """The reconciliation (or any request) updates a 3-D Secure payment
        of the batch just after the answers are committed, while its e-mail
        is being prepared: the e-mail must still be sent, once"""
        if backend.name != 'postgresql':
            raise unittest.SkipTest("row locks: PostgreSQL")
        Payment = Pool(DB_NAME).get('account.payment')
        original = Payment._ogone_email_checkout_link
        good, secure = self.new_payments([
                ('BRK-GOOD', '61.00', 'BA', 'Client'),
                ('BRK-SECURE', '62.00', 'BA', 'Client'),
                ])
        touched = []

        def email_link(payment, *args):
            if not touched:
                # Another connection updates the row (as the query's
                # back-off does), committing a moment later
                end = self.hold_lock(payment.id, update=True)
                threading.Timer(0.5, end, kwargs={'commit': True}).start()
                touched.append(payment.id)
            return original(payment, *args)
        with mock.patch.object(
                Payment, '_ogone_email_checkout_link', email_link), \
                self.assertLogs('trytond.worker', 'DEBUG') as logs:
            self.run_pending()
        self.assertEqual(touched, [secure])
        self.assertEqual(payment_outcome(secure)['status'], '46')
        self.cron('ogone_reconcile')
        self.run_pending()
        self.assertEqual(len(self.sandbox_transactions(secure)), 1)
        self.assertEqual(self.emails(secure), 1,
            '\n'.join(line.splitlines()[0] + ' ' + line.splitlines()[-1]
                for line in logs.output))

    def test_feedback_during_the_calls(self):
        """The server-to-server feedback of a payment of the batch arrives
        while the later charges are being sent: history and state right"""
        from trytond.worker import run_task
        first, last = self.new_payments([
                ('BRK-GOOD', '71.00', 'BA', 'Client'),
                ('BRK-OTHER', '72.00', 'BA', 'Other'),
                ])
        task, = pending_tasks()
        delay_order(self.sandbox.url, f'BA-{last}-1', 2)
        with ThreadPoolExecutor(max_workers=1) as executor:
            running = executor.submit(run_task, DB_NAME, task)
            wait_until(lambda: self.sandbox_transactions(first))
            pay_id = self.sandbox_transactions(first)[0].get('payid')
            params = signed_feedback(
                f'BA-{first}-1', 9, '71.00',
                passphrase=DEFAULT_MERCHANT.sha_out,
                PAYID=str(pay_id or '3000001'))
            response = requests.post(
                f'{self.tryton.url}/{DB_NAME}/r/account_payment_ogone/return',
                data=params, timeout=60)
            self.assertEqual(response.status_code, 200, response.text)
            running.result(timeout=60)
        self.assertEqual(payment_outcome(first)['state'], 'succeeded')
        self.assertEqual(payment_outcome(first)['feedbacks'],
            [('server', '9', True), ('directlink', '9', False)])
        self.assertEqual(payment_outcome(last)['state'], 'succeeded')
        for payment_id in [first, last]:
            self.assertEqual(len(self.sandbox_transactions(payment_id)), 1)
