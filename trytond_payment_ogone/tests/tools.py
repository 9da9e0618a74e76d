"""Helpers for the tests and scenarios: signed feedback and trytond served over real HTTP."""
import os
import threading
from decimal import Decimal
from types import SimpleNamespace
from urllib.parse import urlsplit

from ogone_core import compute_shasign

from trytond import modules
from trytond.pool import Pool

SHA_IN = 'test_sha_in_passphrase_01'
SHA_OUT = 'test_sha_out_passphrase_1'

MODULE = 'account_payment_ogone'
# The languages shipped in locale/
LANGUAGES = ['de', 'fr', 'it', 'nl']


def locale_file(code):
    "The shipped locale/<code>.po, found the way the module loader finds it"
    return os.path.join(
        modules.get_module_info(MODULE)['directory'], 'locale', f'{code}.po')


def load_translations(*codes):
    """Make the languages translatable and load this module's locale/*.po

    It runs trytond.modules.load_translations, the function that loads them
    when the module is activated or updated, on this module only: the po
    files of the other activated modules would take seconds per language and
    none of their strings are tested.
    """
    pool = Pool()
    Lang = pool.get('ir.lang')
    Lang.write(Lang.search([('code', 'in', codes)]), {'translatable': True})
    node = SimpleNamespace(name=MODULE, info=modules.get_module_info(MODULE))
    modules.load_translations(pool, node, set(codes))


def signed_feedback(order_id, status, amount, currency='EUR',
        passphrase=SHA_OUT, algorithm='sha512', encoding='utf-8', **extra):
    """Feedback parameters as Ogone sends them, with its mixed-case names

    Signed in the encoding of the page the customer paid on.
    """
    amount = Decimal(amount)
    text = f'{amount:f}'
    if '.' in text:
        text = text.rstrip('0').rstrip('.')
    params = {
        'orderID': order_id,
        'currency': currency,
        'amount': text,
        'PM': 'CreditCard',
        'ACCEPTANCE': 'test123' if str(status) in {'5', '9'} else '',
        'STATUS': str(status),
        'CARDNO': 'XXXXXXXXXXXX1111',
        'ED': '1230',
        'CN': 'Jane Doe',
        'TRXDATE': '01/31/26',
        'PAYID': extra.pop('PAYID', '3000001'),
        'NCERROR': '0' if str(status) in {'5', '9', '51', '91'}
        else '30001001',
        'BRAND': 'VISA',
        }
    params.update(extra)
    params = {k: v for k, v in params.items() if v != ''}
    params['SHASIGN'] = compute_shasign(
        params, passphrase, algorithm, direction='out', encoding=encoding)
    return params


class TrytonServer:
    """trytond's WSGI application on a free port in a thread

    Used by the scenarios so that the sandbox's server-to-server feedback and
    the customer's browser reach the routes over real HTTP.
    """

    def __init__(self, host='127.0.0.1'):
        from werkzeug.serving import make_server

        from trytond.wsgi import app
        self._server = make_server(host, 0, app, threaded=True)
        self.url = f'http://{host}:{self._server.server_port}'
        self._thread = threading.Thread(
            target=self._server.serve_forever, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def localize(self, url):
        "The same path on this server (URLs built outside a request use [web] hostname)"
        parts = urlsplit(url)
        return f'{self.url}{parts.path}' + (
            f'?{parts.query}' if parts.query else '')
