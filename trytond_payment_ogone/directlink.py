"""Saved cards charged, authorizations captured or voided, and payments queried, over DirectLink.

Every call that moves money is sent once: the attempt (its ORDERID) or the
operation is committed before the call, a call whose answer is lost leaves
the payment processing, and only a query resolves it. The one thing ever
sent again is a charge whose ORDERID Ogone does not know long after it was
committed: it never reached Ogone.
"""
import datetime as dt
import html
import logging
import secrets

from ogone_core import (
    DirectLinkClient, InvalidRequest, OgoneError, Operation, OrderRequest,
    OutcomeUnknown, Status, ThreeDSecure)

from trytond import backend, config
from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.modules.account_payment.exceptions import ProcessError
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .payment import OGONE_LANGUAGES

logger = logging.getLogger(__name__)

# Recurring e-commerce: the merchant charges a card the customer saved
# during an e-commerce payment (Ogone's DirectLink ECI table).
MERCHANT_INITIATED_ECI = '9'
# querydirect's "Error access to original order": Ogone has no such ORDERID
UNKNOWN_ORDER = '50001130'


def lost_after():
    """How long after its ORDERID was committed an order still unknown to
    Ogone is taken as never sent: DirectLink gives up on a request after at
    most 90 seconds (RTIMEOUT), so 10 minutes leave a wide margin."""
    return dt.timedelta(seconds=config.getint(
                'account_payment_ogone', 'lost_after', default=600))
# The reconciliation cron queries at most this many payments per run, and a
# payment that is still undecided waits longer after each query.
QUERY_BATCH = 100
QUERY_BACKOFF = dt.timedelta(minutes=5)
QUERY_BACKOFF_MAX = dt.timedelta(days=1)


def alias_expired(alias, today=None):
    "Whether the card's expiry (MMYY) is before the current month"
    expiry = alias.expiry or ''
    if len(expiry) != 4 or not expiry.isdigit():
        return False
    today = today or dt.date.today()
    month, year = int(expiry[:2]), 2000 + int(expiry[2:])
    return (year, month) < (today.year, today.month)


def next_query_at(count, now=None):
    now = now or dt.datetime.now()
    return now + min(QUERY_BACKOFF * (2 ** count), QUERY_BACKOFF_MAX)


def button_named(name):
    """ModelView.button for a method the client calls under another name:
    the groups, rules and states of a button are looked up by the name of
    the function it decorates"""
    def decorator(func):
        func.__name__ = name
        return ModelView.button(func)
    return decorator


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        methods = [
            ('account.payment|ogone_charge', "Charge Ogone Saved Cards"),
            ('account.payment|ogone_capture', "Capture Ogone Authorizations"),
            ('account.payment|ogone_reconcile', "Reconcile Ogone Payments"),
            ('account.payment.ogone.refund|ogone_process',
                "Send Ogone Refunds"),
            ]
        for method in methods:
            if method not in cls.method.selection:
                cls.method.selection.append(method)
            cls.methods_company_needed.add(method[0])


class Order(metaclass=PoolMeta):
    __name__ = 'account.payment.ogone.order'

    directlink = fields.Boolean(
        "DirectLink", readonly=True,
        help="Sent by Tryton over DirectLink to charge a saved card.")
    lost = fields.Boolean(
        "Lost", readonly=True,
        help="Ogone did not know this order long after it was committed: "
        "it never reached Ogone and a new attempt may be sent.")

    @classmethod
    def default_directlink(cls):
        return False

    @classmethod
    def default_lost(cls):
        return False


class Feedback(metaclass=PoolMeta):
    __name__ = 'account.payment.ogone.feedback'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        for source in [
                ('directlink', "DirectLink Answer"),
                ('query', "Query"),
                ]:
            if source not in cls.source.selection:
                cls.source.selection.append(source)


