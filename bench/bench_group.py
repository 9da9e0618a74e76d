"""Saved-card group processing end to end: trytond on PostgreSQL, its queue, and the sandbox over HTTP.

Groups of N saved-card payments each are processed the way an accountant does (the "Process" wizard queues
the charges in tasks of ``[queue] batch_size`` payments, 20 by default) and their tasks are run:

- baseline, the former way: one payment per task (``batch_size`` 1), one task at a time (run in this process
  as trytond-worker runs one), each charge's DirectLink client with a transport of its own, hence a new HTTP
  connection per request;
- pooled, one at a time: the same, the clients sharing the process's pooled transport (what pooling alone
  gives);
- batched, one at a time: tasks of 20 payments, one task at a time, shared transport (what batching gives:
  one lock, one write of the new attempts and one commit for the task's payments before the calls, then
  their answers applied in one transaction, each transition run once for the payments it moves);
- production: ``--workers`` ``trytond-worker`` processes (``--task-processes`` task processes each, 1 by
  default) pulling the tasks of 20 from the queue, the clients sharing their process's pooled transport.
  They are started and given a small warm-up group first, so their start is not counted.

All on one ``topology.Stack`` (its PostgreSQL database copied from the template, its ``ogone-sandbox`` process
and its trytond-worker processes, started once the one-at-a-time groups are done), in the same run; the ratios
to the baseline are printed. Every payment must end final and charged exactly once at the sandbox, or the
bench fails. ``--latency S`` makes the sandbox take S seconds before each DirectLink order answer (a platform
farther than the loopback); ``--profile FILE`` instead charges two groups one task at a time under cProfile,
one payment per task (the former way) and in tasks of 20, and prints where the time of a charge goes.

    .venv/bin/python bench/bench_group.py [--quick] [--payments 200] [--workers 2] [--task-processes 1]
                                          [--latency 0] [--profile FILE]

Needs the stack's PostgreSQL (postgresql://postgres@127.0.0.1:5432/); the stack drops its database at the end.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from topology import Stack  # noqa: E402
from topology.stack import POSTGRESQL_URI  # noqa: E402

# trytond's [queue] batch_size by default: the saved cards one charge task takes
BATCH_SIZE = 20
CARDS = ['4111111111111111', '5399999999999999', '374111111111111', '4000000000000028']


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--payments', type=int, default=200)
    parser.add_argument('--quick', action='store_true', help='20 payments per group')
    parser.add_argument('--workers', type=int, default=2, help='trytond-worker processes')
    parser.add_argument('--task-processes', type=int, default=1,
                        help='task processes of each trytond-worker (its -n)')
    parser.add_argument('--latency', type=float, default=0.0,
                        help='seconds the sandbox waits before each DirectLink order answer')
    parser.add_argument('--profile', metavar='FILE', help='profile a group charged one task at a time')
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.payments = 20
    return arguments


def sandbox_admin(stack, method, path, **arguments):
    import requests
    answer = requests.request(method, f'{stack.sandbox_url}admin/api/{path}', timeout=30, **arguments)
    answer.raise_for_status()
    return answer.json()


def delay_orders(stack, seconds):
    "The sandbox takes ``seconds`` before each DirectLink order answer"
    from ogone_core.sandbox.merchants import DEFAULT_MERCHANT
    sandbox_admin(stack, 'POST', 'faults', json={
        'pspid': DEFAULT_MERCHANT.pspid, 'faults': {'latency': seconds, 'pages': ['orderdirect']}})


def sandbox_transactions(stack):
    from ogone_core.sandbox.merchants import DEFAULT_MERCHANT
    return sandbox_admin(stack, 'GET', 'transactions', params={
        'pspid': DEFAULT_MERCHANT.pspid, 'limit': 100000})['transactions']


def sandbox_cpu_seconds(stack):
    "CPU time the sandbox process used so far (Linux), to tell whether it holds the group back"
    fields = Path(f'/proc/{stack.sandbox.pid}/stat').read_text().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def set_up(stack, sizes):
    """Four customers of the stack's company with saved cards (one refused) and a group of submitted payments
    of each size on the stack's Ogone journal"""
    from proteus import Model

    Party = Model.get('party.party')
    Alias = Model.get('account.payment.ogone.alias')
    customers = []
    for number in CARDS:
        party = Party(name=f'Customer {number[-4:]}')
        party.save()
        customers.append((party, stack.save_card(party.id, number)))
    Payment = Model.get('account.payment')
    journal = Model.get('account.payment.journal')(stack.journal_id)
    payments = []
    for i in range(sum(sizes)):
        party, alias_id = customers[i % len(customers)]
        payment = Payment(journal=journal, kind='receivable', party=party, amount=Decimal(10 + i))
        payment.ogone_alias = Alias(alias_id)
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
        raise SystemExit(f'{ran} tasks ran, {count} expected')


