"""The accountant's side attacked: refunds, captures and voids, the
reconciliation's queries, each compared with what the sandbox recorded.
Real trytond, real queue tasks run by trytond.worker's run_task, the real
sandbox."""
import re
from decimal import Decimal
from functools import partial
from html import unescape

import requests

from ogone_core.sandbox import DEFAULT_MERCHANT, start_server

from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, RouteTestCase
from trytond.transaction import Transaction

from .tools import (
    BusyDatabaseMixin, create_company, create_sandbox_journal,
    finish_pending_tasks, save_sandbox_card)

GOOD_CARD = '4111111111111111'
CHECKOUT_INPUT = re.compile(
    r'<input type="hidden" name="([^"]*)" value="([^"]*)"')
CHECKOUT_ACTION = re.compile(
    r'<form id="payment-form" method="post" action="([^"]*)"')
# Another PSPID of the sandbox, as a shop moving to a new Ogone account
OTHER_MERCHANT = {
    'pspid': 'SANDBOXNEW', 'api_user': 'SANDBOXNEWAPI',
    'api_password': 'sandbox-new-password',
    'sha_in': 'sandbox_new_sha_in_passphrase1',
    'sha_out': 'sandbox_new_sha_out_passphrase',
    }


def _setup_database(base_url):
    pool = Pool()
    Party = pool.get('party.party')
    Journal = pool.get('account.payment.journal')
    company = create_company()
    journal = create_sandbox_journal(base_url, company, 'AC', name="Ogone")
    account = journal.ogone_account
    Journal(name="Ogone RES", process_method='ogone', ogone_account=account,
        ogone_authorization_only=True, currency=company.currency,
        company=company).save()
    party = Party(name="Client", contact_mechanisms=[
            {'type': 'email', 'value': 'client@example.com'}])
    party.save()
    save_sandbox_card(base_url, party, account, 'ACC-GOOD', GOOD_CARD)
    # Currencies without and with three decimals, on the same PSPID
    Currency = pool.get('currency.currency')
    for code, digits in [('JPY', 0), ('KWD', 3)]:
        currency = Currency(name=code, code=code, symbol=code, digits=digits,
            rounding=Decimal(1).scaleb(-digits))
        currency.save()
        for name, authorization_only in [
                (f"Ogone {code}", False), (f"Ogone RES {code}", True)]:
            Journal(name=name, process_method='ogone', ogone_account=account,
                ogone_authorization_only=authorization_only,
                currency=currency, company=company).save()
    Account = pool.get('account.payment.ogone.account')
    Account(
        name="Sandbox new", pspid=OTHER_MERCHANT['pspid'],
        api_user_id=OTHER_MERCHANT['api_user'],
        api_password=OTHER_MERCHANT['api_password'],
        sha_in_secret=OTHER_MERCHANT['sha_in'],
        sha_out_secret=OTHER_MERCHANT['sha_out'], hash_algorithm='sha512',
        environment='custom', base_url=base_url,
        order_id_prefix='AN').save()


