"""The return URL under load: Ogone's server-to-server feedback against a bare route of the same server.

The topology's ``Stack`` (without trytond-worker nor cron: the return URL queues nothing) serves
``bench/wsgi.py`` (trytond's application plus a baseline path) with gunicorn, 2 workers, on a copy of its
template PostgreSQL database where account_payment_ogone is activated, with its company, Ogone account and
journal; 16 client threads send requests over keep-alive connections. Four kinds of request, measured in
turn in each round:

- baseline: the bare route of bench/wsgi.py, a writable trytond transaction and a constant answer (the
  issue's baseline: psycopg sends no BEGIN for a transaction without a statement, so it costs PostgreSQL
  nothing);
- one statement: the same with a ``SELECT 1`` in the transaction (BEGIN, SELECT, COMMIT), for reference;
- trytond route: a route of trytond's application with the decorators of the module's routes and nothing in
  it, posted the duplicate's body: what a request pays before the module's code runs (for reference);
- first feedback: a correctly signed paid feedback (STATUS 9) for a payment not paid yet, each request a
  different payment (submitted, with its order: the payment is processed and succeeds);
- duplicate: the same paid feedback again for a payment already paid (kept in the history, moves nothing);
  every request for the same payment, as in a storm of Ogone's retries: each takes the share lock of that one
  row while the others hold it;
- duplicates spread: the same, each request for one of 32 payments paid in turn (for reference: what one row
  shared by every request costs);
- transitions: trytond's ``process`` and ``succeed`` of a submitted payment in one transaction of the same
  server, each request a different payment, and nothing else: what a first feedback cannot do with less, as
  the transitions must stay real for the other modules' hooks (for reference).

Prints requests per second of each (median of the rounds) and the ratio against the baseline of the same
round (median), against the one-statement route and against the trytond route; and the first feedback against the transitions alone. Then checks what the requests did: every first
feedback paid its payment with exactly one applied feedback, no duplicate moved anything. Not a test:
nothing is asserted on a time.

    python bench/bench_feedback.py            # the figures of bench/README.md (a few minutes)
    python bench/bench_feedback.py --quick    # a few requests of each kind: the bench still works
    python bench/bench_feedback.py --profile first|duplicate|transitions   # cProfile of the workers

PostgreSQL at the stack's address (127.0.0.1:5432); the stack drops its database when it stops. A wrong result
(a payment not paid once, a duplicate that moved anything, a request not answered 200) exits non-zero.
"""
from __future__ import annotations

import argparse
import http.client
import queue
import statistics
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ogone_core import compute_shasign  # noqa: E402
from ogone_core.sandbox.merchants import DEFAULT_MERCHANT  # noqa: E402

CLIENTS = 16
WORKERS = 2
FULL = {'rounds': 3, 'baseline': 1500, 'first': 300, 'duplicate': 800, 'transitions': 300}
QUICK = {'rounds': 1, 'baseline': 20, 'first': 10, 'duplicate': 20, 'transitions': 10}
WARMUP = 32
PROFILED = 300


def populate(stack, payments, submitted=0):
    """``payments`` submitted payments on the stack's Ogone journal with their checkout link, each with its
    order (what the checkout page creates), and ``submitted`` more without order; return the ORDERIDs and the
    ids of the others"""
    from trytond.modules.company.tests import set_company

    with stack.transaction() as pool:
        Company = pool.get('company.company')
        Payment = pool.get('account.payment')
        with set_company(Company(stack.company_id)):
            records = Payment.create([{
                        'company': stack.company_id, 'journal': stack.journal_id, 'kind': 'receivable',
                        'party': stack.party_id, 'amount': Decimal('42.50'), 'reference': f'INV-{i}',
                        } for i in range(payments + submitted)])
            Payment.submit(records)
            order_ids = []
            for payment in Payment.browse(records):
                # The checkout link the customer is sent
                payment.process_ogone()
            for payment in Payment.browse(records[:payments]):
                order_ids.append(payment.ogone_checkout_order().name)
    return order_ids, [r.id for r in records[payments:]]


FORM = {'Content-Type': 'application/x-www-form-urlencoded'}


def get(path, profiled=False):
    return ('GET', path, None, {'X-Bench-Profile': '1'} if profiled else {})


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
    params['SHASIGN'] = compute_shasign(params, DEFAULT_MERCHANT.sha_out, 'sha512', direction='out')
    return urlencode(params).encode('ascii')


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


