"""The checkout link and the return URL that Ogone's browser redirects and server-to-server feedback hit."""
import html
import logging
import re
from dataclasses import replace
from decimal import Decimal
from functools import wraps
from urllib.parse import parse_qsl

from ogone_core import Category, OgoneError, SignatureError, validate_order_id
from ogone_core import verify_feedback
from werkzeug.exceptions import HTTPException

from trytond import backend
from trytond.i18n import gettext
from trytond.pool import Pool
from trytond.protocols.wrappers import (
    HTTPStatus, Response, abort, with_pool, with_transaction)
from trytond.routing import Route, Router, Rule
from trytond.transaction import Transaction

from .page import (
    PAYMENT_ZONE, amount_text, company_look, message_page, render)
from .refund import REFUND_STATUSES

logger = logging.getLogger(__name__)

# What secrets.token_urlsafe gives; anything else is not worth a query
CHECKOUT_TOKEN = re.compile(r'[A-Za-z0-9_-]{1,128}')
# More is not a feedback from Ogone
MAX_FEEDBACK_FIELDS = 500
# The pages shown when the database cannot give their translation
FALLBACK_PAGES = {
    'msg_page_not_found': (
        "Page not found",
        "This payment link is not valid. "
        "Please ask the sender for a new one."),
    'msg_page_unavailable': (
        "Please try again",
        "This page cannot be shown right now. Please reload it in a "
        "moment. A payment you have made is not lost."),
    }

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


def feedback_params(request, charset='utf-8'):
    """The received pairs, in order, from the form body or the query string

    Decoded in the charset of the account's pages: the ISO-8859-1 pages
    send "Müller" as M%FCller, which UTF-8 would read as "M\ufffdller".
    Raise ValueError for more fields than a feedback has.
    """
    # The ORDERID is read before the account's charset is known: most
    # accounts use the same, so the request is parsed once.
    parsed = request.__dict__.setdefault('_ogone_params', {})
    if charset not in parsed:
        if request.method == 'POST':
            if request.mimetype != 'application/x-www-form-urlencoded':
                return list(request.form.items(multi=True))
            data = request.get_data(cache=True)
        else:
            data = request.query_string
        parsed[charset] = parse_qsl(
            data.decode('latin-1'), keep_blank_values=True,
            encoding=charset, errors='replace',
            max_num_fields=MAX_FEEDBACK_FIELDS)
    return list(parsed[charset])


def _plain_page(title, text, status=HTTPStatus.OK):
    "The page shown when the database cannot render the module's pages"
    content = (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{html.escape(title)}</title></head>\n'
        f'<body><h1>{html.escape(title)}</h1>\n'
        f'<p id="result-text">{html.escape(text)}</p></body></html>\n')
    return Response(content, status, content_type='text/html; charset=utf-8')


def _page(title, text, status=HTTPStatus.OK, outcome='error', **values):
    "A page of the result report, in the company's look"
    return message_page(title, text, outcome=outcome, status=status, **values)


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


def feedback_order_id(request, refuse=None):
    """The ORDERID an answer from Ogone is about, not trusted yet

    Anything else than one valid ORDERID is refused before any query: a NUL
    cannot even be looked up.
    """
    refuse = refuse or _refuse
    try:
        params = feedback_params(request)
    except ValueError:
        refuse(request, HTTPStatus.BAD_REQUEST, "too many fields")
    order_ids = {v for k, v in params if k.upper() == 'ORDERID'}
    if len(order_ids) != 1:
        refuse(request, HTTPStatus.BAD_REQUEST, "no single ORDERID")
    order_id, = order_ids
    try:
        validate_order_id(order_id)
    except OgoneError:
        refuse(request, HTTPStatus.BAD_REQUEST, "invalid ORDERID")
    return order_id


def _page_language(request, database_name):
    pool = Pool(database_name)
    Lang = pool.get('ir.lang')
    codes = [l.code for l in Lang.search([('translatable', '=', True)])]
    return request.accept_languages.best_match(codes) or 'en'


def _error_page(request, database_name, message, status):
    title, text = FALLBACK_PAGES[message]
    try:
        if database_name not in Pool.database_list():
            raise KeyError(database_name)
        with Transaction().start(database_name, 0, readonly=True):
            language = _page_language(request, database_name)
            with Transaction().set_context(language=language):
                return _page(
                    gettext(f'account_payment_ogone.{message}_title'),
                    gettext(f'account_payment_ogone.{message}'),
                    status)
    except Exception:
        # The database is what failed: the page is shown in English
        logger.debug("Ogone error page not translated", exc_info=True)
    return _plain_page(title, text, status)