class Payment(metaclass=PoolMeta):
    __name__ = 'account.payment'

    ogone_operation = fields.Selection([
            (None, ""),
            ('capture', "Capture"),
            ('void', "Void"),
            ], "Ogone Operation", readonly=True,
        help="The operation asked on the authorization.")
    ogone_operation_sent = fields.Boolean(
        "Ogone Operation Sent", readonly=True,
        help="The operation was sent to Ogone; its result comes from the "
        "answer or from a query.")
    ogone_operation_sent_at = fields.Timestamp(
        "Ogone Operation Sent at", readonly=True)
    ogone_next_query = fields.Timestamp(
        "Ogone Next Query", readonly=True,
        help="When the reconciliation asks Ogone again about this payment.")
    ogone_queries = fields.Integer("Ogone Queries", readonly=True)
    ogone_review_note = fields.Text(
        "Ogone Review Note",
        states={
            'invisible': ~Eval('ogone_review', False)
            & ~Eval('ogone_review_note'),
            },
        help="What was done about the money Ogone reported, "
        "needed to clear the review.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # The lower amount of a partial capture is set on the payment before
        # the capture is asked; from then on it is what is sent (a capture
        # or a void, sent or not, holds it)
        cls.amount.states['readonly'] &= ~(
            Eval('ogone_capture_needed', False) & ~Eval('ogone_operation'))
        cls.amount.depends |= {'ogone_capture_needed', 'ogone_operation'}
        authorized = ((Eval('process_method') != 'ogone')
            | (Eval('state') != 'processing')
            | ~Eval('ogone_capture_needed', False)
            | Eval('ogone_operation_sent', False))
        cls._buttons.update({
                'ogone_capture': {
                    'invisible': authorized,
                    'depends': [
                        'process_method', 'state', 'ogone_capture_needed',
                        'ogone_operation_sent'],
                    },
                'ogone_void': {
                    'invisible': authorized,
                    'depends': [
                        'process_method', 'state', 'ogone_capture_needed',
                        'ogone_operation_sent'],
                    },
                'ogone_pull': {
                    'invisible': ((Eval('process_method') != 'ogone')
                        | (Eval('state') != 'processing')
                        | ~Eval('ogone_order_id')),
                    'depends': ['process_method', 'state', 'ogone_order_id'],
                    },
                'ogone_clear_review': {
                    'invisible': ~Eval('ogone_review', False),
                    'depends': ['ogone_review'],
                    },
                'ogone_refund_extra': {
                    'invisible': ~Eval('ogone_review', False),
                    'depends': ['ogone_review'],
                    },
                })

    @classmethod
    def default_ogone_operation_sent(cls):
        return False

    @classmethod
    def default_ogone_queries(cls):
        return 0

    @classmethod
    def _ogone_reset_values(cls):
        return super()._ogone_reset_values() | {
            'ogone_operation': None,
            'ogone_operation_sent': False,
            'ogone_operation_sent_at': None,
            'ogone_next_query': None,
            'ogone_queries': 0,
            }

    @classmethod
    def copy(cls, payments, default=None):
        if default is None:
            default = {}
        else:
            default = default.copy()
        default.setdefault('ogone_review_note', None)
        return super().copy(payments, default=default)

    @classmethod
    def process(cls, payments, group=None):
        """Processing by the accountant: a payment without saved card is
        sent its checkout link by e-mail"""
        # process_ogone writes the checkout link of a payment without card,
        # which empties the transaction's cache: instances of one list would
        # then read the whole list again for each payment, minutes for a
        # group of a thousand. The payments with a card, which process_ogone
        # only checks, come first and share their reads; each of the others
        # is an instance of its own.
        with_card = {p.id for p in payments if p.ogone_alias}
        payments = (
            list(cls.browse([p.id for p in payments if p.id in with_card]))
            + [cls(p.id) for p in payments if p.id not in with_card])
        by_link, to_charge = [], []
        if not Transaction().context.get('_ogone_update'):
            by_link = [p for p in payments
                if p.process_method == 'ogone' and not p.ogone_alias
                and p.state in {'submitted', 'approved'}]
            # Those the transition moves, as its wrapper selects them
            to_charge = [p for p in payments
                if p.process_method == 'ogone' and p.ogone_alias
                and (p.state, 'processing') in cls._transitions]
        for payment in by_link:
            if not getattr(payment.party, 'email', None):
                raise ProcessError(gettext(
                        'account_payment_ogone.msg_ogone_no_email',
                        payment=payment.rec_name,
                        party=payment.party.rec_name))
        group = super().process(payments, group=group)
        for payment in by_link:
            # Queued: a mail server down must not undo the processing
            cls.__queue__.ogone_send_checkout_email([payment])
        # process_ogone checked each card
        cls.ogone_queue_charges(to_charge)
        return group

    @classmethod
    def ogone_queue_charges(cls, payments):
        """Queue the charges of the saved cards: with trytond-worker, in
        tasks of [queue] batch_size payments, which the workers share"""
        if payments:
            with Transaction().set_context(queue_batch=True):
                cls.__queue__.ogone_charge(payments)

    @classmethod
    def ogone_send_checkout_email(cls, payments):
        for payment in payments:
            if payment.ogone_payable:
                payment._ogone_email_checkout_link(
                    'msg_checkout_email_subject', 'msg_checkout_email_body')

    # Checks: a clear message before anything is sent

    def ogone_check_charge(self):
        "Refuse to charge the saved card when Ogone could not take it"
        alias = self.ogone_alias
        account = self.journal.ogone_account
        if (alias.party != self.party or alias.account != account
                or not alias.active):
            raise ProcessError(gettext(
                    'account_payment_ogone.msg_ogone_alias_not_usable',
                    payment=self.rec_name, card=alias.rec_name))
        if alias_expired(alias):
            raise ProcessError(gettext(
                    'account_payment_ogone.msg_ogone_alias_expired',
                    payment=self.rec_name, card=alias.rec_name,
                    party=self.party.rec_name))
        if not self.ogone_currency_accepted:
            raise ProcessError(self.ogone_currency_refused_message())
        account.ogone_check_directlink(self)
        try:
            OrderRequest(
                order_id='CHECK', amount=self.amount,
                currency=self.currency.code, alias=alias.alias)
        except InvalidRequest as error:
            raise ProcessError(gettext(
                    'account_payment_ogone.msg_ogone_order_refused',
                    payment=self.rec_name, error=str(error)))

    def _ogone_client(self, order=None):
        """The DirectLink client of the journal's account, or of the
        account the order was sent to: the journal may have moved since"""
        account = order.account if order else self.journal.ogone_account
        return DirectLinkClient(account.ogone())

    @property
    def _ogone_current_order(self):
        pool = Pool()
        Order = pool.get('account.payment.ogone.order')
        if not self.ogone_order_id:
            return None
        orders = Order.search([
                ('payment', '=', self.id),
                ('name', '=', self.ogone_order_id),
                ], limit=1)
        return orders[0] if orders else None

    @property
    def ogone_to_charge(self):
        "Whether a DirectLink charge is still to be sent for the payment"
        if (self.process_method != 'ogone' or self.state != 'processing'
                or not self.ogone_alias):
            return False
        if not self.ogone_order_id:
            return True
        order = self._ogone_current_order
        return bool(order and order.directlink and order.lost)

    # Charging

    @classmethod
    def ogone_charge(cls, payments=None):
        """Charge the saved cards of processing payments (a queue task);
        without payments (the cron), queue whatever is left to send"""
        if payments is None:
            payments = cls.search([
                    ('process_method', '=', 'ogone'),
                    ('state', '=', 'processing'),
                    ('ogone_alias', '!=', None),
                    ('company', '=', Transaction().context.get('company')),
                    ], order=[('id', 'ASC')])
            cls.ogone_queue_charges([p for p in payments if p.ogone_to_charge])
            return
        transaction = Transaction()
        # Once each, whoever queued them: two attempts of one payment would
        # have the same ORDERID
        payments = cls.ogone_locked_list(
            list(dict.fromkeys(p.id for p in payments)))
        payments = [p for p in payments if p.ogone_to_charge]
        refused = []
        for payment in payments:
            try:
                payment.ogone_check_charge()
            except ProcessError as error:
                # Changed since it was processed (card expired, say): a
                # message for the accountant, nothing sent.
                logger.warning(
                    "Ogone charge of payment %s not sent: %s", payment.id,
                    error.message)
                refused.append(payment)
        if refused:
            cls.fail(refused)
        payments = [p for p in payments if p not in refused]
        orders = cls._ogone_new_directlink_orders(payments)
        # Built from what this transaction read: after the commit, the
        # journals and accounts would be read again.
        sends = [
            (p.id, order, p._ogone_order_request(order), p._ogone_client())
            for p, order in zip(payments, orders)]
        # The ORDERIDs are committed before the calls: whatever happens next,
        # each payment is known to have been sent and is never sent again.
        transaction.commit()
        answers = []
        for payment_id, order, request, client in sends:
            try:
                response = client.new_order(request)
            except OutcomeUnknown as error:
                logger.warning(
                    "Ogone charge %s of payment %s: outcome unknown (%s), "
                    "left to the query", order.name, payment_id, error)
                continue
            except OgoneError as error:
                logger.warning(
                    "Ogone charge %s of payment %s not answered (%s), "
                    "left to the query", order.name, payment_id, error)
                continue
            answers.append((payment_id, order, response))
        cls._ogone_apply_answers(answers, 'directlink')

    @classmethod
    def _ogone_new_directlink_orders(cls, payments):
        "A new attempt with a fresh ORDERID for each payment, locked"
        pool = Pool()
        Order = pool.get('account.payment.ogone.order')
        orders = []
        for payment in payments:
            account = payment.journal.ogone_account
            payment.ogone_attempts = (payment.ogone_attempts or 0) + 1
            orders.append(Order(
                    payment=payment, account=account,
                    name=(f'{account.effective_order_id_prefix}-{payment.id}'
                        f'-{payment.ogone_attempts}'),
                    amount=payment.amount, currency=payment.currency,
                    directlink=True))
        Order.save(orders)
        for payment, order in zip(payments, orders):
            payment.ogone_order_id = order.name
            # Queried at the next reconciliation if its answer is lost; set
            # only when a query of an earlier attempt left them, as a value
            # written is a column updated.
            if payment.ogone_next_query is not None:
                payment.ogone_next_query = None
            if payment.ogone_queries:
                payment.ogone_queries = 0
        cls.save(payments)
        return orders

    def _ogone_order_request(self, order):
        pool = Pool()
        Router = pool.get('account_payment_ogone', type='router')
        party = self.party
        lang = party.lang.code if party.lang else 'en'
        return_url = Router.url_for(
            'feedback', database_name=Transaction().database.name)
        operation = (Operation.AUTHORIZATION
            if self.journal.ogone_authorization_only else Operation.SALE)
        return OrderRequest(
            order_id=order.name,
            amount=order.amount,
            currency=order.currency.code,
            operation=operation,
            alias=self.ogone_alias.alias,
            eci=MERCHANT_INITIATED_ECI,
            customer_name=(party.name or '')[:35],
            email=(getattr(party, 'email', '') or '')[:50],
            description=(self.reference or self.number or '')[:100],
            # The issuer may want the customer: STATUS 46, and the customer
            # gets the checkout link by e-mail.
            three_d_secure=ThreeDSecure(
                accept_url=return_url, decline_url=return_url,
                exception_url=return_url, cancel_url=return_url,
                language=OGONE_LANGUAGES.get(lang.split('_')[0], 'en_US')))

    @classmethod
    def _ogone_apply(cls, payment_id, order, response, source):
        "Apply a DirectLink answer through the reconciliation, and commit"
        cls._ogone_apply_answers([(payment_id, order, response)], source)

    @classmethod
    def _ogone_apply_answers(cls, answers, source):
        """Apply DirectLink answers, a list of (payment id, order, answer),
        through the reconciliation in one transaction, and commit

        When one of the payments cannot be locked (news about it is being
        applied), each answer is applied in a transaction of its own; one
        that still cannot be is left to the reconciliation's query.
        """
        transaction = Transaction()
        if not answers:
            return
        try:
            cls._ogone_apply_locked(answers, source)
        except backend.DatabaseOperationalError:
            if len(answers) == 1:
                raise
            transaction.rollback()
            for answer in answers:
                try:
                    cls._ogone_apply_locked([answer], source)
                except backend.DatabaseOperationalError:
                    transaction.rollback()
                    logger.warning(
                        "Ogone answer for %s of payment %s not applied, the "
                        "payment staying locked: left to the query",
                        answer[1].name, answer[0])

    @classmethod
    def _ogone_apply_locked(cls, answers, source):
        transaction = Transaction()
        payment_ids = [payment_id for payment_id, _, _ in answers]
        payments = cls.ogone_locked_list(payment_ids)
        was_waiting = {p.id for p in payments if p.ogone_status == '46'}
        cls.ogone_update_many([(payment, response, source, order)
                for payment, (_, order, response) in zip(payments, answers)])
        waiting = [p for p in cls.browse(payment_ids)
            if p.ogone_status == '46' and p.id not in was_waiting
            and p.state == 'processing']
        if waiting:
            # Queued with the status that asks for it: the e-mail is sent
            # whatever happens after this commit
            cls.__queue__.ogone_send_authentication_emails(waiting)
        transaction.commit()

    @classmethod
    def ogone_send_authentication_emails(cls, payments):
        """E-mail the customers whose bank wants them the checkout link to
        confirm the payment, if it still waits for them"""
        for payment in payments:
            if payment.state == 'processing' and payment.ogone_status == '46':
                payment._ogone_email_checkout_link(
                    'msg_authentication_email_subject',
                    'msg_authentication_email_body')

    def _ogone_email_checkout_link(self, subject_message, body_message):
        "E-mail the customer the checkout link, in their language"
        pool = Pool()
        Email = pool.get('ir.email')
        Payment = self.__class__
        email = getattr(self.party, 'email', None)
        if not email:
            logger.warning(
                "Ogone payment %s needs the customer but party %s has no "
                "e-mail", self.id, self.party.id)
            return
        if not self.ogone_checkout_id:
            self.ogone_checkout_id = secrets.token_urlsafe(32)
            self.save()
        language = self.party.lang.code if self.party.lang else None
        with Transaction().set_context(language=language):
            payment = Payment(self.id)
            subject = gettext(
                f'account_payment_ogone.{subject_message}',
                company=payment.company.rec_name)
            body = gettext(
                f'account_payment_ogone.{body_message}',
                amount=payment.currency.round(payment.amount),
                currency=payment.currency.code,
                company=payment.company.rec_name)
            url = payment.ogone_checkout_url
            body = (f'<p>{html.escape(body)}</p>'
                f'<p><a href="{html.escape(url)}">{html.escape(url)}</a></p>')
            Email.send(
                to=email, subject=subject, body=body,
                record=[Payment.__name__, payment.id])

    # After the charge: capture, void, query

    @classmethod
    def ogone_capture(cls, payments=None):
        """The capture button with payments; without them (the cron), send
        the captures asked that are not sent yet"""
        if payments is not None:
            return cls._ogone_ask_capture(payments)
        payments = cls.search([
                ('process_method', '=', 'ogone'),
                ('state', '=', 'processing'),
                ('ogone_operation', '=', 'capture'),
                ('ogone_operation_sent', '=', False),
                ('company', '=', Transaction().context.get('company')),
                ], order=[('id', 'ASC')])
        for payment in payments:
            cls.__queue__.ogone_send_operation([payment])

    @classmethod
    # ogone_capture is the cron's method too, called without payments
    @button_named('ogone_capture')
    def _ogone_ask_capture(cls, payments):
        for payment in payments:
            order = payment._ogone_current_order
            if not (payment._ogone_operation_askable and order):
                raise ProcessError(gettext(
                        'account_payment_ogone.msg_ogone_not_authorized',
                        payment=payment.rec_name))
            if not (0 < payment.amount <= order.amount):
                raise ProcessError(gettext(
                        'account_payment_ogone.msg_ogone_capture_amount',
                        payment=payment.rec_name,
                        authorized=order.amount,
                        currency=order.currency.code))
        cls._ogone_ask_operation(payments, 'capture')

    @classmethod
    @ModelView.button
    def ogone_void(cls, payments):
        for payment in payments:
            if not payment._ogone_operation_askable:
                raise ProcessError(gettext(
                        'account_payment_ogone.msg_ogone_not_authorized',
                        payment=payment.rec_name))
        cls._ogone_ask_operation(payments, 'void')

    @property
    def _ogone_operation_askable(self):
        """Whether a capture or void may be asked, as their buttons' states
        say: checked again for the callers on the server, whose calls
        trytond does not check"""
        return (self.ogone_capture_needed and self.ogone_pay_id
            and self.state == 'processing' and not self.ogone_operation_sent)

    @classmethod
    def _ogone_ask_operation(cls, payments, operation):
        cls.write(payments, {
                'ogone_operation': operation,
                'ogone_operation_sent': False,
                })
        for payment in payments:
            cls.__queue__.ogone_send_operation([payment])

    @classmethod
    def ogone_send_operation(cls, payments):
        "Send the capture or void asked on each payment, once"
        transaction = Transaction()
        for payment in payments:
            payment_id = payment.id
            payment = cls.ogone_locked(payment_id)
            order = payment._ogone_current_order
            if (payment.state != 'processing'
                    or not payment.ogone_capture_needed
                    or not payment.ogone_operation
                    or payment.ogone_operation_sent or not order):
                continue
            operation = payment.ogone_operation
            payment.ogone_operation_sent = True
            payment.ogone_operation_sent_at = dt.datetime.now()
            payment.ogone_next_query = None
            payment.ogone_queries = 0
            payment.save()
            transaction.commit()
            client = payment._ogone_client(order)
            try:
                if operation == 'capture':
                    currency = order.currency.code
                    if payment.amount < order.amount:
                        # The rest of the authorization is released
                        response = client.capture(
                            payment.ogone_pay_id, payment.amount, currency,
                            last=True)
                    else:
                        response = client.capture(
                            payment.ogone_pay_id, order.amount, currency,
                            last=False)
                else:
                    response = client.cancel(payment.ogone_pay_id, close=True)
            except OgoneError as error:
                logger.warning(
                    "Ogone %s of payment %s: no answer (%s), left to the "
                    "query", operation, payment_id, error)
                continue
            cls._ogone_apply(payment_id, order, response, 'directlink')
            if response.status.value == 0:
                # Refused by Ogone (not in a status that allows it): the
                # accountant sees the error in the history and may ask again.
                payment = cls.ogone_locked(payment_id)
                payment.ogone_operation = None
                payment.ogone_operation_sent = False
                payment.save()
                transaction.commit()

    @classmethod
    @ModelView.button
    def ogone_pull(cls, payments):
        for payment in payments:
            cls.__queue__.ogone_query([payment])

    @classmethod
    def ogone_reconcile(cls):
        """Query Ogone about the payments still waiting for a final status,
        oldest first, each less often as it stays undecided"""
        pool = Pool()
        Refund = pool.get('account.payment.ogone.refund')
        now = dt.datetime.now()
        payments = cls.search([
                ('process_method', '=', 'ogone'),
                ('state', '=', 'processing'),
                ('ogone_order_id', '!=', None),
                ['OR',
                    ('ogone_capture_needed', '=', False),
                    ('ogone_operation_sent', '=', True),
                    ],
                ['OR',
                    ('ogone_next_query', '=', None),
                    ('ogone_next_query', '<=', now),
                    ],
                ('company', '=', Transaction().context.get('company')),
                ], order=[('id', 'ASC')], limit=QUERY_BATCH)
        for payment in payments:
            cls.__queue__.ogone_query([payment])
        # The refunds Ogone has not decided yet are followed alongside
        Refund.ogone_reconcile()

    @classmethod
    def ogone_query(cls, payments):
        "Ask Ogone the status of each payment's last order and apply it"
        transaction = Transaction()
        for payment in payments:
            payment_id = payment.id
            # Locked before the call so that applying the answer does not
            # restart the task (and send the query again)
            payment = cls.ogone_locked(payment_id)
            order = payment._ogone_current_order
            if not order or order.lost or payment.state != 'processing':
                continue
            # The query is safe to repeat, but not inside a transaction that
            # holds the payment's lock.
            transaction.commit()
            try:
                response = payment._ogone_client(order).query(
                    order_id=order.name)
            except OgoneError as error:
                logger.warning(
                    "Ogone query of %s failed: %s", order.name, error)
                continue
            if response.ncerror == UNKNOWN_ORDER:
                cls._ogone_unknown_order(payment_id, order, response)
            else:
                cls._ogone_apply(payment_id, order, response, 'query')
            cls._ogone_after_query(payment_id, order, response)

    @classmethod
    def _ogone_unknown_order(cls, payment_id, order, response):
        pool = Pool()
        Feedback = pool.get('account.payment.ogone.feedback')
        Order = pool.get('account.payment.ogone.order')
        transaction = Transaction()
        payment = cls.ogone_locked(payment_id)
        order = Order(order.id)
        Feedback(
            payment=payment, order=order, source='query',
            status=str(response.status.value),
            ncerror=response.ncerror or None, applied=False).save()
        if (order.directlink and not order.lost
                and payment.ogone_order_id == order.name
                and order.create_date < dt.datetime.now() - lost_after()):
            # Committed, never received: the only attempt sent again
            logger.warning(
                "Ogone order %s of payment %s never reached Ogone: "
                "a new attempt may be sent", order.name, payment_id)
            order.lost = True
            order.save()
            if payment.ogone_to_charge:
                cls.__queue__.ogone_charge([payment])
        transaction.commit()

    @classmethod
    def _ogone_after_query(cls, payment_id, order, response):
        "Back off the next query of a payment Ogone has not decided yet"
        transaction = Transaction()
        payment = cls.ogone_locked(payment_id)
        if payment.state != 'processing':
            payment.ogone_next_query = None
        else:
            payment.ogone_queries = (payment.ogone_queries or 0) + 1
            payment.ogone_next_query = next_query_at(payment.ogone_queries)
            sent_at = payment.ogone_operation_sent_at
            if (payment.ogone_operation_sent and sent_at
                    and payment.ogone_capture_needed
                    and response.status == Status.AUTHORIZED
                    and sent_at < dt.datetime.now() - lost_after()):
                # Ogone still holds the whole authorization long after the
                # capture or void was sent: it never arrived. The accountant
                # may ask for it again.
                logger.warning(
                    "Ogone %s of payment %s never reached Ogone",
                    payment.ogone_operation, payment_id)
                payment.ogone_operation = None
                payment.ogone_operation_sent = False
                payment.ogone_operation_sent_at = None
        payment.save()
        transaction.commit()

    @classmethod
    @ModelView.button
    def ogone_clear_review(cls, payments):
        for payment in payments:
            if not (payment.ogone_review_note or '').strip():
                raise ProcessError(gettext(
                        'account_payment_ogone.msg_ogone_review_note',
                        payment=payment.rec_name))
        cls.write(payments, {'ogone_review': False})


    @property
    def ogone_extra_orders(self):
        """The orders paid besides the one that settled the payment, with
        nothing asked back yet: the customer paid twice"""
        pool = Pool()
        Refund = pool.get('account.payment.ogone.refund')
        refunded = {r.refunded_order for r in Refund.search([
                    ('payment', '=', self.id),
                    ('state', '!=', 'failed'),
                    ])}
        extra = []
        for feedback in self.ogone_feedbacks:
            order = feedback.order
            if (order.name != self.ogone_order_id and feedback.pay_id
                    and feedback.status == str(Status.PAYMENT_REQUESTED.value)
                    and order not in refunded and order not in extra):
                extra.append(order)
        return extra

    @classmethod
    @ModelView.button
    def ogone_refund_extra(cls, payments):
        """Ask the refund of each order paid twice, submitted for the
        approval of a second person"""
        pool = Pool()
        Refund = pool.get('account.payment.ogone.refund')
        refunds = []
        for payment in payments:
            orders = payment.ogone_extra_orders
            if not orders:
                raise ProcessError(gettext(
                        'account_payment_ogone.msg_ogone_no_extra_order',
                        payment=payment.rec_name))
            for order in orders:
                refunds.append(Refund(
                        company=payment.company, payment=payment,
                        order=order, amount=order.amount,
                        reason=gettext(
                            'account_payment_ogone.msg_ogone_paid_twice',
                            order=order.name)))
        Refund.save(refunds)
        Refund.submit(refunds)
        for payment in payments:
            if not (payment.ogone_review_note or '').strip():
                payment.ogone_review_note = gettext(
                    'account_payment_ogone.msg_ogone_paid_twice_note',
                    orders=', '.join(
                        r.order.name for r in refunds
                        if r.payment == payment))
        cls.save(payments)
