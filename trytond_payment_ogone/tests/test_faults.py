"""Every fault of the sandbox crossed with every flow, over real HTTP.

For each cell a payment goes through one flow (a customer paying on the
hosted page, a saved card charged, an authorization captured or voided, a
refund) with the fault set at the sandbox for its order; then the system
settles as it does in production (Ogone settles, its feedback arrives, the
crons query), and the final state in Tryton must be the sandbox's, with
exactly one money movement at the sandbox.
"""
import functools
import re
import sys
import time
import unittest
from decimal import Decimal
from html import unescape
from unittest import mock

import requests

from ogone_core import directlink as core_directlink
from ogone_core.sandbox import DEFAULT_MERCHANT, start_server
from ogone_core.sandbox.customer import CustomerError, pay
from ogone_core.transport_pool import shared_transport

from trytond import config as trytond_config
from trytond.tests.test_tryton import DB_NAME

from .tools import (
    SMTPSink, TrytonServer, register_card, server_create, server_write)

# Short enough to keep the matrix quick, long enough for the sandbox on a
# busy machine: a latency above it makes every DirectLink call's outcome
# unknown, as Ogone's RTIMEOUT does in production with the 45 s default.
READ_TIMEOUT = 3
SLOW = READ_TIMEOUT + 1.5
QUICK = 0.3

# fault name -> the sandbox's fault settings (request faults also name the
# page of the flow they act on)
FAULTS = {
    'latency_quick': {'latency': QUICK},
    'latency_timeout': {'latency': SLOW},
    'http_500': {'http_500': True},
    'drop_connection': {'drop_connection': True},
    'feedback_delay': {'feedback_delay': 3600},
    'feedback_duplicate': {'feedback_duplicate': True},
    'feedback_before_redirect': {'feedback_before_redirect': True},
    'double_url_encode': {'double_url_encode': True},
    }
REQUEST_FAULTS = {
    'latency_quick', 'latency_timeout', 'http_500', 'drop_connection'}
FLOWS = ['hosted', 'charge', 'capture', 'void', 'refund']
# The page of each flow a request fault acts on
FLOW_PAGES = {
    'hosted': 'order_agree',
    'charge': 'orderdirect',
    'capture': 'maintenancedirect',
    'void': 'maintenancedirect',
    'refund': 'maintenancedirect',
    }


def skip_reason(fault, flow):
    "Why a cell of the matrix does not apply, or None"
    if fault not in REQUEST_FAULTS and flow != 'hosted':
        # The sandbox sends no feedback for a DirectLink answer, and the
        # status-change feedback after a capture, void or refund carries
        # none of the feedback faults, as Ogone's.
        return "feedback faults act on hosted-page payment feedback only"
    if fault == 'latency_timeout' and flow == 'hosted':
        return ("the customer's browser waits: no Tryton call times out")
    return None


# What a final Ogone status means for a payment
PAYMENT_STATES = {9: 'succeeded', 6: 'failed', 2: 'failed', 1: 'failed'}
MONEY_OPERATIONS = {
    'hosted': {'SAL'},
    'charge': {'SAL'},
    'capture': {'SAL', 'SAS'},
    'void': {'DES', 'DEL'},
    'refund': {'RFD', 'RFS'},
    }
INPUT = re.compile(r'<input type="hidden" name="([^"]*)" value="([^"]*)"')
ACTION = re.compile(
    r'<form id="payment-form" method="post" action="([^"]*)"')


def poll(check, deadline=30, message="condition"):
    "Call check until it returns a true value, up to deadline seconds"
    end = time.monotonic() + deadline
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > end:
            raise AssertionError(f"{message}: not reached in {deadline} s")
        time.sleep(0.05)


@unittest.skipIf(
    DB_NAME == ':memory:',
    "trytond served in a thread cannot see an in-memory database")
