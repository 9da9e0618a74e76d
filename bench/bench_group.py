"""Saved-card group processing end to end: trytond on PostgreSQL, its queue, and the sandbox over HTTP.

Groups of N saved-card payments each are processed the way an accountant does (the "Process" wizard queues
one charge task per payment) and their tasks are run:

- baseline, the former way: one task at a time (run in this process as trytond-worker runs one), each
  charge's DirectLink client with a transport of its own, hence a new HTTP connection per request;
- pooled, one at a time: the same, the clients sharing the process's pooled transport (what pooling alone
  gives);
- production: ``--workers`` ``trytond-worker`` processes (one task process each) pulling the tasks from the
  queue, the clients sharing their process's pooled transport. They are started and given a small warm-up
  group first, so their start is not counted.

All against one ``ogone-sandbox`` process, in the same run; the ratios to the baseline are printed. Every
payment must end final and charged exactly once at the sandbox, or the bench fails. ``--latency S`` makes the
sandbox take S seconds before each DirectLink order answer (a platform farther than the loopback);
``--profile FILE`` instead charges a group one task at a time under cProfile and prints where the time of a
charge goes.

    .venv/bin/python bench/bench_group.py [--quick] [--payments 200] [--workers 2] [--latency 0]
                                          [--profile FILE]

Needs PostgreSQL (``--database-uri``, default postgresql://postgres@127.0.0.1:5432/); creates and drops its
own database.
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CARDS = ['4111111111111111', '5399999999999999', '374111111111111', '4000000000000028']


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--payments', type=int, default=200)
    parser.add_argument('--quick', action='store_true', help='20 payments per group')
    parser.add_argument('--workers', type=int, default=2, help='trytond-worker processes')
    parser.add_argument('--latency', type=float, default=0.0,
                        help='seconds the sandbox waits before each DirectLink order answer')
    parser.add_argument('--profile', metavar='FILE', help='profile a group charged one task at a time')
    parser.add_argument('--database-uri', default=os.environ.get(
        'POSTGRESQL_URI', 'postgresql://postgres@127.0.0.1:5432/'))
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.payments = 20
    return arguments


class Sandbox:
    """``ogone-sandbox`` in a process of its own, as a platform is: it takes none of this process's CPU."""

    def __init__(self):
        self.process = subprocess.Popen(
            [sys.executable, '-m', 'ogone_core.sandbox.cli', '--port', '0', '--memory', '--quiet'],
            stdout=subprocess.PIPE, text=True)
        self.url = self.process.stdout.readline().strip()
        if not self.url:
            raise SystemExit('ogone-sandbox did not start')
        self.base_url = f'{self.url}ncol/test/'

    def delay_orders(self, seconds):
        import requests
        requests.post(f'{self.url}admin/api/faults', json={
            'pspid': 'SANDBOX', 'faults': {'latency': seconds, 'pages': ['orderdirect']}},
            timeout=10).raise_for_status()

    def transactions(self):
        import requests
        answer = requests.get(f'{self.url}admin/api/transactions',
                              params={'pspid': 'SANDBOX', 'limit': 100000}, timeout=30)
        return answer.json()['transactions']

    def cpu_seconds(self):
        "CPU time the sandbox process used so far (Linux), to tell whether it holds the group back"
        fields = Path(f'/proc/{self.process.pid}/stat').read_text().rsplit(')', 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


def configure_trytond(database_uri):
    os.environ['TRYTOND_DATABASE_URI'] = database_uri
    os.environ['DB_NAME'] = f'group_bench_{os.getpid()}'
    os.environ.pop('DB_CACHE', None)
    os.environ.pop('TRYTOND_CONFIG', None)
    return os.environ['DB_NAME']


def drop_database(database_uri, name):
    import psycopg
    with psycopg.connect(database_uri.rstrip('/') + '/postgres', autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def set_up(sandbox, sizes):
    """The module activated, an Ogone account on the sandbox, four customers with saved cards (one refused)
    and a group of submitted payments of each size"""
    from proteus import Model
    from trytond.modules.company.tests.tools import create_company
    from trytond.tests.tools import activate_modules
    from trytond_payment_ogone.tests.tools import register_card, server_create

    activate_modules('account_payment_ogone', create_company)
    Account = Model.get('account.payment.ogone.account')
    account = Account(name='Sandbox', pspid='SANDBOX', api_user_id='SANDBOXAPI',
                      environment='custom', base_url=sandbox.base_url, order_id_prefix='BENCH')
    account.api_password = 'sandbox-password'
    account.sha_in_secret = 'sandbox_sha_in_passphrase_0001'
    account.sha_out_secret = 'sandbox_sha_out_passphrase_001'
    account.save()
    journal = Model.get('account.payment.journal')(
        name='Ogone', process_method='ogone', ogone_account=account)
    journal.save()
    secrets = {'pspid': 'SANDBOX', 'sha_in': 'sandbox_sha_in_passphrase_0001',
               'sha_out': 'sandbox_sha_out_passphrase_001'}
    customers = []
    for number in CARDS:
        party = Model.get('party.party')(name=f'Customer {number[-4:]}')
        party.save()
        values = register_card(sandbox.base_url, secrets, f'BENCH-{party.id}', number)
        alias_id, = server_create('account.payment.ogone.alias', [{
            'party': party.id, 'account': account.id, **values}])
        customers.append((party, alias_id))
    Payment = Model.get('account.payment')
    payments = []
    for i in range(sum(sizes)):
        party, alias_id = customers[i % len(customers)]
        payment = Payment(journal=journal, kind='receivable', party=party, amount=Decimal(10 + i))
        payment.ogone_alias = Model.get('account.payment.ogone.alias')(alias_id)
        payments.append(payment)
    Payment.save(payments)
    Payment.click(payments, 'submit')
    groups = []
    for size in sizes:
        groups.append(payments[:size])
        payments = payments[size:]
    return groups


def run_one_at_a_time(database_name, count):
    """Pull the queued tasks and run them one at a time in this thread, as a trytond-worker process does,
    until none is left (and a profiler sees them)"""
    from trytond.worker import Queue, run_task

    queue = Queue(database_name, None)
    ran = 0
    try:
        while True:
            task_id, _ = queue.pull()
            if task_id is None:
                break
            run_task(database_name, task_id)
            ran += 1
    finally:
        queue.database.put_connection(queue.connection)
    if ran != count:
        raise SystemExit(f'{ran} tasks ran for {count} payments')


class Workers:
    """``count`` trytond-worker processes with one task process each, as a deployment runs them"""

    def __init__(self, database_name, database_uri, count):
        self.database_name = database_name
        self.database_uri = database_uri
        self.count = count
        self.directory = tempfile.TemporaryDirectory(prefix='group-bench-')
        self.config = Path(self.directory.name, 'trytond.conf')
        self.config.write_text(f'[database]\nuri = {database_uri}\n[queue]\nworker = True\n')
        self.processes = []

    def __enter__(self):
        command = [str(Path(sys.executable).with_name('trytond-worker')), '-c', str(self.config),
                   '-d', self.database_name, '-n', '1', '-t', '1']
        environment = {k: v for k, v in os.environ.items() if not k.startswith('TRYTOND_')}
        for _ in range(self.count):
            # A session of its own: its task process is stopped with it
            self.processes.append(subprocess.Popen(command, env=environment, start_new_session=True))
        return self

    def wait(self, database_name, count, timeout=600):
        "Until no task is left unfinished (polled), within ``timeout`` seconds"
        import psycopg
        deadline = time.monotonic() + timeout
        uri = self.database_uri.rstrip('/') + '/' + database_name
        with psycopg.connect(uri, autocommit=True) as connection:
            while True:
                left, = connection.execute(
                    'SELECT count(*) FROM ir_queue WHERE finished_at IS NULL').fetchone()
                if not left:
                    return
                if any(process.poll() is not None for process in self.processes):
                    raise SystemExit('a trytond-worker stopped')
                if time.monotonic() > deadline:
                    raise SystemExit(f'{left} tasks left after {timeout} s')
                time.sleep(0.01)

    def __exit__(self, *exc_info):
        for process in self.processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            process.wait(timeout=30)
        self.directory.cleanup()


def former_transport(enabled):
    """Give each DirectLink client a transport of its own (a new connection per request), as before the
    shared transport, or undo it"""
    import ogone_core.directlink
    from ogone_core import RequestsTransport, shared_transport
    ogone_core.directlink.shared_transport = (
        (lambda url, **settings: RequestsTransport(**settings)) if enabled else shared_transport)


def process_group(database_name, payments, run_tasks):
    "Process the group with the wizard and run its tasks with ``run_tasks``; return the seconds it took"
    from proteus import Wizard
    from trytond import config

    config.set('queue', 'worker', 'True')
    try:
        started = time.perf_counter()
        Wizard('account.payment.process', payments)
        run_tasks(database_name, len(payments))
        return time.perf_counter() - started
    finally:
        config.set('queue', 'worker', 'False')


def check_charged_once(sandbox, groups):
    "Every payment final and charged once at the sandbox, with its amount"
    from proteus import Model
    Payment = Model.get('account.payment')
    ids = [p.id for group in groups for p in group]
    payments = Payment.find([('id', 'in', ids)])
    by_order = {}
    for transaction in sandbox.transactions():
        by_order.setdefault(transaction['orderid'], []).append(transaction)
    for payment in payments:
        if payment.state not in {'succeeded', 'failed'}:
            raise SystemExit(f'payment {payment.id} is {payment.state}')
        found = by_order.get(payment.ogone_order_id, [])
        expected = {'succeeded': 9, 'failed': 2}[payment.state]
        if (len(found) != 1 or found[0]['status'] != expected
                or Decimal(str(found[0]['amount'])) != payment.amount):
            raise SystemExit(f'payment {payment.id}: {found!r}')
    if sum(len(found) for found in by_order.values()) != len(payments):
        raise SystemExit('the sandbox has transactions no payment stands for')


def profile_group(arguments, database_name, sandbox):
    """Each group charged one task at a time under cProfile, the former way and pooled: the top functions and
    the time per charge of what matters"""
    import cProfile
    import pstats

    size = arguments.payments
    groups = set_up(sandbox, [size, size])
    profiles = {}
    for name, group in zip(['former', 'pooled'], groups):
        former_transport(name == 'former')
        profiler = cProfile.Profile()
        try:
            profiler.enable()
            elapsed = process_group(database_name, group, run_one_at_a_time)
            profiler.disable()
        finally:
            former_transport(False)
        profiles[name] = (elapsed, pstats.Stats(profiler))
    check_charged_once(sandbox, groups)
    print(f'{size} payments per group, one task at a time in this thread, under cProfile')
    print(f'{"ms per charge (cumulative, overlapping)":<52} {"former":>8} {"pooled":>8}')
    print(f'{"whole group / payments (wall)":<52} '
          + ' '.join(f'{profiles[n][0] * 1000 / size:>8.2f}' for n in profiles))
    for label, matches in PROFILE_ITEMS:
        print(f'{label:<52} ' + ' '.join(
            f'{cumulative(profiles[n][1], matches) * 1000 / size:>8.2f}' for n in profiles))
    stats = profiles['pooled'][1]
    stats.dump_stats(arguments.profile)
    stats.sort_stats('cumulative').print_stats(40)
    stats.sort_stats('tottime').print_stats(25)


# (label, [(end of the file name, function name)]): where the time of a charge goes
PROFILE_ITEMS = [
    ('Process wizard (queuing the charges)', [('trytond/wizard/wizard.py', 'execute')]),
    ('run_task (one task, all included)', [('trytond/worker.py', 'run_task')]),
    ('  Payment._ogone_charge_one', [('trytond_payment_ogone/directlink.py', '_ogone_charge_one')]),
    ('    ogone_locked (lock and read again)', [('trytond_payment_ogone/payment.py', 'ogone_locked')]),
    ('    ogone_check_charge', [('trytond_payment_ogone/directlink.py', 'ogone_check_charge')]),
    ('    _ogone_new_directlink_order', [('trytond_payment_ogone/directlink.py',
                                          '_ogone_new_directlink_order')]),
    ('    _ogone_order_request', [('trytond_payment_ogone/directlink.py', '_ogone_order_request')]),
    ('    Account.ogone (core account)', [('trytond_payment_ogone/account.py', 'ogone')]),
    ('    DirectLinkClient.new_order', [('ogone_core/directlink.py', 'new_order')]),
    ('      compute_shasign', [('ogone_core/signing.py', 'compute_shasign')]),
    ('      RequestsTransport.post (HTTP and sandbox)', [('ogone_core/transport.py', 'post')]),
    ('        TCP connect', [('urllib3/connection.py', '_new_conn')]),
    ('        requests.Session()', [('requests/sessions.py', '__init__')]),
    ('      parse_ncresponse', [('ogone_core/ncresponse.py', 'parse_ncresponse')]),
    ('    _ogone_apply (ogone_update and commit)', [('trytond_payment_ogone/directlink.py', '_ogone_apply')]),
    ('      ogone_update', [('trytond_payment_ogone/payment.py', 'ogone_update')]),
    ('SQL: cursor.execute', [('psycopg/cursor.py', 'execute')]),
    ('SQL: commit', [('psycopg/connection.py', 'commit')]),
]


def cumulative(stats, matches):
    return sum(row[3] for (filename, _, function), row in stats.stats.items()
               if any(filename.endswith(end) and function == name for end, name in matches))


def main():
    arguments = parse_arguments()
    database_name = configure_trytond(arguments.database_uri)
    sandbox = Sandbox()
    try:
        if arguments.profile:
            profile_group(arguments, database_name, sandbox)
        else:
            compare(arguments, database_name, sandbox)
    finally:
        sandbox.stop()
        drop_database(arguments.database_uri, database_name)


def compare(arguments, database_name, sandbox):
    size = arguments.payments
    if arguments.latency:
        sandbox.delay_orders(arguments.latency)
    warm_up = 2 * arguments.workers
    baseline_group, pooled_group, production_group, warm_up_group = set_up(
        sandbox, [size, size, size, warm_up])
    former_transport(True)
    try:
        baseline = process_group(database_name, baseline_group, run_one_at_a_time)
    finally:
        former_transport(False)
    pooled = process_group(database_name, pooled_group, run_one_at_a_time)
    with Workers(database_name, arguments.database_uri, arguments.workers) as workers:
        process_group(database_name, warm_up_group, workers.wait)
        sandbox_cpu = sandbox.cpu_seconds()
        production = process_group(database_name, production_group, workers.wait)
        sandbox_cpu = sandbox.cpu_seconds() - sandbox_cpu
    check_charged_once(sandbox, [baseline_group, pooled_group, production_group, warm_up_group])
    latency = f', sandbox answering orders after {arguments.latency:g} s' if arguments.latency else ''
    print(f'{size} saved-card payments per group, each charged once at the sandbox{latency}')
    print(f'{"way":<64} {"seconds":>8} {"payments/s":>11} {"ratio":>6}')
    for label, seconds in [
            ('baseline: one task at a time, a new connection per request', baseline),
            ('pooled: one task at a time, shared transport', pooled),
            (f'production: {arguments.workers} trytond-worker processes, shared transport', production)]:
        print(f'{label:<64} {seconds:>8.2f} {size / seconds:>11.1f} {baseline / seconds:>6.2f}')
    print(f'sandbox CPU during the production group: {sandbox_cpu * 1000 / size:.1f} ms per charge, '
          f'busy {sandbox_cpu / production:.0%} of the time')


if __name__ == '__main__':
    main()
