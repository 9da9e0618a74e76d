"""Amounts in currencies without or with three decimals: AMOUNT is the amount
x 100, and an amount Ogone cannot carry is refused before anything is sent."""
import re
from decimal import Decimal
from html import escape, unescape

import polib

from trytond.modules.account_payment.exceptions import PaymentValidationError
from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, RouteTestCase
from trytond.transaction import Transaction

from .test_route import _setup_database
from .tools import (
    LANGUAGES, create_submitted_payment, load_translations, locale_file,
    signed_feedback)

INPUT = re.compile(r'<input type="hidden" name="([^"]*)" value="([^"]*)"')


def _setup_currencies():
    pool = Pool()
    Currency = pool.get('currency.currency')
    Company = pool.get('company.company')
    Account = pool.get('account.payment.ogone.account')
    Journal = pool.get('account.payment.journal')
    company, = Company.search([])
    account, = Account.search([('name', '=', "Shop")])
    for code, name, digits in [
            ('JPY', "Yen", 0), ('KWD', "Kuwaiti Dinar", 3)]:
        currency = Currency(name=name, code=code, symbol=code, digits=digits,
            rounding=Decimal(1).scaleb(-digits))
        currency.save()
        Journal(name=f"Ogone {code}", process_method='ogone',
            ogone_account=account, currency=currency, company=company).save()
    kwd, = Currency.search([('code', '=', 'KWD')])
    Journal(name="Manual KWD", process_method='manual', currency=kwd,
        company=company).save()


class AccountPaymentOgoneAmountTestCase(RouteTestCase):
    "Test the amounts of Account Payment Ogone"
    module = 'account_payment_ogone'

    @classmethod
    def setUpDatabase(cls):
        _setup_database()
        _setup_currencies()
        load_translations(*LANGUAGES)

    def create_payment(self, amount, journal, lang=None, reference="INV-1"):
        return create_submitted_payment(
            DB_NAME, journal, amount=amount, lang=lang, reference=reference)

    def checkout(self, token):
        return self.client().get(
            f'/{self.db_name}/r/account_payment_ogone/checkout/{token}')

    def form(self, token):
        response = self.checkout(token)
        self.assertEqual(response.status_code, 200, response.text)
        return dict(
            (unescape(n), unescape(v))
            for n, v in INPUT.findall(response.text))

    def send(self, params):
        return self.client().post(
            f'/{self.db_name}/r/account_payment_ogone/return', data=params)

    def state(self, payment_id):
        with Transaction().start(DB_NAME, 0):
            payment = Pool(DB_NAME).get('account.payment')(payment_id)
            return payment.state, len(payment.ogone_orders)

    def test_yen_amount_is_sent_times_100(self):
        "1500 JPY goes out as AMOUNT=150000 and its feedback amount=1500 pays it"
        payment_id, token = self.create_payment('1500', "Ogone JPY")
        fields = self.form(token)
        self.assertEqual((fields['AMOUNT'], fields['CURRENCY']),
            ('150000', 'JPY'))
        response = self.send(
            signed_feedback(fields['ORDERID'], 9, '1500', currency='JPY'))
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(self.state(payment_id), ('succeeded', 1))

    def test_yen_feedback_read_by_the_exponent_is_refused(self):
        "A feedback of 15 JPY does not pay 1500 JPY"
        payment_id, token = self.create_payment('1500', "Ogone JPY")
        order_id = self.form(token)['ORDERID']
        response = self.send(signed_feedback(order_id, 9, '15', currency='JPY'))
        self.assertEqual(response.status_code, 400)
        self.assertEqual(self.state(payment_id), ('submitted', 1))

    def test_dinar_with_two_decimals(self):
        "1.23 KWD goes out as AMOUNT=123"
        payment_id, token = self.create_payment('1.230', "Ogone KWD")
        fields = self.form(token)
        self.assertEqual((fields['AMOUNT'], fields['CURRENCY']), ('123', 'KWD'))
        self.send(signed_feedback(fields['ORDERID'], 9, '1.23', currency='KWD'))
        self.assertEqual(self.state(payment_id), ('succeeded', 1))

    def test_dinar_third_decimal_refused(self):
        "1.235 KWD cannot be saved on an Ogone journal, in every language"
        for code in ['en'] + LANGUAGES:
            with self.subTest(language=code):
                with self.assertRaises(PaymentValidationError) as caught:
                    self.create_payment(
                        '1.235', "Ogone KWD", lang=code, reference='REFUSED')
                text = 'model:ir.message,text:msg_ogone_amount_decimals'
                if code == 'en':
                    template = (
                        'The amount %(amount)s %(currency)s of payment '
                        '"%(payment)s" cannot be paid through the Ogone '
                        'journal "%(journal)s": Ogone takes amounts with '
                        'at most 2 decimals.')
                else:
                    template = {
                        e.msgctxt: e.msgstr
                        for e in polib.pofile(locale_file(code))}[text]
                expected = template % {
                    'amount': '1.235', 'currency': 'KWD',
                    'journal': "Ogone KWD", 'payment': 'PAYMENT'}
                self.assertRegex(caught.exception.message,
                    re.escape(expected).replace('PAYMENT', '[^"»“]+'))
        with Transaction().start(DB_NAME, 0):
            Payment = Pool(DB_NAME).get('account.payment')
            self.assertFalse(Payment.search([('reference', '=', 'REFUSED')]))

    def test_dinar_third_decimal_allowed_elsewhere(self):
        "Other journals keep the amounts of the currency"
        pool = Pool(DB_NAME)
        Company = pool.get('company.company')
        Journal = pool.get('account.payment.journal')
        Party = pool.get('party.party')
        Payment = pool.get('account.payment')
        with Transaction().start(DB_NAME, 1) as transaction:
            company, = Company.search([])
            with set_company(company):
                journal, = Journal.search([('name', '=', "Manual KWD")])
                payment = Payment(
                    company=company, journal=journal, kind='receivable',
                    party=Party(name="Jane Doe"), amount=Decimal('1.235'))
                payment.party.save()
                payment.save()
                self.assertEqual(payment.amount, Decimal('1.235'))
                # Moved to an Ogone journal, it is refused
                journal, = Journal.search([('name', '=', "Ogone KWD")])
                payment.journal = journal
                with self.assertRaises(PaymentValidationError):
                    payment.save()
            transaction.rollback()

    def test_checkout_of_an_amount_ogone_cannot_carry(self):
        "A payment saved with 1.235 KWD before the check gets a page, not a 500"
        payment_id, token = self.create_payment('1.230', "Ogone KWD", lang='fr')
        with Transaction().start(DB_NAME, 1) as transaction:
            # As a payment saved before the amount was checked
            Payment = Pool(DB_NAME).get('account.payment')
            table = Payment.__table__()
            cursor = transaction.connection.cursor()
            cursor.execute(*table.update(
                    [table.amount], [Decimal('1.235')],
                    where=table.id == payment_id))
        response = self.checkout(token)
        self.assertEqual(response.status_code, 409)
        po = {e.msgctxt: e.msgstr for e in polib.pofile(locale_file('fr'))}
        for name in ['msg_checkout_impossible_title', 'msg_checkout_impossible']:
            self.assertIn(
                escape(po[f'model:ir.message,text:{name}']), response.text)
        self.assertNotIn('AMOUNT', response.text)
        self.assertEqual(self.state(payment_id), ('submitted', 0))
