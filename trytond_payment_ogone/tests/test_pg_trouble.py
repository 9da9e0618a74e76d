"""PostgreSQL trouble while Ogone's news and the charges arrive: a payment
locked by another connection past the lock timeout, and concurrent updates
that make the transaction fail to serialize; over real HTTP and through the
queue, against the local sandbox."""
import logging
import re
import threading
import time
import unittest
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from html import unescape

import polib
import requests

from ogone_core.sandbox import DEFAULT_MERCHANT, start_server

from trytond import backend
from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, RouteTestCase
from trytond.transaction import Transaction

from .tools import (
    BusyDatabaseMixin, TrytonServer, create_company, create_sandbox_journal,
    delay_order, load_translations, locale_file, payment_outcome,
    pending_tasks, sandbox_transactions, save_sandbox_card, signed_feedback,
    wait_until)


def _setup_database(base_url):
    pool = Pool()
    Party = pool.get('party.party')
    Lang = pool.get('ir.lang')
    company = create_company()
    journal = create_sandbox_journal(base_url, company, 'PG')
    customer = Party(name="Client")
    customer.lang, = Lang.search([('code', '=', 'fr')])
    customer.save()
    save_sandbox_card(base_url, customer, journal.ogone_account, 'CARD-PG',
        '4111111111111111')


class RecordRetries(logging.Handler):
    "Counts trytond's retries of a transaction that failed to serialize"

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record):
        if record.getMessage().startswith('Retry:'):
            self.count += 1


