"""Registering a card without paying: a link to a page whose card form posts to
Ogone's Alias Gateway, which sends the customer back with the alias signed
with SHA-OUT. The card data goes from the browser to Ogone only."""
import logging
import secrets
import uuid

from ogone_core import (
    AliasGatewayRequest, AliasStatus, OgoneError, verify_alias_feedback)

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool, PoolMeta
from trytond.protocols.wrappers import HTTPStatus, abort
from trytond.transaction import Transaction, check_access
from trytond.wizard import Button, StateAction, StateView, Wizard

from .locking import lock_rows
from .page import company_look, render
from .payment import OGONE_LANGUAGES
from .routes import (
    CHECKOUT_TOKEN, _page, feedback_order_id, feedback_params, ogone_route)

logger = logging.getLogger(__name__)


class CardRegistration(ModelSQL, ModelView):
    "A link given to a customer to save a card at Ogone without paying"
    __name__ = 'account.payment.ogone.card_registration'

    party = fields.Many2One(
        'party.party', "Party", required=True, ondelete='CASCADE',
        readonly=True)
    account = fields.Many2One(
        'account.payment.ogone.account', "Account", required=True,
        ondelete='RESTRICT', readonly=True)
    name = fields.Char(
        "Order ID", required=True, readonly=True,
        help="The ORDERID sent to Ogone's Alias Gateway.")
    token = fields.Char("Token", required=True, readonly=True)
    requested_alias = fields.Char(
        "Requested Alias", required=True, readonly=True, strip=False)
    alias = fields.Many2One(
        'account.payment.ogone.alias', "Saved Card", readonly=True,
        ondelete='SET NULL')
    url = fields.Function(fields.Char("Link"), 'get_url')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('token_unique', Unique(t, t.token),
                'account_payment_ogone.msg_card_registration_unique'),
            ('account_name_unique', Unique(t, t.account, t.name),
                'account_payment_ogone.msg_card_registration_unique'),
            ]

    @classmethod
    def new_for(cls, party, account):
        "A new link for the party: the links given before keep working"
        prefix = account.effective_order_id_prefix
        registration = cls(
            party=party, account=account,
            name=f'{prefix}-card-{secrets.token_hex(8)}',
            token=secrets.token_urlsafe(32),
            requested_alias=f'{prefix}-{uuid.uuid4().hex}')
        registration.save()
        return registration

    def get_url(self, name):
        pool = Pool()
        Router = pool.get('account_payment_ogone', type='router')
        return Router.url_for(
            'card', token=self.token,
            database_name=Transaction().database.name)

    @property
    def language(self):
        if self.party.lang:
            return self.party.lang.code
        return Transaction().language

    def alias_gateway_request(self, return_url):
        lang = self.language.split('_')[0]
        return AliasGatewayRequest(
            accept_url=return_url,
            exception_url=return_url,
            alias=self.requested_alias,
            alias_persisted_after_use='Y',
            order_id=self.name,
            language=OGONE_LANGUAGES.get(lang, 'en_US'))


class RegisterCardStart(ModelView):
    "Register a Card at Ogone"
    __name__ = 'account.payment.ogone.card_register.start'

    party = fields.Many2One('party.party', "Party", readonly=True)
    account = fields.Many2One(
        'account.payment.ogone.account', "Account", required=True)


class RegisterCard(Wizard):
    "Register a Card at Ogone"
    __name__ = 'account.payment.ogone.card_register'

    start = StateView(
        'account.payment.ogone.card_register.start',
        'account_payment_ogone.card_register_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Open Link", 'open_', 'tryton-launch', default=True),
            ])
    open_ = StateAction('account_payment_ogone.url_card_registration')

    def default_start(self, fields):
        pool = Pool()
        Account = pool.get('account.payment.ogone.account')
        values = {'party': self.record.id}
        accounts = Account.search([], limit=2)
        if len(accounts) == 1:
            values['account'] = accounts[0].id
        return values

    def do_open_(self, action):
        pool = Pool()
        ModelAccess = pool.get('ir.model.access')
        Registration = pool.get('account.payment.ogone.card_registration')
        Rule = pool.get('ir.rule')
        # The wizard runs without access checks, and trytond finds its
        # groups through the action the context names, which the caller
        # chooses: the link is for who may create it.
        with check_access():
            ModelAccess.check(Registration.__name__, 'create')
        registration = Registration.new_for(self.record, self.start.account)
        # For an account the user's companies use (the rule of the saved
        # cards); the client's call is rolled back otherwise
        with check_access():
            Rule.check(Registration.__name__, [registration.id], 'create')
        action['url'] = registration.url
        return action, {}


def _refuse(request, status, reason, order_id=''):
    # Only the order id and the reason: the parameters carry the card holder
    # name and the masked card number, the account carries the passphrases.
    logger.warning(
        "Ogone card registration answer refused (%s from %s): %s",
        order_id or 'no ORDERID', request.remote_addr, reason)
    abort(_page(
            gettext('account_payment_ogone.msg_card_error_title'),
            gettext('account_payment_ogone.msg_card_error'),
            status))


