"""Customer invoices paid online: a link on the invoice opens the checkout of
one Ogone payment for what is left to pay."""
import logging
import secrets

from sql import Null
from werkzeug.utils import redirect

from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.modules.company.model import CompanyValueMixin
from trytond.pool import Pool, PoolMeta
from trytond.protocols.wrappers import HTTPStatus, abort
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .locking import lock_rows, touch_rows
from .payment import (
    CHECKOUT_STATES, RANK_AUTHORIZED, RANK_FAILED, RANK_PAID, RANK_PENDING,
    parse_status, status_rank)
from .routes import CHECKOUT_TOKEN, _page, ogone_route

logger = logging.getLogger(__name__)


def new_token():
    return secrets.token_urlsafe(32)


class Configuration(metaclass=PoolMeta):
    __name__ = 'account.configuration'

    ogone_invoice_journal = fields.MultiValue(fields.Many2One(
            'account.payment.journal', "Ogone Journal for Invoices",
            domain=[
                ('process_method', '=', 'ogone'),
                ('company', '=', Eval('context', {}).get('company', -1)),
                ],
            help="Customer invoices in the currency of this journal offer "
            "a link to pay them online.\n"
            "Leave empty for no link."))


class ConfigurationOgoneInvoiceJournal(ModelSQL, CompanyValueMixin):
    __name__ = 'account.configuration.ogone_invoice_journal'

    ogone_invoice_journal = fields.Many2One(
        'account.payment.journal', "Ogone Journal for Invoices",
        ondelete='RESTRICT',
        domain=[
            ('process_method', '=', 'ogone'),
            ('company', '=', Eval('company', -1)),
            ])