def guarded(func):
    """Only the module's own answers reach the client

    A customer's browser gets a translated page, never werkzeug's page with a
    database message; Ogone's server-to-server request gets a plain status,
    which it retries later when it is not 2xx.
    """
    @wraps(func)
    def wrapper(request, *args, **kwargs):
        database_name = kwargs.get('database_name', '')
        try:
            return func(request, *args, **kwargs)
        except HTTPException as exception:
            if exception.response is not None:
                raise
            status = exception.code
            message = ('msg_page_not_found' if status == HTTPStatus.NOT_FOUND
                else 'msg_page_unavailable')
        except backend.DatabaseOperationalError as error:
            reason = (str(error).splitlines() or [type(error).__name__])[0]
            logger.warning(
                "Ogone %s: database busy, answered 503: %s",
                func.__name__, reason)
            status = HTTPStatus.SERVICE_UNAVAILABLE
            message = 'msg_page_unavailable'
        except Exception:
            logger.exception("Ogone %s failed", func.__name__)
            status = HTTPStatus.INTERNAL_SERVER_ERROR
            message = 'msg_page_unavailable'
        if feedback_source(request) == 'server':
            return Response(
                HTTPStatus(status).phrase, status, content_type='text/plain')
        return _error_page(request, database_name, message, status)
    return wrapper



def ogone_route(path, methods=frozenset({'GET'}), readonly=False):
    """A route of the module: its own pages for every error, in a
    transaction that Ogone's retries and reloads may repeat"""
    return Route(
        Rule(path, methods=set(methods)),
        decorators=[
            guarded,
            with_pool,
            with_transaction(
                readonly=readonly, context={'_skip_warnings': True}),
            ])

