"""The return URL under load: Ogone's server-to-server feedback against a bare route of the same server.

gunicorn serves ``bench/wsgi.py`` (trytond's application plus a baseline path) with 2 workers on a fresh
PostgreSQL database where account_payment_ogone is activated; 16 client threads send requests over
keep-alive connections. Three kinds of request, measured in turn in each round:

- baseline: the bare route of bench/wsgi.py, a writable trytond transaction and a constant answer;
- first feedback: a correctly signed paid feedback (STATUS 9) for a payment not paid yet, each request a
  different payment (submitted, with its order: the payment is processed and succeeds);
- duplicate: the same paid feedback again for a payment already paid (kept in the history, moves nothing).

Prints requests per second of each (median of the rounds) and the ratio against the baseline of the same
round (median). Then checks what the requests did: every first feedback paid its payment with exactly one
applied feedback, no duplicate moved anything. Not a test: nothing is asserted on a time.

    python bench/bench_feedback.py            # the figures of bench/README.md (about 2 minutes)
    python bench/bench_feedback.py --quick    # a few requests of each kind: the bench still works
    python bench/bench_feedback.py --profile first|duplicate   # cProfile of the workers on that kind

PostgreSQL from BENCH_POSTGRESQL_URI or POSTGRESQL_URI (default postgresql://postgres@127.0.0.1:5432/); the database
``bench_feedback_<pid>`` is dropped at the end.
"""
from __future__ import annotations

import argparse
import http.client
import os
import queue
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ogone_core import compute_shasign  # noqa: E402

SHA_OUT = 'bench_sha_out_passphrase_01'
SHA_IN = 'bench_sha_in_passphrase_001'
CLIENTS = 16
WORKERS = 2
FULL = {'rounds': 3, 'baseline': 1500, 'first': 300, 'duplicate': 800}
QUICK = {'rounds': 1, 'baseline': 20, 'first': 10, 'duplicate': 20}
WARMUP = 32
PROFILED = 300


def python():
    return sys.executable


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def admin_connection(uri):
    import psycopg
    return psycopg.connect(uri.rstrip('/') + '/postgres', autocommit=True)


def create_database(uri, name, work):
    "A database with the module activated, the trytond configuration that reaches it"
    config = work / 'trytond.conf'
    config.write_text(f'[database]\nuri = {uri}\n')
    with admin_connection(uri) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    password = work / 'admin-password'
    password.write_text('bench-admin-password\n')
    subprocess.run(
        [str(Path(python()).parent / 'trytond-admin'), '-c', str(config), '-d', name, '--all',
            '-u', 'account_payment_ogone', '--activate-dependencies', '--email', 'admin@example.com'],
        check=True, stdout=subprocess.DEVNULL,
        env={**os.environ, 'TRYTONPASSFILE': str(password)})
    return config


def drop_database(uri, name):
    with admin_connection(uri) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def populate(database, payments):
    """An Ogone account and journal, ``payments`` submitted payments each with its order (what the checkout
    page creates); return the ORDERIDs"""
    from trytond.modules.company.tests import set_company
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    pool = Pool(database)
    pool.init()
    with Transaction().start(database, 0):
        Currency = pool.get('currency.currency')
        Party = pool.get('party.party')
        Company = pool.get('company.company')
        Account = pool.get('account.payment.ogone.account')
        Journal = pool.get('account.payment.journal')
        Payment = pool.get('account.payment')
        eur = Currency(name="Euro", code='EUR', symbol="€", digits=2)
        eur.save()
        company = Company(party=Party(name="Bench Shop"), currency=eur)
        company.party.save()
        company.save()
        account = Account(
            name="Bench", pspid='BENCH', api_user_id='BENCHAPI', api_password='bench-api-password',
            sha_in_secret=SHA_IN, sha_out_secret=SHA_OUT, environment='custom',
            base_url='http://127.0.0.1:9/ncol/test/', order_id_prefix='bench')
        account.save()
        journal = Journal(
            name="Ogone", process_method='ogone', ogone_account=account, currency=eur, company=company)
        journal.save()
        with set_company(company):
            party = Party(name="Jeanne Dupont")
            party.save()
            records = Payment.create([{
                        'company': company.id, 'journal': journal.id, 'kind': 'receivable',
                        'party': party.id, 'amount': Decimal('42.50'), 'reference': f'INV-{i}',
                        } for i in range(payments)])
            Payment.submit(records)
            order_ids = []
            for payment in Payment.browse(records):
                payment.process_ogone()
                order_ids.append(payment.ogone_checkout_order().name)
        Transaction().commit()
    return order_ids


FORM = {'Content-Type': 'application/x-www-form-urlencoded'}


def get(path):
    return ('GET', path, None, {})


def post(path, body, profiled=False):
    return ('POST', path, body, {**FORM, 'X-Bench-Profile': '1'} if profiled else FORM)