class AccountantTestCase(BusyDatabaseMixin, RouteTestCase):
    "The accountant's operations against the sandbox"
    module = 'account_payment_ogone'

    @classmethod
    def setUpClass(cls):
        cls.sandbox = start_server()
        cls.addClassCleanup(cls.sandbox.stop)
        requests.post(f'{cls.sandbox.url}/admin/api/merchants',
            json=OTHER_MERCHANT, timeout=10).raise_for_status()
        super().setUpClass()

    @classmethod
    def setUpDatabase(cls):
        _setup_database(cls.sandbox.test_base_url)

    def setUp(self):
        super().setUp()
        finish_pending_tasks()

    # Helpers

    def call(self, model, method, *args, user=0, context=None):
        """Call method of model in a committed transaction of user (as an
        RPC call does, with the access checks when user is not root)"""
        pool = Pool(DB_NAME)
        Company = pool.get('company.company')
        with Transaction().start(DB_NAME, user, context=context or {}) \
                as transaction:
            company, = Company.search([])
            with set_company(company):
                result = method(pool.get(model), *args)
            transaction.commit()
        return result

    def charged_payment(self, amount, journal="Ogone"):
        "A payment charged on the saved card, the charge answered"
        payment_id = self.call('account.payment',
            lambda P: self.new_card_payment(P, journal, amount))
        self.run_pending()
        return payment_id

    def read(self, model, record_id, *names):
        with Transaction().start(DB_NAME, 0, readonly=True):
            record = Pool(DB_NAME).get(model)(record_id)
            return tuple(getattr(record, n) for n in names)

    def new_refund(self, payment_id, amount, submit=True):
        def create(Refund):
            refund = Refund(payment=payment_id, amount=Decimal(amount),
                reason="Returned")
            refund.save()
            if submit:
                Refund.submit([refund])
            return refund.id
        return self.call('account.payment.ogone.refund', create)

    def settle_and_reconcile(self, order_id):
        """The sandbox settles the order's operation in progress, and the
        reconciliation learns it by querying"""
        requests.post(f'{self.sandbox.url}/admin/api/settle', json={
                'pspid': DEFAULT_MERCHANT.pspid, 'orderid': order_id},
            timeout=10).raise_for_status()
        self.call('account.payment', lambda P: P.ogone_reconcile())
        self.run_pending()

    def history(self, payment_id):
        "The operations, amounts and statuses of the sandbox's transaction"
        pay_id, = self.read('account.payment', payment_id, 'ogone_pay_id')
        transaction = requests.get(
            f'{self.sandbox.url}/admin/api/transactions/{pay_id}',
            timeout=10).json()
        return [(h['operation'], Decimal(h['amount']), h['status'])
            for h in transaction['history']]

    def fault(self, order_id, **faults):
        requests.post(f'{self.sandbox.url}/admin/api/faults', json={
                'pspid': DEFAULT_MERCHANT.pspid, 'orderid': order_id,
                'times': 1, 'faults': faults},
            timeout=10).raise_for_status()

    # The tests

    def test_refund_not_last_while_another_waits_approval(self):
        """A refund sent while another of the same payment waits for its
        approval is not the last (RFS closes the order at Ogone): both
        refunds together give back what was paid"""
        payment_id = self.charged_payment('100.00')
        self.assertEqual(
            self.read('account.payment', payment_id, 'state'),
            ('succeeded',))
        waiting = self.new_refund(payment_id, '30.00')
        first = self.new_refund(payment_id, '70.00')
        self.call('account.payment.ogone.refund',
            lambda Refund: Refund.approve([Refund(first)]))
        self.run_pending()
        self.call('account.payment.ogone.refund',
            lambda Refund: Refund.approve([Refund(waiting)]))
        self.run_pending()

        self.assertEqual(
            [h[:2] for h in self.history(payment_id)],
            [('SAL', Decimal(100)), ('RFD', Decimal(70)),
                ('RFS', Decimal(30))])
        for refund_id in [first, waiting]:
            self.assertEqual(
                self.read('account.payment.ogone.refund', refund_id,
                    'state', 'ogone_status'),
                ('processing', '81'))

    def test_capture_asked_again_after_sent(self):
        """A client asking the capture again while the first one's answer
        was lost is refused as the hidden button is: the payment is still
        followed by the reconciliation and ends as the sandbox's"""
        from trytond.model.exceptions import AccessButtonError
        from trytond.modules.account_payment.exceptions import ProcessError
        payment_id = self.charged_payment('50.00', journal="Ogone RES")
        state, status, order_id = self.read('account.payment', payment_id,
            'state', 'ogone_status', 'ogone_order_id')
        self.assertEqual((state, status), ('processing', '5'))
        self.fault(order_id, drop_connection=True,
            pages=['maintenancedirect'])
        rpc = {'_check_access': True}

        def capture(Payment):
            Payment.ogone_capture([Payment(payment_id)])
        self.call('account.payment', capture, user=1, context=rpc)
        self.run_pending()
        self.assertEqual(
            self.read('account.payment', payment_id,
                'ogone_operation', 'ogone_operation_sent'),
            ('capture', True))
        # The capture reached Ogone; its answer was lost
        self.assertEqual(
            [h[:2] for h in self.history(payment_id)],
            [('RES', Decimal(50)), ('SAL', Decimal(50))])
        # As the void button, hidden now, is refused
        with self.assertRaises(AccessButtonError):
            self.call('account.payment',
                lambda P: P.ogone_void([P(payment_id)]), user=1,
                context=rpc)
        # Refused, whichever way
        try:
            self.call('account.payment', capture, user=1, context=rpc)
        except (AccessButtonError, ProcessError):
            pass
        self.run_pending()

        self.settle_and_reconcile(order_id)
        self.assertEqual(self.history(payment_id)[-1][2], 9)
        self.assertEqual(
            self.read('account.payment', payment_id, 'state',
                'ogone_status', 'ogone_capture_needed'),
            ('succeeded', '9', False))

    def test_journal_account_kept_while_charge_unknown(self):
        """A journal cannot move to another Ogone account while its charge
        whose answer was lost is processing: the accountant is told which
        payment holds it, and the reconciliation then ends the payment as
        the sandbox has it, paid once"""
        from trytond.model.exceptions import AccessError
        self.configure(account_payment_ogone={'lost_after': 0})
        self.copy_journal("Ogone Kept")
        payment_id = self.call('account.payment',
            lambda P: self.new_card_payment(P, "Ogone Kept", '25.00'))
        order_id = f'AC-{payment_id}-1'
        self.fault(order_id, drop_connection=True, pages=['orderdirect'])
        self.run_pending()
        self.assertEqual(
            self.read('account.payment', payment_id, 'state',
                'ogone_order_id'),
            ('processing', order_id))

        with self.assertRaises(AccessError) as refused:
            self.move_journal("Ogone Kept", "Ogone Kept moved")
        payment_name, = self.read('account.payment', payment_id, 'rec_name')
        message = refused.exception.message
        self.assertIn('"Ogone Kept"', message)
        self.assertIn(f'"{payment_name}"', message)
        self.assertIn('"Sandbox AC"', message)
        # Nothing of the refused write was kept
        self.assertEqual(self.journal_account("Ogone Kept"), 'SANDBOX')
        # Nor can the journal stop being Ogone's: its payment would no
        # longer be followed

        def manual(Journal):
            journal, = Journal.search([('name', '=', "Ogone Kept")])
            Journal.write([journal], {'process_method': 'manual'})
        with self.assertRaises(AccessError) as refused:
            self.call('account.payment.journal', manual, user=1,
                context={'_check_access': True})
        self.assertIn(f'"{payment_name}"', refused.exception.message)

        self.call('account.payment', lambda P: P.ogone_reconcile())
        self.run_pending()
        self.assertEqual(
            [(t['pspid'], t['status']) for t in self.transactions(order_id)],
            [(DEFAULT_MERCHANT.pspid, 9)])
        self.assertEqual(self.transactions(
                order_id, pspid=OTHER_MERCHANT['pspid']), [])
        self.assertEqual(
            self.read('account.payment', payment_id, 'state',
                'ogone_status', 'ogone_order_id'),
            ('succeeded', '9', order_id))
        self.assertEqual(self.history(payment_id), [
                ('SAL', Decimal('25.00'), 9)])

    def test_refund_after_journal_moved(self):
        """Once its payments are final, a journal moves to another Ogone
        account; a refund of a payment charged before is sent to the
        account its order was sent to, which holds the money"""
        from trytond.model.exceptions import AccessError
        self.copy_journal("Ogone Old")
        payment_id = self.charged_payment('40.00', journal="Ogone Old")
        order_id, = self.read('account.payment', payment_id,
            'ogone_order_id')
        self.assertEqual(
            self.read('account.payment', payment_id, 'state'),
            ('succeeded',))

        # A draft payment that would charge a card of the old account
        # holds the journal too, until it is gone
        draft_id = self.call('account.payment',
            lambda P: self.new_card_payment(P, "Ogone Old", '5.00',
                process=False))
        draft_name, = self.read('account.payment', draft_id, 'rec_name')
        with self.assertRaises(AccessError) as refused:
            self.move_journal("Ogone Old", "Ogone New")
        self.assertIn(f'"{draft_name}"', refused.exception.message)
        self.call('account.payment', lambda P: P.delete([P(draft_id)]))

        self.move_journal("Ogone Old", "Ogone New")
        self.assertEqual(self.journal_account("Ogone New"),
            OTHER_MERCHANT['pspid'])

        refund_id = self.new_refund(payment_id, '15.00')
        self.call('account.payment.ogone.refund',
            lambda Refund: Refund.approve([Refund(refund_id)]))
        self.run_pending()
        transaction, = self.transactions(order_id)
        self.assertEqual(transaction['pspid'], DEFAULT_MERCHANT.pspid)
        self.assertEqual(self.transactions(
                order_id, pspid=OTHER_MERCHANT['pspid']), [])
        self.assertEqual([h[:2] for h in self.history(payment_id)],
            [('SAL', Decimal('40.00')), ('RFD', Decimal('15.00'))])

        self.settle_and_reconcile(order_id)
        self.assertEqual(self.history(payment_id)[-1][2], 8)
        self.assertEqual(
            self.read('account.payment.ogone.refund', refund_id, 'state'),
            ('succeeded',))
        self.assertEqual(
            self.read('account.payment', payment_id, 'state', 'amount'),
            ('succeeded', Decimal('25.00')))

    def copy_journal(self, name):
        "A journal of its own for a test that moves it, as Ogone's"
        def copy(Journal):
            base, = Journal.search([('name', '=', "Ogone")])
            Journal.copy([base], {'name': name})
        self.call('account.payment.journal', copy)

    @staticmethod
    def new_card_payment(Payment, journal, amount, process=True):
        "A payment of the saved card on the journal, processed if asked"
        pool = Pool()
        Journal = pool.get('account.payment.journal')
        Party = pool.get('party.party')
        Alias = pool.get('account.payment.ogone.alias')
        Company = pool.get('company.company')
        journal, = Journal.search([('name', '=', journal)])
        party, = Party.search([('name', '=', "Client")])
        alias, = Alias.search([('alias', '=', 'ACC-GOOD')])
        payment, = Payment.create([{
                    'company': Company.search([])[0].id,
                    'journal': journal.id, 'kind': 'receivable',
                    'party': party.id, 'amount': Decimal(amount),
                    'ogone_alias': alias.id}])
        if process:
            Payment.submit([payment])
            Payment.process([payment])
        return payment.id

    def move_journal(self, name, new_name):
        "The accountant renames the journal and moves it to the new PSPID"
        def move(Journal):
            Account = Pool().get('account.payment.ogone.account')
            journal, = Journal.search([('name', '=', name)])
            new, = Account.search([('pspid', '=', OTHER_MERCHANT['pspid'])])
            Journal.write([journal], {
                    'name': new_name, 'ogone_account': new.id})
        self.call('account.payment.journal', move, user=1,
            context={'_check_access': True})

    def journal_account(self, name):
        with Transaction().start(DB_NAME, 0, readonly=True):
            Journal = Pool(DB_NAME).get('account.payment.journal')
            journal, = Journal.search([('name', '=', name)])
            return journal.ogone_account.pspid

    def transactions(self, order_id, pspid=''):
        "The sandbox's transactions of the ORDERID, of one PSPID if given"
        return requests.get(f'{self.sandbox.url}/admin/api/transactions',
            params={'orderid': order_id, 'pspid': pspid},
            timeout=10).json()['transactions']

    def test_succeed_button_on_authorization(self):
        """The accountant cannot succeed by hand an Ogone payment whose
        money only Ogone's news can confirm (the group's button is hidden
        for Ogone): an authorization not captured is no money received"""
        from trytond.model.exceptions import AccessButtonError
        payment_id = self.charged_payment('20.00', journal="Ogone RES")
        self.assertEqual(
            self.read('account.payment', payment_id, 'state',
                'ogone_status'),
            ('processing', '5'))
        with self.assertRaises(AccessButtonError):
            self.call('account.payment',
                lambda P: P.succeed([P(payment_id)]), user=1,
                context={'_check_access': True})
        self.assertEqual(
            self.read('account.payment', payment_id, 'state'),
            ('processing',))
        self.assertEqual(self.history(payment_id)[-1][2], 5)

    def test_amount_raised_after_capture_asked(self):
        """The amount cannot be changed once the capture is asked, as the
        field shows it read-only: the authorization is captured as asked,
        and Tryton ends as the sandbox"""
        from trytond.model.exceptions import AccessError
        payment_id = self.charged_payment('50.00', journal="Ogone RES")
        rpc = {'_check_access': True}
        self.call('account.payment',
            lambda P: P.ogone_capture([P(payment_id)]), user=1, context=rpc)
        with self.assertRaises(AccessError) as refused:
            self.call('account.payment',
                lambda P: P.write([P(payment_id)], {'amount': Decimal(80)}),
                user=1, context=rpc)
        self.assertIn(
            'You are not allowed to modify the field "Amount"',
            refused.exception.message)
        self.assertEqual(
            self.read('account.payment', payment_id, 'amount',
                'ogone_operation'),
            (Decimal('50.00'), 'capture'))
        self.run_pending()
        order_id, = self.read('account.payment', payment_id,
            'ogone_order_id')
        self.settle_and_reconcile(order_id)
        self.assertEqual(self.history(payment_id), [
                ('RES', Decimal('50.00'), 5), ('SAL', Decimal('50.00'), 9)])
        self.assertEqual(
            self.read('account.payment', payment_id, 'state', 'amount',
                'ogone_status'),
            ('succeeded', Decimal('50.00'), '9'))

    def test_charge_and_refund_without_or_with_three_decimals(self):
        """A saved card charged in yen and in dinars, then refunded in part:
        the sandbox takes and gives back the amounts of Tryton, and the
        payment ends at what is left"""
        for journal, amount, refund, left in [
                ("Ogone JPY", '1500', '500', '1000'),
                ("Ogone KWD", '12.340', '2.100', '10.240'),
                ]:
            with self.subTest(journal=journal):
                payment_id = self.charged_payment(amount, journal=journal)
                order_id, state = self.read('account.payment', payment_id,
                    'ogone_order_id', 'state')
                self.assertEqual(state, 'succeeded')
                refund_id = self.new_refund(payment_id, refund)
                self.call('account.payment.ogone.refund',
                    lambda Refund: Refund.approve([Refund(refund_id)]))
                self.run_pending()
                self.settle_and_reconcile(order_id)
                self.assertEqual(self.history(payment_id), [
                        ('SAL', Decimal(amount), 9),
                        ('RFD', Decimal(refund), 8)])
                self.assertEqual(
                    self.read('account.payment.ogone.refund', refund_id,
                        'state'),
                    ('succeeded',))
                self.assertEqual(
                    self.read('account.payment', payment_id, 'state',
                        'amount'),
                    ('succeeded', Decimal(left)))

    def test_lower_capture_without_or_with_three_decimals(self):
        """An authorization in yen and in dinars captured for less: the
        sandbox captures the payment's lower amount"""
        rpc = {'_check_access': True}
        for journal, amount, captured in [
                ("Ogone RES JPY", '1500', '1200'),
                ("Ogone RES KWD", '1.230', '1.200'),
                ]:
            with self.subTest(journal=journal):
                payment_id = self.charged_payment(amount, journal=journal)
                order_id, state = self.read('account.payment', payment_id,
                    'ogone_order_id', 'state')
                self.assertEqual(state, 'processing')
                self.call('account.payment',
                    lambda P: P.write([P(payment_id)],
                        {'amount': Decimal(captured)}), user=1, context=rpc)
                self.call('account.payment',
                    lambda P: P.ogone_capture([P(payment_id)]), user=1,
                    context=rpc)
                self.run_pending()
                self.settle_and_reconcile(order_id)
                self.assertEqual(self.history(payment_id), [
                        ('RES', Decimal(amount), 5),
                        ('SAS', Decimal(captured), 9)])
                self.assertEqual(
                    self.read('account.payment', payment_id, 'state',
                        'amount'),
                    ('succeeded', Decimal(captured)))

    def test_amounts_ogone_cannot_take_refused(self):
        """A charge or a refund of nothing, of less than nothing, or with
        more decimals than the currency or Ogone has is refused with a
        message saying so, and nothing reaches the sandbox"""
        from trytond.exceptions import UserError
        paid_eur = self.charged_payment('30.00')
        paid_kwd = self.charged_payment('3.000', journal="Ogone KWD")
        sent = len(self.transactions(''))

        for journal, amount, words in [
                ("Ogone", '0', ['"Amount"']),
                ("Ogone", '-5.00', ['"Amount"']),
                ("Ogone", '10.005', ['"Amount"', 'digits']),
                ("Ogone JPY", '1500.5', ['"Amount"', 'digits']),
                ("Ogone KWD", '1.235', ['1.235', 'at most 2 decimals']),
                ]:
            with self.subTest(journal=journal, amount=amount):
                with self.assertRaises(UserError) as refused:
                    self.call('account.payment',
                        lambda P: self.new_card_payment(P, journal, amount),
                        user=1, context={'_check_access': True})
                for word in words:
                    self.assertIn(word, refused.exception.message)

        for payment_id, amount, words in [
                (paid_eur, '0', ['"Amount"']),
                (paid_eur, '-1.00', ['"Amount"']),
                (paid_eur, '1.005', ['"Amount"', 'digits']),
                (paid_kwd, '0.005', ['0.005', 'at most 2 decimals']),
                ]:
            with self.subTest(refund=amount):
                with self.assertRaises(UserError) as refused:
                    self.new_refund(payment_id, amount)
                for word in words:
                    self.assertIn(word, refused.exception.message)
                self.assertNotIn('payment (amount, currency)',
                    refused.exception.message)
        self.run_pending()
        self.assertEqual(len(self.transactions('')), sent)
        self.assertEqual([h[:2] for h in self.history(paid_eur)],
            [('SAL', Decimal('30.00'))])
        self.assertEqual([h[:2] for h in self.history(paid_kwd)],
            [('SAL', Decimal('3.000'))])

    def test_capture_amounts_ogone_cannot_take_refused(self):
        """An authorization captured for nothing, less than nothing, more
        than authorized or with a decimal Ogone cannot carry is refused
        with a message saying so; nothing is sent, and the authorization
        is still there to capture"""
        from trytond.exceptions import UserError
        rpc = {'_check_access': True}
        for journal, authorized, amount, words in [
                ("Ogone RES", '20.00', '0', ['above zero', '20.00 EUR']),
                ("Ogone RES", '20.00', '-1.00', ['"Amount"']),
                ("Ogone RES", '20.00', '20.01', ['above zero', '20.00 EUR']),
                ("Ogone RES KWD", '2.000', '1.995',
                    ['1.995', 'at most 2 decimals']),
                ]:
            with self.subTest(journal=journal, amount=amount):
                payment_id = self.charged_payment(authorized, journal=journal)

                def capture(Payment):
                    payment = Payment(payment_id)
                    Payment.write([payment], {'amount': Decimal(amount)})
                    Payment.ogone_capture([payment])
                with self.assertRaises(UserError) as refused:
                    self.call('account.payment', capture, user=1,
                        context=rpc)
                for word in words:
                    self.assertIn(word, refused.exception.message)
                self.run_pending()
                self.assertEqual(self.history(payment_id),
                    [('RES', Decimal(authorized), 5)])
                self.assertEqual(
                    self.read('account.payment', payment_id, 'state',
                        'amount', 'ogone_operation'),
                    ('processing', Decimal(authorized), None))

    def test_checkout_after_journal_moved(self):
        """A customer who opened the checkout before the journal moved to
        another Ogone account, and pays after, pays an order of the new
        account: Tryton verifies what the PSPID signed and ends paid, as
        the sandbox"""
        from urllib.parse import urlsplit

        from ogone_core.sandbox.customer import pay

        self.copy_journal("Ogone Link")

        def create(Payment):
            pool = Pool()
            Journal = pool.get('account.payment.journal')
            Party = pool.get('party.party')
            Company = pool.get('company.company')
            journal, = Journal.search([('name', '=', "Ogone Link")])
            party, = Party.search([('name', '=', "Client")])
            payment, = Payment.create([{
                        'company': Company.search([])[0].id,
                        'journal': journal.id, 'kind': 'receivable',
                        'party': party.id, 'amount': Decimal('18.00')}])
            Payment.submit([payment])
            # The accountant sends the link before processing the payment
            Payment.ogone_checkout([payment])
            return payment.id
        payment_id = self.call('account.payment', create)
        token, = self.read('account.payment', payment_id, 'ogone_checkout_id')

        def checkout_form():
            page = self.client().get(
                f'/{self.db_name}/r/account_payment_ogone/checkout/{token}')
            self.assertEqual(page.status_code, 200, page.text)
            action = unescape(CHECKOUT_ACTION.search(page.text).group(1))
            return action, [(unescape(n), unescape(v))
                for n, v in CHECKOUT_INPUT.findall(page.text)]
        _, fields = checkout_form()
        self.assertEqual(dict(fields)['PSPID'], DEFAULT_MERCHANT.pspid)

        self.move_journal("Ogone Link", "Ogone Link moved")
        action, fields = checkout_form()
        self.assertEqual(dict(fields)['PSPID'], OTHER_MERCHANT['pspid'])
        result = pay(action, fields, GOOD_CARD)
        back = urlsplit(result.url)
        answer = self.client().get(f'{back.path}?{back.query}')
        self.assertEqual(answer.status_code, 200, answer.text)

        order_id = dict(fields)['ORDERID']
        self.assertEqual(
            [(t['pspid'], t['status'])
                for t in self.transactions(order_id)],
            [(OTHER_MERCHANT['pspid'], 9)])
        self.assertEqual(
            self.read('account.payment', payment_id, 'state',
                'ogone_order_id', 'ogone_status'),
            ('succeeded', order_id, '9'))


