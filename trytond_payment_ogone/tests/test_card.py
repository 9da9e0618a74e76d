"""Saved cards: the values an alias may hold, what may never change, and the
card registration link with the Alias Gateway's signed answer."""
import re
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from html import unescape

import requests
from ogone_core import compute_shasign

from trytond.model.exceptions import AccessError, ValidationError
from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    DB_NAME, RouteTestCase, with_transaction)
from trytond.transaction import Transaction

from .test_route import _setup_database
from .tools import (
    LANGUAGES, SHA_OUT, TrytonServer, load_translations, signed_feedback)

INPUT = re.compile(r'<input type="hidden" name="([^"]*)" value="([^"]*)"')


def alias_gateway_answer(order_id, alias, status='0', passphrase=SHA_OUT,
        **extra):
    "The Alias Gateway's redirect parameters, signed as Ogone signs them"
    params = {
        'ALIAS': alias, 'BRAND': 'VISA', 'CARDNO': 'XXXXXXXXXXXX1111',
        'CN': 'Jane Doe', 'ED': '0430', 'NCERROR': '0',
        'ORDERID': order_id, 'STATUS': status,
        }
    params.update(extra)
    params = {k: v for k, v in params.items() if v != ''}
    params['SHASIGN'] = compute_shasign(
        params, passphrase, 'sha512', direction='out')
    return params


