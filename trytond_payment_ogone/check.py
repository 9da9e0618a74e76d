"""The account's "Check" button and the feedbacks refused for their signature

Both tell the administrator which setting differs from Ogone's back office,
before a customer's payment does: the diagnoses come from ogone_core.
"""
import datetime as dt
import logging

from ogone_core import check_account, diagnose_refusal

from trytond.i18n import gettext
from trytond.modules.account_payment.exceptions import ProcessError
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.pool import PoolMeta
from trytond.transaction import Transaction, without_check_access

logger = logging.getLogger(__name__)

# How many refused feedbacks an account keeps of each cause: enough to see a
# pattern. Per cause, so that the causes anyone can produce (no signature,
# another passphrase) never push out those only Ogone's passphrase produces.
REFUSALS_KEPT = 10

CHECK_OUTCOMES = [
    (None, ""),
    ('ok', "All Good"),
    ('missing_credentials', "API User Missing"),
    ('unknown_pspid', "Unknown PSPID"),
    ('wrong_environment', "Wrong Environment"),
    ('not_api_user', "Not an API User"),
    ('credentials', "Wrong API User or Password"),
    ('signature', "Wrong SHA-IN or Algorithm"),
    ('ip_not_allowed', "IP Address Refused"),
    ('unreachable', "Unreachable"),
    ('tls', "Secure Connection Failed"),
    ('no_answer', "No Answer"),
    ('not_ogone', "Not Ogone"),
    ('unexpected', "Unexpected Answer"),
    ]


# Outcomes that say the settings are wrong: nothing is sent with them
MISCONFIGURED = {
    'missing_credentials', 'unknown_pspid', 'wrong_environment',
    'not_api_user', 'credentials', 'signature'}
# A check no longer says anything about the account once these change
CHECKED_FIELDS = {
    'pspid', 'api_user_id', 'api_password', 'api_password_stored',
    'sha_in_secret', 'sha_in_secret_stored', 'hash_algorithm', 'charset',
    'environment', 'base_url'}
CHECK_FIELDS = {
    'check_date', 'check_outcome', 'checked_url', 'check_other_url',
    'check_detail'}


class Account(metaclass=PoolMeta):
    __name__ = 'account.payment.ogone.account'

    check_date = fields.Timestamp("Checked at", readonly=True)
    check_outcome = fields.Selection(
        CHECK_OUTCOMES, "Check Outcome", readonly=True, sort=False)
    checked_url = fields.Char("Checked URL", readonly=True)
    check_other_url = fields.Char("Other Environment URL", readonly=True)
    check_detail = fields.Char(
        "Ogone's Answer", readonly=True,
        help="The error code and text Ogone answered, "
        "or why the connection failed.")
    check_result = fields.Function(
        fields.Text("Check Result"), 'get_check_result')
    refusals = fields.One2Many(
        'account.payment.ogone.refusal', 'account', "Refused Feedbacks",
        readonly=True,
        help="The last feedbacks refused for their signature, "
        "with the setting that differs.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'ogone_check': {},
                })

    @classmethod
    def write(cls, *args):
        super().write(*args)
        actions = iter(args)
        changed = []
        for accounts, values in zip(actions, actions):
            if (values.keys() & CHECKED_FIELDS
                    and not values.keys() & CHECK_FIELDS):
                changed.extend(accounts)
        if changed:
            # The check was of the settings before: it is run again
            with without_check_access():
                super().write(changed, dict.fromkeys(CHECK_FIELDS))

    @property
    def misconfigured(self):
        "Whether the last check found a setting that differs from Ogone's"
        return self.check_outcome in MISCONFIGURED

    def ogone_check_directlink(self, payment):
        "Refuse a DirectLink call for the payment the account cannot make"
        if not self.api_user_id or not self.api_password:
            raise ProcessError(gettext(
                    'account_payment_ogone.msg_ogone_no_api_credentials',
                    payment=payment.rec_name, account=self.rec_name))
        if self.misconfigured:
            raise ProcessError(gettext(
                    'account_payment_ogone.msg_ogone_account_misconfigured',
                    payment=payment.rec_name, account=self.rec_name,
                    result=self.check_result))

    def get_check_result(self, name):
        if not self.check_outcome:
            return None
        environments = dict(self.fields_get(
                ['environment'])['environment']['selection'])
        other = 'test' if self.check_other_url and (
            '/ncol/test/' in self.check_other_url) else 'production'
        message = f'msg_check_{self.check_outcome}'
        if message == 'msg_check_wrong_environment' and (
                self.environment == 'custom'):
            message = 'msg_check_wrong_base_url'
        return gettext(
            f'account_payment_ogone.{message}',
            base_url=self.checked_url or '',
            other_base_url=self.check_other_url or '',
            environment=environments.get(other, other),
            detail=self.check_detail or '')

    @classmethod
    @ModelView.button
    def ogone_check(cls, accounts):
        "Run the harmless DirectLink query and keep what it tells"
        for account in accounts:
            result = check_account(account.ogone())
            logger.info(
                "Ogone account %s checked at %s: %s (%s)", account.id,
                result.base_url, result.outcome.value, result.detail or '-')
            account.check_date = dt.datetime.now()
            account.check_outcome = result.outcome.value
            account.checked_url = result.base_url
            account.check_other_url = result.other_base_url or None
            account.check_detail = result.detail or None
        cls.save(accounts)