class Ogone(Router):
    __name__ = 'account_payment_ogone'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__routes__.update({
                'checkout': ogone_route('checkout/<token>'),
                'template': ogone_route('template/<token>', readonly=True),
                'feedback': ogone_route('return', methods={'GET', 'POST'}),
                })

    @classmethod
    def checkout(cls, request, pool, token):
        Payment = pool.get('account.payment')
        Report = pool.get('account.payment.ogone.checkout', type='report')
        if not CHECKOUT_TOKEN.fullmatch(token or ''):
            abort(HTTPStatus.NOT_FOUND)
        payments = Payment.search([
                ('ogone_checkout_id', '=', token),
                ], limit=1)
        if not payments:
            abort(HTTPStatus.NOT_FOUND)
        payment, = payments
        with Transaction().set_context(language=cls._language(payment)):
            if payment.state == 'succeeded':
                return cls._result_page('paid', payment)
            if not payment.ogone_payable:
                return _page(
                    gettext('account_payment_ogone.msg_checkout_closed_title'),
                    gettext('account_payment_ogone.msg_checkout_closed'),
                    HTTPStatus.GONE, **cls._page_values(payment))
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
                    HTTPStatus.CONFLICT, **cls._page_values(payment))
            payment = Payment.ogone_locked(payment.id)
            save_card = request.args.get('save_card') in {'1', 'true', 'yes'}
            order = payment.ogone_checkout_order(save_card=save_card)
            return_url = cls.url_for(
                'feedback', database_name=pool.database_name)
            account = payment.journal.ogone_account
            hosted_request = payment.ogone_hosted_payment_request(
                order, return_url, save_card=save_card)
            if account.dynamic_template:
                hosted_request = replace(
                    hosted_request, template=cls.url_for(
                        'template', token=payment.ogone_checkout_id,
                        database_name=pool.database_name))
            form = hosted_request.render(account.ogone())
            data = {
                'model': Payment.__name__,
                'action': form.action,
                'fields': list(form.fields),
                # The browser posts in the charset the form is signed in
                'charset': form.charset,
                'lang': Transaction().language.replace('_', '-'),
                **cls._page_values(payment),
                }
            ext, content, _, _ = Report.execute([payment.id], data)
        assert ext == 'html'
        return Response(
            content, HTTPStatus.OK, content_type='text/html; charset=utf-8')

    @classmethod
    def template(cls, request, pool, token):
        """The dynamic template (TP) of a checkout: Ogone's server fetches it
        and shows its payment form in place of the marker"""
        Payment = pool.get('account.payment')
        payments = Payment.search([
                ('ogone_checkout_id', '=', token),
                ], limit=1) if CHECKOUT_TOKEN.fullmatch(token or '') else []
        if not payments:
            abort(HTTPStatus.NOT_FOUND)
        payment, = payments
        with Transaction().set_context(language=cls._language(payment)):
            return render('account.payment.ogone.template', {
                    'payment_zone': PAYMENT_ZONE,
                    'company': company_look(
                        payment.company, payment.journal.ogone_account),
                    })

    @classmethod
    def feedback(cls, request, pool):
        Account = pool.get('account.payment.ogone.account')
        Order = pool.get('account.payment.ogone.order')
        Payment = pool.get('account.payment')
        Refusal = pool.get('account.payment.ogone.refusal')
        source = feedback_source(request)
        order_id = feedback_order_id(request)
        candidates = Order.ogone_facts(order_id)
        if not candidates:
            _refuse(request, HTTPStatus.NOT_FOUND, "unknown order", order_id)
        # The ORDERID is not trusted yet: the order is the one whose
        # account's SHA-OUT passphrase signed the feedback.
        verified = None
        signature_refused = []
        for facts in candidates:
            account = Account(
                facts.account, write_date=facts.account_written).ogone()
            try:
                feedback = verify_feedback(
                    feedback_params(request, account.charset),
                    account.sha_out, account.algorithm, account.encoding)
            except OgoneError as error:
                reason = f"{error.__class__.__name__}: {error}"
                if isinstance(error, SignatureError):
                    signature_refused.append(Account(facts.account))
                continue
            if feedback.order_id != facts.name:
                reason = "signed ORDERID differs"
                continue
            verified = facts, feedback
            break
        if not verified:
            # Shown on the account, so the administrator sees the cause
            for account in signature_refused:
                Refusal.record(account, order_id, source,
                    feedback_params(request, account.charset))
            _refuse(request, HTTPStatus.BAD_REQUEST, reason, order_id)
        facts, feedback = verified
        order = Order(facts.order)
        payment = Payment(facts.payment)
        if feedback.status in REFUND_STATUSES:
            return cls._refund_feedback(
                request, pool, payment, order, feedback, source)
        if feedback.amount is None or not feedback.currency:
            _refuse(request, HTTPStatus.BAD_REQUEST,
                "AMOUNT or CURRENCY not in the signed parameters", order_id)
        # Against what this order asked the customer to pay: the payment's
        # own amount may have changed since, which the reconciliation flags.
        if (feedback.currency != facts.currency_code
                or (Decimal(feedback.amount) != facts.amount
                    and not cls._captured_amount(payment, order, feedback))):
            _refuse(request, HTTPStatus.BAD_REQUEST,
                f"amount {feedback.amount} {feedback.currency} "
                "differs from the order", order_id)

        if facts.at_rest(feedback):
            # A duplicate, late or lower news: one lock and one insert
            Payment.ogone_keep(facts, feedback, source)
            applied = False
        else:
            # News that may move the payment: it is locked, read again and
            # decided on as it is then
            payment = Payment.ogone_locked(payment.id)
            applied = payment.ogone_update(feedback, source, order)
        logger.info(
            "Ogone feedback %s for %s: status %s%s", source, order_id,
            feedback.status.value, '' if applied else ' (history only)')
        if source == 'server':
            return Response('OK', HTTPStatus.OK, content_type='text/plain')
        payment = Payment(payment.id)
        with Transaction().set_context(language=cls._language(payment)):
            return cls._result_page(cls._outcome(payment, feedback), payment)

    @staticmethod
    def _captured_amount(payment, order, feedback):
        "Whether the feedback is about the lower capture of the order"
        return (feedback.status.category == Category.PAID
            and payment.ogone_captured_lower(order)
            and Decimal(feedback.amount)
            == payment.amount + payment._ogone_refunded(order))

    @classmethod
    def _refund_feedback(cls, request, pool, payment, order, feedback,
            source):
        "Ogone's news of a refund of the order: the refund's, not the payment's"
        Payment = pool.get('account.payment')
        Feedback = pool.get('account.payment.ogone.feedback')
        Refund = pool.get('account.payment.ogone.refund')
        payment = Payment.ogone_locked(payment.id)
        refund = Refund.ogone_feedback(payment, order, feedback, source)
        if refund is None and feedback.status.category != Category.PAID:
            # Money going back that no refund of Tryton asked for: made in
            # Ogone's back office, or the acquirer taking it back (a refused
            # refund leaves the payment standing)
            logger.warning(
                "Ogone reports status %s on %s of payment %s without a "
                "refund waiting: review needed", feedback.status.value,
                order.name, payment.id)
            payment.ogone_review = True
            payment.save()
        # In the payment's history, never moving it
        Feedback(
            payment=payment, order=order, source=source,
            status=str(feedback.status.value),
            pay_id=feedback.pay_id or None,
            ncerror=feedback.ncerror or None, applied=False).save()
        logger.info(
            "Ogone refund feedback %s for %s: status %s%s", source,
            order.name, feedback.status.value,
            f' (refund {refund.id})' if refund else ' (no refund waiting)')
        if source == 'server':
            return Response('OK', HTTPStatus.OK, content_type='text/plain')
        with Transaction().set_context(language=cls._language(payment)):
            return cls._result_page('paid', payment)

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
    def _result_page(cls, outcome, payment):
        message = RESULT_MESSAGES[outcome]
        return _page(
            gettext(f'account_payment_ogone.{message}_title'),
            gettext(f'account_payment_ogone.{message}'),
            outcome=outcome,
            next_=gettext(f'account_payment_ogone.{message}_next'),
            **cls._page_values(payment))

    @classmethod
    def _page_values(cls, payment):
        "What the pages show of a payment: its amount, reference and company"
        return {
            'amount': amount_text(payment.amount, payment.currency),
            'reference': payment.reference or '',
            'company': company_look(
                payment.company, payment.journal.ogone_account),
            }

    @staticmethod
    def _language(payment):
        if payment.party.lang:
            return payment.party.lang.code
        return Transaction().language
