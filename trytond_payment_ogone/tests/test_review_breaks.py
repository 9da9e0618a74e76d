"""Defects found by reviewing the saved-card and hardening features: each
test fails until the defect it names is fixed."""
import base64
import io
import logging
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import requests


from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, RouteTestCase
from trytond.transaction import Transaction

from . import test_card, test_route
from .tools import (
    LANGUAGES, TrytonServer, load_translations, signed_feedback)

_route = test_route.AccountPaymentOgoneRouteTestCase
_card = test_card.AccountPaymentOgoneCardTestCase
_model = test_route.AccountPaymentOgoneModelTestCase


class AccountPaymentOgoneReviewTestCase(RouteTestCase):
    "Defects of Account Payment Ogone found in review"
    module = 'account_payment_ogone'

    @classmethod
    def setUpDatabase(cls):
        test_route._setup_database()
        load_translations(*LANGUAGES)

    create_payment = _route.create_payment
    payment = _route.payment
    checkout = _route.checkout
    open_checkout = _route.open_checkout
    send = _route.send
    registration = _card.registration
    card_return = _card.card_return
    saved_cards = _card.saved_cards

    def test_card_return_too_many_fields_is_a_bad_request(self):
        "An answer with more fields than Ogone sends is refused, not a 500"
        registration_id, _, order_id, alias = self.registration()
        params = test_card.alias_gateway_answer(order_id, alias)
        params.update({f'X{i}': 'x' for i in range(600)})
        response = self.card_return(params)
        self.assertEqual(response.status_code, 400, response.text[:200])
        self.assertEqual(self.saved_cards(registration_id), [])

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

    def test_card_updated_at_ogone_updates_the_saved_card(self):
        "The form posted again with another card (STATUS 2): Tryton shows it"
        registration_id, _, order_id, alias = self.registration()
        self.assertEqual(self.card_return(test_card.alias_gateway_answer(
                    order_id, alias)).status_code, 200)
        # The browser's back button brings the signed form back: Ogone
        # stores the new card behind the same alias and says STATUS 2
        response = self.card_return(test_card.alias_gateway_answer(
                order_id, alias, status='2', BRAND='MasterCard',
                CARDNO='XXXXXXXXXXXX4444', ED='0531'))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self.saved_cards(registration_id), [
                (alias, 'MasterCard', 'XXXXXXXXXXXX4444', '0531', 'SHOP')])

    def test_card_return_burst_waits_for_the_lock(self):
        "20 browsers back from the Alias Gateway at once: no 5xx, one card"
        if DB_NAME == ':memory:':
            self.skipTest("a server thread cannot see an in-memory database")
        registration_id, _, order_id, alias = self.registration()
        params = test_card.alias_gateway_answer(order_id, alias)
        with TrytonServer() as server:
            url = (f'{server.url}/{self.db_name}'
                '/r/account_payment_ogone/card-return')
            gate = threading.Barrier(20)

            def come_back(_):
                gate.wait(timeout=60)
                return requests.get(url, params=params, timeout=120)
            with ThreadPoolExecutor(max_workers=20) as executor:
                responses = list(executor.map(come_back, range(20)))
        self.assertEqual(
            Counter(r.status_code for r in responses), {200: 20})
        self.assertEqual(len(self.saved_cards(registration_id)), 1)

    rpc = _model.rpc

    def test_passphrases_not_in_the_debug_log_of_a_read(self):
        "Opening the account form at DEBUG logs no passphrase nor password"
        pool = Pool(DB_NAME)
        User = pool.get('res.user')
        Account = pool.get('account.payment.ogone.account')
        secrets = ['ReadShaIn1234567', 'ReadShaOut123456', 'ReadApiPassword1']
        with Transaction().start(DB_NAME, 0) as transaction:
            admin, = User.search([('login', '=', 'admin')])
            admin.password = 'ogone-review-test-1'
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
            {'password': 'ogone-review-test-1'})['result']
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
                'api_password'], {})
        self.assertNotIn('error', result)
        text = log.getvalue()
        self.assertIn('Result:', text)
        for secret in secrets:
            self.assertNotIn(secret, text)


# Only this module's own test case is collected here
del RouteTestCase, _route, _card, _model