def _setup_invoice_database(base_url):
    from trytond.modules.account.tests import create_chart, get_fiscalyear
    from trytond.modules.account_invoice.tests import set_invoice_sequences
    pool = Pool()
    Configuration = pool.get('account.configuration')
    FiscalYear = pool.get('account.fiscalyear')
    Party = pool.get('party.party')
    company = create_company()
    # Customer invoices posted may be cancelled
    company.cancel_invoice_out = True
    company.save()
    with set_company(company):
        create_chart(company)
        fiscalyear = set_invoice_sequences(get_fiscalyear(company))
        fiscalyear.save()
        FiscalYear.create_period([fiscalyear])
        journal = create_sandbox_journal(base_url, company, 'IN')
        configuration = Configuration(1)
        configuration.ogone_invoice_journal = journal
        configuration.save()
        Party(name="Customer", addresses=[{}], contact_mechanisms=[
                {'type': 'email', 'value': 'customer@example.com'}]).save()


def committed(function, user=0, context=None):
    """The result of function, run in a transaction then committed; started
    again with the locks a table or records asked for, as trytond does"""
    from trytond.transaction import TransactionError
    extras = {}
    while True:
        with Transaction().start(DB_NAME, user, context=context or {},
                **extras) as transaction:
            try:
                result = function()
            except TransactionError as error:
                transaction.rollback()
                error.fix(extras)
                continue
            transaction.commit()
            return result