class Invoice(metaclass=PoolMeta):
    __name__ = 'account.invoice'

    ogone_pay_token = fields.Char(
        "Ogone Pay Token", readonly=True, strip=False)
    ogone_pay_url = fields.Function(fields.Char(
            "Pay Online Link",
            help="The link for the customer to pay what is left to pay "
            "through Ogone, for the e-mail and the report of the invoice."),
        'get_ogone_pay_url')
    ogone_payments = fields.One2Many(
        'account.payment', 'ogone_invoice', "Ogone Payments", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(
            Index(
                t, (t.ogone_pay_token, Index.Equality(cardinality='high')),
                where=t.ogone_pay_token != Null))
        cls._buttons.update({
                'ogone_pay': {
                    'invisible': ((Eval('type') != 'out')
                        | (Eval('state') != 'posted')),
                    'depends': ['type', 'state'],
                    },
                })

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if mode == 'create' and not values.get('ogone_pay_token'):
            values['ogone_pay_token'] = new_token()
        return values

    @classmethod
    def copy(cls, invoices, default=None):
        if default is None:
            default = {}
        else:
            default = default.copy()
        # The copy gets its own link and none of the payments
        default.setdefault('ogone_pay_token', None)
        default.setdefault('ogone_payments', None)
        return super().copy(invoices, default=default)

    @property
    def ogone_pay_journal(self):
        "The Ogone journal the invoice is paid online with, None for no link"
        pool = Pool()
        Configuration = pool.get('account.configuration')
        if self.type != 'out' or not self.company:
            return None
        journal = Configuration(1).get_multivalue(
            'ogone_invoice_journal', company=self.company.id)
        if journal and journal.currency == self.currency:
            return journal
        return None

    def get_ogone_pay_url(self, name):
        pool = Pool()
        Router = pool.get('account_payment_ogone', type='router')
        if (self.state != 'posted' or not self.ogone_pay_token
                or not self.ogone_pay_journal):
            return None
        return Router.url_for(
            'invoice', token=self.ogone_pay_token,
            database_name=Transaction().database.name)

    @classmethod
    @ModelView.button_action('account_payment_ogone.url_invoice_pay')
    def ogone_pay(cls, invoices):
        for invoice in invoices:
            if not invoice.ogone_pay_token:
                # Posted before the module was activated
                invoice.ogone_pay_token = new_token()
                invoice.save()
            url = invoice.ogone_pay_url
            if not url:
                raise UserError(gettext(
                        'account_payment_ogone.msg_invoice_pay_unavailable',
                        invoice=invoice.rec_name))
            return {'url': url}

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, invoices):
        pool = Pool()
        Payment = pool.get('account.payment')
        # Before the cancellation reconciles the lines to pay, which the
        # payments' transitions would warn about
        Payment.ogone_fail_unsent(invoices)
        super().cancel(invoices)

    @classmethod
    def ogone_lock(cls, invoices):
        "Lock the invoices: one request at a time decides on their payment"
        lock_rows(cls, invoices)

    def ogone_link_payment(self):
        """The Ogone payment the link opens, created or reused

        Return (payment, None), or (None, reason) with reason 'paid' when
        nothing is left to pay and 'processing' when a payment of the
        invoice is waiting for its money.
        The caller must have locked the invoice.
        """
        pool = Pool()
        Payment = pool.get('account.payment')
        # A payment an accountant put back to draft is theirs to handle
        live = Payment.search([
                ('ogone_invoice', '=', self.id),
                ('state', 'in', sorted(CHECKOUT_STATES)),
                ], order=[('id', 'ASC')])
        for payment in live:
            rank = status_rank(parse_status(payment.ogone_status)) or 0
            if not payment.ogone_payable or rank == RANK_PENDING:
                # Authorized, or waiting for its bank: its money may come
                return None, 'processing'
        amount = self.amount_to_pay
        for payment in live:
            if payment.line:
                # Tryton already counts it as paying its line
                amount += payment.amount_line_paid
        if amount <= 0:
            return None, 'paid'
        for payment in live:
            if payment.amount != amount:
                # Paid in part by other means since: a new attempt asks what
                # is left, and money on the old ORDERID flags a review.
                logger.info(
                    "Ogone payment %s of invoice %s: amount %s becomes %s",
                    payment.id, self.id, payment.amount, amount)
                payment.amount = amount
                payment.ogone_order_id = None
                payment.save()
            return payment, None
        payment = self._ogone_refused_payment()
        if payment:
            # A new attempt of the same payment: money taken later on the
            # refused attempt's page (another card on the same ORDERID) and
            # on the new one cannot both settle the invoice.
            payment.amount = amount
            payment.ogone_order_id = None
            payment.save()
            Payment.proceed([payment])
            logger.info(
                "Ogone payment %s of invoice %s: new attempt after %s",
                payment.id, self.id, payment.ogone_status)
            return Payment(payment.id), None
        payment = self._ogone_new_payment(amount)
        # The requests waiting for the invoice's lock then see the payment
        touch_rows(self.__class__, [self])
        logger.info(
            "Ogone payment %s created for invoice %s: %s %s",
            payment.id, self.id, amount, payment.currency.code)
        return payment, None

    def _ogone_refused_payment(self):
        "The last payment of the link the customer's bank refused, if any"
        pool = Pool()
        Payment = pool.get('account.payment')
        payments = Payment.search([
                ('ogone_invoice', '=', self.id),
                ('state', '=', 'failed'),
                ], order=[('id', 'DESC')], limit=1)
        # Not one whose money was taken back (reversed): no later news of it
        # could move it again
        if (payments and status_rank(parse_status(payments[0].ogone_status))
                == RANK_FAILED):
            return payments[0]

    def _ogone_new_payment(self, amount):
        pool = Pool()
        Payment = pool.get('account.payment')
        Date = pool.get('ir.date')
        journal = self.ogone_pay_journal
        lines = [l for l in self.lines_to_pay if not l.reconciliation]
        with Transaction().set_context(company=self.company.id):
            today = Date.today()
        payment = Payment(
            company=self.company,
            journal=journal,
            kind='receivable',
            party=self.party,
            amount=amount,
            currency=journal.currency,
            date=today,
            # With several lines left (installments) the payment pays the
            # invoice as a whole: it is reconciled with all of them.
            line=lines[0] if len(lines) == 1 else None,
            reference=self.number,
            ogone_invoice=self,
            )
        if payment.line is None and 'account' in Payment._fields:
            # The clearing account of account_payment_clearing
            payment.account = self.account
        payment.save()
        Payment.submit([payment])
        payment = Payment(payment.id)
        payment.ogone_checkout_id = new_token()
        payment.save()
        return payment

    @classmethod
    def ogone_reconcile(cls, invoices):
        """Reconcile the invoices with the clearing of their Ogone payments

        The clearing module reconciles a payment with its line only when
        they have the same amount; an invoice paid in part by other means,
        or in installments, is reconciled here once it is paid in full.
        """
        pool = Pool()
        Line = pool.get('account.move.line')
        to_reconcile = []
        for invoice in cls.browse(invoices):
            if invoice.state != 'posted' or invoice.reconciled:
                continue
            lines = {l for l in invoice.lines_to_pay if not l.reconciliation}
            lines |= {
                l for l in invoice.payment_lines if not l.reconciliation}
            payments = set(invoice.ogone_payments)
            for line in invoice.lines_to_pay:
                payments.update(line.payments)
            for payment in payments:
                if payment.state != 'succeeded' or not payment.clearing_move:
                    continue
                lines |= {
                    l for l in payment.clearing_move.lines
                    if l.account == invoice.account
                    and l.party == invoice.party
                    and not l.reconciliation}
            if lines and not sum(l.debit - l.credit for l in lines):
                to_reconcile.append(list(lines))
            elif lines:
                logger.info(
                    "Invoice %s not reconciled: its lines and payments "
                    "leave %s", invoice.id,
                    sum(l.debit - l.credit for l in lines))
        if to_reconcile:
            Line.reconcile(*to_reconcile)


