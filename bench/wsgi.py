"""trytond's WSGI application plus the baseline of bench_feedback.py, served by the same gunicorn.

``/<database>/bench/baseline`` opens a writable trytond transaction on the database and answers a constant:
what any route of the module pays at least (a worker, a connection from the pool, a transaction, the
response). psycopg begins a transaction on PostgreSQL with its first statement, so this one sends none:
``/<database>/bench/statement`` does the same with a ``SELECT 1`` (BEGIN, SELECT, COMMIT).
``/<database>/bench/route`` is a route of trytond's application itself, with the decorators of the module's routes
(``with_pool``, a writable ``with_transaction``) and nothing in it: what a request pays before the module's code
runs, werkzeug's routing and request included (for reference).
``/<database>/bench/transitions/<payment id>`` moves a submitted payment as a first paid feedback must, and
nothing else: trytond's ``process`` then ``succeed`` transitions, with the hooks of every activated module
(what the Ogone route cannot do with less, since the transitions must stay real). Every other path goes to
``trytond.application.app``.

With BENCH_PROFILE_DIR set, the requests that carry ``X-Bench-Profile`` run under cProfile, and each worker
writes its profile there when it exits (bench/gunicorn_profile.py).
"""
import cProfile
import os

from trytond.application import app as trytond_app
from trytond.pool import Pool
from trytond.protocols.wrappers import Response, with_pool, with_transaction
from trytond.transaction import Transaction

BASELINE = '/bench/baseline'
STATEMENT = '/bench/statement'
TRANSITIONS = '/bench/transitions/'
PROFILE_DIR = os.environ.get('BENCH_PROFILE_DIR')
profile = cProfile.Profile() if PROFILE_DIR else None


@trytond_app.route('/<database_name>/bench/route', methods=['GET', 'POST'])
@with_pool
@with_transaction(readonly=False)
def bare_route(request, pool):
    return Response('OK', content_type='text/plain')


def app(environ, start_response):
    path = environ.get('PATH_INFO', '')
    database, _, rest = path.lstrip('/').partition('/')
    if '/' + rest in {BASELINE, STATEMENT}:
        with Transaction().start(database, 0, readonly=False) as transaction:
            if '/' + rest == STATEMENT:
                transaction.connection.cursor().execute('SELECT 1')
            transaction.commit()
        start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', '2')])
        return [b'OK']
    if ('/' + rest).startswith(TRANSITIONS):
        return transitions(database, int(rest.rsplit('/', 1)[1]), environ, start_response)
    if profile is not None and environ.get('HTTP_X_BENCH_PROFILE'):
        # The whole response, body included, as gunicorn reads it
        return profile.runcall(lambda: list(trytond_app(environ, start_response)))
    return trytond_app(environ, start_response)


def transitions(database, payment_id, environ, start_response):
    if database not in Pool.database_list():
        Pool(database).init()
    pool = Pool(database)

    def run():
        with Transaction().start(database, 0, readonly=False, context={'_skip_warnings': True}) as transaction:
            Payment = pool.get('account.payment')
            # As the return route does: paid already, nothing is to be sent for it
            with transaction.set_context(_ogone_update=True):
                Payment.process([Payment(payment_id)])
            Payment.succeed([Payment(payment_id)])
            transaction.commit()
    if profile is not None and environ.get('HTTP_X_BENCH_PROFILE'):
        profile.runcall(run)
    else:
        run()
    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', '2')])
    return [b'OK']


def dump_profile():
    if profile is not None:
        profile.dump_stats(os.path.join(PROFILE_DIR, f'profile-{os.getpid()}.prof'))
