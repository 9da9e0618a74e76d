"""Money given back to the customer of a succeeded Ogone payment.

A refund is written by one person and approved by another (the payment
approval group), then sent once over DirectLink: it is marked sent and
committed before the call, an answer lost leaves it processing, and only a
query (or Ogone's feedback) ends it.
"""
import dataclasses
import datetime as dt
import logging

from ogone_core import (
    DirectLinkClient, InvalidRequest, MaintenanceRequest, OgoneError,
    Operation, Status, amount_is_expressible)

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Workflow, fields
from trytond.model.exceptions import AccessError, ValidationError
from trytond.modules.account_payment.exceptions import ProcessError
from trytond.modules.company.model import (
    employee_field, reset_employee, set_employee)
from trytond.pool import Pool
from trytond.pyson import Eval, If
from trytond.transaction import Transaction

from .directlink import QUERY_BATCH, lost_after, next_query_at
from .payment import ncerror_string, status_string

logger = logging.getLogger(__name__)

# The statuses of a refund's history line at Ogone
REFUND_SUCCEEDED = {Status.REFUND}
REFUND_WAITING = {Status.REFUND_PENDING, Status.REFUND_UNCERTAIN}
REFUND_FAILED = {
    Status.REFUND_REFUSED, Status.PAYMENT_DECLINED_BY_ACQUIRER,
    Status.REFUND_HANDLED_BY_MERCHANT, Status.REFUND_DECLINED_BY_ACQUIRER}
REFUND_STATUSES = REFUND_SUCCEEDED | REFUND_WAITING | REFUND_FAILED
# querydirect's "Error access to original history item": no such PAYIDSUB
UNKNOWN_LINE = '50001131'
# The lines of an order's history looked through for a refund whose answer
# was lost: a capture, a few refunds, a deletion
HISTORY_LINES = 20
# Counted against what is left to refund: asked or on its way
PENDING_STATES = {'submitted', 'approved', 'processing'}


