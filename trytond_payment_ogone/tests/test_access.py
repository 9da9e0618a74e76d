"""What users without the payment groups, or of another company, can do
through RPC with the module's models."""
import datetime as dt
from decimal import Decimal

from trytond.model.exceptions import AccessButtonError, AccessError
from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import DBTestCase, with_transaction
from trytond.transaction import Transaction

from .tools import SHA_IN, SHA_OUT, create_company


def _two_companies():
    """Companies A and B, each with an Ogone account, journal and payment,
    a card saved for A's customer and users: a payment clerk of each
    company and a user without groups of A"""
    pool = Pool()
    Company = pool.get('company.company')
    Party = pool.get('party.party')
    Account = pool.get('account.payment.ogone.account')
    Journal = pool.get('account.payment.journal')
    Payment = pool.get('account.payment')
    Alias = pool.get('account.payment.ogone.alias')
    User = pool.get('res.user')
    ModelData = pool.get('ir.model.data')

    company_a = create_company()
    company_b = Company(
        party=Party(name="Other Shop"), currency=company_a.currency)
    company_b.party.save()
    company_b.save()
    customer = Party(name="Customer")
    customer.save()
    result = {'customer': customer}
    group_payment = ModelData.get_id('account_payment', 'group_payment')
    for name, company in [('a', company_a), ('b', company_b)]:
        account = Account(
            name=f"Shop {name}", pspid=f'SHOP{name.upper()}',
            api_user_id='API', api_password=f'api-password-{name}',
            sha_in_secret=SHA_IN, sha_out_secret=SHA_OUT,
            environment='custom', base_url='http://127.0.0.1:9/ncol/test/',
            order_id_prefix=name)
        account.save()
        journal = Journal(
            name=f"Ogone {name}", process_method='ogone',
            ogone_account=account, currency=company.currency,
            company=company)
        journal.save()
        with set_company(company):
            payment = Payment(
                company=company, journal=journal, kind='receivable',
                party=customer, amount=Decimal('10'))
            payment.save()
        clerk, = User.create([{
                    'login': f'clerk_{name}',
                    'groups': [('add', [group_payment])],
                    'companies': [('add', [company.id])],
                    'company': company.id,
                    }])
        result.update({
                f'company_{name}': company, f'account_{name}': account,
                f'journal_{name}': journal, f'payment_{name}': payment,
                f'clerk_{name}': clerk})
    result['alias'], = Alias.create([{
                'party': customer.id, 'account': result['account_a'].id,
                'alias': 'A-CARD', 'brand': 'VISA',
                'card_number': 'XXXXXXXXXXXX1111', 'expiry': '1240',
                }])
    result['basic'], = User.create([{
                'login': 'basic',
                'companies': [('add', [company_a.id])],
                'company': company_a.id,
                }])
    return result


def as_user(user):
    "Call as the client of the user does"
    transaction = Transaction()
    return transaction.set_user(user.id), transaction.set_context(
        _check_access=True, company=user.company.id)


def register_card(customer, account, **context):
    """Run the card registration wizard for customer on account from the
    party, as the client does; return its answer"""
    RegisterCard = Pool().get(
        'account.payment.ogone.card_register', type='wizard')
    with Transaction().set_context(active_model='party.party',
            active_id=customer.id, active_ids=[customer.id], **context):
        session_id, _, _ = RegisterCard.create()
        return RegisterCard.execute(session_id, {
                'start': {'party': customer.id, 'account': account.id},
                }, 'open_')