def check(stack, first_order_ids, duplicate_order_id, duplicates, moved_ids, spread_order_ids=(), spread=0):
    "What the requests did to the payments"
    import psycopg
    from topology.stack import POSTGRESQL_URI
    with psycopg.connect(POSTGRESQL_URI + stack.database) as connection:
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
        spread_lines, = connection.execute(
            "SELECT count(*) FROM account_payment_ogone_feedback f JOIN account_payment_ogone_order o "
            "ON f.order = o.id WHERE o.name = ANY(%s) AND NOT f.applied", (list(spread_order_ids),)).fetchone()
        moved, = connection.execute(
            "SELECT count(*) FROM account_payment WHERE id = ANY(%s) AND state = 'succeeded'",
            (moved_ids,)).fetchone()
    problems = []
    if moved != len(moved_ids):
        problems.append(f"{len(moved_ids) - moved} payments not moved by the transitions alone")
    if paid != len(first_order_ids):
        problems.append(f"{len(first_order_ids) - paid} payments not paid by their first feedback")
    if any(applied.get(order_id) != 1 for order_id in first_order_ids + [duplicate_order_id]):
        problems.append("a payment without exactly one applied feedback")
    if duplicate_lines != duplicates:
        problems.append(f"{duplicate_lines} history lines for {duplicates} feedbacks of one order")
    if spread_lines != spread:
        problems.append(f"{spread_lines} history-only lines for {spread} duplicates spread over payments")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--quick', action='store_true', help="a few requests: check that the bench works")
    parser.add_argument('--profile', choices=['first', 'duplicate', 'transitions'],
        help="profile the workers with cProfile while they serve that kind, print the summary")
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    if args.profile:
        sizes = {'rounds': 1, 'baseline': 0, 'duplicate': 0,
            **{kind: PROFILED if args.profile == kind else 0 for kind in ('first', 'transitions')}}
    with tempfile.TemporaryDirectory(prefix='bench-feedback-') as work:
        problems = run(args, sizes, Path(work))
    if problems:
        print("WRONG: " + "; ".join(problems))
        sys.exit(1)
    print("checked: every first feedback paid its payment once; no duplicate moved anything")


def start_stack(work, profile):
    """The topology's PostgreSQL database and gunicorn, serving bench/wsgi.py; no trytond-worker nor cron:
    the return URL queues nothing"""
    from topology import Stack
    web_args = ['--pythonpath', str(ROOT / 'bench'), '--timeout', '120']
    environment = {}
    if profile:
        web_args += ['--config', str(ROOT / 'bench' / 'gunicorn_profile.py')]
        environment['BENCH_PROFILE_DIR'] = str(work)
    return Stack(web_processes=WORKERS, workers=0, cron=False, web_app='wsgi:app', web_args=web_args,
        web_environment=environment).start()


def run(args, sizes, work):
    "Start the stack, fill its database, send the requests; return what is wrong with their effect"
    stack = start_stack(work, args.profile)
    try:
        order_ids, submitted_ids = populate(
            stack, 1 + WARMUP + sizes['rounds'] * sizes['first'], WARMUP + sizes['rounds'] * sizes['transitions'])
        duplicate_order_id, warmup_ids, order_ids = order_ids[0], order_ids[1:1 + WARMUP], order_ids[1 + WARMUP:]
        warmup_submitted, submitted_ids = submitted_ids[:WARMUP], submitted_ids[WARMUP:]
        paths = Paths(stack.database)
        port = stack.web_port
        # Warm up: every worker has loaded what the first requests load
        duplicate_body = feedback_body(duplicate_order_id)
        warmup = ([get(paths.baseline)] * WARMUP + [post(paths.feedback, duplicate_body)]
            + [post(paths.feedback, feedback_body(o)) for o in warmup_ids]
            + [get(paths.transitions(i)) for i in warmup_submitted]
            + [post(paths.feedback, duplicate_body)] * WARMUP)
        _, statuses = load(port, warmup)
        if set(statuses) != {200}:
            return [f"warm-up answered {sorted(set(statuses), key=str)}"]
        failures = 0
        if args.profile:
            sent = load_profiled(stack, args.profile, work, paths, duplicate_body, order_ids, submitted_ids)
            first_sent = order_ids if args.profile == 'first' else []
            moved = submitted_ids if args.profile == 'transitions' else []
            duplicates = WARMUP + 1 + (sent if args.profile == 'duplicate' else 0)
            spread = 0
        else:
            spread_bodies = [feedback_body(o) for o in warmup_ids]
            first_sent, moved, duplicates, spread, failures = measure(
                port, sizes, paths, duplicate_body, spread_bodies, order_ids, submitted_ids)
            duplicates += WARMUP + 1
        problems = check(stack, warmup_ids + first_sent, duplicate_order_id, duplicates, warmup_submitted + moved,
            warmup_ids, spread)
    finally:
        stack.stop()
    if failures:
        problems.append(f"{failures} requests not answered 200")
    return problems


