"""Helpers for the tests and scenarios: signed feedback and trytond served over real HTTP."""
import email
import email.policy
import os
import socketserver
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from types import SimpleNamespace
from urllib.parse import urlsplit

from ogone_core import compute_shasign

from trytond import backend, config, modules
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


class _BackgroundServer:
    "A socketserver served by a thread of the test, from start to stop"

    def _serve(self, server):
        self._server = server
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


class SMTPSink(_BackgroundServer):
    """An SMTP server on a free port that keeps every message it receives

    trytond sends its e-mails to it when [email] uri points to its url, so
    that a scenario reads what the customer would receive.
    """

    def __init__(self, host='127.0.0.1'):
        self.messages = []
        messages = self.messages

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                self.wfile.write(b'220 sink ESMTP\r\n')
                data = None
                while line := self.rfile.readline():
                    if data is not None:
                        if line in {b'.\r\n', b'.\n'}:
                            messages.append(email.message_from_bytes(
                                    b''.join(data),
                                    policy=email.policy.default))
                            data = None
                            self.wfile.write(b'250 queued\r\n')
                        else:
                            # Dot-stuffing: a leading dot was doubled
                            data.append(
                                line[1:] if line.startswith(b'..') else line)
                        continue
                    command = line[:4].upper()
                    if command == b'DATA':
                        data = []
                        self.wfile.write(b'354 end with .\r\n')
                    elif command == b'QUIT':
                        self.wfile.write(b'221 bye\r\n')
                        return
                    else:
                        self.wfile.write(b'250 ok\r\n')

        self._serve(socketserver.ThreadingTCPServer((host, 0), Handler))
        self.url = f'smtp://{host}:{self._server.server_address[1]}'


class RequestRecorder(_BackgroundServer):
    """An HTTP server on a free port that keeps every request it receives
    and answers 404: a server that should never hear from Tryton

    Only the method, path and names of the parameters are kept, so that a
    password sent by mistake stays out of the test's failure message."""

    def __init__(self, host='127.0.0.1'):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import parse_qs
        self.requests = []
        requests = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self._record(b'')

            def do_POST(self):
                length = int(self.headers.get('Content-Length') or 0)
                self._record(self.rfile.read(length))

            def _record(self, body):
                names = sorted(parse_qs(body.decode('latin-1')))
                requests.append((self.command, self.path, names))
                self.send_response(404)
                self.send_header('Content-Length', '0')
                self.end_headers()

            def log_message(self, format, *args):
                "Quiet: the requests are in the list"

        self._serve(ThreadingHTTPServer((host, 0), Handler))
        self.url = f'http://{host}:{self._server.server_address[1]}'


def register_card(base_url, account, alias, card_number):
    """Save a test card at the sandbox under alias, as the Alias Gateway does

    Return the alias values Ogone sends back: brand, masked number, expiry.
    """
    from ogone_core import Account, AliasGatewayRequest, verify_alias_feedback
    from ogone_core.sandbox.customer import create_alias

    core = Account(
        pspid=account['pspid'], sha_in=account['sha_in'],
        sha_out=account['sha_out'], environment=base_url)
    form = AliasGatewayRequest(
        accept_url='http://127.0.0.1:9/accept',
        exception_url='http://127.0.0.1:9/exception',
        alias=alias).render(core)
    result = create_alias(form.action, form.fields, card_number)
    feedback = verify_alias_feedback(list(result.pairs), account['sha_out'])
    return {
        'alias': feedback.alias,
        'brand': feedback.brand,
        'card_number': feedback.card_number,
        'expiry': feedback.expiry,
        }