def wait_for_tasks(stack, timeout=600):
    "A ``run_tasks`` for the stack's trytond-worker processes: until no task is left unfinished (polled)"
    def wait(database_name, count):
        import psycopg
        deadline = time.monotonic() + timeout
        uri = f'{POSTGRESQL_URI}{database_name}'
        with psycopg.connect(uri, autocommit=True) as connection:
            while True:
                left, = connection.execute(
                    'SELECT count(*) FROM ir_queue WHERE finished_at IS NULL').fetchone()
                if not left:
                    return
                if not all(worker.alive() for worker in stack.workers):
                    raise SystemExit('a trytond-worker stopped')
                if time.monotonic() > deadline:
                    raise SystemExit(f'{left} tasks left after {timeout} s')
                time.sleep(0.01)
    return wait


def former_transport(enabled):
    """Give each DirectLink client a transport of its own (a new connection per request), as before the
    shared transport, or undo it"""
    import ogone_core.directlink
    from ogone_core import RequestsTransport, shared_transport
    ogone_core.directlink.shared_transport = (
        (lambda url, **settings: RequestsTransport(**settings)) if enabled else shared_transport)


def process_group(database_name, payments, run_tasks, batch_size=BATCH_SIZE):
    """Process the group with the wizard, its charges queued in tasks of ``batch_size`` payments, and run its
    tasks with ``run_tasks``; return the seconds it took"""
    from proteus import Wizard
    from trytond import config

    config.set('queue', 'worker', 'True')
    config.set('queue', 'batch_size', str(batch_size))
    try:
        started = time.perf_counter()
        Wizard('account.payment.process', payments)
        run_tasks(database_name, -(-len(payments) // batch_size))
        return time.perf_counter() - started
    finally:
        config.set('queue', 'worker', 'False')
        config.set('queue', 'batch_size', str(BATCH_SIZE))


def check_charged_once(stack, groups):
    "Every payment final and charged once at the sandbox, with its amount"
    from proteus import Model
    Payment = Model.get('account.payment')
    ids = [p.id for group in groups for p in group]
    payments = Payment.find([('id', 'in', ids)])
    by_order = {}
    for transaction in sandbox_transactions(stack):
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


def profile_group(arguments, stack):
    """Each group charged one task at a time under cProfile, the former way and pooled: the top functions and
    the time per charge of what matters"""
    import cProfile
    import pstats

    size = arguments.payments
    groups = set_up(stack, [size, size])
    profiles = {}
    for name, group in zip(['former', 'batched'], groups):
        former_transport(name == 'former')
        profiler = cProfile.Profile()
        try:
            profiler.enable()
            elapsed = process_group(stack.database, group, run_one_at_a_time,
                                    batch_size=1 if name == 'former' else BATCH_SIZE)
            profiler.disable()
        finally:
            former_transport(False)
        profiles[name] = (elapsed, pstats.Stats(profiler))
    check_charged_once(stack, groups)
    print(f'{size} payments per group, one task at a time in this thread, under cProfile')
    print(f'{"ms per charge (cumulative, overlapping)":<52} {"former":>8} {"batched":>8}')
    print(f'{"whole group / payments (wall)":<52} '
          + ' '.join(f'{profiles[n][0] * 1000 / size:>8.2f}' for n in profiles))
    for label, matches in PROFILE_ITEMS:
        print(f'{label:<52} ' + ' '.join(
            f'{cumulative(profiles[n][1], matches) * 1000 / size:>8.2f}' for n in profiles))
    for label, matches in COUNTED_ITEMS:
        print(f'{label:<52} ' + ' '.join(
            f'{calls(profiles[n][1], matches) / size:>8.1f}' for n in profiles))
    stats = profiles['batched'][1]
    stats.dump_stats(arguments.profile)
    stats.sort_stats('cumulative').print_stats(40)
    stats.sort_stats('tottime').print_stats(25)


# (label, [(end of the file name, function name)]): where the time of a charge goes
PROFILE_ITEMS = [
    ('Process wizard (queuing the charges)', [('trytond/wizard/wizard.py', 'execute')]),
    ('run_task (one task, all included)', [('trytond/worker.py', 'run_task')]),
    ('  Payment.ogone_charge', [('trytond_payment_ogone/directlink.py', 'ogone_charge')]),
    ('    ogone_locked_list (lock and read again)', [('trytond_payment_ogone/payment.py', 'ogone_locked_list')]),
    ('    ogone_check_charge', [('trytond_payment_ogone/directlink.py', 'ogone_check_charge')]),
    ('    _ogone_new_directlink_orders', [('trytond_payment_ogone/directlink.py',
                                           '_ogone_new_directlink_orders')]),
    ('    _ogone_order_request', [('trytond_payment_ogone/directlink.py', '_ogone_order_request')]),
    ('    Account.ogone (core account)', [('trytond_payment_ogone/account.py', 'ogone')]),
    ('    DirectLinkClient.new_order', [('ogone_core/directlink.py', 'new_order')]),
    ('      compute_shasign', [('ogone_core/signing.py', 'compute_shasign')]),
    ('      RequestsTransport.post (HTTP and sandbox)', [('ogone_core/transport.py', 'post')]),
    ('        TCP connect', [('urllib3/connection.py', '_new_conn')]),
    ('        requests.Session()', [('requests/sessions.py', '__init__')]),
    ('      parse_ncresponse', [('ogone_core/ncresponse.py', 'parse_ncresponse')]),
    ('    _ogone_apply_answers (ogone_update_many, commit)', [('trytond_payment_ogone/directlink.py',
                                                         '_ogone_apply_answers')]),
    ('      ogone_update_many', [('trytond_payment_ogone/payment.py', 'ogone_update_many')]),
    ('SQL: cursor.execute', [('psycopg/cursor.py', 'execute')]),
    ('SQL: commit', [('psycopg/connection.py', 'commit')]),
]


# (label, matches): how many times per charge
COUNTED_ITEMS = [
    ('SQL statements per charge (task queue included)', [('psycopg/cursor.py', 'execute')]),
    ('commits per charge (task queue included)', [('psycopg/connection.py', 'commit')]),
]


def calls(stats, matches):
    return sum(row[1] for (filename, _, function), row in stats.stats.items()
               if any(filename.endswith(end) and function == name for end, name in matches))


def cumulative(stats, matches):
    return sum(row[3] for (filename, _, function), row in stats.stats.items()
               if any(filename.endswith(end) and function == name for end, name in matches))


def main():
    arguments = parse_arguments()
    # No cron (it would charge the groups too) and one idle web process: the CPU is left to the charges.
    with Stack(web_processes=1, workers=arguments.workers, worker_processes=arguments.task_processes,
               cron=False, start_workers=False) as stack:
        stack.proteus()
        if arguments.profile:
            profile_group(arguments, stack)
        else:
            compare(arguments, stack)


def compare(arguments, stack):
    size = arguments.payments
    if arguments.latency:
        delay_orders(stack, arguments.latency)
    warm_up = 2 * arguments.workers * arguments.task_processes
    baseline_group, pooled_group, batched_group, production_group, warm_up_group = set_up(
        stack, [size, size, size, size, warm_up])
    former_transport(True)
    try:
        baseline = process_group(stack.database, baseline_group, run_one_at_a_time, batch_size=1)
    finally:
        former_transport(False)
    pooled = process_group(stack.database, pooled_group, run_one_at_a_time, batch_size=1)
    batched = process_group(stack.database, batched_group, run_one_at_a_time)
    for index in range(arguments.workers):
        stack.restart_worker(index)
    workers = wait_for_tasks(stack)
    process_group(stack.database, warm_up_group, workers)
    sandbox_cpu = sandbox_cpu_seconds(stack)
    production = process_group(stack.database, production_group, workers)
    sandbox_cpu = sandbox_cpu_seconds(stack) - sandbox_cpu
    check_charged_once(stack, [baseline_group, pooled_group, batched_group, production_group, warm_up_group])
    latency = f', sandbox answering orders after {arguments.latency:g} s' if arguments.latency else ''
    print(f'{size} saved-card payments per group, each charged once at the sandbox{latency}')
    print(f'{"way":<64} {"seconds":>8} {"payments/s":>11} {"ratio":>6}')
    for label, seconds in [
            ('baseline: one task at a time, a new connection per request', baseline),
            ('pooled: one task at a time, shared transport', pooled),
            (f'batched: one task of {BATCH_SIZE} at a time, shared transport', batched),
            (f'production: {arguments.workers} trytond-worker x {arguments.task_processes} task processes, '
             'shared transport', production)]:
        print(f'{label:<64} {seconds:>8.2f} {size / seconds:>11.1f} {baseline / seconds:>6.2f}')
    print(f'sandbox CPU during the production group: {sandbox_cpu * 1000 / size:.1f} ms per charge, '
          f'busy {sandbox_cpu / production:.0%} of the time')


if __name__ == '__main__':
    main()
