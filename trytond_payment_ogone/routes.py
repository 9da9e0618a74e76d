"""The checkout link and the return URL that Ogone's browser redirects and server-to-server feedback hit."""
import html
import logging
from decimal import Decimal

from ogone_core import Category, OgoneError, verify_feedback

from trytond.i18n import gettext
from trytond.protocols.wrappers import (
    HTTPStatus, Response, abort, with_pool, with_transaction)
from trytond.routing import Route, Router, Rule
from trytond.transaction import Transaction

logger = logging.getLogger(__name__)

RESULT_MESSAGES = {
    'paid': 'msg_result_paid',
    'pending': 'msg_result_pending',
    'refused': 'msg_result_refused',
    'cancelled': 'msg_result_cancelled',
    }


def feedback_source(request):
    """Who sent a feedback to the return URL

    Ogone sends the customer's browser back with a GET redirect; its
    server-to-server request is set to POST in the back office.
    """
    return 'server' if request.method == 'POST' else 'browser'


def feedback_params(request):
    "The received pairs, in order, from the form body or the query string"
    if request.method == 'POST':
        return list(request.form.items(multi=True))
    return list(request.args.items(multi=True))


def _page(title, text, status=HTTPStatus.OK):
    content = (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{html.escape(title)}</title></head>\n'
        f'<body><h1>{html.escape(title)}</h1>\n'
        f'<p id="result-text">{html.escape(text)}</p></body></html>\n')
    return Response(content, status, content_type='text/html; charset=utf-8')


def _refuse(request, status, reason, order_id=''):
    # Only the order id and the reason: the parameters carry the card holder
    # name and the masked card number, the account carries the passphrases.
    logger.warning(
        "Ogone feedback refused (%s, %s from %s): %s",
        order_id or 'no ORDERID', feedback_source(request),
        request.remote_addr, reason)
    if feedback_source(request) == 'server':
        response = Response(
            HTTPStatus(status).phrase, status, content_type='text/plain')
    else:
        response = _page(
            gettext('account_payment_ogone.msg_result_error_title'),
            gettext('account_payment_ogone.msg_result_error'),
            status)
    abort(response)


