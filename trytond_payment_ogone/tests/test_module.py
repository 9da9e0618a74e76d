from trytond.modules.party.tests import PartyCheckReplaceMixin
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    DBTestCase, ModuleTestCase, with_transaction)


class AccountPaymentOgoneTestCase(PartyCheckReplaceMixin, ModuleTestCase):
    "Test Account Payment Ogone module with its optional dependencies"
    module = 'account_payment_ogone'
    extras = ['account_invoice', 'account_payment_clearing']


class AccountPaymentOgoneBaseTestCase(DBTestCase):
    "Test Account Payment Ogone module activated without invoices"
    module = 'account_payment_ogone'

    @with_transaction()
    def test_without_invoices(self):
        "Without account_invoice, nothing of invoices paid online is there"
        pool = Pool()
        Module = pool.get('ir.module')
        Payment = pool.get('account.payment')
        Router = pool.get('account_payment_ogone', type='router')
        activated = {m.name for m in Module.search(
                [('state', '=', 'activated')])}
        self.assertIn('account_payment_ogone', activated)
        self.assertNotIn('account_invoice', activated)
        self.assertNotIn('account_payment_clearing', activated)
        self.assertNotIn('ogone_invoice', Payment._fields)
        self.assertNotIn('invoice', Router.__routes__)
        # The routes of the base module are there
        self.assertIn('checkout', Router.__routes__)


del ModuleTestCase, DBTestCase
