"""Cards saved at Ogone (aliases) and where they show on the party."""
import re

from ogone_core import InvalidRequest
from ogone_core.validation import validate_alias
from sql import Column

from trytond.i18n import gettext
from trytond.model import DeactivableMixin, ModelSQL, ModelView, Unique, fields
from trytond.model.exceptions import AccessError, ValidationError
from trytond.pool import PoolMeta
from trytond.pyson import Eval

EXPIRY = re.compile(r'^(0[1-9]|1[0-2])[0-9]{2}$')
# PCI DSS lets at most the first six and the last four digits show
MASKED_CARD_NUMBER = re.compile(r'^[0-9]{0,6}[X*]+[0-9]{0,4}$')
# A card saved by one customer must never be charged for another, nor by
# another Ogone account, nor stand for another card at Ogone.
IMMUTABLE_FIELDS = {'party', 'account', 'alias'}


class Alias(DeactivableMixin, ModelSQL, ModelView):
    "A card saved at Ogone under an alias: only Ogone holds the card number"
    __name__ = 'account.payment.ogone.alias'
    _rec_name = 'alias'

    _recorded = {'readonly': Eval('id', -1) >= 0}
    party = fields.Many2One(
        'party.party', "Party", required=True, ondelete='CASCADE',
        states=_recorded)
    account = fields.Many2One(
        'account.payment.ogone.account', "Account", required=True,
        ondelete='RESTRICT', states=_recorded)
    alias = fields.Char(
        "Alias", required=True, strip=False, states=_recorded,
        help="The name of the card at Ogone: 1 to 50 letters, digits, "
        "\"_\", \"-\" or \".\".")
    # The details of the card may be corrected, as Ogone updates them
    brand = fields.Char("Brand")
    card_number = fields.Char(
        "Card Number", help="As masked by Ogone, like XXXXXXXXXXXX1111.")
    expiry = fields.Char(
        "Expiry", help="The card's expiry month and year as MMYY, like 0428.")
    del _recorded

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        # Table.alias is python-sql's own attribute, not the column
        cls._sql_constraints += [
            ('account_alias_unique',
                Unique(t, t.account, Column(t, 'alias')),
                'account_payment_ogone.msg_alias_unique'),
            ]

    @classmethod
    def validate_fields(cls, aliases, field_names):
        super().validate_fields(aliases, field_names)
        cls.check_ogone_values(aliases, field_names)

    @classmethod
    def check_ogone_values(cls, aliases, field_names=None):
        if field_names and not (
                field_names & {'alias', 'card_number', 'expiry'}):
            return
        for alias in aliases:
            try:
                validate_alias(alias.alias)
            except InvalidRequest:
                raise ValidationError(gettext(
                        'account_payment_ogone.msg_alias_invalid',
                        alias=alias.alias))
            if alias.expiry and not EXPIRY.match(alias.expiry):
                raise ValidationError(gettext(
                        'account_payment_ogone.msg_alias_expiry_invalid',
                        alias=alias.alias, expiry=alias.expiry))
            if (alias.card_number
                    and not MASKED_CARD_NUMBER.match(alias.card_number)):
                # Never repeat the number: it may be a full card number
                raise ValidationError(gettext(
                        'account_payment_ogone.msg_alias_card_number_invalid',
                        alias=alias.alias))

    @classmethod
    def check_modification(cls, mode, aliases, values=None, external=False):
        super().check_modification(
            mode, aliases, values=values, external=external)
        if mode == 'write' and values.keys() & IMMUTABLE_FIELDS:
            for alias in aliases:
                current = {
                    'party': alias.party.id,
                    'account': alias.account.id,
                    'alias': alias.alias,
                    }
                if any(values[name] != current[name]
                        for name in values.keys() & IMMUTABLE_FIELDS):
                    raise AccessError(gettext(
                            'account_payment_ogone.msg_alias_immutable',
                            alias=alias.rec_name))

    @classmethod
    def ogone_record(cls, party, account, alias, brand='', card_number='',
            expiry=''):
        """The saved card of an alias Ogone reported in a signed answer

        Created (active) on the first report, for the party and account of
        that report; a later report updates the card's details only, and
        never brings back a card deactivated since.
        """
        records = cls.search([
                ('account', '=', account.id),
                ('alias', '=', alias),
                ('active', 'in', [True, False]),
                ], limit=1)
        if records:
            # A card deactivated since stays so: only its details follow
            record, = records
        else:
            record = cls(party=party, account=account, alias=alias,
                active=True)
        # Only values of the expected form: a parameter selected or
        # formatted otherwise in the back office must not lose the card.
        record.brand = brand or getattr(record, 'brand', None)
        card_number = (card_number or '').upper()
        if MASKED_CARD_NUMBER.match(card_number):
            record.card_number = card_number
        if EXPIRY.match(expiry or ''):
            record.expiry = expiry
        record.save()
        return record

    def get_rec_name(self, name):
        card = ' '.join(filter(None, [self.brand, self.card_number]))
        if card and self.expiry and len(self.expiry) == 4:
            card += f' ({self.expiry[:2]}/{self.expiry[2:]})'
        return card or self.alias

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, operand, *extra = clause
        if operator.startswith('!') or operator.startswith('not '):
            bool_op = 'AND'
        else:
            bool_op = 'OR'
        return [bool_op,
            ('alias', operator, operand, *extra),
            ('card_number', operator, operand, *extra),
            ('brand', operator, operand, *extra),
            ]


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'

    ogone_aliases = fields.One2Many(
        'account.payment.ogone.alias', 'party', "Ogone Saved Cards")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'ogone_register_card': {
                    'readonly': Eval('id', -1) < 0,
                    'depends': ['id'],
                    },
                })

    @classmethod
    @ModelView.button_action('account_payment_ogone.wizard_card_register')
    def ogone_register_card(cls, parties):
        pass

    @classmethod
    def copy(cls, parties, default=None):
        if default is None:
            default = {}
        else:
            default = default.copy()
        # An alias names one card at Ogone: it belongs to one party only
        default.setdefault('ogone_aliases', None)
        return super().copy(parties, default=default)


class Replace(metaclass=PoolMeta):
    __name__ = 'party.replace'

    @classmethod
    def fields_to_replace(cls):
        return super().fields_to_replace() + [
            ('account.payment.ogone.alias', 'party'),
            ]
