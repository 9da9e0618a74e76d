"""The accountant's side attacked: refunds, captures and voids, the
reconciliation's queries, each compared with what the sandbox recorded.
Real trytond, real queue tasks run by trytond.worker's run_task, the real
sandbox."""
import datetime as dt
from decimal import Decimal

import requests

from ogone_core.sandbox import DEFAULT_MERCHANT, start_server

from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, RouteTestCase
from trytond.transaction import Transaction

from .tools import (
    BusyDatabaseMixin, create_company, create_sandbox_journal,
    pending_tasks, save_sandbox_card)

GOOD_CARD = '4111111111111111'


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


class AccountantTestCase(BusyDatabaseMixin, RouteTestCase):
    "The accountant's operations against the sandbox"
    module = 'account_payment_ogone'

    @classmethod
    def setUpClass(cls):
        cls.sandbox = start_server()
        cls.addClassCleanup(cls.sandbox.stop)
        super().setUpClass()

    @classmethod
    def setUpDatabase(cls):
        _setup_database(cls.sandbox.test_base_url)

    def setUp(self):
        super().setUp()
        for task in pending_tasks():
            self.finish_task(task)

    # Helpers

    def finish_task(self, task_id):
        with Transaction().start(DB_NAME, 0) as transaction:
            Queue = Pool(DB_NAME).get('ir.queue')
            Queue.write([Queue(task_id)], {'finished_at': dt.datetime.now()})
            transaction.commit()

    def run_pending(self):
        "Run the queued tasks and those they queue, each once"
        from trytond.worker import run_task
        ran = set()
        while tasks := [t for t in pending_tasks() if t not in ran]:
            for task_id in tasks:
                ran.add(task_id)
                run_task(DB_NAME, task_id)

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
        def create(Payment):
            pool = Pool()
            Journal = pool.get('account.payment.journal')
            Party = pool.get('party.party')
            Alias = pool.get('account.payment.ogone.alias')
            Company = pool.get('company.company')
            journal_, = Journal.search([('name', '=', journal)])
            party, = Party.search([('name', '=', "Client")])
            alias, = Alias.search([('alias', '=', 'ACC-GOOD')])
            payment, = Payment.create([{
                        'company': Company.search([])[0].id,
                        'journal': journal_.id, 'kind': 'receivable',
                        'party': party.id, 'amount': Decimal(amount),
                        'ogone_alias': alias.id}])
            Payment.submit([payment])
            Payment.process([payment])
            return payment.id
        payment_id = self.call('account.payment', create)
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