class Refusal(ModelSQL, ModelView):
    "A feedback refused for its signature, without its parameters' values"
    __name__ = 'account.payment.ogone.refusal'

    account = fields.Many2One(
        'account.payment.ogone.account', "Account", required=True,
        ondelete='CASCADE', readonly=True)
    received_at = fields.Timestamp("Received at", required=True,
        readonly=True)
    orderid = fields.Char("ORDERID", readonly=True)
    source = fields.Selection([
            ('browser', "Browser Redirection"),
            ('server', "Server-to-Server"),
            ], "Source", required=True, readonly=True)
    cause = fields.Selection([
            ('no_signature', "No Signature"),
            ('algorithm_or_charset', "Hash Algorithm or Encoding"),
            ('unlisted_parameter', "Parameter outside the SHA-OUT List"),
            ('passphrase', "SHA-OUT Passphrase"),
            ], "Cause", required=True, readonly=True)
    algorithm = fields.Char("Matching Algorithm", readonly=True)
    charset = fields.Char("Matching Encoding", readonly=True)
    parameters = fields.Char("Signed Parameters", readonly=True)
    diagnosis = fields.Function(fields.Text("Diagnosis"), 'get_diagnosis')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('account')
        cls._order = [('received_at', 'DESC'), ('id', 'DESC')]
        table = cls.__table__()
        cls._sql_indexes.add(Index(
                table,
                (table.account, Index.Equality()),
                (table.cause, Index.Equality()),
                (table.received_at, Index.Range(order='DESC'))))

    def get_diagnosis(self, name):
        return gettext(
            f'account_payment_ogone.msg_refusal_{self.cause}',
            algorithm=(self.algorithm or '').upper(),
            charset=(self.charset or '').upper(),
            parameters=self.parameters or '')

    @classmethod
    def record(cls, account, order_id, source, params):
        """Keep the refusal of a feedback whose signature did not verify

        In a transaction of its own: the request's is rolled back with the
        refusal. Only names are kept, never the values of the parameters.
        """
        core = account.ogone()
        diagnosis = diagnose_refusal(
            params, core.sha_out, core.algorithm, core.charset)
        if diagnosis.cause.value not in dict(cls.cause.selection):
            return  # the signature is valid: refused for another reason
        values = dict(
            account=account.id, received_at=dt.datetime.now(),
            orderid=order_id, source=source,
            cause=diagnosis.cause.value,
            algorithm=(diagnosis.algorithm.value
                if diagnosis.algorithm else None),
            charset=diagnosis.charset or None,
            parameters=', '.join(diagnosis.parameters) or None)
        with Transaction().new_transaction() as transaction:
            # One indexed read, one write: at the limit, the oldest refusal
            # of the same cause is overwritten instead of adding a row
            oldest = cls.search([
                    ('account', '=', account.id),
                    ('cause', '=', diagnosis.cause.value),
                    ], offset=REFUSALS_KEPT - 1)
            if oldest:
                cls.write(list(oldest)[-1:], values)
            else:
                cls.create([values])
            transaction.commit()
