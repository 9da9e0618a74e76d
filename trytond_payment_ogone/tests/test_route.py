"""The checkout and return routes, in-process, with feedback signed like Ogone signs it."""
import base64
import contextlib
import io
import logging
import re
import threading
import unittest
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from unittest import mock
from html import unescape
from urllib.parse import urlencode, urlsplit

import polib
import requests
from ogone_core import compute_shasign

from trytond import backend
from trytond.model.exceptions import AccessError, ValidationError
from trytond.modules.account_payment.exceptions import PaymentValidationError
from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    DB_NAME, RouteTestCase, with_transaction)
from trytond.transaction import Transaction

from ..account import RENAMED_COLUMNS, SECRET_MASK
from .tools import (
    LANGUAGES, SHA_IN, SHA_OUT, BusyDatabaseMixin, TrytonServer,
    create_company, create_submitted_payment, load_translations, locale_file,
    signed_feedback)

INPUT = re.compile(r'<input type="hidden" name="([^"]*)" value="([^"]*)"')


def _setup_database():
    pool = Pool()
    Currency = pool.get('currency.currency')
    Account = pool.get('account.payment.ogone.account')
    Journal = pool.get('account.payment.journal')

    company = create_company()
    eur = company.currency
    usd = Currency(name="US Dollar", code='USD', symbol="$", digits=2)
    usd.save()
    account = Account(
        name="Shop", pspid='SHOP', api_user_id='SHOPAPI',
        api_password='api-password', sha_in_secret=SHA_IN, sha_out_secret=SHA_OUT,
        environment='custom', base_url='http://127.0.0.1:9/ncol/test/',
        order_id_prefix='shop')
    account.save()
    journal = Journal(
        name="Ogone", process_method='ogone', ogone_account=account,
        currency=eur, company=company)
    journal.save()
    usd_journal = Journal(
        name="Ogone USD", process_method='ogone', ogone_account=account,
        currency=usd, company=company)
    usd_journal.save()
    latin_account = Account(
        name="Shop ISO-8859-1", pspid='SHOPLATIN', api_user_id='SHOPAPI',
        api_password='api-password', sha_in_secret=SHA_IN,
        sha_out_secret=SHA_OUT, charset='iso-8859-1',
        environment='custom', base_url='http://127.0.0.1:9/ncol/test/',
        order_id_prefix='latin')
    latin_account.save()
    latin_journal = Journal(
        name="Ogone ISO-8859-1", process_method='ogone',
        ogone_account=latin_account, currency=eur, company=company)
    latin_journal.save()