class InvoiceCancelledTestCase(RouteTestCase):
    "An invoice cancelled while its online payment waits for the customer"
    module = 'account_payment_ogone'
    extras = ['account_invoice', 'account_payment_clearing']

    @classmethod
    def setUpClass(cls):
        cls.sandbox = start_server()
        cls.addClassCleanup(cls.sandbox.stop)
        # RouteTestCase's setUpDatabase runs once, without the restart a
        # table lock asks for (the chart's and sequences' do)
        super(RouteTestCase, cls).setUpClass()
        committed(partial(
                _setup_invoice_database, cls.sandbox.test_base_url))

    def call(self, method):
        "Call method in a committed transaction of the accountant"
        def run():
            pool = Pool(DB_NAME)
            company, = pool.get('company.company').search([])
            with set_company(company):
                return method(pool)
        return committed(run, user=1, context={'_check_access': True})

    def post_invoice(self, amount):
        "A posted customer invoice: its id and the path of its link"
        def post(pool):
            Account = pool.get('account.account')
            Invoice = pool.get('account.invoice')
            Line = pool.get('account.invoice.line')
            Party = pool.get('party.party')
            Company = pool.get('company.company')
            company, = Company.search([])
            party, = Party.search([('name', '=', "Customer")])
            revenue, = Account.search([
                    ('type.revenue', '=', True),
                    ('closed', '!=', True),
                    ], limit=1)
            journal, = pool.get('account.journal').search(
                [('type', '=', 'revenue')], limit=1)
            invoice = Invoice(type='out', party=party, company=company,
                currency=company.currency, journal=journal)
            invoice.on_change_party()
            invoice.lines = [Line(
                    invoice_type='out', company=company,
                    currency=company.currency, account=revenue, quantity=1,
                    unit_price=Decimal(amount))]
            invoice.save()
            Invoice.post([invoice])
            return invoice.id, invoice.ogone_pay_token
        invoice_id, token = self.call(post)
        return invoice_id, (
            f'/{self.db_name}/r/account_payment_ogone/invoice/{token}')

    def open_link(self, invoice_link):
        "Open the invoice's link as the customer: the path of the checkout"
        checkout = self.client().get(invoice_link)
        self.assertEqual(checkout.status_code, 303, checkout.text)
        return checkout.headers['Location']

    def open_checkout(self, checkout_link):
        "Open the checkout as the customer: the form to Ogone's page"
        page = self.client().get(checkout_link)
        self.assertEqual(page.status_code, 200, page.text)
        action = unescape(CHECKOUT_ACTION.search(page.text).group(1))
        return action, [(unescape(n), unescape(v))
            for n, v in CHECKOUT_INPUT.findall(page.text)]

    def cancel(self, *invoice_ids):
        "The accountant cancels the invoices"
        def cancel(pool):
            Invoice = pool.get('account.invoice')
            Invoice.cancel(Invoice.browse(invoice_ids))
        self.call(cancel)

    def link_payment(self, invoice_id):
        "What the payments of the invoice's link are: id, state, orders"
        with Transaction().start(DB_NAME, 0, readonly=True):
            Invoice = Pool(DB_NAME).get('account.invoice')
            invoice = Invoice(invoice_id)
            self.assertEqual(invoice.state, 'cancelled')
            payment, = invoice.ogone_payments
            return (payment.id, payment.state,
                [o.name for o in payment.ogone_orders])

    def test_cancelled_invoice_no_longer_paid_online(self):
        """Once its invoice is cancelled, the payment the customer opened
        from the invoice's link cannot be paid any more, from either link"""
        invoice_id, invoice_link = self.post_invoice('60.00')
        checkout_link = self.open_link(invoice_link)
        page = self.client().get(checkout_link)
        self.assertEqual(page.status_code, 200, page.text)
        self.assertIn('ORDERID', page.text)

        self.cancel(invoice_id)
        with Transaction().start(DB_NAME, 0, readonly=True):
            Invoice = Pool(DB_NAME).get('account.invoice')
            self.assertEqual(Invoice(invoice_id).state, 'cancelled')

        for link in [invoice_link, checkout_link]:
            with self.subTest(link=link):
                page = self.client().get(link)
                self.assertEqual(page.status_code, 410, page.text)
                self.assertNotIn('ORDERID', page.text)

    def test_cancelled_invoice_fails_payment_ogone_never_heard_of(self):
        """Cancelling the invoice fails the payments of its link whose
        customer never reached Ogone's page, waiting or put back to draft;
        a payment with an order is left for Ogone's news: its customer may
        be paying on the page"""
        never_sent, never_sent_link = self.post_invoice('20.00')
        self.open_link(never_sent_link)
        in_draft, in_draft_link = self.post_invoice('25.00')
        self.open_link(in_draft_link)
        self.call(lambda pool: pool.get('account.payment').draft(
                pool.get('account.invoice')(in_draft).ogone_payments))
        on_page, on_page_link = self.post_invoice('30.00')
        _, fields = self.open_checkout(self.open_link(on_page_link))

        self.cancel(never_sent, in_draft, on_page)

        for invoice_id in [never_sent, in_draft]:
            with self.subTest(invoice=invoice_id):
                _, state, orders = self.link_payment(invoice_id)
                self.assertEqual((state, orders), ('failed', []))
        _, state, orders = self.link_payment(on_page)
        self.assertEqual(
            (state, orders), ('submitted', [dict(fields)['ORDERID']]))

    def test_paid_after_invoice_cancelled(self):
        """A customer on Ogone's page when the invoice is cancelled pays
        after: Ogone took the money once, the payment succeeds as Ogone
        says, and it is flagged for the accountant to refund"""
        from urllib.parse import urlsplit

        from ogone_core.sandbox.customer import pay

        invoice_id, invoice_link = self.post_invoice('45.00')
        action, fields = self.open_checkout(self.open_link(invoice_link))
        self.cancel(invoice_id)

        result = pay(action, fields, GOOD_CARD)
        self.assertEqual(result.status, 9)
        back = urlsplit(result.url)
        with self.assertLogs('trytond_payment_ogone', 'WARNING') as logs:
            answer = self.client().get(f'{back.path}?{back.query}')
        self.assertEqual(answer.status_code, 200, answer.text)
        self.assertIn('review needed', '\n'.join(logs.output))

        payment_id, state, _ = self.link_payment(invoice_id)
        with Transaction().start(DB_NAME, 0, readonly=True):
            payment = Pool(DB_NAME).get('account.payment')(payment_id)
            self.assertEqual(
                (payment.state, payment.ogone_review, payment.amount),
                ('succeeded', True, Decimal('45.00')))
        order_id = dict(fields)['ORDERID']
        response = requests.get(
            f'{self.sandbox.url}/admin/api/transactions',
            params={'orderid': order_id}, timeout=10)
        self.assertEqual(
            [(t['status'], t['amount']) for t in
                response.json()['transactions']],
            [(9, '45')])