class Ogone(Router):
    __name__ = 'account_payment_ogone'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__routes__.update({
                'checkout': Route(
                    Rule('checkout/<token>', methods={'GET'}),
                    decorators=[
                        with_pool,
                        with_transaction(
                            readonly=False,
                            context={'_skip_warnings': True}),
                        ]),
                'feedback': Route(
                    Rule('return', methods={'GET', 'POST'}),
                    decorators=[
                        with_pool,
                        with_transaction(
                            readonly=False,
                            context={'_skip_warnings': True}),
                        ]),
                })

    @classmethod
    def checkout(cls, request, pool, token):
        Payment = pool.get('account.payment')
        Report = pool.get('account.payment.ogone.checkout', type='report')
        if not token:
            abort(HTTPStatus.NOT_FOUND)
        payments = Payment.search([
                ('ogone_checkout_id', '=', token),
                ], limit=1)
        if not payments:
            abort(HTTPStatus.NOT_FOUND)
        payment, = payments
        with Transaction().set_context(language=cls._language(payment)):
            if payment.state == 'succeeded':
                return cls._result_page('paid')
            if not payment.ogone_payable:
                return _page(
                    gettext('account_payment_ogone.msg_checkout_closed_title'),
                    gettext('account_payment_ogone.msg_checkout_closed'),
                    HTTPStatus.GONE)
            if not payment.ogone_sendable:
                # Saved before the amount was checked, or in a currency
                # Ogone does not know: nothing is created, nothing is sent.
                logger.warning(
                    "Ogone checkout refused for payment %s: %s %s cannot "
                    "be sent to Ogone", payment.id, payment.amount,
                    payment.currency.code)
                return _page(
                    gettext(
                        'account_payment_ogone.msg_checkout_impossible_title'),
                    gettext('account_payment_ogone.msg_checkout_impossible'),
                    HTTPStatus.CONFLICT)
            Payment.ogone_lock([payment])
            payment = Payment(payment.id)
            save_card = request.args.get('save_card') in {'1', 'true', 'yes'}
            order = payment.ogone_checkout_order(save_card=save_card)
            return_url = cls.url_for(
                'feedback', database_name=pool.database_name)
            form = payment.ogone_hosted_payment_request(
                order, return_url, save_card=save_card).render(
                payment.journal.ogone_account.ogone())
            data = {
                'model': Payment.__name__,
                'action': form.action,
                'fields': list(form.fields),
                }
            ext, content, _, _ = Report.execute([payment.id], data)
        assert ext == 'html'
        return Response(
            content, HTTPStatus.OK, content_type='text/html; charset=utf-8')

    @classmethod
    def feedback(cls, request, pool):
        Order = pool.get('account.payment.ogone.order')
        Payment = pool.get('account.payment')
        params = feedback_params(request)
        source = feedback_source(request)
        order_ids = {v for k, v in params if k.upper() == 'ORDERID'}
        if len(order_ids) != 1:
            _refuse(request, HTTPStatus.BAD_REQUEST, "no single ORDERID")
        order_id, = order_ids
        orders = Order.search([
                ('name', '=', order_id),
                ('payment.journal.process_method', '=', 'ogone'),
                ])
        if not orders:
            _refuse(request, HTTPStatus.NOT_FOUND, "unknown order", order_id)
        # The ORDERID is not trusted yet: the order is the one whose
        # account's SHA-OUT passphrase signed the feedback.
        verified = None
        for order in orders:
            account = order.account
            try:
                feedback = verify_feedback(
                    params, account.sha_out, account.hash_algorithm,
                    'utf-8')
            except OgoneError as error:
                reason = f"{error.__class__.__name__}: {error}"
                continue
            if feedback.order_id != order.name:
                reason = "signed ORDERID differs"
                continue
            verified = order, feedback
            break
        if not verified:
            _refuse(request, HTTPStatus.BAD_REQUEST, reason, order_id)
        order, feedback = verified
        payment = order.payment
        if feedback.amount is None or not feedback.currency:
            _refuse(request, HTTPStatus.BAD_REQUEST,
                "AMOUNT or CURRENCY not in the signed parameters", order_id)
        # Against what this order asked the customer to pay: the payment's
        # own amount may have changed since, which the reconciliation flags.
        if (feedback.currency != order.currency.code
                or Decimal(feedback.amount) != order.amount):
            _refuse(request, HTTPStatus.BAD_REQUEST,
                f"amount {feedback.amount} {feedback.currency} "
                "differs from the order", order_id)

        Payment.ogone_lock([payment])
        payment = Payment(payment.id)
        applied = payment.ogone_update(feedback, source, order)
        logger.info(
            "Ogone feedback %s for %s: status %s%s", source, order_id,
            feedback.status.value, '' if applied else ' (history only)')
        if source == 'server':
            return Response('OK', HTTPStatus.OK, content_type='text/plain')
        payment = Payment(payment.id)
        with Transaction().set_context(language=cls._language(payment)):
            return cls._result_page(cls._outcome(payment, feedback))

    @classmethod
    def _outcome(cls, payment, feedback):
        if payment.state == 'succeeded' or payment.ogone_capture_needed:
            return 'paid'
        if payment.state == 'failed':
            if feedback.status.category == Category.CANCELLED:
                return 'cancelled'
            return 'refused'
        return 'pending'

    @classmethod
    def _result_page(cls, outcome):
        message = RESULT_MESSAGES[outcome]
        return _page(
            gettext(f'account_payment_ogone.{message}_title'),
            gettext(f'account_payment_ogone.{message}'))

    @staticmethod
    def _language(payment):
        if payment.party.lang:
            return payment.party.lang.code
        return Transaction().language
