"""Correctly signed feedback arriving where it should not: another account's signature, another database's
order. Refused or history only, never a payment moved. (An old feedback replayed after a refund is in the
refund scenario, where the refund really went through the sandbox.)"""
import os
import sqlite3

import requests

from trytond import backend, config
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, RouteTestCase, drop_db
from trytond.transaction import Transaction

from .test_route import INPUT, _setup_database
from .tools import (
    SHA_OUT, TrytonServer, create_submitted_payment, signed_feedback)

OTHER_SHA_OUT = 'replay_other_account_sha_out_3'


def _copy_database(name):
    "A copy of the test database under name, as an administrator makes one"
    if backend.name == 'sqlite':
        source = backend.Database(DB_NAME).connect()
        connection = source.get_connection()
        try:
            target = os.path.join(
                config.get('database', 'path'), f'{name}.sqlite')
            with sqlite3.connect(target) as copy:
                connection.backup(copy)
            copy.close()
        finally:
            source.put_connection(connection)
    else:
        # A template must have no other connection
        backend.Database(DB_NAME).close()
        database = backend.Database().connect()
        connection = database.get_connection(autocommit=True)
        try:
            database.create(connection, name, template=DB_NAME)
        finally:
            database.put_connection(connection)
    with Transaction().start(name, 0, readonly=True):
        Pool(name).init()


class AccountPaymentOgoneReplayTestCase(RouteTestCase):
    "Replayed and misdirected feedback in Account Payment Ogone"
    module = 'account_payment_ogone'

    @classmethod
    def setUpDatabase(cls):
        _setup_database()
        pool = Pool()
        Account = pool.get('account.payment.ogone.account')
        Journal = pool.get('account.payment.journal')
        account, = Account.search([('pspid', '=', 'SHOP')])
        # The database name is the prefix, as for databases sharing a PSPID
        account.order_id_prefix = None
        account.save()
        other = Account(
            name="Other shop", pspid='OTHERSHOP', api_user_id='OTHERAPI',
            api_password='other-api-password', sha_in_secret='replay_other_account_sha_in_3',
            sha_out_secret=OTHER_SHA_OUT, environment='custom',
            base_url='http://127.0.0.1:9/ncol/test/', order_id_prefix='other')
        other.save()
        journal, = Journal.search([('name', '=', "Ogone")])
        Journal(name="Other shop", process_method='ogone', ogone_account=other,
            currency=journal.currency, company=journal.company).save()

    def setUp(self):
        super().setUp()
        if DB_NAME == ':memory:':
            self.skipTest("a server thread cannot see an in-memory database")
        self.server = TrytonServer().start()
        self.addCleanup(self.server.stop)
        self.http = requests.Session()
        self.addCleanup(self.http.close)

    def url(self, route, database=DB_NAME):
        return f'{self.server.url}/{database}/r/account_payment_ogone/{route}'

    def create_payment(self, journal="Ogone", database=DB_NAME):
        payment_id, token = create_submitted_payment(database, journal)
        page = self.http.get(
            self.url(f'checkout/{token}', database), timeout=60)
        self.assertEqual(page.status_code, 200, page.text)
        return payment_id, dict(INPUT.findall(page.text))['ORDERID']

    def state(self, database=DB_NAME):
        "The payments, their history and the refusals of a database"
        pool = Pool(database)
        Payment = pool.get('account.payment')
        Refusal = pool.get('account.payment.ogone.refusal')
        with Transaction().start(database, 0, readonly=True):
            return {
                'payments': [
                    (p.id, p.state, p.amount, p.ogone_status,
                        p.ogone_order_id, p.ogone_pay_id,
                        len(p.ogone_feedbacks))
                    for p in Payment.search([], order=[('id', 'ASC')])],
                'refusals': [
                    (r.account.pspid, r.orderid, r.cause)
                    for r in Refusal.search([], order=[('id', 'ASC')])],
                }

    def test_signed_with_another_accounts_passphrase(self):
        "A feedback signed by another account of the database: 400, refusal"
        payment_id, order_id = self.create_payment()
        _, other_order_id = self.create_payment("Other shop")
        before = self.state()
        # Everything right but the passphrase: the other account's own
        forged = signed_feedback(
            order_id, 9, '42.50', passphrase=OTHER_SHA_OUT)
        for method in ['post', 'get']:
            with self.subTest(method=method):
                response = getattr(self.http, method)(
                    self.url('return'), timeout=60,
                    **{'data' if method == 'post' else 'params': forged})
                self.assertEqual(response.status_code, 400)
                self.assertNotIn(OTHER_SHA_OUT, response.text)
                self.assertNotIn(SHA_OUT, response.text)
        after = self.state()
        self.assertEqual(after['payments'], before['payments'])
        # Shown on the account whose ORDERID it carried, for its administrator
        self.assertEqual(after['refusals'][len(before['refusals']):], [
                ('SHOP', order_id, 'passphrase')] * 2)
        # The other account's own feedback is signed with that passphrase
        response = self.http.post(self.url('return'), timeout=60,
            data=signed_feedback(
                other_order_id, 9, '42.50', passphrase=OTHER_SHA_OUT))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(
            self.state()['payments'][0], before['payments'][0])

    def test_feedback_of_another_database_sharing_the_pspid(self):
        "A payment of database A paid: its feedback sent to B is unknown in B"
        copy = f'{DB_NAME}_copy'
        _copy_database(copy)
        self.addCleanup(drop_db, copy)
        # The same payment number in both, for the same amount, signed with
        # the passphrase both share: only the ORDERID's prefix differs
        payment_id, order_id = self.create_payment()
        copy_payment_id, copy_order_id = self.create_payment(database=copy)
        self.assertEqual(copy_payment_id, payment_id)
        self.assertNotEqual(copy_order_id, order_id)
        before = self.state(copy)

        feedback = signed_feedback(order_id, 9, '42.50')
        response = self.http.post(
            self.url('return', copy), data=feedback, timeout=60)
        self.assertEqual(response.status_code, 404)
        response = self.http.get(
            self.url('return', copy), params=feedback, timeout=60)
        self.assertEqual(response.status_code, 404)
        self.assertEqual(self.state(copy), before)

        # Where it belongs, the same feedback pays
        response = self.http.post(self.url('return'), data=feedback, timeout=60)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self.state()['payments'][-1][1], 'succeeded')
        self.assertEqual(self.state(copy), before)