class BusyDatabaseMixin:
    """For the tests of a busy database: trytond options for one test only,
    and another connection that holds a payment's row"""

    def configure(self, **sections):
        "Set trytond options from a configuration file, for this test only"
        with tempfile.NamedTemporaryFile('w', suffix='.conf') as file:
            for section, options in sections.items():
                file.write(f'[{section}]\n')
                for option, value in options.items():
                    self.addCleanup(
                        self._restore_option, section, option,
                        config.get(section, option))
                    file.write(f'{option} = {value}\n')
            file.flush()
            config.update_etc(file.name)

    @staticmethod
    def _restore_option(section, option, value):
        if value is None:
            # trytond.config has no public way to remove an option
            config._config.remove_option(section, option)
            config._cache_clear()
        else:
            config.set(section, option, value)

    def other_connection(self):
        """A connection of another process, in a transaction; return it with
        the function that ends its transaction"""
        from trytond.tests.test_tryton import DB_NAME
        database = backend.Database(DB_NAME).connect()
        connection = database.get_connection()

        def end(commit=False):
            if commit:
                connection.commit()
            else:
                connection.rollback()
            database.put_connection(connection)
        return connection, end

    def hold_lock(self, payment_id, update=False):
        """Lock the payment's row from another connection, as a slow request
        would; return the function that ends its transaction"""
        connection, end = self.other_connection()
        cursor = connection.cursor()
        if update:
            # A write the requests waiting for the row cannot have seen
            cursor.execute(
                'UPDATE account_payment SET write_date = write_date '
                'WHERE id = %s', (payment_id,))
        else:
            cursor.execute(
                'SELECT id FROM account_payment WHERE id = %s FOR UPDATE',
                (payment_id,))
        return end

    def run_pending(self):
        """Run the queued tasks and those they queue, each once, as workers
        would; one that fails stays pending for the next call"""
        from trytond.tests.test_tryton import DB_NAME
        from trytond.worker import run_task
        ran = set()
        while tasks := [t for t in pending_tasks() if t not in ran]:
            for task_id in tasks:
                ran.add(task_id)
                run_task(DB_NAME, task_id)

    def run_task_locking(self, task_id, reached, payment_id):
        """Run the queue task in another thread; once reached() holds (the
        task is between two of its calls, say), lock the payment's row from
        another connection until the task ends"""
        from trytond.tests.test_tryton import DB_NAME
        from trytond.worker import run_task
        with ThreadPoolExecutor(max_workers=1) as executor:
            running = executor.submit(run_task, DB_NAME, task_id)
            wait_until(reached)
            release = self.hold_lock(payment_id)
            try:
                running.result(timeout=60)
            finally:
                release()


def wait_until(check, deadline=30):
    "Wait until check() holds; fail after deadline seconds"
    end = time.monotonic() + deadline
    while not check():
        if time.monotonic() > end:
            raise AssertionError(f"not reached within {deadline} s")
        time.sleep(0.05)


def sandbox_transactions(sandbox_url, prefix):
    """The sandbox's transactions of its default merchant whose ORDERID
    starts with prefix"""
    import requests
    from ogone_core.sandbox import DEFAULT_MERCHANT
    found = requests.get(
        f"{sandbox_url.rstrip('/')}/admin/api/transactions", params={
            'pspid': DEFAULT_MERCHANT.pspid}, timeout=30).json()
    return [t for t in found['transactions']
        if t['orderid'].startswith(prefix)]


def delay_order(sandbox_url, order_id, seconds):
    "The sandbox answers the DirectLink order of order_id seconds late, once"
    import requests
    from ogone_core.sandbox import DEFAULT_MERCHANT
    requests.post(f"{sandbox_url.rstrip('/')}/admin/api/faults", json={
            'pspid': DEFAULT_MERCHANT.pspid, 'orderid': order_id,
            'times': 1, 'faults': {
                'latency': seconds, 'pages': ['orderdirect']}},
        timeout=10).raise_for_status()


def create_company():
    "The company of the tests, Ogone Shop, in euros"
    pool = Pool()
    Currency = pool.get('currency.currency')
    Party = pool.get('party.party')
    Company = pool.get('company.company')
    eur = Currency(name="Euro", code='EUR', symbol="€", digits=2)
    eur.save()
    company = Company(party=Party(name="Ogone Shop"), currency=eur)
    company.party.save()
    company.save()
    return company


def create_sandbox_journal(base_url, company, prefix, name="Ogone"):
    """An Ogone journal of the company, on an account of the sandbox's
    default merchant (SHA-512) whose ORDERIDs start with prefix"""
    from ogone_core.sandbox import DEFAULT_MERCHANT
    pool = Pool()
    Account = pool.get('account.payment.ogone.account')
    Journal = pool.get('account.payment.journal')
    account = Account(
        name=f"Sandbox {prefix}", pspid=DEFAULT_MERCHANT.pspid,
        api_user_id=DEFAULT_MERCHANT.api_user,
        api_password=DEFAULT_MERCHANT.api_password,
        sha_in_secret=DEFAULT_MERCHANT.sha_in,
        sha_out_secret=DEFAULT_MERCHANT.sha_out, hash_algorithm='sha512',
        environment='custom', base_url=base_url, order_id_prefix=prefix)
    account.save()
    journal = Journal(
        name=name, process_method='ogone', ogone_account=account,
        currency=company.currency, company=company)
    journal.save()
    return journal


def save_sandbox_card(base_url, party, account, alias, card_number,
        **values):
    """The card registered at the sandbox under alias (as the Alias Gateway
    does, for the account of create_sandbox_journal) and saved for the
    party, with values changed after Ogone's answer"""
    from ogone_core.sandbox import DEFAULT_MERCHANT
    Alias = Pool().get('account.payment.ogone.alias')
    values = {**register_card(base_url, {
                'pspid': account.pspid, 'sha_in': DEFAULT_MERCHANT.sha_in,
                'sha_out': DEFAULT_MERCHANT.sha_out,
                }, alias, card_number), **values}
    alias, = Alias.create([
            {'party': party.id, 'account': account.id, **values}])
    return alias