class AccountPaymentOgoneCardTestCase(RouteTestCase):
    "Test the saved cards of Account Payment Ogone"
    module = 'account_payment_ogone'

    @classmethod
    def setUpDatabase(cls):
        _setup_database()
        load_translations(*LANGUAGES)

    def alias_values(self, **values):
        pool = Pool()
        Party = pool.get('party.party')
        Account = pool.get('account.payment.ogone.account')
        account, = Account.search([('pspid', '=', 'SHOP')])
        party, = Party.create([{'name': "Card Owner"}])
        return {
            'party': party.id, 'account': account.id, 'alias': 'OLD-42',
            'brand': 'VISA', 'card_number': 'XXXXXXXXXXXX1111',
            'expiry': '0430', **values}

    @with_transaction()
    def test_alias_values_accepted(self):
        "Aliases of another integration are recorded as they are at Ogone"
        Alias = Pool().get('account.payment.ogone.alias')
        for values in [
                {}, {'alias': 'a.b_c-D' + '9' * 43},
                {'card_number': '411111XXXXXX1111'},
                {'card_number': '************1111', 'expiry': '1299'},
                {'brand': None, 'card_number': None, 'expiry': None}]:
            with self.subTest(values=values):
                alias, = Alias.create([self.alias_values(**values)])
                Alias.delete([alias])

    @with_transaction()
    def test_alias_values_refused(self):
        "Malformed aliases, expiries and unmasked card numbers are refused"
        Alias = Pool().get('account.payment.ogone.alias')
        for i, (values, message) in enumerate([
                ({'alias': 'has space'}, 'must be 1 to 50 letters'),
                ({'alias': 'x' * 51}, 'must be 1 to 50 letters'),
                ({'expiry': '1330'}, 'as MMYY'),
                ({'expiry': '04/30'}, 'as MMYY'),
                ({'expiry': '430'}, 'as MMYY'),
                ({'card_number': '4111111111111111'}, 'must be masked'),
                ({'card_number': '4111111XXXXX1111'}, 'must be masked'),
                ({'card_number': 'XXXXXXXXXXX11111'}, 'must be masked'),
                ]):
            # A refused record is rolled back with the transaction only
            values.setdefault('alias', f'OLD-{i}')
            with self.subTest(values=values):
                with self.assertRaisesRegex(ValidationError, message) as cm:
                    Alias.create([self.alias_values(**values)])
                self.assertNotIn('4111111', str(cm.exception))

    @with_transaction()
    def test_alias_party_account_never_change(self):
        "Once recorded, an alias keeps its party, account and name"
        pool = Pool()
        Alias = pool.get('account.payment.ogone.alias')
        Party = pool.get('party.party')
        Account = pool.get('account.payment.ogone.account')
        alias, = Alias.create([self.alias_values()])
        other_party, = Party.create([{'name': "Someone Else"}])
        other_account, = Account.copy(
            [alias.account], {'name': "Other", 'pspid': 'OTHER'})
        for values in [
                {'party': other_party.id}, {'account': other_account.id},
                {'alias': 'OLD-43'}]:
            with self.subTest(values=values):
                with self.assertRaisesRegex(AccessError, 'cannot change'):
                    Alias.write([alias], values)
        # The same values, or the card's details, may be written
        Alias.write([alias], {
                'party': alias.party.id, 'account': alias.account.id,
                'alias': 'OLD-42', 'expiry': '0531', 'active': False})
        with self.assertRaisesRegex(ValidationError, 'as MMYY'):
            Alias.write([alias], {'expiry': '0631x'})
        self.assertEqual(Alias.search([('alias', '=', 'OLD-42')]), [])
        self.assertEqual(alias.party.ogone_aliases, ())

    def registration(self, lang=None):
        pool = Pool(DB_NAME)
        Party = pool.get('party.party')
        Account = pool.get('account.payment.ogone.account')
        Lang = pool.get('ir.lang')
        Registration = pool.get('account.payment.ogone.card_registration')
        with Transaction().start(DB_NAME, 1):
            account, = Account.search([('pspid', '=', 'SHOP')])
            party = Party(name="Card Owner")
            if lang:
                party.lang, = Lang.search([('code', '=', lang)])
            party.save()
            registration = Registration.new_for(party, account)
            return (registration.id, registration.token, registration.name,
                registration.requested_alias)

    def card_page(self, token):
        return self.client().get(
            f'/{self.db_name}/r/account_payment_ogone/card/{token}')

    def card_return(self, params):
        return self.client().get(
            f'/{self.db_name}/r/account_payment_ogone/card-return',
            query_string=params)

    def saved_cards(self, registration_id):
        pool = Pool(DB_NAME)
        Registration = pool.get('account.payment.ogone.card_registration')
        with Transaction().start(DB_NAME, 0):
            registration = Registration(registration_id)
            return [
                (a.alias, a.brand, a.card_number, a.expiry, a.account.pspid)
                for a in registration.party.ogone_aliases]

    def test_card_page_posts_to_the_alias_gateway(self):
        "The card page's form posts the card to Ogone, signed with SHA-IN"
        _, token, order_id, alias = self.registration()
        response = self.card_page(token)
        self.assertEqual(response.status_code, 200)
        self.assertIn(
            'action="http://127.0.0.1:9/ncol/test/alias_gateway_utf8.asp"',
            response.text)
        fields = {unescape(n): unescape(v)
            for n, v in INPUT.findall(response.text)}
        return_url = (
            f'/{self.db_name}/r/account_payment_ogone/card-return')
        self.assertEqual(fields['PSPID'], 'SHOP')
        self.assertEqual(fields['ORDERID'], order_id)
        self.assertEqual(fields['ALIAS'], alias)
        self.assertEqual(fields['ALIASPERSISTEDAFTERUSE'], 'Y')
        self.assertTrue(fields['ACCEPTURL'].endswith(return_url))
        self.assertEqual(fields['EXCEPTIONURL'], fields['ACCEPTURL'])
        self.assertEqual(len(fields['SHASIGN']), 128)
        for name in ['CN', 'CARDNO', 'ED', 'CVC']:
            self.assertIn(f'<input id="{name}" name="{name}"', response.text)
            self.assertNotIn(name, fields)

    def test_card_page_unknown_token(self):
        "An unknown link is not found"
        self.assertEqual(self.card_page('nothing-here').status_code, 404)

    def test_card_registered(self):
        "A signed answer of the Alias Gateway saves the card on the party"
        registration_id, token, order_id, alias = self.registration(
            lang='fr')
        response = self.card_return(alias_gateway_answer(order_id, alias))
        self.assertEqual(response.status_code, 200)
        self.assertIn('Carte enregistrée', response.text)
        self.assertEqual(self.saved_cards(registration_id), [
                (alias, 'VISA', 'XXXXXXXXXXXX1111', '0430', 'SHOP')])
        # The browser coming back again, or the link opened again
        self.assertEqual(self.card_return(
                alias_gateway_answer(order_id, alias)).status_code, 200)
        response = self.card_page(token)
        self.assertIn('Carte enregistrée', response.text)
        self.assertNotIn('card-form', response.text)
        self.assertEqual(len(self.saved_cards(registration_id)), 1)

    def test_card_refused_shows_the_form_again(self):
        "A card the Alias Gateway refused saves nothing and asks again"
        registration_id, token, order_id, _ = self.registration(lang='de')
        response = self.card_return(alias_gateway_answer(
                order_id, '', status='1', NCERROR='50001111',
                NCERRORCARDNO='50001111'))
        self.assertEqual(response.status_code, 200)
        self.assertIn('id="card-error"', response.text)
        self.assertIn('Die Karte wurde nicht angenommen', response.text)
        self.assertIn('id="card-form"', response.text)
        self.assertEqual(self.saved_cards(registration_id), [])

    def test_card_answer_not_trusted(self):
        "Tampered, unsigned, foreign answers save nothing"
        registration_id, token, order_id, alias = self.registration()
        tampered = alias_gateway_answer(order_id, alias)
        tampered['ALIAS'] = 'SOMEONE-ELSE'
        unsigned = alias_gateway_answer(order_id, alias)
        del unsigned['SHASIGN']
        for params, status in [
                (tampered, 400),
                (unsigned, 400),
                (alias_gateway_answer(
                        order_id, alias, passphrase='x' * 20), 400),
                # Signed, but not the alias this link asked for
                (alias_gateway_answer(order_id, 'OTHER-ALIAS'), 400),
                (alias_gateway_answer('shop-card-unknown', alias), 404),
                ({}, 400),
                ]:
            with self.subTest(params=params):
                self.assertEqual(
                    self.card_return(params).status_code, status)
        self.assertEqual(self.saved_cards(registration_id), [])
        response = self.card_return(tampered)
        self.assertIn('Card not recognised', response.text)
        self.assertNotIn('SOMEONE-ELSE', response.text)

    def test_card_not_kept_by_the_customer(self):
        "A paid feedback without the alias asked for saves no card"
        pool = Pool(DB_NAME)
        Company = pool.get('company.company')
        Journal = pool.get('account.payment.journal')
        Party = pool.get('party.party')
        Payment = pool.get('account.payment')
        with Transaction().start(DB_NAME, 1):
            company, = Company.search([])
            with set_company(company):
                journal, = Journal.search([('name', '=', "Ogone")])
                party = Party(name="Undecided")
                party.save()
                payment = Payment(
                    company=company, journal=journal, kind='receivable',
                    party=party, amount=Decimal('30'))
                payment.save()
                Payment.submit([payment])
                Payment.process_ogone(payment)
                payment_id, token = payment.id, payment.ogone_checkout_id
        page = self.client().get(
            f'/{self.db_name}/r/account_payment_ogone/checkout/{token}'
            '?save_card=1')
        fields = {unescape(n): unescape(v)
            for n, v in INPUT.findall(page.text)}
        self.assertTrue(fields['ALIAS'])
        # Ogone's page kept no card: the feedback carries an empty ALIAS
        response = self.client().post(
            f'/{self.db_name}/r/account_payment_ogone/return',
            data=signed_feedback(fields['ORDERID'], 9, '30', ALIAS=''))
        self.assertEqual(response.status_code, 200)
        with Transaction().start(DB_NAME, 0):
            payment = Payment(payment_id)
            self.assertEqual(payment.state, 'succeeded')
            self.assertIsNone(payment.ogone_alias)
            self.assertEqual(payment.party.ogone_aliases, ())

    def test_card_return_too_many_fields_is_a_bad_request(self):
        "An answer with more fields than Ogone sends is refused, not a 500"
        registration_id, _, order_id, alias = self.registration()
        params = alias_gateway_answer(order_id, alias)
        params.update({f'X{i}': 'x' for i in range(600)})
        response = self.card_return(params)
        self.assertEqual(response.status_code, 400, response.text[:200])
        self.assertEqual(self.saved_cards(registration_id), [])

    def test_card_updated_at_ogone_updates_the_saved_card(self):
        "The form posted again with another card (STATUS 2): Tryton shows it"
        registration_id, _, order_id, alias = self.registration()
        self.assertEqual(self.card_return(alias_gateway_answer(
                    order_id, alias)).status_code, 200)
        # The browser's back button brings the signed form back: Ogone
        # stores the new card behind the same alias and says STATUS 2
        response = self.card_return(alias_gateway_answer(
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
        params = alias_gateway_answer(order_id, alias)
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

    def test_card_first_answer_replayed_keeps_the_updated_card(self):
        "The first answer (STATUS 0) replayed does not bring the old card back"
        registration_id, _, order_id, alias = self.registration()
        first = alias_gateway_answer(order_id, alias)
        self.assertEqual(self.card_return(first).status_code, 200)
        self.assertEqual(self.card_return(alias_gateway_answer(
                    order_id, alias, status='2', BRAND='MasterCard',
                    CARDNO='XXXXXXXXXXXX4444', ED='0531')).status_code, 200)
        self.assertEqual(self.card_return(first).status_code, 200)
        self.assertEqual(self.saved_cards(registration_id), [
                (alias, 'MasterCard', 'XXXXXXXXXXXX4444', '0531', 'SHOP')])


del RouteTestCase
