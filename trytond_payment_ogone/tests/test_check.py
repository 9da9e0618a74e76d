"""The Check button and the refused feedbacks, in the administrator's language."""
import re
from decimal import Decimal

from ogone_core.sandbox import start_server

from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, RouteTestCase
from trytond.transaction import Transaction

from .test_route import _setup_database
from .tools import LANGUAGES, load_translations, signed_feedback

ORDER_ID = re.compile(r'<input type="hidden" name="ORDERID" value="([^"]*)"')

BACK_OFFICE = {
    'pspid': 'LANGSHOP', 'sha_in': 'lang_shop_sha_in_001',
    'sha_out': 'lang_shop_sha_out_01', 'api_user': 'LANGAPI',
    'api_password': 'lang-api-password', 'algorithm': 'sha512',
    }


class AccountPaymentOgoneCheckTestCase(RouteTestCase):
    "Test the Check button and the refusals of Account Payment Ogone"
    module = 'account_payment_ogone'

    @classmethod
    def setUpClass(cls):
        cls.sandbox = start_server(config={'merchants': [BACK_OFFICE]})
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.sandbox.stop()

    @classmethod
    def setUpDatabase(cls):
        _setup_database()
        load_translations(*LANGUAGES)

    def account(self, **values):
        "A new account for the sandbox's merchant, with these mistakes"
        Account = Pool().get('account.payment.ogone.account')
        account = Account(**{
                'name': "Lang Shop", 'pspid': 'LANGSHOP',
                'api_user_id': 'LANGAPI',
                'api_password': 'lang-api-password',
                'sha_in_secret': BACK_OFFICE['sha_in'],
                'sha_out_secret': BACK_OFFICE['sha_out'],
                'environment': 'custom',
                'base_url': self.sandbox.test_base_url,
                **values})
        account.save()
        return account

    def check(self, language, **values):
        Account = Pool().get('account.payment.ogone.account')
        account = self.account(**values)
        Account.ogone_check([account])
        with Transaction().set_context(language=language):
            account = Account(account.id)
            return account.check_outcome, account.check_result

    def test_check_in_french(self):
        "The outcome is said in the administrator's language"
        with Transaction().start(DB_NAME, 0):
            outcome, text = self.check('fr', sha_in_secret='lang_shop_sha_in_002')
        self.assertEqual(outcome, 'signature')
        self.assertTrue(text.startswith("Ogone refuse la signature"), text)
        self.assertNotIn('lang_shop_sha_in', text)

    def test_check_in_german_and_dutch(self):
        "Each outcome has its translated advice"
        with Transaction().start(DB_NAME, 0):
            outcome, text = self.check('de', api_password='wrong-password')
            self.assertEqual(outcome, 'credentials')
            self.assertIn("Configuration > Users", text)
            self.assertTrue(text.startswith("API-Benutzer"), text)
            outcome, text = self.check('nl')
            self.assertEqual(outcome, 'ok')
            self.assertTrue(text.startswith("Alles in orde"), text)

    def test_wrong_environment(self):
        "A test PSPID on the production environment is told to use Test"
        with Transaction().start(DB_NAME, 0):
            Account = Pool().get('account.payment.ogone.account')
            account = self.account()
            # What a check of Production finds for a test PSPID
            account.environment = 'production'
            account.check_outcome = 'wrong_environment'
            account.checked_url = 'https://secure.ogone.com/ncol/prod/'
            account.check_other_url = (
                'https://ogone.test.v-psp.com/ncol/test/')
            account.save()
            with Transaction().set_context(language='fr'):
                text = Account(account.id).check_result
        self.assertIn("choisissez l'environnement « Test »", text)

    def checkout_order_id(self):
        "The ORDERID of a new payment's checkout, as the customer opens it"
        pool = Pool(DB_NAME)
        Company = pool.get('company.company')
        Journal = pool.get('account.payment.journal')
        Party = pool.get('party.party')
        Payment = pool.get('account.payment')
        with Transaction().start(DB_NAME, 1):
            company, = Company.search([])
            with set_company(company):
                journal, = Journal.search([('name', '=', "Ogone")])
                party = Party(name="Customer")
                party.save()
                payment = Payment(
                    company=company, journal=journal, kind='receivable',
                    party=party, amount=Decimal('42.50'))
                payment.save()
                Payment.submit([payment])
                Payment.process_ogone(payment)
                payment_id, token = payment.id, payment.ogone_checkout_id
        response = self.client().get(
            f'/{self.db_name}/r/account_payment_ogone/checkout/{token}')
        self.assertEqual(response.status_code, 200)
        order_id, = ORDER_ID.findall(response.text)
        return payment_id, order_id

    def test_refusal_diagnosis_in_german(self):
        "A feedback refused for its signature is kept with its diagnosis"
        payment_id, order_id = self.checkout_order_id()
        params = signed_feedback(order_id, 9, '42.50', algorithm='sha256')
        response = self.client().post(
            f'/{self.db_name}/r/account_payment_ogone/return', data=params)
        self.assertEqual(response.status_code, 400)
        with Transaction().start(DB_NAME, 0):
            Payment = Pool().get('account.payment')
            with Transaction().set_context(language='de'):
                payment = Payment(payment_id)
                refusal = payment.journal.ogone_account.refusals[0]
                self.assertEqual(
                    (refusal.orderid, refusal.source, refusal.cause,
                        refusal.algorithm, refusal.charset),
                    (order_id, 'server', 'algorithm_or_charset', 'sha256',
                        'utf-8'))
                self.assertTrue(refusal.diagnosis.startswith(
                        "Sie wäre mit SHA256 und UTF-8 gültig"),
                    refusal.diagnosis)
                self.assertEqual(payment.state, 'submitted')
                self.assertEqual(payment.ogone_feedbacks, ())

    def test_junk_feedbacks_do_not_push_out_a_genuine_refusal(self):
        "Unsigned junk posted with a known ORDERID keeps the real diagnosis"
        payment_id, order_id = self.checkout_order_id()
        params = signed_feedback(order_id, 9, '42.50', algorithm='sha256')
        response = self.client().post(
            f'/{self.db_name}/r/account_payment_ogone/return', data=params)
        self.assertEqual(response.status_code, 400)
        # Anyone who saw the ORDERID (the customer, a proxy log) can post
        # feedbacks without a signature: each is kept as "No Signature"
        for _ in range(12):
            response = self.client().post(
                f'/{self.db_name}/r/account_payment_ogone/return',
                data={'orderID': order_id, 'STATUS': '9'})
            self.assertEqual(response.status_code, 400)
        with Transaction().start(DB_NAME, 0):
            Payment = Pool().get('account.payment')
            refusals = Payment(payment_id).journal.ogone_account.refusals
            self.assertIn(
                'algorithm_or_charset', [r.cause for r in refusals],
                "the administrator's diagnosis was pushed out by junk")


del RouteTestCase