def feedback_body(order_id):
    "A paid feedback as Ogone's server posts it"
    params = {
        'orderID': order_id, 'currency': 'EUR', 'amount': '42.5', 'PM': 'CreditCard',
        'ACCEPTANCE': 'test123', 'STATUS': '9', 'CARDNO': 'XXXXXXXXXXXX1111', 'ED': '1230',
        'CN': 'Jeanne Dupont', 'TRXDATE': '11/30/26', 'PAYID': f'30{order_id.rsplit("-", 2)[1]}',
        'NCERROR': '0', 'BRAND': 'VISA', 'IP': '192.0.2.10',
        }
    params['SHASIGN'] = compute_shasign(params, SHA_OUT, 'sha512', direction='out')
    return urlencode(params).encode('ascii')


class Server:
    "gunicorn serving bench/wsgi.py"

    def __init__(self, config, database, work, profile=None):
        self.port = free_port()
        self.url = f'http://127.0.0.1:{self.port}'
        env = {**os.environ, 'TRYTOND_CONFIG': str(config), 'TRYTOND_DATABASE_NAMES': database,
            'PYTHONPATH': str(ROOT / 'bench')}
        command = [str(Path(python()).parent / 'gunicorn'), '--workers', str(WORKERS),
            '--bind', f'127.0.0.1:{self.port}', '--log-level', 'warning', '--timeout', '120']
        if profile:
            env['BENCH_PROFILE_DIR'] = str(work)
            command += ['--config', str(ROOT / 'bench' / 'gunicorn_profile.py')]
        self.process = subprocess.Popen(command + ['wsgi:app'], env=env, cwd=str(work))

    def wait_ready(self, path, timeout=120):
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}")
            try:
                connection = http.client.HTTPConnection('127.0.0.1', self.port, timeout=5)
                connection.request('GET', path)
                if connection.getresponse().status == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not answer in time")
            time.sleep(0.2)

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def load(port, requests):
    """Send the (method, path, body, headers) requests with CLIENTS threads; return (seconds, statuses)"""
    work = queue.SimpleQueue()
    for request in requests:
        work.put(request)
    statuses = []
    lock = threading.Lock()
    start = threading.Barrier(CLIENTS + 1)

    def client():
        connection = http.client.HTTPConnection('127.0.0.1', port, timeout=120)
        seen = []
        start.wait()
        while True:
            try:
                method, path, body, headers = work.get_nowait()
            except queue.Empty:
                break
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                seen.append(response.status)
            except (OSError, http.client.HTTPException):
                # The server closed the idle connection: a new one for the next request
                connection.close()
                seen.append(None)
        connection.close()
        with lock:
            statuses.extend(seen)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began, statuses


def check(database, first_order_ids, duplicate_order_id, duplicates):
    "What the requests did to the payments"
    import psycopg
    from trytond import config
    uri = config.get('database', 'uri').rstrip('/') + '/' + database
    with psycopg.connect(uri) as connection:
        paid, = connection.execute(
            "SELECT count(*) FROM account_payment p JOIN account_payment_ogone_order o ON o.payment = p.id "
            "WHERE o.name = ANY(%s) AND p.state = 'succeeded' AND p.ogone_status = '9'",
            (first_order_ids,)).fetchone()
        applied = dict(connection.execute(
            "SELECT o.name, count(*) FILTER (WHERE f.applied) FROM account_payment_ogone_feedback f "
            "JOIN account_payment_ogone_order o ON f.order = o.id WHERE o.name = ANY(%s) GROUP BY o.name",
            (first_order_ids + [duplicate_order_id],)).fetchall())
        duplicate_lines, = connection.execute(
            "SELECT count(*) FROM account_payment_ogone_feedback f JOIN account_payment_ogone_order o "
            "ON f.order = o.id WHERE o.name = %s", (duplicate_order_id,)).fetchone()
    problems = []
    if paid != len(first_order_ids):
        problems.append(f"{len(first_order_ids) - paid} payments not paid by their first feedback")
    if any(applied.get(order_id) != 1 for order_id in first_order_ids + [duplicate_order_id]):
        problems.append("a payment without exactly one applied feedback")
    if duplicate_lines != duplicates:
        problems.append(f"{duplicate_lines} history lines for {duplicates} feedbacks of one order")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--quick', action='store_true', help="a few requests: check that the bench works")
    parser.add_argument('--profile', choices=['first', 'duplicate'],
        help="profile the workers with cProfile while they serve that kind, print the summary")
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    if args.profile:
        sizes = {'rounds': 1, 'baseline': 0, 'first': PROFILED if args.profile == 'first' else 0, 'duplicate': 0}
    uri = (os.environ.get('BENCH_POSTGRESQL_URI') or os.environ.get('POSTGRESQL_URI')
        or 'postgresql://postgres@127.0.0.1:5432/')
    database = f'bench_feedback_{os.getpid()}'
    with tempfile.TemporaryDirectory(prefix='bench-feedback-') as work:
        work = Path(work)
        try:
            problems = run(args, sizes, uri, database, work)
        finally:
            drop_database(uri, database)
    if problems:
        print("WRONG: " + "; ".join(problems))
        sys.exit(1)
    print("checked: every first feedback paid its payment once; no duplicate moved anything")