class Payment(metaclass=PoolMeta):
    __name__ = 'account.payment'

    ogone_invoice = fields.Many2One(
        'account.invoice', "Ogone Invoice", readonly=True,
        ondelete='RESTRICT',
        help="The invoice whose pay online link created this payment.")

    @classmethod
    def copy(cls, payments, default=None):
        if default is None:
            default = {}
        else:
            default = default.copy()
        default.setdefault('ogone_invoice', None)
        return super().copy(payments, default=default)

    @property
    def ogone_payable(self):
        # The checkout link of a cancelled invoice's payment, opened or sent
        # before, closes with the invoice's own link
        return (super().ogone_payable
            and not (self.ogone_invoice
                and self.ogone_invoice.state == 'cancelled'))

    @classmethod
    def ogone_fail_unsent(cls, invoices):
        """Fail the waiting payments of the invoices' links that Ogone never
        heard of, as the invoices are cancelled

        A payment with an order is left as it is: its customer may be on
        Ogone's page, and only Ogone's news can tell whether money was
        taken.
        """
        pool = Pool()
        Invoice = pool.get('account.invoice')
        waiting = {'draft', 'submitted', 'approved'}
        # Only customer invoices offer the link
        invoices = [i for i in invoices if i.type == 'out']
        if not invoices:
            return
        # The clerk cancelling the invoice may have no access to payments:
        # failing these is part of the cancellation
        with Transaction().set_context(_check_access=False):
            # A link opened meanwhile waits for the invoice, then finds it
            # cancelled
            Invoice.ogone_lock(invoices)
            payments = cls.search([
                    ('ogone_invoice', 'in', [i.id for i in invoices]),
                    ('state', 'in', sorted(waiting)),
                    ], order=[('id', 'ASC')])
            if not payments:
                return
            # A checkout opened meanwhile has created its order by now
            cls.ogone_lock(payments)
            payments = [p for p in cls.browse(payments)
                if p.state in waiting and not p.ogone_orders]
            if not payments:
                return
            logger.info(
                "Ogone payments %s failed with their cancelled invoices",
                ', '.join(str(p.id) for p in payments))
            drafts = [p for p in payments if p.state == 'draft']
            if drafts:
                # Tryton fails only a payment being processed
                cls.submit(drafts)
            # Nothing is sent for them, no link nor charge
            with Transaction().set_context(_ogone_update=True):
                cls.process(cls.browse(payments))
            cls.fail(cls.browse(payments))

    def ogone_effect(self, feedback, order):
        applied, review = super().ogone_effect(feedback, order)
        # The customer was on Ogone's page when the invoice was cancelled:
        # the payment follows Ogone, as the money was taken, and the
        # accountant refunds it
        if (applied and not review
                and status_rank(feedback.status) in {
                    RANK_AUTHORIZED, RANK_PAID}
                and self.ogone_invoice
                and self.ogone_invoice.state == 'cancelled'):
            review = True
        return applied, review


class PaymentClearing(metaclass=PoolMeta):
    __name__ = 'account.payment'

    @classmethod
    @ModelView.button
    @Workflow.transition('succeeded')
    def succeed(cls, payments):
        pool = Pool()
        Invoice = pool.get('account.invoice')
        super().succeed(payments)
        invoices = {p.ogone_invoice for p in payments if p.ogone_invoice}
        if invoices:
            Invoice.ogone_reconcile(list(invoices))


class Ogone(metaclass=PoolMeta):
    __name__ = 'account_payment_ogone'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__routes__.update({
                'invoice': ogone_route('invoice/<token>'),
                })

    @classmethod
    def invoice(cls, request, pool, token):
        Invoice = pool.get('account.invoice')
        if not CHECKOUT_TOKEN.fullmatch(token or ''):
            abort(HTTPStatus.NOT_FOUND)
        invoices = Invoice.search([
                ('ogone_pay_token', '=', token),
                ('type', '=', 'out'),
                ], limit=1)
        if not invoices:
            abort(HTTPStatus.NOT_FOUND)
        invoice, = invoices
        language = (invoice.party.lang.code if invoice.party.lang
            else Transaction().language)
        with Transaction().set_context(
                language=language, company=invoice.company.id):
            if invoice.state == 'paid':
                return cls._invoice_page('paid', invoice)
            if invoice.state != 'posted' or not invoice.ogone_pay_journal:
                return cls._invoice_page(
                    'closed', invoice, HTTPStatus.GONE)
            Invoice.ogone_lock([invoice])
            invoice = Invoice(invoice.id)
            payment, reason = invoice.ogone_link_payment()
            if payment is None:
                return cls._invoice_page(reason, invoice)
            if not payment.ogone_sendable:
                logger.warning(
                    "Ogone link of invoice %s refused: %s %s cannot be sent "
                    "to Ogone", invoice.id, payment.amount,
                    payment.currency.code)
                return _page(
                    gettext(
                        'account_payment_ogone.msg_checkout_impossible_title'),
                    gettext('account_payment_ogone.msg_checkout_impossible'),
                    HTTPStatus.CONFLICT)
            url = cls.url_for(
                'checkout', token=payment.ogone_checkout_id,
                database_name=pool.database_name)
        return redirect(url, HTTPStatus.SEE_OTHER)

    @classmethod
    def _invoice_page(cls, reason, invoice, status=HTTPStatus.OK):
        return _page(
            gettext(f'account_payment_ogone.msg_invoice_{reason}_title'),
            gettext(f'account_payment_ogone.msg_invoice_{reason}',
                invoice=invoice.number or ''),
            status)
