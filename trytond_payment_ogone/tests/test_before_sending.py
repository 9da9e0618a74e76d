"""What is refused before anything is sent to Ogone: a currency the account
does not accept, and an account whose last check found a wrong setting."""
from trytond.modules.account_payment.exceptions import (
    PaymentValidationError, ProcessError)
from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, RouteTestCase
from trytond.transaction import Transaction

from .test_amount import AccountPaymentOgoneAmountTestCase as AmountTestCase


class AccountPaymentOgoneBeforeSendingTestCase(RouteTestCase):
    "Test what Account Payment Ogone refuses before sending"
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

    def charge_check(self, payment_id, prepare=None):
        """The message that refuses to charge the payment with a saved card,
        None when it would be sent; nothing is kept"""
        pool = Pool(DB_NAME)
        Alias = pool.get('account.payment.ogone.alias')
        Payment = pool.get('account.payment')
        with Transaction().start(DB_NAME, 1) as transaction:
            payment = Payment(payment_id)
            with set_company(payment.company):
                if prepare:
                    prepare(payment.journal.ogone_account)
                alias, = Alias.create([{
                            'party': payment.party.id,
                            'account': payment.journal.ogone_account.id,
                            'alias': f'CHECK-{payment_id}',
                            'brand': 'VISA',
                            'card_number': 'XXXXXXXXXXXX1111',
                            'expiry': '1240',
                            }])
                payment = Payment(payment_id)
                payment.ogone_alias = alias
                try:
                    payment.ogone_check_charge()
                except ProcessError as error:
                    return error.message
                finally:
                    transaction.rollback()

    def test_charge_after_the_currency_was_removed(self):
        "A saved card is not charged in a currency the account refuses"
        payment_id, _ = self.create_payment('1500', "Ogone JPY")
        self.set_currencies('EUR')
        self.assertIn('does not accept JPY', self.charge_check(payment_id))

    def test_charge_on_an_account_whose_check_failed(self):
        "The last check found a wrong setting: nothing is charged until fixed"
        Account = Pool(DB_NAME).get('account.payment.ogone.account')
        payment_id, _ = self.create_payment('15', "Ogone")
        self.assertIsNone(self.charge_check(payment_id))

        def wrong_environment(account):
            # As the Check button records it
            table = Account.__table__()
            cursor = Transaction().connection.cursor()
            cursor.execute(*table.update(
                    [table.check_outcome], ['wrong_environment'],
                    where=table.id == account.id))
        message = self.charge_check(payment_id, wrong_environment)
        self.assertIn('is not sent', message)
        self.assertIn('Check', message)

        def fixed(account):
            wrong_environment(account)
            Account.write([Account(account.id)], {'environment': 'test'})
            self.assertIsNone(Account(account.id).check_outcome)
        self.assertIsNone(self.charge_check(payment_id, fixed))


del AmountTestCase
