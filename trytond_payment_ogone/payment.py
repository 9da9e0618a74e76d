"""Payments through Ogone's hosted payment page and their reconciliation with Ogone's feedback."""
import datetime as dt
import logging
import secrets
import uuid
from functools import partial
from typing import NamedTuple

from ogone_core import Category, HostedPaymentRequest, Operation, Status
from ogone_core import UnknownStatus, amount_is_expressible, is_currency_code
from ogone_core.ncerror import describe as describe_ncerror
from sql import Column, For, Literal, Null
from sql.functions import CurrentTimestamp
from sql.operators import Exists

from trytond import backend
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, Workflow, fields
from trytond.model.exceptions import AccessError
from trytond.modules.account_payment.exceptions import PaymentValidationError
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, If
from trytond.report import Report
from trytond.transaction import Transaction

from .locking import lock_rows, with_lock_timeout
from .sql_template import QueryTemplate

logger = logging.getLogger(__name__)

# How far a status has moved the payment. News of a lower rank than what was
# already applied is recorded in the history but changes nothing, so
# duplicate, late or out-of-order feedback never makes a payment go back.
RANK_PENDING = 1
RANK_FAILED = 2
RANK_AUTHORIZED = 3
RANK_PAID = 4
# An authorisation or payment deleted afterwards: the money will not come.
RANK_REVERSED = 5
CATEGORY_RANKS = {
    Category.PENDING: RANK_PENDING,
    Category.UNCERTAIN: RANK_PENDING,
    Category.REFUSED: RANK_FAILED,
    Category.CANCELLED: RANK_FAILED,
    Category.ERROR: RANK_FAILED,
    Category.AUTHORIZED: RANK_AUTHORIZED,
    Category.PAID: RANK_PAID,
    }
CHECKOUT_STATES = {'submitted', 'approved', 'processing'}
# Tryton language codes to the LANGUAGE values of the hosted page
OGONE_LANGUAGES = {
    'bg': 'bg_BG', 'ca': 'es_ES', 'cs': 'cs_CZ', 'de': 'de_DE',
    'el': 'el_GR', 'en': 'en_US', 'es': 'es_ES', 'fi': 'fi_FI',
    'fr': 'fr_FR', 'hu': 'hu_HU', 'it': 'it_IT', 'ja': 'ja_JP',
    'nl': 'nl_NL', 'pl': 'pl_PL', 'pt': 'pt_PT', 'ru': 'ru_RU',
    'sl': 'sl_SI', 'tr': 'tr_TR', 'zh': 'zh_CN',
    }


def status_rank(status):
    "The rank of an Ogone status, None when it does not move a payment"
    if status is None:
        return None
    if (status.category == Category.CANCELLED
            and status != Status.CANCELLED_BY_CUSTOMER):
        return RANK_REVERSED
    return CATEGORY_RANKS.get(status.category)


def parse_status(code):
    if not code:
        return None
    try:
        return Status.parse(code)
    except UnknownStatus:
        return None


def status_string(code):
    status = parse_status(code)
    if status is None:
        return code or ''
    return f'{status.value} ({status.description})'


def ncerror_string(code):
    if not code:
        return ''
    return f'{code} ({describe_ncerror(code)})'


class OrderFacts(NamedTuple):
    "An order and what decides whether news about it can move its payment"
    order: int
    name: str
    account: int
    amount: object
    currency_code: str
    payment: int
    payment_state: str
    payment_amount: object
    payment_currency: int
    order_currency: int
    ogone_status: str
    ogone_order_id: str
    ogone_review: bool
    refunded: bool
    account_written: object

    def at_rest(self, feedback):
        """Whether the feedback certainly neither moves the payment nor flags
        it for review (Payment.ogone_effect would say so): news of a rank the
        payment has reached already, about the order that settled it and
        still fits it, or that flags nothing"""
        new_rank = status_rank(feedback.status)
        current_rank = status_rank(parse_status(self.ogone_status)) or 0
        if new_rank is not None and new_rank > current_rank:
            return False
        if new_rank not in {RANK_AUTHORIZED, RANK_PAID} or self.ogone_review:
            return True
        # Money news: the order must fit the payment as when it settled it
        return (self.name == self.ogone_order_id
            and self.payment_state != 'draft'
            and not self.refunded
            and self.amount == self.payment_amount
            and self.order_currency == self.payment_currency)