def payment_outcome(payment_id):
    """The payment's state, Ogone status and ORDERID, and its feedback
    history (source, status, applied) oldest first, as committed"""
    from trytond.tests.test_tryton import DB_NAME
    from trytond.transaction import Transaction
    with Transaction().start(DB_NAME, 0, readonly=True):
        payment = Pool(DB_NAME).get('account.payment')(payment_id)
        return {
            'state': payment.state,
            'status': payment.ogone_status,
            'order_id': payment.ogone_order_id,
            'feedbacks': [
                (f.source, f.status, bool(f.applied))
                for f in sorted(payment.ogone_feedbacks, key=lambda f: f.id)],
            }


def pending_tasks():
    "The ids of the queue tasks not finished yet, oldest first"
    from trytond.tests.test_tryton import DB_NAME
    from trytond.transaction import Transaction
    with Transaction().start(DB_NAME, 0, readonly=True):
        Queue = Pool(DB_NAME).get('ir.queue')
        return [t.id for t in Queue.search(
                [('finished_at', '=', None)], order=[('id', 'ASC')])]


def finish_pending_tasks():
    "Mark the queue tasks left by earlier tests finished: a test runs its own"
    import datetime as dt

    from trytond.tests.test_tryton import DB_NAME
    from trytond.transaction import Transaction
    with Transaction().start(DB_NAME, 0) as transaction:
        Queue = Pool(DB_NAME).get('ir.queue')
        Queue.write(Queue.search([('finished_at', '=', None)]),
            {'finished_at': dt.datetime.now()})
        transaction.commit()


def create_submitted_payment(database, journal_name, amount='42.50',
        lang=None, reference="INV-1", party_name="Jane Doe", submit=True):
    """A payment submitted on the journal (left in draft without submit) and
    given its checkout link, committed as an accountant would, for a new
    party speaking lang; return its id and token"""
    from trytond.modules.company.tests import set_company
    from trytond.transaction import Transaction

    pool = Pool(database)
    Company = pool.get('company.company')
    Journal = pool.get('account.payment.journal')
    Party = pool.get('party.party')
    Payment = pool.get('account.payment')
    Lang = pool.get('ir.lang')
    with Transaction().start(database, 1) as transaction:
        company, = Company.search([])
        # The accountant's language: the errors of a refused amount use it
        with set_company(company), transaction.set_context(
                language=lang or 'en'):
            journal, = Journal.search([('name', '=', journal_name)])
            party = Party(name=party_name)
            if lang:
                party.lang, = Lang.search([('code', '=', lang)])
            party.save()
            payment = Payment(
                company=company, journal=journal, kind='receivable',
                party=party, amount=Decimal(amount), reference=reference)
            payment.save()
            if submit:
                Payment.submit([payment])
            Payment.process_ogone(payment)
            transaction.commit()
            return payment.id, payment.ogone_checkout_id


def _server_side(model, call):
    from trytond.tests.test_tryton import DB_NAME
    from trytond.transaction import Transaction

    with Transaction().start(DB_NAME, 0) as transaction:
        result = call(Pool(DB_NAME).get(model))
        transaction.commit()
    return result


def server_load_translations(*codes):
    "load_translations in a transaction of its own, for the scenarios"
    from trytond.tests.test_tryton import DB_NAME
    from trytond.transaction import Transaction

    with Transaction().start(DB_NAME, 0) as transaction:
        load_translations(*codes)
        transaction.commit()


def server_create(model, vlist):
    """Create records inside trytond as its own code does, without the
    checks of a client call: for what only Ogone gives (saved cards)"""
    return _server_side(
        model, lambda Model: [r.id for r in Model.create(vlist)])


def server_write(model, ids, values):
    "Write records inside trytond as its own code does"
    _server_side(model, lambda Model: Model.write(Model.browse(ids), values))



def run_worker(threads=4):
    """Run the queued tasks with trytond-worker's run_task on several
    threads, as workers do, until none is left; return how many ran

    trytond.worker's own pull needs PostgreSQL: the pending tasks are found
    by a search instead, and each is run once.
    """
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    from trytond.tests.test_tryton import DB_NAME
    from trytond.transaction import Transaction
    from trytond.worker import run_task

    def pending():
        with Transaction().start(DB_NAME, 0, readonly=True):
            Queue = Pool(DB_NAME).get('ir.queue')
            return [t.id for t in Queue.search(
                    [('finished_at', '=', None)], order=[('id', 'ASC')])]

    started = set()
    with ThreadPoolExecutor(max_workers=threads) as executor:
        running = set()
        while True:
            new = [i for i in pending() if i not in started]
            for task_id in new:
                started.add(task_id)
                running.add(executor.submit(run_task, DB_NAME, task_id))
            if not running:
                break
            # A running task may queue another one
            _, running = wait(running, return_when=FIRST_COMPLETED)
    return len(started)