class PostgreSQLTroubleTestCase(BusyDatabaseMixin, RouteTestCase):
    "Lock timeouts and serialization failures during feedback and charges"
    module = 'account_payment_ogone'

    @classmethod
    def setUpClass(cls):
        if backend.name != 'postgresql':
            raise unittest.SkipTest(
                "PostgreSQL only: SQLite has neither row locks nor "
                "serialization failures")
        cls.sandbox = start_server()
        cls.addClassCleanup(cls.sandbox.stop)
        super().setUpClass()
        cls.tryton = TrytonServer().start()
        cls.addClassCleanup(cls.tryton.stop)

    @classmethod
    def setUpDatabase(cls):
        load_translations('fr')
        _setup_database(cls.sandbox.test_base_url)

    def setUp(self):
        super().setUp()
        self.return_url = (
            f'{self.tryton.url}/{DB_NAME}/r/account_payment_ogone/return')

    def new_payments(self, amounts, card=False):
        """Processing payments, with their checkout link tokens: by checkout
        link, or charged on the saved card (processed together: their
        charges are one queued task, run when the test says)"""
        pool = Pool(DB_NAME)
        Company = pool.get('company.company')
        Journal = pool.get('account.payment.journal')
        Party = pool.get('party.party')
        Payment = pool.get('account.payment')
        Alias = pool.get('account.payment.ogone.alias')
        with Transaction().start(DB_NAME, 1) as transaction:
            company, = Company.search([])
            with set_company(company):
                journal, = Journal.search([])
                party, = Party.search([('name', '=', "Client")])
                alias = Alias.search([])[0] if card else None
                payments = Payment.create([{
                            'company': company.id, 'journal': journal.id,
                            'kind': 'receivable', 'party': party.id,
                            'amount': Decimal(amount), 'reference': "INV-PG",
                            'ogone_alias': alias.id if alias else None}
                        for amount in amounts])
                Payment.submit(payments)
                if card:
                    Payment.process(payments)
                else:
                    # Its checkout link, as the Ogone Checkout button gives
                    for payment in payments:
                        payment.process_ogone()
                transaction.commit()
                return [(p.id, p.ogone_checkout_id) for p in payments]

    def new_payment(self, amount, card=False):
        "A processing payment; by checkout link, or charged on the saved card"
        return self.new_payments([amount], card=card)[0]

    def open_checkout(self, token):
        "The ORDERID the customer is sent to Ogone with"
        response = requests.get(
            f'{self.tryton.url}/{DB_NAME}/r/account_payment_ogone/'
            f'checkout/{token}', timeout=30)
        self.assertEqual(response.status_code, 200, response.text)
        order_id, = set(
            v for n, v in re.findall(
                r'<input type="hidden" name="([^"]*)" value="([^"]*)"',
                response.text) if n == 'ORDERID')
        return order_id

    def feedback(self, order_id, status, amount, **extra):
        return signed_feedback(
            order_id, status, amount, currency='EUR',
            passphrase=DEFAULT_MERCHANT.sha_out, **extra)

    def send(self, params, source='server', **headers):
        if source == 'server':
            return requests.post(
                self.return_url, data=params, timeout=60, headers=headers)
        return requests.get(
            self.return_url, params=params, timeout=60, headers=headers)

    def waiting_for_locks(self):
        "How many connections of the database wait for a lock"
        connection, end = self.other_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = %s AND wait_event_type = 'Lock'",
                (DB_NAME,))
            count, = cursor.fetchone()
            return count
        finally:
            end()

    def record_retries(self):
        logger = logging.getLogger('trytond')
        handler = RecordRetries()
        previous = logger.level
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)

        def stop():
            logger.removeHandler(handler)
            logger.setLevel(previous)
        self.addCleanup(stop)
        return handler

    def assertTranslated(self, response, code, message):
        po = {e.msgctxt: e.msgstr for e in polib.pofile(locale_file(code))}
        for name in [f'{message}_title', message]:
            self.assertIn(
                po[f'model:ir.message,text:{name}'], unescape(response.text))

    def test_feedback_past_the_lock_timeout(self):
        "Locked too long: 503 for Ogone, a translated page for the customer"
        self.configure(
            account_payment_ogone={'lock_timeout': '1'},
            database={'retry': '1'})
        payment_id, token = self.new_payment('30.00')
        order_id = self.open_checkout(token)
        params = self.feedback(order_id, 9, '30')
        release = self.hold_lock(payment_id)
        try:
            server = self.send(params, 'server')
            browser = self.send(params, 'browser', **{
                    'Accept-Language': 'fr'})
        finally:
            release()
        self.assertEqual(server.status_code, 503)
        self.assertEqual(server.headers['Content-Type'], 'text/plain')
        self.assertEqual(server.text, 'Service Unavailable')
        self.assertEqual(browser.status_code, 503)
        self.assertIn('text/html', browser.headers['Content-Type'])
        self.assertTranslated(browser, 'fr', 'msg_page_unavailable')
        for text in ['Traceback', 'lock', 'LockNotAvailable', 'psycopg']:
            self.assertNotIn(text, browser.text.split('</style>')[-1])
        self.assertEqual(payment_outcome(payment_id)['feedbacks'], [])

        # Ogone sends its feedback again, the customer reloads the page
        self.assertEqual(self.send(params, 'server').status_code, 200)
        self.assertEqual(self.send(params, 'browser').status_code, 200)
        payment = payment_outcome(payment_id)
        self.assertEqual((payment['state'], payment['status']),
            ('succeeded', '9'))
        self.assertEqual(payment['feedbacks'], [
                ('server', '9', True), ('browser', '9', False)])

    def test_duplicate_past_the_lock_timeout(self):
        "A duplicate waits for the payment's lock no longer than the others"
        self.configure(
            account_payment_ogone={'lock_timeout': '1'},
            database={'retry': '1'})
        payment_id, token = self.new_payment('30.50')
        order_id = self.open_checkout(token)
        params = self.feedback(order_id, 9, '30.5')
        self.assertEqual(self.send(params, 'server').status_code, 200)
        release = self.hold_lock(payment_id)
        try:
            started = time.monotonic()
            response = self.send(params, 'server')
            waited = time.monotonic() - started
        finally:
            release()
        self.assertEqual(response.status_code, 503)
        # Not an assertion on speed: the default timeout is 10 s, and
        # without one the request would wait until the lock is released.
        self.assertLess(waited, 9)
        self.assertEqual(payment_outcome(payment_id)['feedbacks'], [
                ('server', '9', True)])
        self.assertEqual(self.send(params, 'server').status_code, 200)
        self.assertEqual(payment_outcome(payment_id)['feedbacks'], [
                ('server', '9', True), ('server', '9', False)])

    def test_lock_gives_the_timeout_back(self):
        "The module's lock timeout is only for its lock"
        from ..locking import lock_rows
        payment_id, _ = self.new_payment('30.75')
        with Transaction().start(DB_NAME, 0) as transaction:
            Payment = Pool(DB_NAME).get('account.payment')
            cursor = transaction.connection.cursor()
            cursor.execute("SET LOCAL lock_timeout = '4321ms'")
            lock_rows(Payment, [Payment(payment_id)])
            cursor.execute('SHOW lock_timeout')
            self.assertEqual(cursor.fetchone()[0], '4321ms')

    def test_feedback_after_a_concurrent_update(self):
        "The payment changed while the feedback waited: retried, applied once"
        retries = self.record_retries()
        payment_id, token = self.new_payment('31.00')
        order_id = self.open_checkout(token)
        params = self.feedback(order_id, 9, '31')
        release = self.hold_lock(payment_id, update=True)
        with ThreadPoolExecutor(max_workers=1) as executor:
            try:
                sent = executor.submit(self.send, params, 'server')
                wait_until(lambda: self.waiting_for_locks() >= 1)
            finally:
                release(commit=True)
            response = sent.result()
        self.assertEqual(response.status_code, 200, response.text)
        self.assertGreaterEqual(retries.count, 1)
        payment = payment_outcome(payment_id)
        self.assertEqual((payment['state'], payment['status']),
            ('succeeded', '9'))
        self.assertEqual(payment['feedbacks'], [('server', '9', True)])

    def test_burst_of_distinct_feedbacks(self):
        "Ogone's news of one payment all at once, its row written meanwhile"
        retries = self.record_retries()
        payment_id, token = self.new_payment('32.00')
        order_id = self.open_checkout(token)
        # The same payment seen at different times: being processed, paid,
        # by the server and on the customer's return
        news = [(status, source) for status in [91, 9]
            for source in ['server', 'browser']] * 3
        start = threading.Barrier(len(news) + 1)

        def send(item):
            status, source = item
            start.wait(timeout=30)
            return self.send(
                self.feedback(order_id, status, '32'), source)
        release = self.hold_lock(payment_id, update=True)
        with ThreadPoolExecutor(max_workers=len(news)) as executor:
            try:
                sent = list(map(lambda n: executor.submit(send, n), news))
                start.wait(timeout=30)
                wait_until(lambda: self.waiting_for_locks() >= 3)
            finally:
                release(commit=True)
            responses = [s.result() for s in sent]
        self.assertEqual(
            Counter(r.status_code for r in responses), {200: len(news)},
            [r.text for r in responses if r.status_code != 200][:1])
        self.assertGreaterEqual(retries.count, 1)
        payment = payment_outcome(payment_id)
        self.assertEqual((payment['state'], payment['status']),
            ('succeeded', '9'))
        # Every piece of news is in the history, one moved it to paid
        self.assertEqual(
            Counter((s, st) for s, st, _ in payment['feedbacks']),
            Counter((source, str(status)) for status, source in news))
        self.assertEqual(
            [st for _, st, applied in payment['feedbacks'] if applied][-1:],
            ['9'])
        self.assertEqual(
            len([1 for _, st, applied in payment['feedbacks']
                    if applied and st == '9']), 1)

    def test_duplicate_feedback_while_the_payment_changes(self):
        "A duplicate of the news that settled a payment changed meanwhile flags it for review"
        changes = [
            ('amount', "UPDATE account_payment SET amount = 36 "
                "WHERE id = %s"),
            ('draft', "UPDATE account_payment SET state = 'draft' "
                "WHERE id = %s"),
            ]
        for name, change in changes:
            with self.subTest(change=name):
                payment_id, token = self.new_payment('33.00')
                order_id = self.open_checkout(token)
                params = self.feedback(order_id, 9, '33')
                self.assertEqual(self.send(params, 'server').status_code, 200)
                # The accountant's change is not committed yet when the
                # duplicate comes: it waits for it and sees it
                connection, end = self.other_connection()
                connection.cursor().execute(change, (payment_id,))
                with ThreadPoolExecutor(max_workers=1) as executor:
                    try:
                        sent = executor.submit(self.send, params, 'server')
                        wait_until(
                            lambda: self.waiting_for_locks() >= 1)
                    finally:
                        end(commit=True)
                    response = sent.result()
                self.assertEqual(response.status_code, 200, response.text)
                self.assertEqual(payment_outcome(payment_id)['feedbacks'], [
                        ('server', '9', True), ('server', '9', False)])
                with Transaction().start(DB_NAME, 0):
                    Payment = Pool(DB_NAME).get('account.payment')
                    self.assertTrue(Payment(payment_id).ogone_review)

    def sandbox_transactions(self, payment_id):
        return sandbox_transactions(self.sandbox.url, f'PG-{payment_id}-')

    def test_answers_of_a_group_one_of_whose_payments_is_locked(self):
        """The answers of a group's charges are applied together; when one
        payment is locked by then, the others are applied one by one and the
        locked one is left to the reconciliation's query, charged once"""
        self.configure(
            account_payment_ogone={'lock_timeout': '1'},
            database={'retry': '0'})
        (first, _), (second, _), (last, _) = self.new_payments(
            ['41.00', '42.00', '43.00'], card=True)
        task, = pending_tasks()
        # The last answer comes late: meanwhile, another connection locks
        # the first payment, charged already
        delay_order(self.sandbox.url, f'PG-{last}-1', 4)
        with self.assertLogs(
                'trytond_payment_ogone.directlink', 'WARNING') as logs:
            self.run_task_locking(
                task, lambda: self.sandbox_transactions(second), first)
        self.assertIn(
            f'Ogone answer for PG-{first}-1 of payment {first} not applied',
            '\n'.join(logs.output))
        self.assertEqual(pending_tasks(), [])
        for payment_id in [second, last]:
            self.assertEqual(
                payment_outcome(payment_id)['feedbacks'],
                [('directlink', '9', True)])
            self.assertEqual(payment_outcome(payment_id)['state'], 'succeeded')
        self.assertEqual(payment_outcome(first), {
                'state': 'processing', 'status': None,
                'order_id': f'PG-{first}-1', 'feedbacks': []})

        with Transaction().start(DB_NAME, 0):
            Payment = Pool(DB_NAME).get('account.payment')
            Payment.ogone_query([Payment(first)])
        self.assertEqual(payment_outcome(first)['feedbacks'],
            [('query', '9', True)])
        self.assertEqual(payment_outcome(first)['state'], 'succeeded')
        for payment_id in [first, second, last]:
            self.assertEqual(
                [t['orderid'] for t in self.sandbox_transactions(payment_id)],
                [f'PG-{payment_id}-1'])

    def test_charge_while_the_payment_is_locked(self):
        "A charge task that cannot lock its payment runs again later, once"
        from trytond.worker import run_task

        from .tools import run_worker
        self.configure(
            account_payment_ogone={'lock_timeout': '1'},
            database={'retry': '1'})
        payment_id, _ = self.new_payment('33.00', card=True)
        tasks = pending_tasks()
        self.assertEqual(len(tasks), 1)
        release = self.hold_lock(payment_id)
        try:
            for task_id in tasks:
                run_task(DB_NAME, task_id)
        finally:
            release()
        self.assertEqual(self.sandbox_transactions(payment_id), [])
        self.assertEqual(payment_outcome(payment_id)['state'], 'processing')
        # Rescheduled by trytond; the charge cron queues one more meanwhile
        rescheduled = pending_tasks()
        self.assertEqual(len(rescheduled), 1)
        self.assertNotEqual(rescheduled, tasks)
        with Transaction().start(DB_NAME, 0) as transaction:
            pool = Pool(DB_NAME)
            Company = pool.get('company.company')
            company, = Company.search([])
            with set_company(company):
                pool.get('account.payment').ogone_charge()
            transaction.commit()
        self.assertEqual(len(pending_tasks()), 2)

        run_worker()
        charges = self.sandbox_transactions(payment_id)
        self.assertEqual(
            [(t['orderid'], t['status']) for t in charges],
            [(f'PG-{payment_id}-1', 9)])
        payment = payment_outcome(payment_id)
        self.assertEqual((payment['state'], payment['status']),
            ('succeeded', '9'))
        self.assertEqual(pending_tasks(), [])