class AccountPaymentOgoneRouteTestCase(BusyDatabaseMixin, RouteTestCase):
    "Test the routes of Account Payment Ogone"
    module = 'account_payment_ogone'

    @classmethod
    def setUpDatabase(cls):
        _setup_database()
        load_translations(*LANGUAGES)

    def create_payment(self, amount='42.50', journal="Ogone", state='submitted',
            lang=None, party_name="Jane Doe"):
        return create_submitted_payment(
            DB_NAME, journal, amount=amount, lang=lang, party_name=party_name,
            submit=state != 'draft')

    def payment(self, payment_id):
        with Transaction().start(DB_NAME, 0):
            Payment = Pool(DB_NAME).get('account.payment')
            payment = Payment(payment_id)
            return {
                'state': payment.state,
                'status': payment.ogone_status,
                'pay_id': payment.ogone_pay_id,
                'order_id': payment.ogone_order_id,
                'capture': payment.ogone_capture_needed,
                'alias': payment.ogone_alias.alias
                if payment.ogone_alias else None,
                'feedbacks': [
                    (f.source, f.status, f.applied)
                    for f in reversed(payment.ogone_feedbacks)],
                'orders': len(payment.ogone_orders),
                }

    def checkout(self, token, **args):
        client = self.client()
        query = f'?{urlencode(args)}' if args else ''
        return self.without_secrets(client.get(
            f'/{self.db_name}/r/account_payment_ogone/checkout/{token}'
            + query))

    def open_checkout(self, token, **args):
        response = self.checkout(token, **args)
        self.assertEqual(response.status_code, 200, response.text)
        return dict(
            (unescape(n), unescape(v))
            for n, v in INPUT.findall(response.text))

    def send(self, params, source='server'):
        client = self.client()
        url = f'/{self.db_name}/r/account_payment_ogone/return'
        if source == 'server':
            return self.without_secrets(client.post(url, data=params))
        return self.without_secrets(client.get(url, query_string=params))

    def send_encoded(self, params, encoding, source='server'):
        "Send the feedback with its values encoded like a page of that charset"
        client = self.client()
        url = f'/{self.db_name}/r/account_payment_ogone/return'
        body = urlencode(params, encoding=encoding)
        if source == 'server':
            return self.without_secrets(client.post(
                url, data=body,
                content_type='application/x-www-form-urlencoded'))
        return self.without_secrets(client.get(url, query_string=body))

    def without_secrets(self, response):
        "The response, once checked that it shows no passphrase or password"
        for secret in [SHA_IN, SHA_OUT, 'api-password']:
            self.assertNotIn(secret.encode(), response.data)
        return response

    def test_checkout_page_posts_signed_form(self):
        "The checkout page posts a form signed with SHA-IN to the hosted page"
        payment_id, token = self.create_payment()
        response = self.checkout(token)
        self.assertEqual(response.status_code, 200)
        self.assertIn(
            'action="http://127.0.0.1:9/ncol/test/orderstandard_utf8.asp"',
            response.text)
        fields = self.open_checkout(token)
        self.assertEqual(fields['PSPID'], 'SHOP')
        self.assertEqual(fields['AMOUNT'], '4250')
        self.assertEqual(fields['CURRENCY'], 'EUR')
        self.assertEqual(fields['OPERATION'], 'SAL')
        # Opened twice: one attempt, one ORDERID
        self.assertEqual(fields['ORDERID'], f'shop-{payment_id}-1')
        self.assertTrue(fields['ACCEPTURL'].endswith(
                f'/{self.db_name}/r/account_payment_ogone/return'))
        for name in ['DECLINEURL', 'EXCEPTIONURL', 'CANCELURL']:
            self.assertEqual(fields[name], fields['ACCEPTURL'])
        self.assertNotIn('ALIAS', fields)
        # For a PSPID shared by databases: Ogone puts it in <PARAMVAR>
        self.assertEqual(fields['PARAMVAR'], self.db_name)
        shasign = fields.pop('SHASIGN')
        self.assertEqual(
            compute_shasign(fields, SHA_IN, 'sha512', direction='in'),
            shasign)
        self.assertEqual(self.payment(payment_id)['orders'], 1)
        self.assertEqual(
            self.payment(payment_id)['order_id'], f'shop-{payment_id}-1')

    def test_checkout_save_card(self):
        "Asking to save the card sends ALIAS and ALIASUSAGE"
        _, token = self.create_payment()
        fields = self.open_checkout(token, save_card='1')
        self.assertRegex(fields['ALIAS'], r'^shop-[0-9a-f]{32}$')
        self.assertIn("Ogone Shop", fields['ALIASUSAGE'])

    def test_checkout_authorization_only(self):
        "An authorization-only journal sends OPERATION RES"
        pool = Pool(DB_NAME)
        Journal = pool.get('account.payment.journal')
        with Transaction().start(DB_NAME, 0):
            journal = Journal(Journal.create([{
                            'name': "Ogone RES",
                            'process_method': 'ogone',
                            'ogone_account': Journal.search([
                                    ('name', '=', "Ogone")])[0]
                            .ogone_account.id,
                            'ogone_authorization_only': True,
                            'currency': Journal.search([
                                    ('name', '=', "Ogone")])[0].currency.id,
                            'company': Journal.search([
                                    ('name', '=', "Ogone")])[0].company.id,
                            }])[0])
            self.assertTrue(journal.ogone_authorization_only)
        _, token = self.create_payment(journal="Ogone RES")
        self.assertEqual(self.open_checkout(token)['OPERATION'], 'RES')

    def test_checkout_language(self):
        "The hosted page and the result page follow the party's language"
        payment_id, token = self.create_payment(lang='fr')
        fields = self.open_checkout(token)
        self.assertEqual(fields['LANGUAGE'], 'fr_FR')

    def test_checkout_unknown_token(self):
        "An unknown checkout token is not found"
        self.create_payment()
        self.assertEqual(self.checkout('nope').status_code, 404)

    def test_checkout_closed(self):
        "A payment that is not waiting for the customer cannot be paid"
        payment_id, token = self.create_payment()
        order_id = self.open_checkout(token)['ORDERID']
        self.send(signed_feedback(order_id, 2, '42.50'))
        response = self.checkout(token)
        self.assertEqual(response.status_code, 410)
        self.assertIn("can no longer be paid", response.text)

    def test_checkout_paid(self):
        "Opening the link of a paid payment shows it is paid"
        payment_id, token = self.create_payment()
        order_id = self.open_checkout(token)['ORDERID']
        self.send(signed_feedback(order_id, 9, '42.50'))
        response = self.checkout(token)
        self.assertEqual(response.status_code, 200)
        self.assertIn("Payment accepted", response.text)
        self.assertEqual(self.payment(payment_id)['orders'], 1)

    def test_paid_server(self):
        "A paid server-to-server feedback succeeds the payment"
        payment_id, token = self.create_payment()
        order_id = self.open_checkout(token)['ORDERID']
        response = self.send(signed_feedback(order_id, 9, '42.50'))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.text, 'OK')
        payment = self.payment(payment_id)
        self.assertEqual(payment['state'], 'succeeded')
        self.assertEqual(payment['status'], '9')
        self.assertEqual(payment['pay_id'], '3000001')
        self.assertEqual(payment['feedbacks'], [('server', '9', True)])

    def test_paid_browser(self):
        "The browser coming back gets a result page"
        payment_id, token = self.create_payment()
        order_id = self.open_checkout(token)['ORDERID']
        response = self.send(
            signed_feedback(order_id, 9, '42.5'), source='browser')
        self.assertEqual(response.status_code, 200)
        self.assertIn('text/html', response.content_type)
        self.assertIn("Payment accepted", response.text)
        self.assertEqual(
            self.payment(payment_id)['feedbacks'], [('browser', '9', True)])

    def assertTranslated(self, response, code, message):
        "The page shows the title and text of the message from <code>.po"
        po = {e.msgctxt: e.msgstr for e in polib.pofile(locale_file(code))}
        for name in [f'{message}_title', message]:
            text = po[f'model:ir.message,text:{name}']
            self.assertIn(text, unescape(response.text))

    def test_result_page_translated(self):
        "The customer's result page is in the party's language, from its po"
        for code, title in [
                ('fr', "Paiement accepté"),
                ('nl', "Betaling aanvaard"),
                ('de', "Zahlung erfolgreich"),
                ]:
            with self.subTest(language=code):
                payment_id, token = self.create_payment(lang=code)
                order_id = self.open_checkout(token)['ORDERID']
                response = self.send(
                    signed_feedback(order_id, 9, '42.50'), source='browser')
                self.assertEqual(response.status_code, 200)
                self.assertIn(title, response.text)
                self.assertNotIn("Payment accepted", response.text)
                self.assertTranslated(response, code, 'msg_result_paid')
                self.assertEqual(
                    self.payment(payment_id)['state'], 'succeeded')

    def test_result_pages_french(self):
        "A French customer gets every page in French"
        payment_id, token = self.create_payment(lang='fr')
        response = self.checkout(token)
        self.assertIn(
            "Redirection vers la page de paiement sécurisée", response.text)
        order_id = self.open_checkout(token)['ORDERID']
        response = self.send(
            signed_feedback(order_id, 51, '42.50'), source='browser')
        self.assertTranslated(response, 'fr', 'msg_result_pending')
        response = self.send(
            signed_feedback(order_id, 2, '42.50'), source='browser')
        self.assertIn("Paiement refusé", response.text)
        self.assertTranslated(response, 'fr', 'msg_result_refused')
        response = self.checkout(token)
        self.assertEqual(response.status_code, 410)
        self.assertIn("Paiement clôturé", response.text)
        self.assertTranslated(response, 'fr', 'msg_checkout_closed')

    def test_duplicate_feedback(self):
        "The same feedback twice is recorded twice and applied once"
        payment_id, token = self.create_payment()
        order_id = self.open_checkout(token)['ORDERID']
        params = signed_feedback(order_id, 9, '42.50')
        self.assertEqual(self.send(params, 'browser').status_code, 200)
        self.assertEqual(self.send(params, 'server').status_code, 200)
        self.assertEqual(self.send(params, 'server').status_code, 200)
        payment = self.payment(payment_id)
        self.assertEqual(payment['state'], 'succeeded')
        self.assertEqual(payment['feedbacks'], [
                ('browser', '9', True),
                ('server', '9', False),
                ('server', '9', False),
                ])

    def sql_sent(self, params):
        """Send the feedback; return the statements its request sent to
        PostgreSQL, each with the round trip that carried it (a pipeline
        carries all of its statements in one), and the number of round
        trips, the commit left out"""
        import psycopg
        execute, pipeline = psycopg.Cursor.execute, psycopg.Connection.pipeline
        sent = []
        trips = {'count': 0, 'pipeline': None}

        def record(cursor, query, *args, **kwargs):
            text = query.decode() if isinstance(query, bytes) else str(query)
            # The connection pool's check of the connection, as for any
            # request, is an empty query
            if text.strip():
                if trips['pipeline'] is None:
                    trips['count'] += 1
                sent.append((trips['pipeline'] or trips['count'], text))
            return execute(cursor, query, *args, **kwargs)

        @contextlib.contextmanager
        def record_pipeline(connection):
            trips['count'] += 1
            trips['pipeline'] = trips['count']
            try:
                with pipeline(connection) as result:
                    yield result
            finally:
                trips['pipeline'] = None

        with mock.patch.object(psycopg.Cursor, 'execute', record), \
                mock.patch.object(
                    psycopg.Connection, 'pipeline', record_pipeline):
            self.assertEqual(self.send(params).status_code, 200)
        return sent, len({trip for trip, _ in sent})

    @unittest.skipIf(backend.name != 'postgresql',
        "PostgreSQL's round trips; SQLite runs in the process")
    def test_duplicate_feedback_costs_one_read_and_one_insert(self):
        "A duplicate of a final feedback: one read, one insert that takes the share lock"
        payment_id, token = self.create_payment()
        order_id = self.open_checkout(token)['ORDERID']
        params = signed_feedback(order_id, 9, '42.50')
        self.assertEqual(self.send(params).status_code, 200)

        statements, round_trips = self.sql_sent(params)
        queries = [text for _, text in statements
            if 'lock_timeout' not in text]
        self.assertEqual(len(queries), 2, queries)
        read, insert = queries
        self.assertTrue(read.startswith('SELECT'), read)
        self.assertIn('"account_payment_ogone_order"', read)
        self.assertTrue(insert.startswith(
                'INSERT INTO "account_payment_ogone_feedback"'), insert)
        self.assertIn('FOR SHARE', insert)
        # The read, then the lock timeout and the insert in one pipeline
        self.assertEqual(round_trips, 2, statements)
        self.assertEqual(self.payment(payment_id)['feedbacks'], [
                ('server', '9', True), ('server', '9', False)])

    @unittest.skipIf(backend.name != 'postgresql',
        "PostgreSQL's round trips; SQLite runs in the process")
    def test_first_feedback_writes_the_payment_by_its_transitions(self):
        "What Ogone said is one UPDATE; no payment write is empty"
        payment_id, token = self.create_payment()
        order_id = self.open_checkout(token)['ORDERID']
        statements, _ = self.sql_sent(signed_feedback(order_id, 9, '42.50'))
        updates = [text for _, text in statements
            if text.startswith('UPDATE "account_payment" ')]
        ogone = [u for u in updates if '"ogone_status"' in u]
        self.assertEqual(len(ogone), 1, updates)
        self.assertNotIn('"state"', ogone[0])
        # Only the transitions write the state: processing, then succeeded;
        # never an UPDATE of no payment (an empty id list)
        self.assertEqual(
            len([u for u in updates if '"state" = ' in u]), 2, updates)
        history = [t for _, t in statements
            if t.startswith('INSERT INTO "account_payment_ogone_feedback"')]
        self.assertEqual(len(history), 1, statements)
        self.assertEqual(self.payment(payment_id)['state'], 'succeeded')

    def test_duplicate_with_odd_values_kept_as_sent(self):
        "The history's INSERT, built once, takes any signed value as data"
        payment_id, token = self.create_payment()
        order_id = self.open_checkout(token)['ORDERID']
        self.assertEqual(self.send(
                signed_feedback(order_id, 9, '42.50')).status_code, 200)
        odd = ["é€" * 3000, "'; DROP TABLE account_payment; --",
            "%s %(x)s ?", "1" * 20]
        for value in odd:
            for source in ['server', 'browser']:
                response = self.send(signed_feedback(
                        order_id, 9, '42.50', PAYID=value, NCERROR=value),
                    source)
                self.assertEqual(response.status_code, 200, value)
        with Transaction().start(DB_NAME, 0):
            Payment = Pool(DB_NAME).get('account.payment')
            payment = Payment(payment_id)
            self.assertEqual(payment.state, 'succeeded')
            kept = [(f.pay_id, f.ncerror) for f in payment.ogone_feedbacks]
            for value in odd:
                self.assertEqual(kept.count((value, value)), 2, value)

    def test_news_writes_what_is_not_stored_yet(self):
        "While news is applied, a write is left out only if the database has its values"
        payment_id, _ = self.create_payment()
        with Transaction().start(DB_NAME, 0) as transaction:
            Payment = Pool(DB_NAME).get('account.payment')
            payment = Payment(payment_id)
            with transaction.set_context(_ogone_news=True):
                payment.ogone_review = True
                Payment.write([payment], {'ogone_review': True})
                Payment.write([payment], {'ogone_capture_needed': False})
            transaction.commit()
        with Transaction().start(DB_NAME, 0):
            Payment = Pool(DB_NAME).get('account.payment')
            self.assertTrue(Payment(payment_id).ogone_review)

    def test_late_pending_after_paid(self):
        "A late pending feedback does not move a paid payment back"
        payment_id, token = self.create_payment()
        order_id = self.open_checkout(token)['ORDERID']
        self.send(signed_feedback(order_id, 9, '42.50'))
        self.send(signed_feedback(order_id, 91, '42.50'))
        self.send(signed_feedback(order_id, 2, '42.50'))
        payment = self.payment(payment_id)
        self.assertEqual(payment['state'], 'succeeded')
        self.assertEqual(payment['status'], '9')
        self.assertEqual(
            [f[2] for f in payment['feedbacks']], [True, False, False])

    def test_pending_then_paid(self):
        "Pending keeps the payment processing until it is paid"
        payment_id, token = self.create_payment()
        order_id = self.open_checkout(token)['ORDERID']
        response = self.send(
            signed_feedback(order_id, 51, '42.50'), source='browser')
        self.assertIn("Payment pending", response.text)
        self.assertEqual(self.payment(payment_id)['state'], 'processing')
        self.send(signed_feedback(order_id, 9, '42.50'))
        self.assertEqual(self.payment(payment_id)['state'], 'succeeded')

    def test_uncertain_stays_processing(self):
        "An uncertain status is neither success nor failure"
        payment_id, token = self.create_payment()
        order_id = self.open_checkout(token)['ORDERID']
        self.send(signed_feedback(order_id, 92, '42.50'))
        payment = self.payment(payment_id)
        self.assertEqual(payment['state'], 'processing')
        self.assertEqual(payment['status'], '92')

    def test_refused_then_paid(self):
        "A refused card fails the payment; paying on a retry succeeds it"
        payment_id, token = self.create_payment()
        order_id = self.open_checkout(token)['ORDERID']
        response = self.send(
            signed_feedback(order_id, 2, '42.50'), source='browser')
        self.assertIn("Payment refused", response.text)
        self.assertEqual(self.payment(payment_id)['state'], 'failed')
        self.send(signed_feedback(order_id, 9, '42.50'))
        self.assertEqual(self.payment(payment_id)['state'], 'succeeded')

    def test_cancelled(self):
        "A customer cancelling fails the payment"
        payment_id, token = self.create_payment()
        order_id = self.open_checkout(token)['ORDERID']
        response = self.send(
            signed_feedback(order_id, 1, '42.50'), source='browser')
        self.assertIn("Payment cancelled", response.text)
        self.assertEqual(self.payment(payment_id)['state'], 'failed')

    def test_authorized_needs_capture(self):
        "An authorization keeps the payment processing, flagged for capture"
        payment_id, token = self.create_payment()
        order_id = self.open_checkout(token)['ORDERID']
        response = self.send(
            signed_feedback(order_id, 5, '42.50'), source='browser')
        self.assertIn("Payment accepted", response.text)
        payment = self.payment(payment_id)
        self.assertEqual(payment['state'], 'processing')
        self.assertTrue(payment['capture'])
        self.send(signed_feedback(order_id, 9, '42.50'))
        payment = self.payment(payment_id)
        self.assertEqual(payment['state'], 'succeeded')
        self.assertFalse(payment['capture'])

    def test_deleted_after_paid(self):
        "A payment deleted at Ogone after it was paid fails"
        payment_id, token = self.create_payment()
        order_id = self.open_checkout(token)['ORDERID']
        self.send(signed_feedback(order_id, 9, '42.50'))
        self.send(signed_feedback(order_id, 7, '42.50'))
        self.assertEqual(self.payment(payment_id)['state'], 'failed')
        self.send(signed_feedback(order_id, 9, '42.50'))
        self.assertEqual(self.payment(payment_id)['state'], 'failed')

    def test_checkout_opened_twice_keeps_one_order(self):
        "A reload or a second tab pays the same ORDERID, which Ogone pays once"
        payment_id, token = self.create_payment()
        first = self.open_checkout(token)
        second = self.open_checkout(token, save_card='1')
        self.assertEqual(first['ORDERID'], second['ORDERID'])
        self.assertNotIn('ALIAS', first)
        self.assertIn('ALIAS', second)
        third = self.open_checkout(token)
        self.assertEqual(third['ORDERID'], first['ORDERID'])
        self.assertNotIn('ALIAS', third)
        self.send(signed_feedback(first['ORDERID'], 9, '42.50'))
        payment = self.payment(payment_id)
        self.assertEqual(payment['state'], 'succeeded')
        self.assertEqual(payment['order_id'], first['ORDERID'])

    def test_reset_to_draft_gives_a_new_order(self):
        "A payment reset to draft and submitted again is a new order at Ogone"
        payment_id, token = self.create_payment()
        first = self.open_checkout(token)['ORDERID']
        with Transaction().start(DB_NAME, 1):
            Payment = Pool(DB_NAME).get('account.payment')
            payment = Payment(payment_id)
            Payment.draft([payment])
            Payment.submit([payment])
            Payment.process_ogone(payment)
            token = payment.ogone_checkout_id
        second = self.open_checkout(token)['ORDERID']
        self.assertEqual(
            (first, second), (f'shop-{payment_id}-1', f'shop-{payment_id}-2'))
        # Money taken on the earlier order is real: it settles the payment,
        # and the checkout closes so that the new order cannot be paid too.
        self.send(signed_feedback(first, 9, '42.50'))
        self.assertEqual(self.payment(payment_id)['state'], 'succeeded')
        self.assertEqual(self.checkout(token).status_code, 200)
        self.assertIn("Payment accepted", self.checkout(token).text)
        self.assertNotIn('payment-form', self.checkout(token).text)

    def _draft_and_submit(self, payment_id, amount=None):
        with Transaction().start(DB_NAME, 1):
            Payment = Pool(DB_NAME).get('account.payment')
            payment = Payment(payment_id)
            Payment.draft([payment])
            if amount is not None:
                payment.amount = Decimal(amount)
                payment.save()
            Payment.submit([payment])
            Payment.process_ogone(payment)
            return payment.ogone_checkout_id

    def review(self, payment_id):
        with Transaction().start(DB_NAME, 0):
            return Pool(DB_NAME).get('account.payment')(payment_id).ogone_review

    def test_paid_on_an_order_whose_amount_changed_since(self):
        "Money on an order of another amount is kept and flagged, never lost"
        payment_id, token = self.create_payment()
        first = self.open_checkout(token)['ORDERID']
        token = self._draft_and_submit(payment_id, amount='50.00')
        # The customer pays the old page: 42.50, what that order asked for
        response = self.send(signed_feedback(first, 9, '42.50'))
        self.assertEqual(response.status_code, 200)
        payment = self.payment(payment_id)
        self.assertEqual(payment['state'], 'submitted')
        self.assertEqual(payment['feedbacks'], [('server', '9', False)])
        self.assertTrue(self.review(payment_id))
        # A feedback of another amount than the order's is still refused
        self.assertEqual(
            self.send(signed_feedback(first, 9, '50.00')).status_code, 400)

    def test_paid_twice(self):
        "A second order paid after the payment succeeded is flagged"
        payment_id, token = self.create_payment()
        first = self.open_checkout(token)['ORDERID']
        token = self._draft_and_submit(payment_id)
        second = self.open_checkout(token)['ORDERID']
        self.send(signed_feedback(second, 9, '42.50', PAYID='3000002'))
        self.assertEqual(self.payment(payment_id)['state'], 'succeeded')
        self.assertFalse(self.review(payment_id))
        self.send(signed_feedback(second, 9, '42.50', PAYID='3000002'))
        self.assertFalse(self.review(payment_id))  # the same news again
        self.send(signed_feedback(first, 9, '42.50', PAYID='3000001'))
        payment = self.payment(payment_id)
        self.assertEqual(
            (payment['state'], payment['pay_id']), ('succeeded', '3000002'))
        self.assertTrue(self.review(payment_id))

    def test_paid_while_in_draft(self):
        "Money reported while the payment is in draft is flagged"
        payment_id, token = self.create_payment()
        order_id = self.open_checkout(token)['ORDERID']
        with Transaction().start(DB_NAME, 1):
            Payment = Pool(DB_NAME).get('account.payment')
            Payment.draft([Payment(payment_id)])
        self.send(signed_feedback(order_id, 9, '42.50'))
        self.assertEqual(self.payment(payment_id)['state'], 'draft')
        self.assertTrue(self.review(payment_id))

    def test_payment_with_orders_cannot_be_deleted(self):
        "The orders given to Ogone keep their payment"
        payment_id, token = self.create_payment()
        self.open_checkout(token)
        with Transaction().start(DB_NAME, 1):
            Payment = Pool(DB_NAME).get('account.payment')
            payment = Payment(payment_id)
            Payment.draft([payment])
            with self.assertRaisesRegex(AccessError, "Ogone orders were sent"):
                Payment.delete([payment])
        unopened, _ = self.create_payment(state='draft')
        with Transaction().start(DB_NAME, 1) as transaction:
            Payment = Pool(DB_NAME).get('account.payment')
            Payment.delete([Payment(unopened)])
            transaction.commit()

    def test_saved_card(self):
        "A successful feedback with the requested alias saves the card"
        pool = Pool(DB_NAME)
        Payment = pool.get('account.payment')
        payment_id, token = self.create_payment()
        fields = self.open_checkout(token, save_card='1')
        self.send(signed_feedback(
                fields['ORDERID'], 9, '42.50', ALIAS=fields['ALIAS']))
        payment = self.payment(payment_id)
        self.assertEqual(payment['alias'], fields['ALIAS'])
        with Transaction().start(DB_NAME, 0):
            alias = Payment(payment_id).ogone_alias
            self.assertEqual(alias.party, Payment(payment_id).party)
            self.assertEqual(alias.card_number, 'XXXXXXXXXXXX1111')
            self.assertEqual(alias.brand, 'VISA')
            self.assertEqual(alias.expiry, '1230')
            self.assertEqual(
                alias.rec_name, 'VISA XXXXXXXXXXXX1111 (12/30)')
            self.assertEqual(
                Payment(payment_id).party.ogone_aliases, (alias,))

    def test_deactivated_alias_stays_deactivated(self):
        "The capture's feedback does not bring back a card deactivated since"
        payment_id, token = self.create_payment()
        fields = self.open_checkout(token, save_card='1')
        alias = fields['ALIAS']
        response = self.send(signed_feedback(
                fields['ORDERID'], 5, '42.50', ALIAS=alias))
        self.assertEqual(response.status_code, 200)
        pool = Pool(DB_NAME)
        Alias = pool.get('account.payment.ogone.alias')
        with Transaction().start(DB_NAME, 1) as transaction:
            record, = Alias.search([('alias', '=', alias)])
            # The customer asked for the card to be forgotten
            Alias.write([record], {'active': False})
            transaction.commit()
        response = self.send(signed_feedback(
                fields['ORDERID'], 9, '42.50', ALIAS=alias))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self.payment(payment_id)['state'], 'succeeded')
        with Transaction().start(DB_NAME, 0):
            self.assertEqual(Alias.search([('alias', '=', alias)]), [])
            record, = Alias.search([
                    ('alias', '=', alias), ('active', '=', False)])
            self.assertEqual(record.card_number, 'XXXXXXXXXXXX1111')

    def test_alias_not_requested(self):
        "An alias the payment did not ask for is not saved"
        payment_id, token = self.create_payment()
        order_id = self.open_checkout(token)['ORDERID']
        self.send(signed_feedback(order_id, 9, '42.50', ALIAS='OTHER'))
        self.assertIsNone(self.payment(payment_id)['alias'])

    def test_refused_card_not_saved(self):
        "A refused payment does not save the card"
        payment_id, token = self.create_payment()
        fields = self.open_checkout(token, save_card='1')
        self.send(signed_feedback(
                fields['ORDERID'], 2, '42.50', ALIAS=fields['ALIAS']))
        self.assertIsNone(self.payment(payment_id)['alias'])

    def test_checkout_iso_8859_1(self):
        "An ISO-8859-1 account posts to the plain page, signed in ISO-8859-1"
        _, token = self.create_payment(
            journal="Ogone ISO-8859-1", party_name="Zoë Müller")
        response = self.checkout(token)
        self.assertIn(
            'action="http://127.0.0.1:9/ncol/test/orderstandard.asp"',
            response.text)
        self.assertIn('accept-charset="iso-8859-1"', response.text)
        fields = self.open_checkout(token)
        self.assertEqual(fields['CN'], "Zoë Müller")
        shasign = fields.pop('SHASIGN')
        self.assertEqual(compute_shasign(
                fields, SHA_IN, 'sha512', direction='in',
                encoding='iso-8859-1'), shasign)
        self.assertNotEqual(compute_shasign(
                fields, SHA_IN, 'sha512', direction='in',
                encoding='utf-8'), shasign)

    def test_checkout_iso_8859_1_other_letters(self):
        "A name ISO-8859-1 cannot write goes to its plain page with ?"
        _, token = self.create_payment(
            journal="Ogone ISO-8859-1", party_name="王 Zoë")
        fields = self.open_checkout(token, save_card='1')
        self.assertEqual(fields['CN'], "? Zoë")
        shasign = fields.pop('SHASIGN')
        self.assertEqual(compute_shasign(
                fields, SHA_IN, 'sha512', direction='in',
                encoding='iso-8859-1'), shasign)

    def test_checkout_utf_8(self):
        "A UTF-8 account posts to the _utf8 page in UTF-8"
        _, token = self.create_payment(party_name="Zoë Müller")
        self.assertIn('accept-charset="utf-8"', self.checkout(token).text)
        fields = self.open_checkout(token)
        shasign = fields.pop('SHASIGN')
        self.assertEqual(compute_shasign(
                fields, SHA_IN, 'sha512', direction='in',
                encoding='utf-8'), shasign)

    def test_feedback_iso_8859_1(self):
        "The feedback of an ISO-8859-1 account is read and checked in it"
        payment_id, token = self.create_payment(
            journal="Ogone ISO-8859-1", party_name="Zoë Müller")
        order_id = self.open_checkout(token)['ORDERID']
        params = signed_feedback(
            order_id, 9, '42.50', encoding='iso-8859-1', CN="Zoë Müller")
        # The same text in UTF-8 is not what the account's page signed
        self.assertRefused(
            payment_id, self.send_encoded(params, 'utf-8'), 400)
        response = self.send_encoded(params, 'iso-8859-1', 'browser')
        self.assertEqual(response.status_code, 200, response.text)
        self.assertIn("Payment accepted", response.text)
        response = self.send_encoded(params, 'iso-8859-1', 'server')
        self.assertEqual(response.status_code, 200, response.text)
        payment = self.payment(payment_id)
        self.assertEqual(payment['state'], 'succeeded')
        self.assertEqual(payment['feedbacks'], [
                ('browser', '9', True), ('server', '9', False)])

    def test_feedback_utf_8(self):
        "The feedback of a UTF-8 account is read and checked in UTF-8"
        payment_id, token = self.create_payment(party_name="Zoë Müller")
        order_id = self.open_checkout(token)['ORDERID']
        params = signed_feedback(order_id, 9, '42.50', CN="Zoë Müller")
        self.assertRefused(
            payment_id, self.send_encoded(params, 'iso-8859-1'), 400)
        response = self.send_encoded(params, 'utf-8', 'browser')
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(self.payment(payment_id)['state'], 'succeeded')

    def test_order_id_the_database_cannot_hold(self):
        "An ORDERID with a NUL or a character Ogone does not use is refused"
        payment_id, token = self.create_payment()
        self.open_checkout(token)
        root = logging.getLogger()
        level = root.level
        # trytond logs every query at DEBUG, which failed on a NUL
        root.setLevel(logging.DEBUG)
        self.addCleanup(root.setLevel, level)
        for order_id in [
                f'shop-{payment_id}-1\x00', '\x00', 'shop é', 'x' * 41]:
            for source in ['server', 'browser']:
                with self.subTest(order_id=order_id, source=source):
                    self.assertRefused(payment_id, self.send(
                            signed_feedback(order_id, 9, '42.50'), source),
                        400)

    def test_checkout_token_the_database_cannot_hold(self):
        "A checkout token with a NUL or too long is not found"
        self.create_payment()
        root = logging.getLogger()
        level = root.level
        root.setLevel(logging.DEBUG)
        self.addCleanup(root.setLevel, level)
        for token in ['%00', 'abc%00def', 'a' * 200, 'caf%C3%A9']:
            with self.subTest(token=token):
                response = self.checkout(token)
                self.assertEqual(response.status_code, 404)
                self.assertIn("This payment link is not valid", response.text)

    def test_not_found_page_translated(self):
        "An unknown link shows the module's page in the browser's language"
        self.create_payment()
        client = self.client()
        for code in LANGUAGES:
            with self.subTest(language=code):
                response = client.get(
                    f'/{self.db_name}/r/account_payment_ogone/checkout/nope',
                    headers={'Accept-Language': f'{code},en;q=0.5'})
                self.assertEqual(response.status_code, 404)
                self.assertIn('text/html', response.content_type)
                self.assertTranslated(response, code, 'msg_page_not_found')

    def test_lock_held_too_long(self):
        "A payment locked past the lock timeout: 503, the module's page"
        if backend.name != 'postgresql':
            self.skipTest("SQLite has no row lock")
        payment_id, token = self.create_payment(lang='nl')
        order_id = self.open_checkout(token)['ORDERID']
        params = signed_feedback(order_id, 9, '42.50')
        self.configure(
            account_payment_ogone={'lock_timeout': '1'},
            database={'retry': '1'})
        release = self.hold_lock(payment_id)
        try:
            response = self.send(params, 'server')
            self.assertEqual(response.status_code, 503)
            self.assertEqual(response.content_type, 'text/plain')
            self.assertEqual(response.text, 'Service Unavailable')
            response = self.client().get(
                f'/{self.db_name}/r/account_payment_ogone/checkout/{token}',
                headers={'Accept-Language': 'nl'})
            self.assertEqual(response.status_code, 503)
            self.assertTranslated(response, 'nl', 'msg_page_unavailable')
            # The page's own style says "display: block"
            page = re.sub(
                r'<style>.*?</style>', '', response.text, flags=re.S)
            self.assertNotIn('lock', page)
            self.assertNotIn('account_payment', page)
        finally:
            release()
        self.assertEqual(self.payment(payment_id)['feedbacks'], [])
        self.assertEqual(self.send(params, 'server').status_code, 200)
        self.assertEqual(self.payment(payment_id)['state'], 'succeeded')

    def test_lock_waits(self):
        "A request waits for the lock of a payment instead of failing"
        if backend.name != 'postgresql':
            self.skipTest("SQLite has no row lock")
        payment_id, token = self.create_payment()
        order_id = self.open_checkout(token)['ORDERID']
        release = self.hold_lock(payment_id)
        timer = threading.Timer(1, release)
        timer.start()
        try:
            response = self.send(signed_feedback(order_id, 9, '42.50'))
        finally:
            timer.join()
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self.payment(payment_id)['state'], 'succeeded')

    def test_concurrent_openings_and_duplicate_feedback(self):
        "10 tabs open one link, 100 duplicates from 20 threads: all answered"
        if DB_NAME == ':memory:':
            self.skipTest("a server thread cannot see an in-memory database")
        payment_id, token = self.create_payment()
        with TrytonServer() as server:
            base = f'{server.url}/{self.db_name}/r/account_payment_ogone'
            tabs = threading.Barrier(10)

            def open_tab(_):
                tabs.wait(timeout=60)
                return requests.get(f'{base}/checkout/{token}', timeout=120)
            with ThreadPoolExecutor(max_workers=10) as executor:
                pages = list(executor.map(open_tab, range(10)))
            self.assertEqual(
                Counter(p.status_code for p in pages), {200: 10},
                [p.text for p in pages if p.status_code != 200][:1])
            order_ids = {dict(INPUT.findall(p.text))['ORDERID'] for p in pages}
            self.assertEqual(len(order_ids), 1)
            order_id, = order_ids
            payment = self.payment(payment_id)
            self.assertEqual(payment['orders'], 1)

            params = signed_feedback(order_id, 9, '42.50')

            def notify(_):
                return requests.post(f'{base}/return', data=params, timeout=120)
            with ThreadPoolExecutor(max_workers=20) as executor:
                responses = list(executor.map(notify, range(100)))
        self.assertEqual(
            Counter(r.status_code for r in responses), {200: 100},
            [r.text for r in responses if r.status_code != 200][:1])
        payment = self.payment(payment_id)
        self.assertEqual(payment['state'], 'succeeded')
        self.assertEqual(len(payment['feedbacks']), 100)
        self.assertEqual(
            Counter(applied for _, _, applied in payment['feedbacks']),
            {True: 1, False: 99})

    def assertRefused(self, payment_id, response, status):
        self.assertEqual(response.status_code, status)
        payment = self.payment(payment_id)
        self.assertEqual(payment['state'], 'submitted')
        self.assertEqual(payment['feedbacks'], [])

    def test_tampered_feedback(self):
        "A feedback changed after signing is refused"
        payment_id, token = self.create_payment()
        order_id = self.open_checkout(token)['ORDERID']
        params = signed_feedback(order_id, 2, '42.50')
        params['STATUS'] = '9'
        for source in ['server', 'browser']:
            with self.subTest(source=source):
                self.assertRefused(
                    payment_id, self.send(params, source), 400)
        response = self.send(params, 'browser')
        self.assertIn("could not be verified", response.text)
        self.assertNotIn(SHA_OUT, response.text)

    def test_missing_signature(self):
        "A feedback without SHASIGN is refused"
        payment_id, token = self.create_payment()
        order_id = self.open_checkout(token)['ORDERID']
        params = signed_feedback(order_id, 9, '42.50')
        del params['SHASIGN']
        self.assertRefused(payment_id, self.send(params), 400)

    def test_wrong_passphrase(self):
        "A feedback signed with another passphrase is refused"
        payment_id, token = self.create_payment()
        order_id = self.open_checkout(token)['ORDERID']
        params = signed_feedback(
            order_id, 9, '42.50', passphrase='another_passphrase_123')
        self.assertRefused(payment_id, self.send(params), 400)

    def test_amount_mismatch(self):
        "A signed feedback for another amount is refused"
        payment_id, token = self.create_payment()
        order_id = self.open_checkout(token)['ORDERID']
        for amount in ['42.49', '4250', '0.01']:
            with self.subTest(amount=amount):
                self.assertRefused(
                    payment_id,
                    self.send(signed_feedback(order_id, 9, amount)), 400)

    def test_currency_mismatch(self):
        "A signed feedback in another currency is refused"
        payment_id, token = self.create_payment()
        order_id = self.open_checkout(token)['ORDERID']
        self.assertRefused(
            payment_id,
            self.send(signed_feedback(order_id, 9, '42.50', currency='USD')),
            400)

    def test_amount_missing(self):
        "A feedback without AMOUNT cannot be checked and is refused"
        payment_id, token = self.create_payment()
        order_id = self.open_checkout(token)['ORDERID']
        params = signed_feedback(order_id, 9, '42.50')
        del params['amount'], params['SHASIGN']
        params['SHASIGN'] = compute_shasign(
            params, SHA_OUT, 'sha512', direction='out')
        self.assertRefused(payment_id, self.send(params), 400)

    def test_unknown_order(self):
        "A feedback for an unknown order is not found"
        payment_id, token = self.create_payment()
        self.open_checkout(token)
        response = self.send(signed_feedback('shop-0-1', 9, '42.50'))
        self.assertEqual(response.status_code, 404)

    def test_no_order(self):
        "A request without ORDERID is refused"
        response = self.send({'STATUS': '9'})
        self.assertEqual(response.status_code, 400)

    def test_unknown_status(self):
        "A signed but unknown STATUS is refused"
        payment_id, token = self.create_payment()
        order_id = self.open_checkout(token)['ORDERID']
        self.assertRefused(
            payment_id, self.send(signed_feedback(order_id, 3, '42.50')),
            400)


