"""The Ogone merchant account: what the administrator copies from Ogone's back office."""
import hashlib
import re
from urllib.parse import quote

from ogone_core import Account as CoreAccount
from ogone_core import ConfigurationError

from trytond.cache import Cache
from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, fields
from trytond.model.exceptions import AccessError, ValidationError
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .exceptions import OgoneAccountWarning

PASSPHRASE_LENGTH = (16, 32)
ORDER_ID_PREFIX = re.compile(r'^[A-Za-z0-9_-]{1,16}$')
# The database name is the default prefix, so ORDERIDs of two databases sharing a PSPID differ.
_NOT_ORDER_ID_CHARS = re.compile(r'[^A-Za-z0-9_-]')
# Write-only, as res.user's password: what the client reads is SECRET_MASK,
# the value goes to a stored field that no RPC read returns. trytond's RPC
# logging redacts the values of field names containing "password", "token" or
# "secret": every one of these names carries one.
SECRET_FIELDS = {
    'sha_in_secret': 'sha_in_secret_stored',
    'sha_out_secret': 'sha_out_secret_stored',
    'api_password': 'api_password_stored',
    }
SECRET_MASK = '*' * 10
# Changing any of these breaks the signatures of payments already on their way.
KEY_FIELDS = {
    'pspid', 'sha_in_secret', 'sha_out_secret', 'hash_algorithm', 'charset',
    'environment', 'base_url', 'sha_in_secret_stored',
    'sha_out_secret_stored'}
# Where the account's requests go: every DirectLink call (the Check button's
# too) carries the API user and its password there.
ADDRESS_FIELDS = {'environment', 'base_url'}
# The columns the stored secrets were kept in before, newest first, for the
# migration
RENAMED_COLUMNS = {
    'sha_in_secret_stored': ['sha_in_secret', 'sha_in'],
    'sha_out_secret_stored': ['sha_out_secret', 'sha_out'],
    'api_password_stored': ['api_password'],
    }


def platform_address(environment, base_url):
    "Where the requests of an account go: the base URL counts for custom only"
    return environment, (base_url if environment == 'custom' else None)


def gives_api_password(values):
    "Whether values replace the stored API password (the mask does not)"
    return ('api_password_stored' in values
        or values.get('api_password', SECRET_MASK) != SECRET_MASK)


class SecretChar(fields.Char):
    """A stored secret: no domain nor order may use it, whoever searches

    trytond checks the field access of a domain's own fields only: a
    sub-domain under "where" (a journal's or a saved card's account, a
    party's saved cards) is converted without, so a "like 'a%'" on the
    column would answer character by character."""

    def _refuse(self, Model):
        raise AccessError(gettext(
                'account_payment_ogone.msg_secret_not_searchable',
                **Model.__names__(self.name)))

    def convert_domain(self, domain, tables, Model):
        self._refuse(Model)

    def convert_order(self, name, tables, Model):
        self._refuse(Model)

    def searchable(self, model):
        return False

    def sortable(self, model):
        return False


