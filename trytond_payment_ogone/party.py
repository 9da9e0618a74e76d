"""Cards saved at Ogone (aliases) and where they show on the party."""
from sql import Column

from trytond.model import DeactivableMixin, ModelSQL, ModelView, Unique, fields
from trytond.pool import PoolMeta


class Alias(DeactivableMixin, ModelSQL, ModelView):
    "A card saved at Ogone under an alias: only Ogone holds the card number"
    __name__ = 'account.payment.ogone.alias'
    _rec_name = 'alias'

    # Readonly: a card saved by one customer must never be charged for another
    party = fields.Many2One(
        'party.party', "Party", required=True, ondelete='CASCADE',
        readonly=True)
    account = fields.Many2One(
        'account.payment.ogone.account', "Account", required=True,
        ondelete='RESTRICT', readonly=True)
    alias = fields.Char("Alias", required=True, readonly=True, strip=False)
    brand = fields.Char("Brand", readonly=True)
    card_number = fields.Char(
        "Card Number", readonly=True, help="As masked by Ogone.")
    expiry = fields.Char("Expiry", readonly=True, help="MMYY")

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
