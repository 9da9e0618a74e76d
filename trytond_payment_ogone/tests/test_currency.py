"""The currencies an Ogone account accepts: a payment in another one is
refused before anything is sent, by the accountant's message or the
customer's page."""
from trytond.modules.account_payment.exceptions import (
    PaymentValidationError, ProcessError)
from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, RouteTestCase
from trytond.transaction import Transaction

from .test_amount import AccountPaymentOgoneAmountTestCase as AmountTestCase


class AccountPaymentOgoneCurrencyTestCase(RouteTestCase):
    "Test the currencies of Account Payment Ogone"
    module = 'account_payment_ogone'
    setUpDatabase = AmountTestCase.setUpDatabase
    create_payment = AmountTestCase.create_payment
    checkout = AmountTestCase.checkout
    form = AmountTestCase.form
    state = AmountTestCase.state

    def set_currencies(self, *codes):
        pool = Pool(DB_NAME)
        Account = pool.get('account.payment.ogone.account')
        Currency = pool.get('currency.currency')
        with Transaction().start(DB_NAME, 1):
            account, = Account.search([('name', '=', "Shop")])
            account.currencies = Currency.search([('code', 'in', codes)])
            account.save()

    def tearDown(self):
        self.set_currencies()
        super().tearDown()

    def test_payment_in_a_refused_currency_is_not_saved(self):
        "The accountant is told which currencies the account takes"
        self.set_currencies('EUR', 'USD')
        with self.assertRaises(PaymentValidationError) as caught:
            self.create_payment('1500', "Ogone JPY", reference='JPY-REFUSED')
        self.assertIn('does not accept JPY', caught.exception.message)
        self.assertIn('it accepts EUR, USD', caught.exception.message)
        with Transaction().start(DB_NAME, 0):
            Payment = Pool(DB_NAME).get('account.payment')
            self.assertFalse(
                Payment.search([('reference', '=', 'JPY-REFUSED')]))

    def test_every_currency_without_a_list(self):
        "An account without currencies leaves the choice to Ogone"
        payment_id, token = self.create_payment('1500', "Ogone JPY")
        self.assertEqual(self.form(token)['CURRENCY'], 'JPY')

    def test_checkout_after_the_currency_was_removed(self):
        "A payment made before the currency was removed is not sent"
        payment_id, token = self.create_payment('1500', "Ogone JPY")
        self.set_currencies('EUR')
        response = self.checkout(token)
        self.assertEqual(response.status_code, 409)
        self.assertNotIn('AMOUNT', response.text)
        self.assertEqual(self.state(payment_id), ('submitted', 0))

    def test_charge_after_the_currency_was_removed(self):
        "A saved card is not charged in a currency the account refuses"
        pool = Pool(DB_NAME)
        Alias = pool.get('account.payment.ogone.alias')
        Payment = pool.get('account.payment')
        payment_id, _ = self.create_payment('1500', "Ogone JPY")
        self.set_currencies('EUR')
        with Transaction().start(DB_NAME, 1) as transaction:
            payment = Payment(payment_id)
            with set_company(payment.company):
                alias, = Alias.create([{
                            'party': payment.party.id,
                            'account': payment.journal.ogone_account.id,
                            'alias': f'CURRENCY-{payment_id}',
                            'brand': 'VISA',
                            'card_number': 'XXXXXXXXXXXX1111',
                            'expiry': '1240',
                            }])
                payment.ogone_alias = alias
                with self.assertRaises(ProcessError) as caught:
                    payment.ogone_check_charge()
                self.assertIn('does not accept JPY', caught.exception.message)
            transaction.rollback()


del AmountTestCase