class Journal(metaclass=PoolMeta):
    __name__ = 'account.payment.journal'

    ogone_account = fields.Many2One(
        'account.payment.ogone.account', "Account", ondelete='RESTRICT',
        states={
            'required': Eval('process_method') == 'ogone',
            'invisible': Eval('process_method') != 'ogone',
            })
    ogone_authorization_only = fields.Boolean(
        "Authorization Only",
        states={
            'invisible': Eval('process_method') != 'ogone',
            },
        help="Only reserve the amount on the card (OPERATION RES); "
        "the money is received once the authorization is captured.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        ogone_method = ('ogone', "Ogone")
        if ogone_method not in cls.process_method.selection:
            cls.process_method.selection.append(ogone_method)

    @classmethod
    def default_ogone_authorization_only(cls):
        return False

    @classmethod
    def check_modification(cls, mode, journals, values=None, external=False):
        super().check_modification(
            mode, journals, values=values, external=external)
        if mode == 'write' and values.keys() & {
                'ogone_account', 'process_method'}:
            cls.check_ogone_account_change(journals, values)

    @classmethod
    def check_ogone_account_change(cls, journals, values):
        """Refuse to move a journal to another Ogone account, or to take it
        from Ogone, while some of its payments still depend on the current
        account: a payment processing waits for news of an order of that
        account (and a charge that never reached Ogone is sent again with
        the journal's account), and a payment still to be charged has a
        card saved with the current account, which the new one does not
        know. Ogone's news and the queries only follow payments of Ogone
        journals."""
        pool = Pool()
        Payment = pool.get('account.payment')
        moved = [j for j in journals
            if j.process_method == 'ogone' and j.ogone_account
            and (values.get('process_method', 'ogone') != 'ogone'
                or values.get('ogone_account', j.ogone_account.id)
                != j.ogone_account.id)]
        for journal in moved:
            payments = Payment.search([
                    ('journal', '=', journal.id),
                    ['OR',
                        ('state', '=', 'processing'),
                        [
                            ('state', 'not in', ['succeeded', 'failed']),
                            ('ogone_alias', '!=', None),
                            ],
                        ],
                    ], order=[('id', 'ASC')], limit=1)
            if payments:
                payment, = payments
                raise AccessError(gettext(
                        'account_payment_ogone.msg_ogone_journal_account_busy',
                        journal=journal.rec_name,
                        account=journal.ogone_account.rec_name,
                        payment=payment.rec_name))


class Group(metaclass=PoolMeta):
    __name__ = 'account.payment.group'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # Only Ogone's feedback knows whether the money was received
        cls._buttons['succeed']['invisible'] |= (
            Eval('process_method') == 'ogone')


class Payment(metaclass=PoolMeta):
    __name__ = 'account.payment'

    ogone_checkout_id = fields.Char(
        "Ogone Checkout ID", readonly=True, strip=False)
    ogone_attempts = fields.Integer(
        "Ogone Attempts", readonly=True,
        help="The number of times the hosted payment page was opened.")
    ogone_order_id = fields.Char(
        "Ogone Order ID", readonly=True, strip=False,
        help="The ORDERID of the last attempt, "
        "or of the one that settled the payment.")
    ogone_orders = fields.One2Many(
        'account.payment.ogone.order', 'payment', "Ogone Orders",
        readonly=True)
    ogone_pay_id = fields.Char("Ogone Pay ID", readonly=True, strip=False)
    ogone_status = fields.Char(
        "Ogone Status Code", readonly=True, strip=False,
        help="The status of the feedback that last moved the payment.")
    ogone_status_string = fields.Function(
        fields.Char("Ogone Status"), 'get_ogone_status_string')
    ogone_ncerror = fields.Char(
        "Ogone Error Code", readonly=True, strip=False)
    ogone_ncerror_string = fields.Function(
        fields.Char("Ogone Error"), 'get_ogone_ncerror_string')
    ogone_capture_needed = fields.Boolean(
        "Ogone Capture Needed", readonly=True,
        help="The amount is only authorized: "
        "it is not received until the authorization is captured.")
    ogone_alias = fields.Many2One(
        'account.payment.ogone.alias', "Ogone Saved Card",
        ondelete='RESTRICT',
        # The card must be of the journal's account while it may be chosen
        # for a charge; once sent, it is the one the order used, whichever
        # account the journal has since: the payment stays writable (a
        # refund lowers its amount).
        domain=[
            ('party', '=', Eval('party', -1)),
            If(Eval('state', 'draft').in_(['draft', 'submitted', 'approved']),
                [('account', '=', Eval('ogone_account', -1))],
                []),
            ],
        states={
            'readonly': ~Eval('state', 'draft').in_(
                ['draft', 'submitted', 'approved']),
            'invisible': Eval('process_method') != 'ogone',
            },
        help="The saved card to charge when the payment is processed, "
        "or the card the customer saved while paying.\n"
        "Leave empty to send the customer the checkout link.")
    ogone_account = fields.Function(fields.Many2One(
            'account.payment.ogone.account', "Ogone Account"),
        'on_change_with_ogone_account')
    ogone_feedbacks = fields.One2Many(
        'account.payment.ogone.feedback', 'payment', "Ogone Feedback",
        readonly=True)
    ogone_review = fields.Boolean(
        "Ogone Review Needed", readonly=True,
        help="Ogone reported money for this payment that could not settle "
        "it (an earlier order, an amount changed since, a payment in draft "
        "or already paid): check the feedback and refund what was paid "
        "twice.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(
            Index(
                t, (t.ogone_checkout_id, Index.Equality(cardinality='high')),
                where=t.ogone_checkout_id != Null))
        cls._buttons.update({
                'ogone_checkout': {
                    'invisible': ((Eval('process_method') != 'ogone')
                        | ~Eval('state', 'draft').in_(list(CHECKOUT_STATES))
                        | Eval('ogone_capture_needed', False)),
                    'depends': [
                        'process_method', 'state', 'ogone_capture_needed'],
                    },
                })
        # Only Ogone's news knows whether the money was received, as for
        # the group's button
        cls._buttons['succeed']['invisible'] |= (
            Eval('process_method') == 'ogone')
        cls._buttons['succeed']['depends'] = list(
            set(cls._buttons['succeed'].get('depends', []))
            | {'process_method'})

    @classmethod
    def default_ogone_attempts(cls):
        return 0

    @classmethod
    def default_ogone_capture_needed(cls):
        return False

    @classmethod
    def default_ogone_review(cls):
        return False

    @fields.depends('journal')
    def on_change_with_ogone_account(self, name=None):
        if self.journal and self.journal.process_method == 'ogone':
            return self.journal.ogone_account

    @fields.depends('party', 'ogone_alias')
    def on_change_party(self):
        super().on_change_party()
        if self.ogone_alias and self.ogone_alias.party != self.party:
            self.ogone_alias = None

    def get_ogone_status_string(self, name):
        return status_string(self.ogone_status)

    def get_ogone_ncerror_string(self, name):
        return ncerror_string(self.ogone_ncerror)

    @classmethod
    def view_attributes(cls):
        return super().view_attributes() + [
            ('//page[@id="ogone"]', 'states', {
                    'invisible': Eval('process_method') != 'ogone',
                    }),
            ]

    @classmethod
    def validate_fields(cls, payments, field_names):
        super().validate_fields(payments, field_names)
        cls.check_ogone_journal(payments, field_names)
        cls.check_ogone_amount(payments, field_names)

    @classmethod
    def check_ogone_journal(cls, payments, field_names=None):
        if field_names and not (field_names & {'kind', 'journal'}):
            return
        for payment in payments:
            if (payment.kind != 'receivable'
                    and payment.journal.process_method == 'ogone'):
                raise PaymentValidationError(
                    gettext('account_payment_ogone.msg_ogone_receivable',
                        journal=payment.journal.rec_name,
                        payment=payment.rec_name))

    @classmethod
    def check_ogone_amount(cls, payments, field_names=None):
        "Refuse an amount or currency Ogone cannot take, before sending"
        if field_names and not (
                field_names & {'amount', 'currency', 'journal'}):
            return
        for payment in payments:
            if (payment.journal.process_method == 'ogone'
                    and not amount_is_expressible(payment.amount)):
                raise PaymentValidationError(
                    gettext('account_payment_ogone.msg_ogone_amount_decimals',
                        amount=payment.amount,
                        currency=payment.currency.code,
                        journal=payment.journal.rec_name,
                        payment=payment.rec_name))
            if (payment.journal.process_method == 'ogone'
                    and not payment.ogone_currency_accepted):
                raise PaymentValidationError(
                    payment.ogone_currency_refused_message())

    @property
    def ogone_currency_accepted(self):
        return self.journal.ogone_account.accepts_currency(self.currency)

    def ogone_currency_refused_message(self):
        account = self.journal.ogone_account
        return gettext('account_payment_ogone.msg_ogone_currency_refused',
            currency=self.currency.code,
            account=account.rec_name,
            currencies=', '.join(sorted(c.code for c in account.currencies)),
            payment=self.rec_name)

    @property
    def ogone_sendable(self):
        "Whether Ogone can carry the amount and currency of the payment"
        return (amount_is_expressible(self.amount)
            and is_currency_code(self.currency.code)
            and self.ogone_currency_accepted)

    @classmethod
    def check_modification(cls, mode, payments, values=None, external=False):
        super().check_modification(
            mode, payments, values=values, external=external)
        if mode == 'delete':
            for payment in payments:
                # Its ORDERIDs were given to Ogone: a customer may still pay
                # them, and their feedback must find the payment.
                if payment.ogone_orders:
                    raise AccessError(gettext(
                            'account_payment_ogone.msg_ogone_payment_delete',
                            payment=payment.rec_name))

    @classmethod
    def write(cls, *args):
        # trytond's Workflow writes the state again for each override of a
        # transition (account_payment_clearing's and this module's), with
        # no record left once the innermost one moved them, and
        # account_payment_clearing writes its fields on every transition
        # even when they do not change. Each write sends its statements and
        # validates the payment again (about ten domains, read again from
        # the database): while Ogone's news is applied, a write that changes
        # nothing is left out.
        assert not len(args) % 2
        unchanged_left_out = Transaction().context.get('_ogone_news')
        actions = iter(args)
        args = []
        for records, values in zip(actions, actions):
            if unchanged_left_out:
                records = [r for r in records if cls._ogone_changes(r, values)]
            if records:
                args.extend((records, values))
        if args:
            super().write(*args)

    @staticmethod
    def _ogone_changes(record, values):
        "Whether writing the values would change the payment"
        # As stored, not as set on the instance and not saved yet
        record = record.__class__(record.id)
        for name, value in values.items():
            field = record._fields[name]
            if field._type not in {
                    'boolean', 'char', 'selection', 'integer', 'numeric',
                    'many2one'}:
                return True
            current = getattr(record, name)
            if field._type == 'many2one':
                current = current.id if current else None
                value = int(value) if value is not None else None
            elif field._type == 'boolean':
                current, value = bool(current), bool(value)
            if current != value:
                return True
        return False

    @classmethod
    def _ogone_reset_values(cls):
        return {
            'ogone_checkout_id': None,
            'ogone_order_id': None,
            'ogone_pay_id': None,
            'ogone_status': None,
            'ogone_ncerror': None,
            'ogone_capture_needed': False,
            }

    @classmethod
    def copy(cls, payments, default=None):
        if default is None:
            default = {}
        else:
            default = default.copy()
        for name, value in cls._ogone_reset_values().items():
            default.setdefault(name, value)
        default.setdefault('ogone_attempts', 0)
        default.setdefault('ogone_review', False)
        default.setdefault('ogone_orders', None)
        default.setdefault('ogone_feedbacks', None)
        return super().copy(payments, default=default)

    @classmethod
    @ModelView.button
    @Workflow.transition('draft')
    def draft(cls, payments):
        super().draft(payments)
        # A payment back to draft may change amount or party: the old
        # checkout link and remote status must not apply to it any more.
        # The attempts and the history are kept as an audit trail.
        cls.write(payments, cls._ogone_reset_values())

    def process_ogone(self):
        """Charge the saved card over DirectLink, or make sure the checkout
        link exists for the customer to pay"""
        assert self.process_method == 'ogone'
        if (self.ogone_alias
                and not Transaction().context.get('_ogone_update')):
            # Refused here, before anything is sent; Payment.process queues
            # the charges of the group
            self.ogone_check_charge()
            return
        if not self.ogone_checkout_id:
            self.ogone_checkout_id = secrets.token_urlsafe(32)
            self.save()

    @classmethod
    @ModelView.button_action('account_payment_ogone.url_checkout')
    def ogone_checkout(cls, payments):
        for payment in payments:
            # A new token on each click makes the links sent before unusable
            payment.ogone_checkout_id = secrets.token_urlsafe(32)
            payment.save()
            return {
                'url': payment.ogone_checkout_url,
                }

    @property
    def ogone_checkout_url(self):
        pool = Pool()
        Router = pool.get('account_payment_ogone', type='router')
        if not self.ogone_checkout_id:
            return None
        return Router.url_for(
            'checkout', token=self.ogone_checkout_id,
            database_name=Transaction().database.name)

    @property
    def ogone_payable(self):
        "Whether the customer may still be sent to the hosted payment page"
        return (self.process_method == 'ogone'
            and self.state in CHECKOUT_STATES
            and not self.ogone_capture_needed
            and (status_rank(parse_status(self.ogone_status)) or 0)
            < RANK_AUTHORIZED)

    @classmethod
    def ogone_lock(cls, payments):
        """Lock the payments so that concurrent requests apply one at a time

        See locking.lock_rows: what runs before must have no effect outside
        the database.
        """
        lock_rows(cls, payments)

    @classmethod
    def ogone_locked(cls, payment_id):
        "The payment, locked and read again as last committed"
        payment, = cls.ogone_locked_list([payment_id])
        return payment

    @classmethod
    def ogone_locked_list(cls, payment_ids):
        "The payments, locked and read again as last committed, in that order"
        cls.ogone_lock(cls.browse(payment_ids))
        return cls.browse(payment_ids)

    def ogone_checkout_order(self, save_card=False):
        """The attempt the customer pays with, created on the first checkout

        Every later opening of the checkout (a reload, a second tab, the link
        opened twice) reuses its ORDERID: the platform refuses to take the
        money twice for one order, so two open payment pages cannot both be
        paid. A payment reset to draft gets a new attempt, and so does one
        whose journal moved to another Ogone account since: the new PSPID
        signs its feedback with its own passphrase, which Tryton checks
        with the account of the order.
        The caller must have locked the payment.
        """
        pool = Pool()
        Order = pool.get('account.payment.ogone.order')
        account = self.journal.ogone_account
        if self.ogone_order_id:
            orders = Order.search([
                    ('payment', '=', self.id),
                    ('name', '=', self.ogone_order_id),
                    ], limit=1)
            # A DirectLink attempt (waiting for 3-D Secure, say) cannot be
            # paid on the hosted page: the customer gets a new attempt.
            if (orders and not orders[0].directlink
                    and orders[0].account == account):
                order, = orders
                if save_card and not order.alias:
                    order.alias = self._ogone_new_alias(account)
                    order.save()
                return order
        self.ogone_attempts = (self.ogone_attempts or 0) + 1
        order_id = (
            f'{account.effective_order_id_prefix}-{self.id}'
            f'-{self.ogone_attempts}')
        order = Order(
            payment=self, account=account, name=order_id,
            amount=self.amount, currency=self.currency,
            alias=self._ogone_new_alias(account) if save_card else None)
        order.save()
        self.ogone_order_id = order_id
        self.save()
        return order

    @staticmethod
    def _ogone_new_alias(account):
        return f'{account.effective_order_id_prefix}-{uuid.uuid4().hex}'

    def ogone_hosted_payment_request(self, order, return_url, save_card=False):
        "The hosted payment page request of an attempt"
        pool = Pool()
        Company = pool.get('company.company')
        journal = self.journal
        party = self.party
        address = party.address_get()
        lang = party.lang.code if party.lang else 'en'
        language = OGONE_LANGUAGES.get(lang.split('_')[0], 'en_US')
        operation = (Operation.AUTHORIZATION
            if journal.ogone_authorization_only else Operation.SALE)
        alias = order.alias if save_card else None
        alias_usage = ''
        if alias:
            alias_usage = gettext(
                'account_payment_ogone.msg_alias_usage',
                company=Company(self.company.id).rec_name)
        charset = journal.ogone_account.charset

        def text(value):
            # The plain pages cannot carry what ISO-8859-1 has no letter for
            return value.encode(charset, 'replace').decode(charset)
        return HostedPaymentRequest(
            order_id=order.name,
            amount=self.amount,
            currency=self.currency.code,
            language=language,
            operation=operation,
            customer_name=text(party.name or ''),
            email=text(getattr(party, 'email', '') or ''),
            owner_address=text(
                (address.street or '').replace('\n', ' ')[:35])
            if address else '',
            owner_zip=text((address.postal_code or '')[:10])
            if address else '',
            owner_town=text((address.city or '')[:25]) if address else '',
            owner_country=(address.country.code
                if address and address.country else ''),
            description=text((self.reference or self.number or '')[:100]),
            accept_url=return_url,
            decline_url=return_url,
            exception_url=return_url,
            cancel_url=return_url,
            alias=alias or '',
            alias_usage=text(alias_usage[:255]),
            # The server-to-server URL may hold <PARAMVAR> where the database
            # goes, for PSPIDs shared by several databases.
            paramvar=Transaction().database.name)

    def ogone_captured_lower(self, order):
        """Whether the authorization of the order is, or was, captured for
        less than it holds: the lower amount is set on the payment before the
        capture, so news of that order still settles the payment."""
        current_rank = status_rank(parse_status(self.ogone_status)) or 0
        return (order.name == self.ogone_order_id
            and current_rank >= RANK_AUTHORIZED
            and 0 < self.amount + self._ogone_refunded(order) < order.amount)

    def ogone_effect(self, feedback, order):
        """What a feedback does to the payment as it is read: (applied,
        review), whether it moves the payment and whether it shows money
        the payment cannot account for"""
        new_rank = status_rank(feedback.status)
        if getattr(feedback, 'is_duplicate', False):
            # A DirectLink "already processed" says nothing about the order
            new_rank = None
        current_rank = status_rank(parse_status(self.ogone_status)) or 0
        if (new_rank is None or new_rank <= current_rank) and (
                new_rank not in {RANK_AUTHORIZED, RANK_PAID}
                or self.ogone_review):
            # Neither moves the payment nor flags it again: the refunds of
            # the order, which only that would need, are not read.
            return False, False
        # A payment reset to draft, or changed since the order was sent, is
        # being handled by an accountant: news about that order is kept for
        # them but cannot settle it.
        order_fits = (self.state != 'draft'
            and (order.amount == self.amount + self._ogone_refunded(order)
                or self.ogone_captured_lower(order))
            and order.currency == self.currency)
        applied = (new_rank is not None and new_rank > current_rank
            and order_fits)
        money = new_rank in {RANK_AUTHORIZED, RANK_PAID}
        # Money taken that this payment cannot account for: paid twice (an
        # older order after success) or on a payment changed since.
        review = money and not applied and (not order_fits
            or (current_rank >= RANK_AUTHORIZED
                and order.name != self.ogone_order_id))
        return applied, review

    @classmethod
    def ogone_keep(cls, facts, feedback, source):
        """Record news that OrderFacts.at_rest says cannot move the payment:
        one share lock and one insert

        A payment changed since the facts were read restarts the
        transaction, so the facts hold when the history line is written.
        """
        pool = Pool()
        Feedback = pool.get('account.payment.ogone.feedback')
        if backend.name == 'postgresql':
            # The INSERT takes the share lock itself: one round trip
            with_lock_timeout(
                Transaction().connection.cursor(),
                Feedback.ogone_insert_query(
                    facts.payment, facts.order, source, feedback,
                    applied=False, share_lock=True))
        else:
            lock_rows(cls, [cls(facts.payment)], share=True)
            Feedback.ogone_insert(
                facts.payment, facts.order, source, feedback, applied=False)
        logger.info(
            "Ogone feedback %s for %s kept in history only "
            "(status %s after %s)", source, facts.name,
            feedback.status.value, facts.ogone_status)

    def ogone_update(self, feedback, source, order):
        """Reconcile the payment with a verified feedback

        Every piece of news from Ogone passes here: a verified feedback
        (source 'browser' or 'server'), a DirectLink answer ('directlink')
        or the answer to a query ('query'). The caller must have locked the
        payment and checked a feedback against the order's amount and
        currency.
        Return True when the feedback moved the payment.
        """
        applied, = self.__class__.ogone_update_many(
            [(self, feedback, source, order)])
        return applied

    @classmethod
    def ogone_update_many(cls, news):
        """ogone_update of several payments, each once in news, a list of
        (payment, feedback, source, order): the payments moving the same way
        go through their transition together, as the accountant's buttons
        move a selection. Return, for each, whether it moved its payment."""
        pool = Pool()
        Feedback = pool.get('account.payment.ogone.feedback')
        # Everything read before anything is written: each write would make
        # every payment of the list read again.
        decided = []
        for payment, feedback, source, order in news:
            applied, review = payment.ogone_effect(feedback, order)
            decided.append((payment, feedback, source, order, applied, review,
                    payment.ogone_status))
        moves = []
        for payment, feedback, source, order, applied, review, before in (
                decided):
            Feedback.ogone_insert(payment.id, order.id, source, feedback,
                applied)
            if review:
                logger.warning(
                    "Ogone reports money on %s for payment %s that it cannot "
                    "account for as is (paid twice, changed since, or its "
                    "invoice cancelled): review needed",
                    order.name, payment.id)
                cls.write([payment], {'ogone_review': True})
            if applied:
                payment._ogone_record_news(feedback, order)
                moves.append((payment.id, status_rank(feedback.status)))
            else:
                logger.info(
                    "Ogone feedback %s for %s kept in history only "
                    "(status %s after %s)", source, order.name,
                    feedback.status.value, before)
        if moves:
            with Transaction().set_context(_ogone_news=True):
                cls._ogone_move(moves)
        return [applied for _, _, _, _, applied, _, _ in decided]

    def _ogone_record_news(self, feedback, order):
        "One write of what Ogone said; the state moves by the transitions"
        new_rank = status_rank(feedback.status)
        values = {
            'ogone_status': str(feedback.status.value),
            'ogone_order_id': order.name,
            'ogone_ncerror': feedback.ncerror or None,
            'ogone_capture_needed': new_rank == RANK_AUTHORIZED,
            }
        if feedback.pay_id:
            values['ogone_pay_id'] = feedback.pay_id
        if (new_rank in {RANK_AUTHORIZED, RANK_PAID}
                and feedback.alias and feedback.alias == order.alias):
            values['ogone_alias'] = self._ogone_save_alias(
                feedback, order).id
            # A card is checked against the payment's party
            self.__class__.write([self], values)
        else:
            self._ogone_store(values)

    @classmethod
    def _ogone_move(cls, moves):
        """Move the payments by their transitions, as the news says: moves
        is a list of (payment id, rank of the news); so that the hooks of
        other modules run"""
        payments = cls.browse([payment_id for payment_id, _ in moves])
        to_process = [p for p in payments
            if p.state in {'submitted', 'approved'}]
        if to_process:
            # Paid already: nothing is to be sent for them
            with Transaction().set_context(_ogone_update=True):
                cls.process(to_process)
            payments = cls.browse([p.id for p in payments])
        succeed, fail, proceed = [], [], []
        for payment, (_, new_rank) in zip(payments, moves):
            if new_rank == RANK_PAID:
                succeed.append(payment)
            elif new_rank in {RANK_FAILED, RANK_REVERSED}:
                fail.append(payment)
            elif payment.state == 'failed':
                # Authorized or pending after a refusal: the customer retried
                proceed.append(payment)
        for transition, selected in [
                (cls.succeed, succeed), (cls.fail, fail),
                (cls.proceed, proceed)]:
            if selected:
                transition(selected)

    def _ogone_store(self, values):
        """Write what Ogone said in one UPDATE, without the validation of a
        write: read-only fields, from a verified feedback or answer, that no
        domain or other module's check depends on; every trytond validation
        of the payment would run again for each of them (about ten domains,
        because some depend on Function fields). The transitions that
        follow are real writes."""
        transaction = Transaction()
        table = self.__table__()
        columns = [table.write_uid, table.write_date]
        update = [transaction.user, CurrentTimestamp()]
        for name, value in values.items():
            columns.append(Column(table, name))
            update.append(self._fields[name].sql_format(value))
        transaction.connection.cursor().execute(*table.update(
                columns, update, where=table.id == self.id))
        # What trytond's write does for the caches: the payment is read
        # again from the database by whoever uses it next
        transaction.counter += 1
        self._local_cache.pop(self.id, None)
        for cache in transaction.cache.values():
            cache.get(self.__name__, {}).pop(self.id, None)

    def _ogone_refunded(self, order):
        "What the succeeded refunds of the order took off the payment"
        pool = Pool()
        Refund = pool.get('account.payment.ogone.refund')
        if order.name != self.ogone_order_id:
            return 0
        refunds = Refund.search([
                ('payment', '=', self.id),
                ('state', '=', 'succeeded'),
                ])
        return sum((r.amount for r in refunds if r.settles_payment), 0)

    def _ogone_save_alias(self, feedback, order):
        Alias = Pool().get('account.payment.ogone.alias')
        return Alias.ogone_record(
            self.party, order.account, feedback.alias, brand=feedback.brand,
            card_number=feedback.card_number,
            # A DirectLink answer carries no expiry
            expiry=getattr(feedback, 'expiry', ''))


class Order(ModelSQL, ModelView):
    "One attempt to pay on the hosted payment page, with its own ORDERID"
    __name__ = 'account.payment.ogone.order'

    payment = fields.Many2One(
        'account.payment', "Payment", required=True, ondelete='RESTRICT',
        readonly=True)
    account = fields.Many2One(
        'account.payment.ogone.account', "Account", required=True,
        ondelete='RESTRICT', readonly=True)
    # What the customer is asked to pay: the feedback is checked against it
    amount = fields.Numeric(
        "Amount", digits='currency', required=True, readonly=True)
    currency = fields.Many2One(
        'currency.currency', "Currency", required=True, readonly=True)
    # Not "order_id": Tryton reads order_<field> as an ordering method
    name = fields.Char("Order ID", required=True, readonly=True,
        strip=False)
    alias = fields.Char(
        "Alias", readonly=True, strip=False,
        help="The alias asked to Ogone when the customer saves the card.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('payment')
        t = cls.__table__()
        cls._sql_constraints += [
            ('account_order_id_unique', Unique(t, t.account, t.name),
                'account_payment_ogone.msg_order_id_unique'),
            ]
        cls._order.insert(0, ('create_date', 'DESC'))
        # Every piece of news from Ogone is looked up by its ORDERID alone
        cls._sql_indexes.add(
            Index(t, (t.name, Index.Equality(cardinality='high'))))

    @classmethod
    def check_modification(cls, mode, orders, values=None, external=False):
        super().check_modification(
            mode, orders, values=values, external=external)
        # The access comes from the payment, whose clerks may delete
        # payments; but Ogone may still report money on an ORDERID, and
        # without it the payment could be deleted.
        if mode == 'delete' and external:
            for order in orders:
                raise AccessError(gettext(
                        'account_payment_ogone.msg_ogone_order_delete',
                        order=order.rec_name,
                        payment=order.payment.rec_name))

    @classmethod
    def ogone_facts(cls, name):
        """The orders of Ogone payments with the ORDERID, each with what
        decides whether news about it can move its payment: one read"""
        cursor = Transaction().connection.cursor()
        cursor.execute(*_facts_query(cls, name=name))
        return [OrderFacts(*row) for row in cursor]


def _build_facts_query(Order, name):
    pool = Pool()
    Payment = pool.get('account.payment')
    Journal = pool.get('account.payment.journal')
    Currency = pool.get('currency.currency')
    Refund = pool.get('account.payment.ogone.refund')
    Account = pool.get('account.payment.ogone.account')
    order = Order.__table__()
    account = Account.__table__()
    payment = Payment.__table__()
    journal = Journal.__table__()
    currency = Currency.__table__()
    refund = Refund.__table__()
    refunded = Exists(refund.select(
            refund.id,
            where=(refund.payment == payment.id)
            & (refund.state == 'succeeded')))
    return (order
        .join(payment, condition=order.payment == payment.id)
        .join(journal, condition=payment.journal == journal.id)
        .join(currency, condition=order.currency == currency.id)
        .join(account, condition=order.account == account.id)
        .select(
            order.id, order.name, order.account, order.amount,
            currency.code, payment.id, payment.state, payment.amount,
            journal.currency, order.currency, payment.ogone_status,
            payment.ogone_order_id, payment.ogone_review, refunded,
            account.write_date,
            where=(order.name == name)
            & (journal.process_method == 'ogone'),
            order_by=[order.create_date.desc, order.id.desc]))


_facts_query = QueryTemplate(_build_facts_query, 'name')


class Feedback(ModelSQL, ModelView):
    "A feedback received from Ogone, kept whether or not it moved the payment"
    __name__ = 'account.payment.ogone.feedback'

    payment = fields.Many2One(
        'account.payment', "Payment", required=True, ondelete='CASCADE',
        readonly=True)
    order = fields.Many2One(
        'account.payment.ogone.order', "Order", required=True,
        ondelete='CASCADE', readonly=True)
    received_at = fields.Timestamp("Received at", required=True,
        readonly=True)
    source = fields.Selection([
            ('browser', "Browser Redirection"),
            ('server', "Server-to-Server"),
            ], "Source", required=True, readonly=True)
    status = fields.Char("Status Code", required=True, readonly=True)
    status_string = fields.Function(
        fields.Char("Status"), 'get_status_string')
    pay_id = fields.Char("Pay ID", readonly=True)
    ncerror = fields.Char("Error Code", readonly=True)
    ncerror_string = fields.Function(
        fields.Char("Error"), 'get_ncerror_string')
    applied = fields.Boolean(
        "Applied", readonly=True,
        help="Whether this feedback moved the payment.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('payment')
        cls._order = [('received_at', 'DESC'), ('id', 'DESC')]

    @classmethod
    def default_received_at(cls):
        return dt.datetime.now()

    @classmethod
    def check_modification(cls, mode, feedbacks, values=None,
            external=False):
        super().check_modification(
            mode, feedbacks, values=values, external=external)
        # What Ogone reported is the payment's history: it goes only with
        # the payment
        if mode == 'delete' and external:
            for feedback in feedbacks:
                raise AccessError(gettext(
                        'account_payment_ogone.msg_ogone_feedback_delete',
                        payment=feedback.payment.rec_name))

    @classmethod
    def ogone_insert(cls, payment_id, order_id, source, feedback, applied):
        """A history line in one INSERT, for the news that only adds one

        The ids come from the row just read under the payment's lock, the
        values from a verified feedback: nothing is left to validate.
        """
        cursor = Transaction().connection.cursor()
        cursor.execute(*cls.ogone_insert_query(
                payment_id, order_id, source, feedback, applied))

    @classmethod
    def ogone_insert_query(cls, payment_id, order_id, source, feedback,
            applied, share_lock=False):
        """The INSERT of ogone_insert; with share_lock, the INSERT takes the
        share lock of the payment's row itself"""
        template = _locked_insert_query if share_lock else _insert_query
        return template(cls,
            user=Transaction().user, payment=payment_id, order=order_id,
            received_at=cls.default_received_at(), source=source,
            status=str(feedback.status.value),
            pay_id=feedback.pay_id or None,
            ncerror=feedback.ncerror or None, applied=applied)

    def get_status_string(self, name):
        return status_string(self.status)

    def get_ncerror_string(self, name):
        return ncerror_string(self.ncerror)


def _build_insert_query(Feedback, share_lock, **values):
    table = Feedback.__table__()
    columns = [table.create_uid, table.create_date, table.payment,
        table.order, table.received_at, table.source, table.status,
        table.pay_id, table.ncerror, table.applied]
    row = [values['user'], CurrentTimestamp(), values['payment'],
        values['order'], values['received_at'], values['source'],
        values['status'], values['pay_id'], values['ncerror'],
        values['applied']]
    if not share_lock:
        return table.insert(columns, [row])
    payment = Pool().get('account.payment').__table__()
    return table.insert(columns, payment.select(
            *(v if isinstance(v, CurrentTimestamp) else Literal(v)
                for v in row),
            where=payment.id == values['payment'],
            for_=For('SHARE', of=[payment])))


_FEEDBACK_VALUES = ('user', 'payment', 'order', 'received_at', 'source',
    'status', 'pay_id', 'ncerror', 'applied')
_insert_query = QueryTemplate(
    partial(_build_insert_query, share_lock=False), *_FEEDBACK_VALUES)
_locked_insert_query = QueryTemplate(
    partial(_build_insert_query, share_lock=True), *_FEEDBACK_VALUES)


class CheckoutPage(Report):
    __name__ = 'account.payment.ogone.checkout'