class Account(ModelSQL, ModelView):
    __name__ = 'account.payment.ogone.account'

    name = fields.Char("Name", required=True)
    pspid = fields.Char(
        "PSPID", required=True, strip=True,
        help="The merchant identifier (PSPID) of the Ogone account.")
    api_user_id = fields.Char(
        "API User ID", required=True, strip=True,
        help="The API user created in Configuration > Users "
        "with the profile \"Special user for API\".")
    api_password = fields.Function(fields.Char(
            "API Password", strip=False,
            help="The password of the API user.\n"
            "Write-only: once saved it shows as a mask."),
        'get_secret_mask', setter='set_secret')
    api_password_stored = SecretChar("API Password Stored", strip=False)
    sha_in_secret = fields.Function(fields.Char(
            "SHA-IN Passphrase", required=True, strip=False,
            help="Technical information > Data and origin verification > "
            "Checks for e-Commerce & Alias Gateway.\n"
            "Write-only: once saved it shows as a mask."),
        'get_secret_mask', setter='set_secret')
    sha_in_secret_stored = SecretChar(
        "SHA-IN Passphrase Stored", strip=False)
    sha_out_secret = fields.Function(fields.Char(
            "SHA-OUT Passphrase", required=True, strip=False,
            help="Technical information > Transaction feedback > "
            "All transaction submission modes.\n"
            "Write-only: once saved it shows as a mask."),
        'get_secret_mask', setter='set_secret')
    sha_out_secret_stored = SecretChar(
        "SHA-OUT Passphrase Stored", strip=False)
    hash_algorithm = fields.Selection([
            ('sha1', "SHA-1"),
            ('sha256', "SHA-256"),
            ('sha512', "SHA-512"),
            ], "Hash Algorithm", required=True, sort=False,
        help="Technical information > Global security parameters.")
    charset = fields.Selection([
            ('utf-8', "UTF-8"),
            ('iso-8859-1', "ISO-8859-1"),
            ], "Character Encoding", required=True, sort=False,
        help="UTF-8 uses Ogone's \"_utf8\" pages; ISO-8859-1 the older "
        "pages, which some accounts are set up with. The passphrases "
        "sign in this encoding.")
    environment = fields.Selection([
            ('test', "Test"),
            ('production', "Production"),
            ('custom', "Custom"),
            ], "Environment", required=True, sort=False,
        help="\"Custom\" for a white-label platform or a local sandbox.")
    base_url = fields.Char(
        "Base URL",
        states={
            'required': Eval('environment') == 'custom',
            'invisible': Eval('environment') != 'custom',
            },
        help="The folder that holds the platform's pages, "
        "e.g. https://secure.example.com/ncol/test/")
    currencies = fields.Many2Many(
        'account.payment.ogone.account-currency.currency', 'account',
        'currency', "Currencies",
        help="The currencies the PSPID accepts, as set in Ogone's back "
        "office (Configuration > Account > Currencies): payments in any "
        "other currency are refused before anything is sent.\n"
        "Leave empty to let Ogone decide.")
    order_id_prefix = fields.Char(
        "Order ID Prefix", strip=True,
        help="Starts every ORDERID sent to Ogone; "
        "leave empty to use the database name.\n"
        "Databases sharing a PSPID must use different prefixes.")
    return_url = fields.Function(fields.Char(
            "Return URL",
            help="Paste it in both URL fields of Technical information > "
            "Transaction feedback > Direct HTTP server-to-server request, "
            "and use it as accept, decline, exception and cancel URL."),
        'on_change_with_return_url')
    shared_return_url = fields.Function(fields.Char(
            "Shared Return URL",
            help="When several databases share this PSPID, paste this one "
            "instead in both server-to-server URL fields: Ogone replaces "
            "<PARAMVAR> by the database of each payment."),
        'on_change_with_shared_return_url')

    journals = fields.One2Many(
        'account.payment.journal', 'ogone_account', "Journals",
        readonly=True,
        help="The payment journals that use the account: their companies' "
        "users see its saved cards.")

    # The pages a customer sees
    website = fields.Char(
        "Website",
        help="The link back to the shop on the customer's pages; "
        "leave empty to use the company's website.")
    dynamic_template = fields.Boolean(
        "Payment Page in Company's Look",
        help="Ogone shows its payment form inside a page of Tryton with "
        "the company's name, logo and website link (dynamic template). "
        "Ogone's servers must reach Tryton's address over HTTPS.")

    # Every feedback verifies with its account: the ogone_core account is
    # built once per process for each version of the account's row. trytond
    # tells the other processes of a change only every few minutes ([cache]
    # clean_timeout): until then they would still take the former SHA-OUT
    # passphrase.
    _ogone_cache = Cache('account.payment.ogone.account.ogone', context=False)

    @classmethod
    def __register__(cls, module):
        table_h = cls.__table_handler__(module)
        for new, olds in RENAMED_COLUMNS.items():
            for old in olds:
                if (table_h.column_exist(old)
                        and not table_h.column_exist(new)):
                    table_h.column_rename(old, new)
        super().__register__(module)

    @classmethod
    def read(cls, ids, fields_names):
        result = super().read(ids, fields_names)
        # The stored secrets never leave the server: a call over RPC (which
        # checks access, unlike the server's own reads) gets nothing.
        hidden = set(SECRET_FIELDS.values()) & set(fields_names)
        if hidden and Transaction().check_access:
            for values in result:
                for name in hidden:
                    values[name] = None
        return result

    @classmethod
    def get_secret_mask(cls, accounts, name):
        stored = SECRET_FIELDS[name]
        return {
            a.id: SECRET_MASK if getattr(a, stored) else None
            for a in accounts}

    @classmethod
    def preprocess_values(cls, mode, values):
        # After the access checks, the "key fields changed" warning and
        # before validation, which all see the write-only field's name: the
        # value goes to its stored field in the same INSERT or UPDATE.
        values = super().preprocess_values(mode, values)
        for name, stored in SECRET_FIELDS.items():
            if name in values:
                value = values.pop(name)
                # The mask read back is no new value
                if value != SECRET_MASK:
                    values[stored] = value
        return values

    @classmethod
    def set_secret(cls, accounts, name, value):
        "Nothing left to do: preprocess_values stored the value"

    @classmethod
    def default_hash_algorithm(cls):
        return 'sha512'

    @classmethod
    def default_charset(cls):
        return 'utf-8'

    @classmethod
    def default_environment(cls):
        return 'test'

    @classmethod
    def default_dynamic_template(cls):
        return False

    @fields.depends('id')
    def on_change_with_return_url(self, name=None):
        pool = Pool()
        Router = pool.get('account_payment_ogone', type='router')
        return Router.url_for(
            'feedback', database_name=Transaction().database.name)

    @fields.depends(methods=['on_change_with_return_url'])
    def on_change_with_shared_return_url(self, name=None):
        url = self.on_change_with_return_url()
        database = quote(Transaction().database.name)
        return url.replace(f'/{database}/r/', '/<PARAMVAR>/r/', 1)

    @property
    def effective_order_id_prefix(self):
        if self.order_id_prefix:
            return self.order_id_prefix
        database_name = Transaction().database.name
        name = _NOT_ORDER_ID_CHARS.sub('_', database_name)
        if name == database_name and len(name) <= 16:
            return name
        # Replacing characters gives "shop.a" and "shop_a" the same prefix,
        # cutting gives it "production_shop_a" and "production_shop_b",
        # hence the same ORDERIDs: keep a digest of the real name.
        digest = hashlib.sha256(database_name.encode()).hexdigest()
        return f'{name[:7]}-{digest[:8]}'

    def accepts_currency(self, currency):
        "Whether Ogone takes payments of the account in the currency"
        return not self.currencies or currency in self.currencies

    def ogone(self):
        """The ogone_core account: signs forms and verifies feedback

        The instance may carry its write_date from a read of its own (as
        Order.ogone_facts does), else its row is read."""
        key = (self.id, self.write_date)
        core = self._ogone_cache.get(key)
        if core is None:
            core = self._ogone_cache.set(key, self._ogone())
        return core

    def _ogone(self):
        environment = {
            'test': 'test',
            'production': 'prod',
            'custom': self.base_url or '',
            }[self.environment]
        return CoreAccount(
            pspid=self.pspid,
            sha_in=self.sha_in_secret_stored,
            sha_out=self.sha_out_secret_stored,
            api_user_id=self.api_user_id or '',
            api_password=self.api_password_stored or '',
            algorithm=self.hash_algorithm,
            environment=environment,
            charset=self.charset)

    @classmethod
    def create(cls, vlist):
        accounts = super().create(vlist)
        cls._ogone_cache.clear()
        return accounts

    @classmethod
    def write(cls, *args):
        super().write(*args)
        cls._ogone_cache.clear()

    @classmethod
    def delete(cls, accounts):
        super().delete(accounts)
        cls._ogone_cache.clear()

    @classmethod
    def copy(cls, accounts, default=None):
        default = {} if default is None else default.copy()
        # The API password stays with its account: a copy is given its own,
        # so that no copy carries it to an address of the copier's choosing
        default.setdefault('api_password_stored', None)
        return super().copy(accounts, default=default)

    @classmethod
    def validate_fields(cls, accounts, field_names):
        super().validate_fields(accounts, field_names)
        cls.check_passphrases(accounts, field_names)
        cls.check_base_url(accounts, field_names)
        cls.check_order_id_prefix(accounts, field_names)

    @classmethod
    def check_passphrases(cls, accounts, field_names=None):
        passphrases = ['sha_in_secret', 'sha_out_secret']
        stored = [SECRET_FIELDS[f] for f in passphrases]
        if field_names and not (field_names & set(passphrases + stored)):
            return
        low, high = PASSPHRASE_LENGTH
        for account in accounts:
            for field in passphrases:
                value = getattr(account, SECRET_FIELDS[field]) or ''
                if not (low <= len(value) <= high):
                    raise ValidationError(gettext(
                            'account_payment_ogone.msg_passphrase_length',
                            passphrase=cls.__names__(field)['field'],
                            account=account.rec_name,
                            low=low, high=high))
            if account.sha_in_secret_stored == account.sha_out_secret_stored:
                raise ValidationError(gettext(
                        'account_payment_ogone.msg_passphrases_different',
                        account=account.rec_name))

    @classmethod
    def check_base_url(cls, accounts, field_names=None):
        if field_names and not (field_names & {'environment', 'base_url'}):
            return
        for account in accounts:
            if account.environment != 'custom':
                continue
            try:
                CoreAccount(
                    pspid='CHECK', sha_in='x', sha_out='y',
                    environment=account.base_url or '')
            except ConfigurationError:
                raise ValidationError(gettext(
                        'account_payment_ogone.msg_base_url_invalid',
                        account=account.rec_name,
                        url=account.base_url or ''))

    @classmethod
    def check_order_id_prefix(cls, accounts, field_names=None):
        if field_names and 'order_id_prefix' not in field_names:
            return
        for account in accounts:
            if (account.order_id_prefix
                    and not ORDER_ID_PREFIX.match(account.order_id_prefix)):
                raise ValidationError(gettext(
                        'account_payment_ogone.msg_order_id_prefix_invalid',
                        account=account.rec_name,
                        prefix=account.order_id_prefix))

    @classmethod
    def check_modification(cls, mode, accounts, values=None, external=False):
        pool = Pool()
        Warning = pool.get('res.user.warning')
        super().check_modification(
            mode, accounts, values=values, external=external)
        if mode == 'write' and external:
            # Before the warning: no point confirming a refused write
            cls.check_address_api_password(accounts, values)
        if (mode == 'write' and external
                and values.keys() & KEY_FIELDS):
            name = Warning.format('ogone_key', accounts)
            if Warning.check(name):
                raise OgoneAccountWarning(name, gettext(
                        'account_payment_ogone.msg_ogone_key_modified'))

    @classmethod
    def check_address_api_password(cls, accounts, values):
        """Refuse to send the API password to another address unless it is
        entered again with the address

        The password is write-only, but whoever may edit the account could
        point it at a server of theirs and read the password in the next
        DirectLink call. Who enters it again knows it already; and the
        server's own code, which reads the stored column anyway, is not
        concerned (external writes only)."""
        if not values.keys() & ADDRESS_FIELDS or gives_api_password(values):
            return
        for account in accounts:
            if not account.api_password_stored:
                continue  # no password to carry elsewhere
            address = platform_address(account.environment, account.base_url)
            moved = platform_address(
                values.get('environment', account.environment),
                values.get('base_url', account.base_url))
            if moved != address:
                raise AccessError(gettext(
                        'account_payment_ogone'
                        '.msg_account_address_api_password',
                        account=account.rec_name))


class AccountCurrency(ModelSQL):
    __name__ = 'account.payment.ogone.account-currency.currency'

    account = fields.Many2One(
        'account.payment.ogone.account', "Account", required=True,
        ondelete='CASCADE')
    currency = fields.Many2One(
        'currency.currency', "Currency", required=True, ondelete='CASCADE')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('account')