class AccountPaymentOgoneAccessTestCase(DBTestCase):
    "Test the access of users to Account Payment Ogone"
    module = 'account_payment_ogone'

    @with_transaction()
    def test_secrets_not_searchable_through_a_relation(self):
        "No search guesses a stored secret, character by character"
        pool = Pool()
        Party = pool.get('party.party')
        Alias = pool.get('account.payment.ogone.alias')
        Journal = pool.get('account.payment.journal')
        data = _two_companies()
        # The first character of each secret of the accounts
        guesses = {
            'sha_in_secret_stored': SHA_IN[0],
            'sha_out_secret_stored': SHA_OUT[0],
            'api_password_stored': 'a',
            }
        searches = {
            # Parties are open to every user
            'party': lambda domain: Party.search([
                    ('ogone_aliases', 'where', [
                            ('account', 'where', domain)])]),
            # The saved cards of company A, searched from company B
            'alias': lambda domain: Alias.search([
                    ('account', 'where', domain)]),
            'journal': lambda domain: Journal.search([
                    ('ogone_account', 'where', domain)]),
            }
        for login, name in [
                ('basic', 'party'), ('clerk_b', 'party'),
                ('clerk_b', 'alias'), ('clerk_a', 'journal')]:
            for field, first in guesses.items():
                with self.subTest(user=login, search=name, field=field):
                    user_context, check_access = as_user(data[login])
                    with user_context, check_access, \
                            self.assertRaises(AccessError):
                        searches[name]([(field, 'like', f'{first}%')])


    @with_transaction()
    def test_capture_button_checks_its_groups_and_states(self):
        "The capture button obeys its groups and is refused where hidden"
        pool = Pool()
        Payment = pool.get('account.payment')
        Order = pool.get('account.payment.ogone.order')
        Button = pool.get('ir.model.button')
        Group = pool.get('res.group')
        data = _two_companies()
        payment = data['payment_a']
        Order.create([{
                    'payment': payment.id, 'account': data['account_a'].id,
                    'name': 'a-1-1', 'amount': payment.amount,
                    'currency': payment.currency.id}])
        # Authorized, and its capture already sent: the answer is awaited
        Payment.write([payment], {
                'state': 'processing', 'ogone_pay_id': '3000001',
                'ogone_order_id': 'a-1-1', 'ogone_status': '5',
                'ogone_capture_needed': True, 'ogone_operation': 'capture',
                'ogone_operation_sent': True})
        user_context, check_access = as_user(data['clerk_a'])
        with user_context, check_access:
            with self.assertRaises(AccessButtonError):
                Payment.ogone_capture([payment])
        payment = Payment(payment.id)
        self.assertTrue(payment.ogone_operation_sent)

        # The capture not sent yet, the button restricted to another group
        Payment.write([payment], {
                'ogone_operation': None, 'ogone_operation_sent': False})
        button, = Button.search([
                ('model', '=', 'account.payment'),
                ('name', '=', 'ogone_capture'),
                ])
        button.groups = [Group(name="Capture")]
        button.save()
        user_context, check_access = as_user(data['clerk_a'])
        with user_context, check_access:
            with self.assertRaises(AccessButtonError):
                Payment.ogone_capture([payment])
        self.assertIsNone(Payment(payment.id).ogone_operation)

    @with_transaction()
    def test_card_registration_wizard_needs_payment_group(self):
        "Only the payment group gives card registration links"
        pool = Pool()
        Registration = pool.get('account.payment.ogone.card_registration')
        data = _two_companies()
        user_context, check_access = as_user(data['basic'])
        with user_context, check_access:
            with self.assertRaises(AccessError):
                register_card(data['customer'], data['account_a'])
        self.assertFalse(Registration.search([]))

    @with_transaction()
    def test_card_registration_wizard_under_another_action(self):
        "The wizard gives no link to a user who names another action"
        pool = Pool()
        Registration = pool.get('account.payment.ogone.card_registration')
        data = _two_companies()
        user_context, check_access = as_user(data['basic'])
        # trytond looks the wizard's groups up with the action of the
        # context: with one of another wizard it finds none
        with user_context, check_access:
            with self.assertRaises(AccessError):
                register_card(
                    data['customer'], data['account_a'], action_id=999999)
        self.assertFalse(Registration.search([]))

    @with_transaction()
    def test_card_registration_wizard_on_another_company_account(self):
        "A clerk of B gets no link to save a card on A's account"
        pool = Pool()
        Registration = pool.get('account.payment.ogone.card_registration')
        data = _two_companies()
        customer = data['customer']
        user_context, check_access = as_user(data['clerk_b'])
        with user_context, check_access:
            with self.assertRaises(AccessError):
                register_card(customer, data['account_a'])
            # The client's call is rolled back with the error
            self.assertTrue(
                register_card(customer, data['account_b'])['actions'])
        self.assertIn(
            data['account_b'], [r.account for r in Registration.search([])])

    @with_transaction()
    def test_orders_and_feedback_not_deleted(self):
        "A payment clerk deletes neither the Ogone orders nor their history"
        pool = Pool()
        Payment = pool.get('account.payment')
        Order = pool.get('account.payment.ogone.order')
        Feedback = pool.get('account.payment.ogone.feedback')
        data = _two_companies()
        payment = data['payment_a']
        order, = Order.create([{
                    'payment': payment.id, 'account': data['account_a'].id,
                    'name': 'a-1-1', 'amount': payment.amount,
                    'currency': payment.currency.id}])
        feedback, = Feedback.create([{
                    'payment': payment.id, 'order': order.id,
                    'source': 'server', 'status': '9', 'pay_id': '3000001',
                    'applied': True}])
        user_context, check_access = as_user(data['clerk_a'])
        with user_context, check_access:
            with self.assertRaises(AccessError):
                Feedback.delete([feedback])
            with self.assertRaises(AccessError):
                Order.delete([order])
            # Without its orders the payment could be deleted, and a
            # customer paying its link would find nothing
            with self.assertRaises(AccessError):
                Payment.delete([payment])
        self.assertEqual(Order.search([]), [order])
        self.assertEqual(Feedback.search([]), [feedback])

    @with_transaction()
    def test_saved_cards_of_another_company_hidden(self):
        "A payment clerk of B neither sees nor changes A's saved cards"
        pool = Pool()
        Alias = pool.get('account.payment.ogone.alias')
        Registration = pool.get('account.payment.ogone.card_registration')
        Refusal = pool.get('account.payment.ogone.refusal')
        data = _two_companies()
        alias = data['alias']
        registration = Registration.new_for(
            data['customer'], data['account_a'])
        refusal, = Refusal.create([{
                    'account': data['account_a'].id,
                    'received_at': dt.datetime.now(), 'source': 'server',
                    'cause': 'passphrase', 'orderid': 'a-1-1'}])

        user_context, check_access = as_user(data['clerk_b'])
        with user_context, check_access:
            self.assertEqual(Alias.search([]), [])
            self.assertEqual(Registration.search([]), [])
            self.assertEqual(Refusal.search([]), [])
            with self.assertRaises(AccessError):
                Alias.read([alias.id], ['card_number'])
            with self.assertRaises(AccessError):
                Registration.read([registration.id], ['url'])
            with self.assertRaises(AccessError):
                Alias.write([alias], {'active': False})
        self.assertTrue(Alias(alias.id).active)

        user_context, check_access = as_user(data['clerk_a'])
        with user_context, check_access:
            self.assertEqual(Alias.search([]), [alias])
            self.assertEqual(Registration.search([]), [registration])
            self.assertEqual(Refusal.search([]), [refusal])


del DBTestCase
