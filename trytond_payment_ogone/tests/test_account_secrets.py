"""An account administrator cannot send an account's API password to an
address of their choosing: the password is write-only, and every DirectLink
call (the Check button's too) carries it to the account's platform."""
from contextlib import contextmanager

from ogone_core.sandbox import start_server

from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.tests.test_tryton import DBTestCase, with_transaction
from trytond.transaction import Transaction

from .tools import RequestRecorder, create_company

BACK_OFFICE = {
    'pspid': 'MOVESHOP', 'sha_in': 'move_shop_sha_in_0001',
    'sha_out': 'move_shop_sha_out_001', 'api_user': 'MOVEAPI',
    'api_password': 'move-shop-api-password', 'algorithm': 'sha512',
    }
NEW_API_PASSWORD = 'another-api-password'
# No server listens on the discard port: nothing is sent there for real
ELSEWHERE = 'http://127.0.0.1:9/ncol/test/'


class AccountPaymentOgoneAccountSecretsTestCase(DBTestCase):
    "Test that the account's API password goes nowhere else"
    module = 'account_payment_ogone'

    @classmethod
    def setUpClass(cls):
        cls.sandbox = start_server(config={'merchants': [BACK_OFFICE]})
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.sandbox.stop()

    def setUp(self):
        super().setUp()
        self.recorder = RequestRecorder().start()
        self.addCleanup(self.recorder.stop)

    def create_account_admin(self):
        "A user of the Account Administration group only"
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        company = create_company()
        admin, = User.create([{
                    'login': 'ogone_account_admin',
                    'groups': [('add', [
                                ModelData.get_id(
                                    'account', 'group_account_admin')])],
                    'companies': [('add', [company.id])],
                    'company': company.id,
                    }])
        return admin

    @contextmanager
    def as_user(self, user):
        """Call as the client of the user does, who confirms the warning
        about changed keys"""
        transaction = Transaction()
        with transaction.set_user(user.id), transaction.set_context(
                _check_access=True, _skip_warnings=True,
                company=user.company.id):
            yield

    def create_account(self, **values):
        "An account of the sandbox's merchant"
        Account = Pool().get('account.payment.ogone.account')
        account, = Account.create([{
                    'name': "Move Shop", 'pspid': BACK_OFFICE['pspid'],
                    'api_user_id': BACK_OFFICE['api_user'],
                    'api_password': BACK_OFFICE['api_password'],
                    'sha_in_secret': BACK_OFFICE['sha_in'],
                    'sha_out_secret': BACK_OFFICE['sha_out'],
                    'environment': 'custom',
                    'base_url': self.sandbox.test_base_url,
                    **values}])
        return account

    def address(self, account):
        """Where the account's requests go and which password they carry,
        named so that a failure does not print it"""
        account = Pool().get('account.payment.ogone.account')(account.id)
        password = {
            BACK_OFFICE['api_password']: 'former', NEW_API_PASSWORD: 'new',
            None: None}.get(account.api_password_stored, 'other')
        return (account.environment, account.base_url, password)

    @with_transaction()
    def test_move_needs_api_password(self):
        "Moving an account elsewhere is refused without its API password"
        Account = Pool().get('account.payment.ogone.account')
        admin = self.create_account_admin()
        with self.as_user(admin):
            # Creating an account is not concerned
            account = self.create_account()
        before = self.address(account)
        self.assertEqual(
            before, ('custom', self.sandbox.test_base_url, 'former'))

        for values in [
                {'base_url': self.recorder.url + '/ncol/test/'},
                {'environment': 'production'},
                {'environment': 'test', 'base_url': None},
                # The mask the client reads is no password
                {'base_url': ELSEWHERE, 'api_password': '*' * 10},
                ]:
            with self.subTest(values=values), self.as_user(admin):
                with self.assertRaisesRegex(
                        AccessError,
                        r'"Move Shop".*enter (its|the) API password again'):
                    Account.write([Account(account.id)], values)
            self.assertEqual(self.address(account), before)

        with self.as_user(admin):
            # The same address, or another field, is no move
            Account.write([Account(account.id)], {
                    'name': "Move Shop 2", 'environment': 'custom',
                    'base_url': self.sandbox.test_base_url,
                    'pspid': 'MOVESHOP2', 'api_user_id': 'MOVEAPI2',
                    'order_id_prefix': 'move2'})
            # The address with a new password: the former one stays here
            Account.write([Account(account.id)], {
                    'base_url': ELSEWHERE,
                    'api_password': NEW_API_PASSWORD})
        self.assertEqual(
            self.address(account),
            ('custom', ELSEWHERE, 'new'))

        with self.as_user(admin):
            Account.write([Account(account.id)], {
                    'environment': 'test', 'api_password': None})
        self.assertEqual(
            self.address(account), ('test', ELSEWHERE, None))
        with self.as_user(admin):
            # The base URL of an account on Ogone's test platform is unused
            Account.write([Account(account.id)], {
                    'base_url': self.recorder.url + '/ncol/test/'})
            # Without a password, nothing is carried anywhere
            Account.write([Account(account.id)], {'environment': 'custom'})
        self.assertEqual(self.address(account), (
                'custom', self.recorder.url + '/ncol/test/', None))

    @with_transaction()
    def test_copy_leaves_the_api_password(self):
        "A copy has no API password to carry anywhere, wherever it goes"
        Account = Pool().get('account.payment.ogone.account')
        admin = self.create_account_admin()
        account = self.create_account()
        elsewhere = self.recorder.url + '/ncol/test/'
        with self.as_user(admin):
            copy, = Account.copy([Account(account.id)], {
                    'environment': 'custom', 'base_url': elsewhere})
        self.assertEqual(self.address(copy), ('custom', elsewhere, None))
        self.assertEqual(self.address(account)[2], 'former')

    @with_transaction()
    def test_check_after_refused_move_sends_nothing_elsewhere(self):
        "The Check button still queries the account's own platform"
        Account = Pool().get('account.payment.ogone.account')
        admin = self.create_account_admin()
        account = self.create_account()
        with self.as_user(admin):
            with self.assertRaises(AccessError):
                Account.write([Account(account.id)], {
                        'environment': 'custom',
                        'base_url': self.recorder.url + '/ncol/test/'})
            Account.ogone_check([Account(account.id)])
        self.assertEqual(self.recorder.requests, [])
        account = Account(account.id)
        self.assertEqual(
            (account.check_outcome, account.checked_url),
            ('ok', self.sandbox.test_base_url))


del DBTestCase