class FaultMatrixTestCase(unittest.TestCase):
    "Each sandbox fault x each flow: Tryton ends as the sandbox, one charge"

    @classmethod
    def setUpClass(cls):
        from proteus import Model
        from trytond.modules.company.tests.tools import (
            create_company, get_company)
        from trytond.tests.tools import activate_modules

        super().setUpClass()
        activate_modules('account_payment_ogone', create_company)
        company = get_company()
        cls.company = company
        cls.sandbox = start_server()
        cls.addClassCleanup(cls.sandbox.stop)
        cls.tryton = TrytonServer().start()
        cls.addClassCleanup(cls.tryton.stop)
        smtp = SMTPSink().start()
        cls.addClassCleanup(smtp.stop)
        cls._set_config('email', 'uri', smtp.url)
        cls._set_config('account_payment_ogone', 'lost_after', '600')
        feedback_url = (
            f'{cls.tryton.url}/<PARAMVAR>/r/account_payment_ogone/return')
        cls.admin('POST', 'merchants', json={
                'pspid': DEFAULT_MERCHANT.pspid,
                'feedback_url': feedback_url,
                'status_change_url': feedback_url.replace(
                    '<PARAMVAR>', DB_NAME),
                'feedback_method': 'POST',
                'feedback_timing': 'online',
                # Offline statuses settle when the test says
                'settle_delay': 3600,
                'uncertain_delay': 3600,
                })

        Account = Model.get('account.payment.ogone.account')
        account = Account(name="Sandbox")
        account.pspid = DEFAULT_MERCHANT.pspid
        account.api_user_id = DEFAULT_MERCHANT.api_user
        account.api_password = DEFAULT_MERCHANT.api_password
        account.sha_in_secret = DEFAULT_MERCHANT.sha_in
        account.sha_out_secret = DEFAULT_MERCHANT.sha_out
        account.hash_algorithm = 'sha512'
        account.environment = 'custom'
        account.base_url = cls.sandbox.test_base_url
        account.order_id_prefix = 'FT'
        account.save()
        Journal = Model.get('account.payment.journal')
        cls.journal = Journal(
            name="Ogone", process_method='ogone', ogone_account=account)
        cls.journal.save()
        cls.journal_res = Journal(
            name="Ogone authorizations", process_method='ogone',
            ogone_account=account, ogone_authorization_only=True)
        cls.journal_res.save()

        Party = Model.get('party.party')
        customer = Party(name="Customer")
        mechanism = customer.contact_mechanisms.new(type='email')
        mechanism.value = 'customer@example.com'
        customer.save()
        cls.customer = customer
        values = register_card(
            cls.sandbox.test_base_url, {
                'pspid': account.pspid,
                'sha_in': DEFAULT_MERCHANT.sha_in,
                'sha_out': DEFAULT_MERCHANT.sha_out,
                }, 'CARD-FAULTS', '4111111111111111')
        alias_id, = server_create('account.payment.ogone.alias', [{
                    'party': customer.id, 'account': account.id, **values}])
        cls.card = Model.get('account.payment.ogone.alias')(alias_id)

        # The administrator approves the refunds
        User = Model.get('res.user')
        Group = Model.get('res.group')
        admin = User(1)
        approval, = Group.find([('name', '=', "Payment Approval")])
        if approval not in admin.groups:
            admin.groups.append(approval)
            admin.save()
        Cron = Model.get('ir.cron')
        for cron in Cron.find([('method', 'in', [
                            'account.payment|ogone_reconcile',
                            'account.payment|ogone_charge',
                            'account.payment|ogone_capture',
                            'account.payment.ogone.refund|ogone_process',
                            ])]):
            cron.companies.append(Model.get('company.company')(company.id))
            cron.save()

        # DirectLink calls made by trytond give up after READ_TIMEOUT
        transport = mock.patch.object(
            core_directlink, 'shared_transport', functools.partial(
                shared_transport, read_timeout=READ_TIMEOUT))
        transport.start()
        cls.addClassCleanup(transport.stop)

    @classmethod
    def _set_config(cls, section, option, value):
        if not trytond_config.has_section(section):
            trytond_config.add_section(section)
        previous = trytond_config.get(section, option)

        def restore():
            if previous is None:
                # trytond.config has no public way to remove an option
                trytond_config._config.remove_option(section, option)
                trytond_config._cache_clear()
            else:
                trytond_config.set(section, option, previous)
        cls.addClassCleanup(restore)
        trytond_config.set(section, option, value)

    # The sandbox's admin API

    @classmethod
    def admin(cls, method, path, **kwargs):
        response = requests.request(
            method, f'{cls.sandbox.url}/admin/api/{path}', timeout=30,
            **kwargs)
        assert response.status_code < 300, response.text
        return response.json()

    def set_fault(self, order_id, fault, flow):
        settings = dict(FAULTS[fault])
        rule = {'pspid': DEFAULT_MERCHANT.pspid, 'orderid': order_id}
        if fault in REQUEST_FAULTS:
            settings['pages'] = [FLOW_PAGES[flow]]
            rule['times'] = 1
        self.admin('POST', 'faults', json={**rule, 'faults': settings})

    def transactions(self, payment_id):
        "The sandbox's transactions of every attempt of the payment"
        prefix = f'FT-{payment_id}-'
        return [t for t in self.admin('GET', 'transactions', params={
                    'pspid': DEFAULT_MERCHANT.pspid,
                    })['transactions'] if t['orderid'].startswith(prefix)]

    def feedback_quiet(self, payment_id):
        """Whether the sandbox has made its first attempt at every feedback
        due now: the ones held back by a fault are not due"""
        now = self.admin('GET', 'health')['time']
        for tx in self.transactions(payment_id):
            detail = self.admin('GET', f"transactions/{tx['payid']}")
            for job in detail['feedback']:
                if (job['state'] == 'pending' and not job['attempts_made']
                        and job['next_at'] <= now + 60):
                    return False
                if job['state'] not in {'pending', 'delivered', 'failed'}:
                    return False
        return True

    def wait_feedback(self, payment_id):
        poll(lambda: self.feedback_quiet(payment_id),
            message="feedback delivered")

    def deliver_held_feedback(self, payment_id):
        "What a delayed or refused feedback does later: it is sent again"
        for tx in self.transactions(payment_id):
            self.admin('POST', 'feedback/retry', json={'payid': tx['payid']})

    def run_cron(self, method):
        from proteus import Model
        Cron = Model.get('ir.cron')
        cron, = Cron.find([('method', '=', method)])
        cron.click('run_once')

    # Flows: each returns the payment (and the refund) after the customer or
    # the accountant has acted, the fault acting on the way

    def new_payment(self, amount, journal=None, card=True):
        from proteus import Model
        Payment = Model.get('account.payment')
        payment = Payment(
            journal=journal or self.journal, kind='receivable',
            party=self.customer, amount=Decimal(amount))
        if card:
            payment.ogone_alias = self.card
        payment.click('submit')
        return payment

    def process(self, payment):
        from proteus import Wizard
        Wizard('account.payment.process', [payment])
        payment.reload()

    def flow_hosted(self, fault, notes):
        payment = self.new_payment('21.00', card=False)
        self.process(payment)
        link = (f'{self.tryton.url}/{DB_NAME}/r/account_payment_ogone/'
            f'checkout/{payment.ogone_checkout_id}')
        page = requests.get(link, timeout=30)
        self.assertEqual(page.status_code, 200, page.text)
        action = unescape(ACTION.search(page.text).group(1))
        fields = [(unescape(n), unescape(v))
            for n, v in INPUT.findall(page.text)]
        order_id = dict(fields)['ORDERID']
        self.set_fault(order_id, fault, 'hosted')
        try:
            result = pay(action, fields, '4111111111111111', holder="Ann Lee")
        except CustomerError:
            # An error page: the customer pays again from the same page
            notes.append('paid again')
            result = pay(action, fields, '4111111111111111', holder="Ann Lee")
        except requests.ConnectionError:
            notes.append('no redirect')
            result = None
        if result is not None:
            back = requests.get(
                self.tryton.localize(result.url), timeout=30)
            notes.append(f'return {back.status_code}')
            # A return whose values were encoded twice is not Ogone's
            # signature: refused, with the module's page
            self.assertEqual(
                back.status_code,
                400 if fault == 'double_url_encode' else 200, back.text)
            self.assertIn('text/html', back.headers['Content-Type'])
            self.assertNotIn('Traceback', back.text)
        return payment, None

    def flow_charge(self, fault, notes):
        payment = self.new_payment('22.00')
        self.set_fault(f'FT-{payment.id}-1', fault, 'charge')
        self.process(payment)
        return payment, None

    def authorized(self):
        payment = self.new_payment('23.00', self.journal_res)
        self.process(payment)
        self.assertEqual(payment.ogone_status, '5')
        return payment

    def flow_capture(self, fault, notes):
        payment = self.authorized()
        self.set_fault(payment.ogone_order_id, fault, 'capture')
        payment.click('ogone_capture')
        return payment, None

    def flow_void(self, fault, notes):
        payment = self.authorized()
        self.set_fault(payment.ogone_order_id, fault, 'void')
        payment.click('ogone_void')
        return payment, None

    def new_refund(self, payment):
        from proteus import Model
        Refund = Model.get('account.payment.ogone.refund')
        refund = Refund(payment=payment)
        refund.amount = Decimal('5.00')
        refund.reason = "Returned item"
        refund.click('submit')
        refund.click('approve')
        refund.reload()
        return refund

    def flow_refund(self, fault, notes):
        payment = self.new_payment('24.00')
        self.process(payment)
        self.assertEqual(payment.state, 'succeeded')
        self.set_fault(payment.ogone_order_id, fault, 'refund')
        return payment, self.new_refund(payment)

    # Settling as production does

    def settle(self, fault, flow, payment, refund, notes):
        payment.reload()
        if fault == 'latency_timeout':
            # The call given up by Tryton goes on at the sandbox; in
            # production the crons run long after (lost_after is 10 minutes)
            poll(lambda: self.money_lines(flow, payment),
                message="the sandbox processed the call")
        self.settle_at_sandbox(payment)
        self.wait_feedback(payment.id)
        self.run_cron('account.payment|ogone_reconcile')
        self.run_cron('account.payment|ogone_capture')
        self.run_cron('account.payment|ogone_charge')
        self.run_cron('account.payment.ogone.refund|ogone_process')
        self.deliver_held_feedback(payment.id)
        payment.reload()
        if refund:
            refund.reload()
        if self.never_arrived(flow, payment):
            # Ogone never got the call: long after, the query says so and
            # the accountant asks again
            notes.append('sent again')
            self.time_passes(payment, refund)
            trytond_config.set('account_payment_ogone', 'lost_after', '0')
            try:
                self.run_cron('account.payment|ogone_reconcile')
            finally:
                trytond_config.set(
                    'account_payment_ogone', 'lost_after', '600')
            payment.reload()
            if flow in {'capture', 'void'}:
                payment.click(
                    'ogone_capture' if flow == 'capture' else 'ogone_void')
            elif flow == 'refund':
                refund.reload()
                self.assertEqual(refund.state, 'failed')
                refund = self.new_refund(payment)
            payment.reload()
            self.settle_at_sandbox(payment)
            self.wait_feedback(payment.id)
            self.run_cron('account.payment|ogone_reconcile')
        payment.reload()
        if refund:
            refund.reload()
        return payment, refund

    def never_arrived(self, flow, payment):
        "Whether the call that moves money never reached the sandbox"
        if flow == 'hosted':
            return False
        if flow == 'charge' and payment.state != 'processing':
            return False
        return not self.money_lines(flow, payment)

    def time_passes(self, payment, refund):
        "The back-off of the reconciliation's next query is over"
        server_write('account.payment', [payment.id], {
                'ogone_next_query': None})
        if refund:
            server_write('account.payment.ogone.refund', [refund.id], {
                    'ogone_next_query': None})

    def settle_at_sandbox(self, payment):
        for tx in self.transactions(payment.id):
            self.admin('POST', 'settle', json={'payid': tx['payid']})

    def money_lines(self, flow, payment):
        "The history lines at the sandbox that moved money in this flow"
        operations = MONEY_OPERATIONS[flow]
        lines = []
        for tx in self.transactions(payment.id):
            detail = self.admin('GET', f"transactions/{tx['payid']}")
            for line in detail['history']:
                if line['operation'] in operations and (
                        flow not in {'hosted', 'charge'}
                        or line['status'] in {5, 9, 91}):
                    lines.append(line)
        return lines

    # The matrix

    def check(self, fault, flow, payment, refund):
        "Tryton's final state is the sandbox's; one money movement"
        lines = self.money_lines(flow, payment)
        self.assertEqual(len(lines), 1, lines)
        # Nothing Ogone reported is money that Tryton cannot account for
        self.assertFalse(payment.ogone_review)
        tx = self.admin('GET', f'transactions/{payment.ogone_pay_id}')
        self.assertEqual(tx['orderid'], payment.ogone_order_id)
        if flow == 'refund':
            line, = lines
            self.assertEqual(refund.ogone_status, str(line['status']))
            self.assertEqual(refund.state, 'succeeded')
            self.assertEqual(refund.ogone_pay_id_sub, str(line['payidsub']))
            return f"refund {refund.state} {refund.ogone_status}"
        self.assertEqual(payment.ogone_status, str(tx['status']))
        self.assertEqual(payment.state, PAYMENT_STATES[tx['status']])
        # One transition to the final status, whatever news came twice
        news = sorted(payment.ogone_feedbacks, key=lambda f: f.id)
        applied = [f for f in news
            if f.applied and f.status == payment.ogone_status]
        self.assertEqual(len(applied), 1, [
                (f.source, f.status, f.applied) for f in news])
        by, = {f.source for f in applied}
        if flow == 'hosted':
            self.check_feedback_fault(fault, [f.source for f in news], by)
        return f"{payment.state} {payment.ogone_status} by {by}"

    def check_feedback_fault(self, fault, sources, by):
        "The fault acted on what Tryton received"
        if fault == 'feedback_duplicate':
            self.assertEqual(sources.count('server'), 2, sources)
        elif fault == 'feedback_delay':
            self.assertEqual(sources[0], 'browser', sources)
            self.assertIn('server', sources)
        elif fault == 'feedback_before_redirect':
            self.assertEqual(sources[:2], ['server', 'browser'], sources)
        elif fault == 'double_url_encode':
            # Refused both ways: the query found the payment out
            self.assertEqual(by, 'query')

    def test_fault_matrix(self):
        "Every fault x every flow: the state of the sandbox, one charge"
        results = {}
        for fault in FAULTS:
            for flow in FLOWS:
                reason = skip_reason(fault, flow)
                with self.subTest(fault=fault, flow=flow):
                    if reason:
                        results[fault, flow] = 'n/a'
                        self.skipTest(reason)
                    results[fault, flow] = 'ERROR'
                    notes = []
                    payment, refund = getattr(self, f'flow_{flow}')(
                        fault, notes)
                    if fault in REQUEST_FAULTS:
                        # The fault acted once, on the flow's page
                        self.assertEqual(self.admin('GET', 'faults', params={
                                    'pspid': DEFAULT_MERCHANT.pspid,
                                    })['faults'], [])
                    payment, refund = self.settle(
                        fault, flow, payment, refund, notes)
                    outcome = self.check(fault, flow, payment, refund)
                    extra = f" ({', '.join(notes)})" if notes else ''
                    results[fault, flow] = f"{outcome}, x1{extra}"
                self.admin('DELETE', 'faults', json={
                        'pspid': DEFAULT_MERCHANT.pspid})
        self.print_matrix(results)

    @staticmethod
    def print_matrix(results):
        width = max(len(f) for f in FAULTS)
        lines = ['', "fault x flow -> final Tryton state and Ogone status, "
            "money movements at the sandbox"]
        for fault in FAULTS:
            lines.append(f"{fault:<{width}}  " + " | ".join(
                    f"{flow}: {results[fault, flow]}" for flow in FLOWS))
        reasons = {skip_reason(fault, flow)
            for fault in FAULTS for flow in FLOWS} - {None}
        lines += [f"n/a: {reason}" for reason in sorted(reasons)]
        print('\n'.join(lines), file=sys.stderr)