class Refund(Workflow, ModelSQL, ModelView):
    "Money given back to the customer of an Ogone payment"
    __name__ = 'account.payment.ogone.refund'

    _states = {
        'readonly': Eval('state') != 'draft',
        }

    company = fields.Many2One(
        'company.company', "Company", required=True, states=_states)
    payment = fields.Many2One(
        'account.payment', "Payment", required=True, ondelete='RESTRICT',
        domain=[
            ('company', '=', Eval('company', -1)),
            ('process_method', '=', 'ogone'),
            If(Eval('state') == 'draft',
                ('state', '=', 'succeeded'),
                ()),
            ],
        states=_states)
    order = fields.Many2One(
        'account.payment.ogone.order', "Order", ondelete='RESTRICT',
        domain=[
            ('payment', '=', Eval('payment', -1)),
            ],
        states=_states,
        help="The Ogone order whose money is given back.\n"
        "Leave empty for the order that settled the payment.")
    amount = fields.Numeric(
        "Amount", digits='currency', required=True, states=_states,
        domain=[('amount', '>', 0)])
    currency = fields.Function(fields.Many2One(
            'currency.currency', "Currency"), 'on_change_with_currency')
    reason = fields.Text("Reason", required=True, states=_states)
    submitted_by = employee_field(
        "Submitted by",
        states=['submitted', 'approved', 'processing', 'succeeded', 'failed'])
    approved_by = employee_field(
        "Approved by",
        states=['approved', 'processing', 'succeeded', 'failed'])
    state = fields.Selection([
            ('draft', "Draft"),
            ('submitted', "Submitted"),
            ('approved', "Approved"),
            ('processing', "Processing"),
            ('succeeded', "Succeeded"),
            ('failed', "Failed"),
            ], "State", readonly=True, sort=False)
    ogone_pay_id = fields.Char("Ogone Pay ID", readonly=True, strip=False)
    ogone_last = fields.Boolean(
        "Last Refund", readonly=True,
        help="Sent as the last refund of the order (RFS), "
        "which closes it at Ogone.")
    ogone_sent = fields.Boolean(
        "Sent to Ogone", readonly=True,
        help="The refund was sent to Ogone; its result comes from the "
        "answer, the feedback or a query.")
    ogone_sent_at = fields.Timestamp("Sent to Ogone at", readonly=True)
    ogone_pay_id_sub = fields.Char(
        "Ogone Pay ID Sub", readonly=True, strip=False,
        help="The line of the refund in Ogone's history of the order.")
    ogone_status = fields.Char("Ogone Status Code", readonly=True)
    ogone_status_string = fields.Function(
        fields.Char("Ogone Status"), 'get_ogone_status_string')
    ogone_ncerror = fields.Char("Ogone Error Code", readonly=True)
    ogone_ncerror_string = fields.Function(
        fields.Char("Ogone Error"), 'get_ogone_ncerror_string')
    ogone_next_query = fields.Timestamp("Ogone Next Query", readonly=True)
    ogone_queries = fields.Integer("Ogone Queries", readonly=True)

    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('payment')
        cls._order.insert(0, ('id', 'DESC'))
        cls._transitions |= {
            ('draft', 'submitted'),
            ('submitted', 'draft'),
            ('submitted', 'approved'),
            ('approved', 'draft'),
            ('approved', 'processing'),
            ('processing', 'succeeded'),
            ('processing', 'failed'),
            }
        cls._buttons.update({
                'draft': {
                    'invisible': ~Eval('state').in_(
                        ['submitted', 'approved']),
                    'icon': 'tryton-back',
                    'depends': ['state'],
                    },
                'submit': {
                    'invisible': Eval('state') != 'draft',
                    'icon': 'tryton-forward',
                    'depends': ['state'],
                    },
                'approve': {
                    'invisible': Eval('state') != 'submitted',
                    'icon': 'tryton-forward',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_ogone_last(cls):
        return False

    @classmethod
    def default_ogone_sent(cls):
        return False

    @classmethod
    def default_ogone_queries(cls):
        return 0

    @fields.depends('payment')
    def on_change_with_currency(self, name=None):
        if self.payment:
            return self.payment.currency

    @fields.depends('payment', 'amount', 'order')
    def on_change_payment(self):
        if self.payment and self.amount is None:
            self.amount = self.payment.amount

    def get_rec_name(self, name):
        return f'{self.payment.rec_name} - {self.amount}'

    def get_ogone_status_string(self, name):
        return status_string(self.ogone_status)

    def get_ogone_ncerror_string(self, name):
        return ncerror_string(self.ogone_ncerror)

    @classmethod
    def copy(cls, refunds, default=None):
        default = default.copy() if default else {}
        for name in [
                'ogone_pay_id', 'ogone_pay_id_sub', 'ogone_status',
                'ogone_ncerror', 'ogone_next_query', 'ogone_sent_at']:
            default.setdefault(name, None)
        default.setdefault('ogone_sent', False)
        default.setdefault('ogone_last', False)
        default.setdefault('ogone_queries', 0)
        default.setdefault('submitted_by')
        default.setdefault('approved_by')
        return super().copy(refunds, default=default)

    @classmethod
    def validate_fields(cls, refunds, field_names):
        super().validate_fields(refunds, field_names)
        cls.check_ogone_amount(refunds, field_names)

    @classmethod
    def check_ogone_amount(cls, refunds, field_names=None):
        """Refuse, when it is written, an amount Ogone cannot carry (a third
        decimal of a currency that has it): the refund is what is wrong,
        not its payment"""
        if field_names and 'amount' not in field_names:
            return
        for refund in refunds:
            if not amount_is_expressible(refund.amount):
                raise ValidationError(gettext(
                        'account_payment_ogone.msg_ogone_refund_decimals',
                        amount=refund.amount,
                        currency=refund.payment.currency.code,
                        payment=refund.payment.rec_name))

    @classmethod
    def check_modification(cls, mode, refunds, values=None, external=False):
        super().check_modification(
            mode, refunds, values=values, external=external)
        if mode == 'delete':
            for refund in refunds:
                if refund.state not in {'draft', 'submitted', 'approved'}:
                    raise AccessError(gettext(
                            'account_payment_ogone.msg_ogone_refund_delete',
                            refund=refund.rec_name))

    # What is left to refund

    @property
    def refunded_order(self):
        "The order whose money is given back"
        return self.order or self.payment._ogone_current_order

    @property
    def settles_payment(self):
        "Whether the refunded order is the one that settled the payment"
        order = self.refunded_order
        return bool(order and order.name == self.payment.ogone_order_id)

    def _other_refunds(self, states):
        order = self.refunded_order
        return [r for r in self.__class__.search([
                    ('payment', '=', self.payment.id),
                    ('state', 'in', list(states)),
                    ('id', '!=', self.id or -1),
                    ])
            if r.refunded_order == order]

    def ogone_refundable(self):
        """What Ogone holds for the refunded order less every refund of it
        asked, on its way or succeeded"""
        order = self.refunded_order
        succeeded = sum(
            (r.amount for r in self._other_refunds({'succeeded'})), 0)
        if self.settles_payment:
            # A succeeded refund lowered the payment's amount
            captured = self.payment.amount + succeeded
        else:
            captured = order.amount
        pending = sum(
            (r.amount for r in self._other_refunds(PENDING_STATES)), 0)
        return captured - succeeded - pending

    def ogone_check(self):
        "Refuse the refund, before anything is sent, when it cannot be"
        payment = self.payment
        order = self.refunded_order
        if (payment.process_method != 'ogone'
                or payment.state != 'succeeded' and self.settles_payment
                or not order):
            raise ProcessError(gettext(
                    'account_payment_ogone.msg_ogone_refund_not_paid',
                    refund=self.rec_name, payment=payment.rec_name))
        pay_id = self._ogone_order_pay_id()
        if not pay_id:
            raise ProcessError(gettext(
                    'account_payment_ogone.msg_ogone_refund_not_paid',
                    refund=self.rec_name, payment=payment.rec_name))
        left = self.ogone_refundable()
        if self.amount > left:
            raise ProcessError(gettext(
                    'account_payment_ogone.msg_ogone_refund_too_much',
                    refund=self.rec_name, amount=self.amount,
                    left=max(left, 0), currency=payment.currency.code))
        # The account the refund is sent to: the journal may have moved
        order.account.ogone_check_directlink(payment)
        try:
            MaintenanceRequest(
                Operation.REFUND_PARTIAL, pay_id=pay_id, amount=self.amount,
                currency=payment.currency.code)
        except InvalidRequest as error:
            raise ProcessError(gettext(
                    'account_payment_ogone.msg_ogone_order_refused',
                    payment=payment.rec_name, error=str(error)))

    def _ogone_order_pay_id(self):
        "The PAYID Ogone gave to the refunded order"
        order = self.refunded_order
        if self.settles_payment:
            return self.payment.ogone_pay_id
        for feedback in self.payment.ogone_feedbacks:
            if (feedback.order == order and feedback.pay_id
                    and feedback.status in {'5', '9', '91', '95'}):
                return feedback.pay_id

    # Workflow

    @classmethod
    @ModelView.button
    @Workflow.transition('draft')
    @reset_employee('submitted_by', 'approved_by')
    def draft(cls, refunds):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('submitted')
    @set_employee('submitted_by')
    def submit(cls, refunds):
        for refund in refunds:
            refund.ogone_check()

    @classmethod
    @ModelView.button
    @Workflow.transition('approved')
    @set_employee('approved_by')
    def approve(cls, refunds):
        for refund in refunds:
            refund.ogone_check()
        for refund in refunds:
            cls.__queue__.ogone_process([refund])

    @classmethod
    @Workflow.transition('processing')
    def process(cls, refunds):
        pass

    @classmethod
    @Workflow.transition('succeeded')
    def succeed(cls, refunds):
        pool = Pool()
        Payment = pool.get('account.payment')
        for refund in refunds:
            if not refund.settles_payment:
                # Money paid twice: it never counted in the payment
                continue
            payment = Payment(refund.payment.id)
            # Lowered the way Tryton's Stripe module does, so that clearing
            # and reconciliation follow what was really received.
            amount = payment.amount - refund.amount
            Payment.write([payment], {'amount': amount})
            if not amount:
                Payment.fail([payment])
            elif payment.state == 'succeeded':
                # Succeeded again for what is left: with
                # account_payment_clearing its clearing move is replaced by
                # one of the lower amount, and an invoice it paid is open
                # again for what was refunded.
                Payment.proceed([payment])
                Payment.succeed([payment])

    @classmethod
    @Workflow.transition('failed')
    def fail(cls, refunds):
        pass

    @classmethod
    def _ogone_locked(cls, refund_id):
        "The refund, its payment locked, read again as last committed"
        pool = Pool()
        Payment = pool.get('account.payment')
        Payment.ogone_lock([cls(refund_id).payment])
        return cls(refund_id)

    # Sending

    @classmethod
    def ogone_process(cls, refunds=None):
        """Send each approved refund, once; without refunds (the cron), the
        approved refunds of the company not sent yet"""
        if refunds is None:
            refunds = cls.search([
                    ('state', '=', 'approved'),
                    ('ogone_sent', '=', False),
                    ('company', '=', Transaction().context.get('company')),
                    ], order=[('id', 'ASC')])
            for refund in refunds:
                cls.__queue__.ogone_process([refund])
            return
        for refund in refunds:
            cls._ogone_send_one(refund.id)

    @classmethod
    def _ogone_send_one(cls, refund_id):
        transaction = Transaction()
        refund = cls._ogone_locked(refund_id)
        if refund.state != 'approved' or refund.ogone_sent:
            return
        try:
            refund.ogone_check()
        except ProcessError as error:
            # Changed since it was approved: nothing is sent
            logger.warning(
                "Ogone refund %s not sent: %s", refund.id, error.message)
            cls.process([refund])
            refund.ogone_ncerror = None
            refund.save()
            cls.fail([refund])
            transaction.commit()
            return
        # Not the last while another refund of the order waits to be sent:
        # RFS closes the order at Ogone, which would refuse that one.
        last = (refund.amount == refund.ogone_refundable()
            and not refund._other_refunds({'submitted', 'approved'}))
        pay_id = refund._ogone_order_pay_id()
        refund.ogone_pay_id = pay_id
        refund.ogone_last = last
        refund.ogone_sent = True
        refund.ogone_sent_at = dt.datetime.now()
        refund.ogone_next_query = None
        refund.ogone_queries = 0
        refund.save()
        cls.process([refund])
        # Marked sent before the call: whatever happens next it is never
        # sent again, only queried.
        transaction.commit()
        refund = cls(refund_id)
        payment = refund.payment
        # The account the order was sent to: the journal may have moved
        client = DirectLinkClient(refund.refunded_order.account.ogone())
        try:
            response = client.refund(
                pay_id, refund.amount, payment.currency.code, last=last)
        except OgoneError as error:
            logger.warning(
                "Ogone refund %s of payment %s: no answer (%s), left to the "
                "query", refund_id, payment.id, error)
            return
        cls._ogone_apply(refund_id, response, 'directlink')

    @classmethod
    def _ogone_apply(cls, refund_id, response, source):
        "Apply an answer about the refund and commit"
        refund = cls._ogone_locked(refund_id)
        refund.ogone_update(response, source)
        Transaction().commit()

    def ogone_update(self, response, source):
        """Move the refund with news from Ogone about its history line

        The caller must have locked the payment. Return True when the news
        moved the refund.
        """
        cls = self.__class__
        if self.state != 'processing':
            return False
        status = response.status
        if response.pay_id_sub and not self.ogone_pay_id_sub:
            self.ogone_pay_id_sub = response.pay_id_sub
        if status.value == 0:
            if source != 'directlink':
                # A query that could not answer says nothing of the refund
                return False
            # Refused by Ogone: nothing was refunded
            self.ogone_status = '0'
            self.ogone_ncerror = response.ncerror or None
            self.save()
            cls.fail([self])
            return True
        if status not in REFUND_STATUSES:
            self.save()
            return False
        self.ogone_status = str(status.value)
        self.ogone_ncerror = response.ncerror or None
        self.save()
        if status in REFUND_SUCCEEDED:
            cls.succeed([self])
        elif status in REFUND_FAILED:
            cls.fail([self])
        return True

    # Following the refunds Ogone has not decided yet

    @classmethod
    def ogone_reconcile(cls):
        "Queue a query of each refund still processing that is due"
        now = dt.datetime.now()
        refunds = cls.search([
                ('state', '=', 'processing'),
                ('ogone_sent', '=', True),
                ['OR',
                    ('ogone_next_query', '=', None),
                    ('ogone_next_query', '<=', now),
                    ],
                ('company', '=', Transaction().context.get('company')),
                ], order=[('id', 'ASC')], limit=QUERY_BATCH)
        for refund in refunds:
            cls.__queue__.ogone_query([refund])

    @classmethod
    def ogone_query(cls, refunds):
        "Ask Ogone the status of each refund's history line and apply it"
        transaction = Transaction()
        for refund in refunds:
            refund_id = refund.id
            refund = cls._ogone_locked(refund_id)
            if refund.state != 'processing' or not refund.ogone_pay_id:
                continue
            transaction.commit()
            client = DirectLinkClient(
                refund.refunded_order.account.ogone())
            try:
                if refund.ogone_pay_id_sub:
                    response = client.query(
                        pay_id=refund.ogone_pay_id,
                        pay_id_sub=refund.ogone_pay_id_sub)
                else:
                    response = refund._ogone_find_line(client)
            except OgoneError as error:
                logger.warning(
                    "Ogone query of refund %s failed: %s", refund_id, error)
                continue
            if response is not None:
                cls._ogone_apply(refund_id, response, 'query')
            else:
                cls._ogone_not_found(refund_id)
            cls._ogone_after_query(refund_id)

    def _ogone_find_line(self, client):
        """The answer about the refund's line in Ogone's history of the
        order, found when the answer to the refund was lost: a refund line
        of its amount that no other refund claims; None when there is none"""
        claimed = {r.ogone_pay_id_sub for r in self.__class__.search([
                    ('payment', '=', self.payment.id),
                    ('ogone_pay_id', '=', self.ogone_pay_id),
                    ('ogone_pay_id_sub', '!=', None),
                    ('id', '!=', self.id),
                    ])}
        for line in range(1, HISTORY_LINES + 1):
            response = client.query(
                pay_id=self.ogone_pay_id, pay_id_sub=str(line))
            if response.ncerror == UNKNOWN_LINE:
                return None
            if (str(line) not in claimed
                    and response.status in REFUND_STATUSES
                    and response.amount == self.amount):
                if not response.pay_id_sub:
                    response = dataclasses.replace(
                        response, pay_id_sub=str(line))
                return response
        return None

    @classmethod
    def _ogone_not_found(cls, refund_id):
        """Ogone has no line for the refund: long after it was sent, it
        never arrived and nothing was refunded; it is not sent again, the
        accountant asks a new refund if needed"""
        refund = cls._ogone_locked(refund_id)
        if (refund.state == 'processing' and refund.ogone_sent_at
                and refund.ogone_sent_at
                < dt.datetime.now() - lost_after()):
            logger.warning(
                "Ogone refund %s never reached Ogone: failed", refund_id)
            refund.ogone_ncerror = UNKNOWN_LINE
            refund.save()
            cls.fail([refund])
        Transaction().commit()

    @classmethod
    def _ogone_after_query(cls, refund_id):
        "Back off the next query of a refund Ogone has not decided yet"
        refund = cls._ogone_locked(refund_id)
        if refund.state == 'processing':
            refund.ogone_queries = (refund.ogone_queries or 0) + 1
            refund.ogone_next_query = next_query_at(refund.ogone_queries)
        else:
            refund.ogone_next_query = None
        refund.save()
        Transaction().commit()

    @classmethod
    def ogone_feedback(cls, payment, order, feedback, source):
        """Apply Ogone's feedback about a refund of the order, found by its
        history line; the caller locked the payment.
        Return the refund, or None when none is waiting for it."""
        refunds = cls.search([
                ('payment', '=', payment.id),
                ('ogone_sent', '=', True),
                ])
        refunds = [r for r in refunds if r.refunded_order == order]
        matching = [r for r in refunds
            if feedback.pay_id_sub
            and r.ogone_pay_id_sub == feedback.pay_id_sub]
        if not matching and feedback.pay_id_sub:
            # A line no refund claims: the answer to a refund of its amount
            # was lost, as the query would find it
            matching = sorted((r for r in refunds
                    if r.state == 'processing' and not r.ogone_pay_id_sub
                    and feedback.amount == r.amount),
                key=lambda r: r.id)[:1]
        if not matching:
            return None
        refund, = matching
        if (feedback.amount is not None
                and feedback.amount != refund.amount):
            logger.warning(
                "Ogone refund feedback for %s: amount %s differs from refund "
                "%s", order.name, feedback.amount, refund.id)
            return None
        refund.ogone_update(feedback, source)
        return refund