def run(args, sizes, uri, database, work):
    "Create and fill the database, serve it, send the requests; return what is wrong with their effect"
    config = create_database(uri, database, work)
    os.environ['TRYTOND_CONFIG'] = str(config)
    from trytond import backend
    server = None
    try:
        order_ids = populate(database, 1 + WARMUP + sizes['rounds'] * sizes['first'])
        backend.Database(database).close()
        duplicate_order_id, warmup_ids, order_ids = order_ids[0], order_ids[1:1 + WARMUP], order_ids[1 + WARMUP:]
        server = Server(config, database, work, profile=args.profile)
        baseline_path = f'/{database}/bench/baseline'
        feedback_path = f'/{database}/r/account_payment_ogone/return'
        server.wait_ready(baseline_path)
        # Warm up: every worker has loaded what the first requests load
        duplicate_body = feedback_body(duplicate_order_id)
        warmup = ([get(baseline_path)] * WARMUP + [post(feedback_path, duplicate_body)]
            + [post(feedback_path, feedback_body(o)) for o in warmup_ids]
            + [post(feedback_path, duplicate_body)] * WARMUP)
        _, statuses = load(server.port, warmup)
        if set(statuses) != {200}:
            raise RuntimeError(f"warm-up answered {sorted(set(statuses), key=str)}")
        failures = 0
        if args.profile:
            sent = load_profiled(server, args.profile, work, feedback_path, duplicate_body, order_ids)
            first_sent = order_ids if args.profile == 'first' else []
            duplicates = WARMUP + 1 + (sent if args.profile == 'duplicate' else 0)
        else:
            first_sent, duplicates, failures = measure(
                server.port, sizes, baseline_path, feedback_path, duplicate_body, order_ids)
            duplicates += WARMUP + 1
    finally:
        if server:
            server.stop()
        backend.Database(database).close()
    problems = check(database, warmup_ids + first_sent, duplicate_order_id, duplicates)
    if failures:
        problems.append(f"{failures} requests not answered 200")
    return problems


def measure(port, sizes, baseline_path, feedback_path, duplicate_body, order_ids):
    rates = {'baseline': [], 'first': [], 'duplicate': []}
    ratios = {'first': [], 'duplicate': []}
    first_sent, duplicates = [], 0
    failures = 0
    for round_ in range(sizes['rounds']):
        kinds = {
            'baseline': [get(baseline_path)] * sizes['baseline'],
            'first': [post(feedback_path, feedback_body(o))
                for o in order_ids[round_ * sizes['first']:(round_ + 1) * sizes['first']]],
            'duplicate': [post(feedback_path, duplicate_body)] * sizes['duplicate'],
            }
        for kind, requests in kinds.items():
            seconds, statuses = load(port, requests)
            failures += sum(1 for status in statuses if status != 200)
            rates[kind].append(len(requests) / seconds)
        for kind in ratios:
            ratios[kind].append(rates[kind][-1] / rates['baseline'][-1])
        first_sent += order_ids[round_ * sizes['first']:(round_ + 1) * sizes['first']]
        duplicates += sizes['duplicate']
    print(f"{WORKERS} gunicorn workers, {CLIENTS} clients, PostgreSQL, {sizes['rounds']} rounds "
        f"(median): requests/s and ratio to the baseline of the same round")
    for kind, label in (('baseline', 'baseline (writable transaction)'), ('first', 'first feedback'),
            ('duplicate', 'duplicate of a final feedback')):
        ratio = f"{statistics.median(ratios[kind]):6.3f}" if kind in ratios else '      '
        print(f"  {label:<34} {statistics.median(rates[kind]):8.1f} req/s  {ratio}"
            f"   rounds: {', '.join(f'{r:.1f}' for r in rates[kind])}")
    return first_sent, duplicates, failures


def load_profiled(server, kind, work, feedback_path, duplicate_body, order_ids):
    "Serve the kind with the workers' profilers on, then print the merged summary; return how many were sent"
    import pstats
    requests = ([post(feedback_path, feedback_body(o), profiled=True) for o in order_ids] if kind == 'first'
        else [post(feedback_path, duplicate_body, profiled=True)] * PROFILED)
    seconds, statuses = load(server.port, requests)
    server.stop()
    profiles = sorted(work.glob('profile-*.prof'))
    stats = pstats.Stats(*map(str, profiles))
    print(f"{kind}: {len(requests)} requests in {seconds:.2f} s ({len(requests) / seconds:.1f} req/s under "
        f"the profiler), {sum(1 for s in statuses if s != 200)} not 200, {len(profiles)} worker profiles")
    kept = Path(tempfile.gettempdir()) / f'bench_feedback_{kind}.prof'
    stats.dump_stats(str(kept))
    print(f"merged profile kept in {kept} (python -m pstats {kept})")
    stats.sort_stats('cumulative').print_stats(45)
    stats.sort_stats('tottime').print_stats(25)
    return len(requests)


if __name__ == '__main__':
    main()