class Paths:
    def __init__(self, database):
        self.baseline = f'/{database}/bench/baseline'
        self.statement = f'/{database}/bench/statement'
        self.route = f'/{database}/bench/route'
        self.feedback = f'/{database}/r/account_payment_ogone/return'
        self.database = database

    def transitions(self, payment_id):
        return f'/{self.database}/bench/transitions/{payment_id}'


def measure(port, sizes, paths, duplicate_body, spread_bodies, order_ids, submitted_ids):
    rates = {kind: [] for kind in ('baseline', 'statement', 'route', 'first', 'duplicate', 'spread', 'transitions')}
    ratios = {'first': [], 'duplicate': [], 'spread': [], 'transitions': []}
    statement_ratios = {kind: [] for kind in ratios}
    route_ratios = {kind: [] for kind in ratios}
    over_transitions = []
    first_sent, moved, duplicates = [], [], 0
    failures = 0
    for round_ in range(sizes['rounds']):
        firsts = order_ids[round_ * sizes['first']:(round_ + 1) * sizes['first']]
        submitted = submitted_ids[round_ * sizes['transitions']:(round_ + 1) * sizes['transitions']]
        kinds = {
            'baseline': [get(paths.baseline)] * sizes['baseline'],
            'statement': [get(paths.statement)] * sizes['baseline'],
            'route': [post(paths.route, duplicate_body)] * sizes['baseline'],
            'first': [post(paths.feedback, feedback_body(o)) for o in firsts],
            'duplicate': [post(paths.feedback, duplicate_body)] * sizes['duplicate'],
            'spread': [post(paths.feedback, spread_bodies[i % len(spread_bodies)]) for i in range(sizes['duplicate'])],
            'transitions': [get(paths.transitions(i)) for i in submitted],
            }
        for kind, requests in kinds.items():
            seconds, statuses = load(port, requests)
            failures += sum(1 for status in statuses if status != 200)
            rates[kind].append(len(requests) / seconds)
        for kind in ratios:
            ratios[kind].append(rates[kind][-1] / rates['baseline'][-1])
            statement_ratios[kind].append(rates[kind][-1] / rates['statement'][-1])
            route_ratios[kind].append(rates[kind][-1] / rates['route'][-1])
        over_transitions.append(rates['first'][-1] / rates['transitions'][-1])
        first_sent += firsts
        moved += submitted
        duplicates += sizes['duplicate']
    print(f"{WORKERS} gunicorn workers, {CLIENTS} clients, PostgreSQL, {sizes['rounds']} rounds "
        f"(median): requests/s, ratio to the baseline, to one statement and to the trytond route of the same round")
    for kind, label in (('baseline', 'baseline (writable transaction)'),
            ('statement', 'one statement (SELECT 1)'), ('route', 'trytond route (nothing in it)'),
            ('first', 'first feedback'), ('duplicate', 'duplicate of a final feedback'),
            ('spread', 'duplicates spread over 32 payments'),
            ('transitions', 'transitions alone (reference)')):
        ratio = (f"{statistics.median(ratios[kind]):6.3f} {statistics.median(statement_ratios[kind]):6.3f}"
            f" {statistics.median(route_ratios[kind]):6.3f}" if kind in ratios else ' ' * 20)
        print(f"  {label:<34} {statistics.median(rates[kind]):8.1f} req/s  {ratio}"
            f"   rounds: {', '.join(f'{r:.1f}' for r in rates[kind])}")
    print(f"  first feedback / transitions alone: {statistics.median(over_transitions):.3f}"
        f"   rounds: {', '.join(f'{r:.3f}' for r in over_transitions)}")
    return first_sent, moved, duplicates, sizes['rounds'] * sizes['duplicate'], failures


def load_profiled(stack, kind, work, paths, duplicate_body, order_ids, submitted_ids):
    "Serve the kind with the workers' profilers on, then print the merged summary; return how many were sent"
    import pstats
    requests = {
        'first': lambda: [post(paths.feedback, feedback_body(o), profiled=True) for o in order_ids],
        'duplicate': lambda: [post(paths.feedback, duplicate_body, profiled=True)] * PROFILED,
        'transitions': lambda: [get(paths.transitions(i), profiled=True) for i in submitted_ids],
        }[kind]()
    seconds, statuses = load(stack.web_port, requests)
    stack.web.stop()  # each worker writes its profile as it exits
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