# The card form's own fields: name, label message, attributes
CARD_INPUTS = [
    ('CN', 'msg_card_holder', {
            'maxlength': '35', 'autocomplete': 'cc-name'}),
    ('CARDNO', 'msg_card_number', {
            'maxlength': '23', 'inputmode': 'numeric',
            'autocomplete': 'cc-number'}),
    ('ED', 'msg_card_expiry', {
            'maxlength': '4', 'inputmode': 'numeric', 'placeholder': 'MMYY',
            }),
    ('CVC', 'msg_card_cvc', {
            'maxlength': '4', 'inputmode': 'numeric',
            'autocomplete': 'cc-csc'}),
    ]


def _card_page(registration, form, error=''):
    "The card form: it posts to Ogone, never to Tryton"
    return render('account.payment.ogone.card', {
            'action': form.action,
            'fields': list(form.fields),
            'charset': form.charset,
            'inputs': CARD_INPUTS,
            'error': error,
            'company': company_look(account=registration.account),
            })


class Ogone(metaclass=PoolMeta):
    __name__ = 'account_payment_ogone'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__routes__.update({
                'card': ogone_route('card/<token>', readonly=True),
                'card_return': ogone_route('card-return'),
                })

    @classmethod
    def card(cls, request, pool, token):
        Registration = pool.get('account.payment.ogone.card_registration')
        registrations = Registration.search([
                ('token', '=', token),
                ], limit=1) if CHECKOUT_TOKEN.fullmatch(token or '') else []
        if not registrations:
            abort(HTTPStatus.NOT_FOUND)
        registration, = registrations
        with Transaction().set_context(language=registration.language):
            if registration.alias:
                return cls._card_registered_page(registration)
            return cls._card_form(registration)

    @classmethod
    def _card_form(cls, registration, error=''):
        return_url = cls.url_for(
            'card_return', database_name=Transaction().database.name)
        form = registration.alias_gateway_request(return_url).render(
            registration.account.ogone())
        return _card_page(registration, form, error)

    @classmethod
    def _card_registered_page(cls, registration):
        return _page(
            gettext('account_payment_ogone.msg_card_registered_title'),
            gettext('account_payment_ogone.msg_card_registered'),
            outcome='paid',
            company=company_look(account=registration.account))

    @classmethod
    def card_return(cls, request, pool):
        Registration = pool.get('account.payment.ogone.card_registration')
        Alias = pool.get('account.payment.ogone.alias')
        order_id = feedback_order_id(request, _refuse)
        registrations = Registration.search([('name', '=', order_id)])
        if not registrations:
            _refuse(request, HTTPStatus.NOT_FOUND, "unknown card registration",
                order_id)
        # The ORDERID is not trusted yet: the registration is the one whose
        # account's SHA-OUT passphrase signed the answer.
        verified, reason = None, "no registration"
        for registration in registrations:
            account = registration.account.ogone()
            try:
                feedback = verify_alias_feedback(
                    feedback_params(request, account.charset),
                    account.sha_out, account.algorithm, account.encoding)
            except OgoneError as error:
                reason = f"{error.__class__.__name__}: {error}"
                continue
            if feedback.order_id != registration.name:
                reason = "signed ORDERID differs"
                continue
            verified = registration, feedback
            break
        if not verified:
            _refuse(request, HTTPStatus.BAD_REQUEST, reason, order_id)
        registration, feedback = verified
        with Transaction().set_context(language=registration.language):
            if not feedback.ok:
                logger.info(
                    "Ogone alias gateway refused the card for %s: %s",
                    order_id, feedback.ncerror)
                return cls._card_form(
                    registration,
                    gettext('account_payment_ogone.msg_card_refused'))
            if feedback.alias != registration.requested_alias:
                _refuse(request, HTTPStatus.BAD_REQUEST,
                    "alias differs from the one asked", order_id)
            lock_rows(Registration, [registration])
            registration = Registration(registration.id)
            if not registration.alias:
                registration.alias = Alias.ogone_record(
                    registration.party, registration.account, feedback.alias,
                    brand=feedback.brand, card_number=feedback.card_number,
                    expiry=feedback.expiry)
                registration.save()
                logger.info(
                    "Ogone card registered for %s: alias %s",
                    order_id, registration.alias.id)
            elif feedback.status == AliasStatus.UPDATED:
                # The form posted again (the browser's back button): Ogone
                # keeps the new card behind the same alias. A replay of the
                # first answer (STATUS 0) must not bring the old card back.
                Alias.ogone_record(
                    registration.party, registration.account, feedback.alias,
                    brand=feedback.brand, card_number=feedback.card_number,
                    expiry=feedback.expiry)
                logger.info(
                    "Ogone card updated for %s: alias %s",
                    order_id, registration.alias.id)
            return cls._card_registered_page(registration)