class AccountPaymentOgoneModelTestCase(RouteTestCase):
    "Test the models of Account Payment Ogone"
    module = 'account_payment_ogone'

    @classmethod
    def setUpDatabase(cls):
        _setup_database()

    def account_values(self, **values):
        return {
            'name': "Other", 'pspid': 'OTHER', 'api_user_id': 'OTHERAPI',
            'sha_in_secret': 'other_sha_in_value_1',
            'sha_out_secret': 'other_sha_out_val_1',
            **values}

    def create_payment(self, kind='receivable', party_name="Customer"):
        "A payment of 10 on the Ogone journal, created in the company"
        pool = Pool(DB_NAME)
        Company = pool.get('company.company')
        Journal = pool.get('account.payment.journal')
        Party = pool.get('party.party')
        Payment = pool.get('account.payment')
        company, = Company.search([])
        journal, = Journal.search([('name', '=', "Ogone")])
        party, = Party.create([{'name': party_name}])
        with set_company(company):
            payment, = Payment.create([{
                        'company': company.id, 'journal': journal.id,
                        'kind': kind, 'party': party.id,
                        'amount': Decimal(10)}])
        return payment

    @with_transaction()
    def test_account_valid(self):
        "A well-formed account is accepted"
        Account = Pool().get('account.payment.ogone.account')
        account, = Account.create([self.account_values()])
        self.assertEqual(account.hash_algorithm, 'sha512')
        self.assertEqual(account.environment, 'test')
        self.assertEqual(account.ogone().base_url,
            'https://ogone.test.v-psp.com/ncol/test/')
        self.assertNotIn('other_sha', repr(account.ogone()))

    @with_transaction()
    def test_passphrase_length(self):
        "Passphrases have 16 to 32 characters"
        Account = Pool().get('account.payment.ogone.account')
        for field in ['sha_in_secret', 'sha_out_secret']:
            for value in ['x' * 15, 'y' * 33]:
                with self.subTest(field=field, value=value):
                    with self.assertRaisesRegex(
                            ValidationError, "16 to 32 characters"):
                        Account.create([self.account_values(
                                    **{field: value})])

    @with_transaction()
    def test_passphrases_different(self):
        "SHA-IN and SHA-OUT must differ"
        Account = Pool().get('account.payment.ogone.account')
        with self.assertRaisesRegex(ValidationError, "must be different"):
            Account.create([self.account_values(
                        sha_in_secret='same_passphrase_01',
                        sha_out_secret='same_passphrase_01')])

    @with_transaction()
    def test_pspid_required(self):
        "The PSPID is required"
        Account = Pool().get('account.payment.ogone.account')
        with self.assertRaises(ValidationError):
            Account.create([self.account_values(pspid=None)])

    @with_transaction()
    def test_api_user_required(self):
        "The API user is required"
        Account = Pool().get('account.payment.ogone.account')
        with self.assertRaises(ValidationError):
            Account.create([self.account_values(api_user_id=None)])

    @with_transaction()
    def test_base_url(self):
        "A custom environment needs an http(s) base URL"
        Account = Pool().get('account.payment.ogone.account')
        with self.assertRaises(ValidationError):
            Account.create([self.account_values(environment='custom')])
        with self.assertRaisesRegex(ValidationError, "base URL"):
            Account.create([self.account_values(
                        environment='custom', base_url='ftp://example.com/')])
        account, = Account.create([self.account_values(
                    environment='custom',
                    base_url='http://127.0.0.1:8080/ncol/test/')])
        self.assertEqual(
            account.ogone().base_url, 'http://127.0.0.1:8080/ncol/test/')

    @with_transaction()
    def test_order_id_prefix(self):
        "The order ID prefix is short and made of ORDERID characters"
        Account = Pool().get('account.payment.ogone.account')
        for prefix in ['a b', 'x' * 17, 'é']:
            with self.subTest(prefix=prefix):
                with self.assertRaisesRegex(ValidationError, "prefix"):
                    Account.create([self.account_values(
                                order_id_prefix=prefix)])
        account, = Account.create([self.account_values()])
        self.assertRegex(
            account.effective_order_id_prefix, r'^[A-Za-z0-9_-]{1,16}$')

    @with_transaction()
    def test_default_prefix_of_long_database_names(self):
        "Long database names sharing a beginning get different prefixes"
        Account = Pool().get('account.payment.ogone.account')
        account, = Account.create([self.account_values(order_id_prefix=None)])
        database = Transaction().database
        prefixes = set()
        # Two databases of one server cannot be opened here: only the name
        # the prefix is derived from changes.
        for name in ['production_shop_a', 'production_shop_b', 'shop']:
            with mock.patch.object(database, 'name', name):
                prefixes.add(account.effective_order_id_prefix)
        self.assertEqual(len(prefixes), 3)
        self.assertIn('shop', prefixes)
        for prefix in prefixes:
            self.assertRegex(prefix, r'^[A-Za-z0-9_-]{1,16}$')

    @with_transaction()
    def test_default_prefix_of_database_names_with_other_characters(self):
        "Database names that differ by a replaced character get different prefixes"
        Account = Pool().get('account.payment.ogone.account')
        account, = Account.create([self.account_values(order_id_prefix=None)])
        database = Transaction().database
        names = ['shop.a', 'shop_a', 'shop a', 'shop-a', 'shop\u00e9a',
            'production.shop.a', 'production_shop_a']
        prefixes = {}
        for name in names:
            with mock.patch.object(database, 'name', name):
                prefixes[name] = account.effective_order_id_prefix
        self.assertEqual(len(set(prefixes.values())), len(names), prefixes)
        # A name made only of ORDERID characters and short enough is kept
        self.assertEqual(prefixes['shop_a'], 'shop_a')
        self.assertEqual(prefixes['shop-a'], 'shop-a')
        for prefix in prefixes.values():
            self.assertRegex(prefix, r'^[A-Za-z0-9_-]{1,16}$')

    @with_transaction()
    def test_return_url(self):
        "The return URL is the route of this database"
        Account = Pool().get('account.payment.ogone.account')
        account, = Account.create([self.account_values()])
        self.assertEqual(
            urlsplit(account.return_url).path,
            f'/{DB_NAME}/r/account_payment_ogone/return')
        self.assertEqual(
            urlsplit(account.shared_return_url).path,
            '/<PARAMVAR>/r/account_payment_ogone/return')

    @with_transaction()
    def test_secrets_hidden(self):
        "Only account administrators read the passphrases and password"
        pool = Pool(DB_NAME)
        Account = pool.get('account.payment.ogone.account')
        User = pool.get('res.user')
        Group = pool.get('res.group')
        ModelData = pool.get('ir.model.data')
        account, = Account.create([self.account_values()])
        payment_group = Group(ModelData.get_id(
                'account_payment', 'group_payment'))
        admin_group = Group(ModelData.get_id(
                'account', 'group_account_admin'))
        clerk, admin = User.create([
                {'login': 'clerk', 'groups': [('add', [payment_group.id])]},
                {'login': 'admin2', 'groups': [
                        ('add', [payment_group.id, admin_group.id])]},
                ])
        for secret in ['sha_in_secret', 'sha_out_secret', 'api_password']:
            with self.subTest(secret=secret):
                with Transaction().set_user(clerk.id), \
                        Transaction().set_context(_check_access=True):
                    self.assertEqual(
                        Account.read([account.id], ['pspid'])[0]['pspid'],
                        'OTHER')
                    with self.assertRaises(Exception):
                        Account.read([account.id], [secret])
                with Transaction().set_user(admin.id), \
                        Transaction().set_context(_check_access=True):
                    self.assertTrue(Account.read([account.id], [secret]))

    def rpc(self, headers, method, *params):
        "Call trytond's JSON-RPC as the Tryton client does"
        response = self.client().post(
            f'/{self.db_name}/rpc/', headers=headers,
            json={'id': 0, 'method': method, 'params': list(params)})
        self.assertEqual(response.status_code, 200, response.text)
        return response.json

    def test_passphrases_not_in_the_debug_log_of_a_read(self):
        "Opening the account form at DEBUG logs no passphrase nor password"
        pool = Pool(DB_NAME)
        User = pool.get('res.user')
        Account = pool.get('account.payment.ogone.account')
        secrets = ['ReadShaIn1234567', 'ReadShaOut123456', 'ReadApiPassword1']
        with Transaction().start(DB_NAME, 0) as transaction:
            admin, = User.search([('login', '=', 'admin')])
            admin.password = 'ogone-route-test-2'
            admin.save()
            account, = Account.create([{
                        'name': "Read", 'pspid': 'READ',
                        'api_user_id': 'READAPI',
                        'sha_in_secret': secrets[0],
                        'sha_out_secret': secrets[1],
                        'api_password': secrets[2]}])
            account_id = account.id
            transaction.commit()
        user_id, session, *_ = self.rpc(
            {}, 'common.db.login', 'admin',
            {'password': 'ogone-route-test-2'})['result']
        token = base64.b64encode(
            f'admin:{user_id}:{session}'.encode()).decode()
        headers = {'Authorization': f'Session {token}'}

        log = io.StringIO()
        handler = logging.StreamHandler(log)
        handler.addFilter(
            lambda record: not record.name.startswith('trytond.backend'))
        root = logging.getLogger()
        root.addHandler(handler)
        self.addCleanup(root.removeHandler, handler)
        self.addCleanup(root.setLevel, root.level)
        root.setLevel(logging.DEBUG)
        # What the client asks when an administrator opens the account
        result = self.rpc(
            headers, 'model.account.payment.ogone.account.read',
            [account_id], ['pspid', 'sha_in_secret', 'sha_out_secret',
                'api_password', 'sha_in_secret_stored',
                'sha_out_secret_stored', 'api_password_stored'], {})
        self.assertNotIn('error', result)
        text = log.getvalue()
        self.assertIn('Result:', text)
        for secret in secrets:
            self.assertNotIn(secret, text)

    def test_passphrases_not_logged(self):
        "The passphrases sent over RPC are in no log line, at INFO or DEBUG"
        pool = Pool(DB_NAME)
        User = pool.get('res.user')
        Account = pool.get('account.payment.ogone.account')
        with Transaction().start(DB_NAME, 0) as transaction:
            admin, = User.search([('login', '=', 'admin')])
            admin.password = 'ogone-route-test-1'
            admin.save()
            transaction.commit()
        user_id, session, *_ = self.rpc(
            {}, 'common.db.login', 'admin',
            {'password': 'ogone-route-test-1'})['result']
        token = base64.b64encode(
            f'admin:{user_id}:{session}'.encode()).decode()
        headers = {'Authorization': f'Session {token}'}

        log = io.StringIO()
        handler = logging.StreamHandler(log)
        handler.setFormatter(logging.Formatter('%(name)s %(message)s'))
        # Every line but the SQL statements that trytond.backend writes at
        # DEBUG with their values (which setup.rst warns about)
        handler.addFilter(
            lambda record: not record.name.startswith('trytond.backend'))
        root = logging.getLogger()
        root.addHandler(handler)
        self.addCleanup(root.removeHandler, handler)
        self.addCleanup(root.setLevel, root.level)
        # 16 and 17 characters: INFO logs the first 17 of each value
        for level, name in [(logging.INFO, 'Info'), (logging.DEBUG, 'Dbug')]:
            with self.subTest(level=name):
                root.setLevel(level)
                created = [f'{name}ShaIn12345678', f'{name}ShaOut123456789']
                written = [f'{name}ShaIn87654321', f'{name}ShaOut987654321']
                values = self.account_values(
                    name=f"Logged {name}", pspid=f'LOG{name.upper()}')
                values['sha_in_secret'], values['sha_out_secret'] = created
                result = self.rpc(
                    headers, 'model.account.payment.ogone.account.create',
                    [values], {})
                account_id, = result['result']
                new_values = dict(zip(
                        ['sha_in_secret', 'sha_out_secret'], written))
                args = [[account_id], new_values, {}]
                result = self.rpc(
                    headers, 'model.account.payment.ogone.account.write',
                    *args)
                # Changing a passphrase asks for a confirmation, which the
                # client stores before it writes again
                exception, (warning, *_) = result['error']
                self.assertEqual(exception, 'UserWarning')
                self.rpc(
                    headers, 'model.res.user.warning.create',
                    [{'user': user_id, 'name': warning, 'always': False}],
                    {})
                result = self.rpc(
                    headers, 'model.account.payment.ogone.account.write',
                    *args)
                self.assertNotIn('error', result)

                with Transaction().start(DB_NAME, 0):
                    account = Account(account_id)
                    self.assertEqual(
                        [account.sha_in_secret_stored,
                            account.sha_out_secret_stored],
                        written)
                text = log.getvalue()
                self.assertIn(
                    'trytond.protocols.dispatcher '
                    'account.payment.ogone.account.create', text)
                self.assertIn(
                    'trytond.protocols.dispatcher '
                    'account.payment.ogone.account.write', text)
                for secret in created + written:
                    for part in [secret, secret[:12]]:
                        self.assertNotIn(part, text)

    @with_transaction()
    def test_passphrases_kept_by_the_rename(self):
        "Accounts saved before the secrets moved to stored columns keep them"
        Account = Pool().get('account.payment.ogone.account')
        account, = Account.create([self.account_values(
                    api_password='other-api-password')])
        table = Account.__table__()
        cursor = Transaction().connection.cursor()
        stored = ['sha_in_secret_stored', 'sha_out_secret_stored',
            'api_password_stored']
        # 0: the columns named after the fields (sha_in_secret, ...),
        # 1: the first ones (sha_in, sha_out)
        for generation in [0, 1]:
            with self.subTest(generation=generation):
                table_h = Account.__table_handler__()
                for new, olds in RENAMED_COLUMNS.items():
                    old = olds[min(generation, len(olds) - 1)]
                    table_h.column_rename(new, old)
                    self.assertFalse(table_h.column_exist(new))
                Account.__register__('account_payment_ogone')
                table_h = Account.__table_handler__()
                for new, olds in RENAMED_COLUMNS.items():
                    self.assertTrue(table_h.column_exist(new))
                    for old in olds:
                        self.assertFalse(table_h.column_exist(old))
                cursor.execute(*table.select(
                        *(getattr(table, n) for n in stored),
                        where=table.id == account.id))
                self.assertEqual(
                    cursor.fetchone(),
                    ('other_sha_in_value_1', 'other_sha_out_val_1',
                        'other-api-password'))

    @with_transaction()
    def test_secrets_are_write_only(self):
        "Secrets read over RPC are a mask, their stored values nothing"
        pool = Pool()
        Account = pool.get('account.payment.ogone.account')
        account, = Account.create([self.account_values()])
        with Transaction().set_context(_check_access=True):
            values, = Account.read([account.id], [
                    'sha_in_secret', 'sha_out_secret', 'api_password',
                    'sha_in_secret_stored', 'sha_out_secret_stored',
                    'api_password_stored'])
        self.assertEqual(values['sha_in_secret'], SECRET_MASK)
        self.assertEqual(values['sha_out_secret'], SECRET_MASK)
        # Not set: nothing to mask
        self.assertIsNone(values['api_password'])
        for name in ['sha_in_secret_stored', 'sha_out_secret_stored',
                'api_password_stored']:
            self.assertIsNone(values[name])
        # The server's own reads get the values
        account = Account(account.id)
        self.assertEqual(account.ogone().sha_in, 'other_sha_in_value_1')
        self.assertEqual(account.ogone().sha_out, 'other_sha_out_val_1')

    @with_transaction()
    def test_secrets_written_through_the_mask(self):
        "The mask written back keeps the secret; a new value replaces it"
        Account = Pool().get('account.payment.ogone.account')
        account, = Account.create([self.account_values(
                    api_password='api-password-1')])
        Account.write([account], {
                'sha_in_secret': SECRET_MASK, 'api_password': SECRET_MASK})
        account = Account(account.id)
        self.assertEqual(account.sha_in_secret_stored, 'other_sha_in_value_1')
        self.assertEqual(account.api_password_stored, 'api-password-1')
        self.assertEqual(account.sha_in_secret, SECRET_MASK)
        Account.write([account], {
                'sha_in_secret': 'new_sha_in_value_01',
                'api_password': None})
        account = Account(account.id)
        self.assertEqual(account.sha_in_secret_stored, 'new_sha_in_value_01')
        self.assertEqual(account.ogone().api_password, '')
        self.assertIsNone(account.api_password)
        # Validation runs on the real values
        with self.assertRaisesRegex(ValidationError, "16 to 32 characters"):
            Account.write([account], {'sha_out_secret': 'short'})
        with self.assertRaisesRegex(ValidationError, "must be different"):
            Account.write([account], {'sha_out_secret': 'new_sha_in_value_01'})

    @with_transaction()
    def test_copied_account_keeps_its_passphrases(self):
        """A copy signs as the original; the API password, which goes to the
        platform, is typed on the copy"""
        Account = Pool().get('account.payment.ogone.account')
        account, = Account.create([self.account_values(
                    api_password='api-password-1')])
        with Transaction().set_context(_check_access=True):
            copy, = Account.copy([account])
        copy = Account(copy.id)
        self.assertEqual(
            (copy.sha_in_secret_stored, copy.sha_out_secret_stored,
                copy.api_password_stored),
            ('other_sha_in_value_1', 'other_sha_out_val_1', None))

    @with_transaction()
    def test_charset(self):
        "The account's character encoding goes to the core account"
        Account = Pool().get('account.payment.ogone.account')
        account, = Account.create([self.account_values()])
        self.assertEqual(account.charset, 'utf-8')
        self.assertTrue(account.ogone().url('orderstandard').endswith(
                '/orderstandard_utf8.asp'))
        account.charset = 'iso-8859-1'
        account.save()
        self.assertEqual(account.ogone().charset, 'iso-8859-1')
        self.assertTrue(account.ogone().url('orderdirect').endswith(
                '/orderdirect.asp'))
        with self.assertRaises(Exception):
            Account.write([account], {'charset': 'utf-16'})

    @with_transaction()
    def test_receivable_only(self):
        "Ogone journals receive payments only"
        with self.assertRaisesRegex(
                PaymentValidationError, "receive payments only"):
            self.create_payment(kind='payable', party_name="Supplier")

    @with_transaction()
    def test_copy_and_draft_reset(self):
        "Copying and resetting to draft clear the remote fields"
        Payment = Pool(DB_NAME).get('account.payment')
        Company = Pool(DB_NAME).get('company.company')
        payment = self.create_payment()
        company, = Company.search([])
        with set_company(company):
            Payment.submit([payment])
            payment.ogone_checkout_id = 'token'
            payment.ogone_attempts = 1
            payment.ogone_order_id = f'shop-{payment.id}-1'
            payment.ogone_pay_id = '123'
            payment.ogone_status = '51'
            payment.save()
            copy, = Payment.copy([payment])
            for name in ['ogone_checkout_id', 'ogone_order_id',
                    'ogone_pay_id', 'ogone_status']:
                self.assertIsNone(getattr(copy, name), name)
            self.assertEqual(copy.ogone_attempts, 0)
            Payment.draft([payment])
            for name in ['ogone_checkout_id', 'ogone_order_id',
                    'ogone_pay_id', 'ogone_status']:
                self.assertIsNone(getattr(payment, name), name)
            # Attempts keep counting so a new ORDERID never repeats one
            self.assertEqual(payment.ogone_attempts, 1)

    @with_transaction()
    def test_order_id_unique(self):
        "An ORDERID is used once per account"
        Order = Pool(DB_NAME).get('account.payment.ogone.order')
        Company = Pool(DB_NAME).get('company.company')
        payment = self.create_payment()
        company, = Company.search([])
        with set_company(company):
            order = payment.ogone_checkout_order()
            self.assertLessEqual(len(order.name), 40)
            with self.assertRaisesRegex(Exception, "unique per account"):
                Order.create([{
                            'payment': payment.id,
                            'account': payment.journal.ogone_account.id,
                            'amount': payment.amount,
                            'currency': payment.currency.id,
                            'name': order.name}])

    @with_transaction()
    def test_copy_party_keeps_aliases(self):
        "Copying a party does not copy its saved cards"
        pool = Pool(DB_NAME)
        Party = pool.get('party.party')
        Alias = pool.get('account.payment.ogone.alias')
        Journal = pool.get('account.payment.journal')
        journal, = Journal.search([('name', '=', "Ogone")])
        party, = Party.create([{'name': "Customer"}])
        Alias.create([{
                    'party': party.id, 'account': journal.ogone_account.id,
                    'alias': 'A1'}])
        copy, = Party.copy([party])
        self.assertEqual(copy.ogone_aliases, ())
        self.assertEqual(len(party.ogone_aliases), 1)


del RouteTestCase
