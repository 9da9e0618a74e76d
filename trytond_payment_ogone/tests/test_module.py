from trytond.modules.party.tests import PartyCheckReplaceMixin
from trytond.tests.test_tryton import ModuleTestCase


class AccountPaymentOgoneTestCase(PartyCheckReplaceMixin, ModuleTestCase):
    "Test Account Payment Ogone module"
    module = 'account_payment_ogone'


del ModuleTestCase
