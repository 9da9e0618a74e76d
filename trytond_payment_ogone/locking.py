"""Row locks that wait, for the records several requests may change at once."""
import contextlib

from sql import For

from trytond import backend, config
from trytond.transaction import Transaction

try:
    from psycopg import Pipeline
except ImportError:  # SQLite only
    Pipeline = None


def lock_timeout():
    "Seconds a request waits for the lock of a record another one holds"
    return max(1, config.getint(
            'account_payment_ogone', 'lock_timeout', default=10))


def lock_rows(Model, records, share=False):
    """Lock the records so that concurrent requests apply one at a time

    It waits for a request holding one of them to finish, up to
    [account_payment_ogone] lock_timeout seconds, and then raises a
    DatabaseOperationalError, which trytond retries. When a record changed
    since the transaction began, the transaction is restarted from the
    beginning: what runs before must have no effect outside the database.

    A share lock is for a request that reads the records without changing
    them: several take it at once, and it waits for, and is waited for by,
    the requests that lock them to change them. Only PostgreSQL has it: the
    other backends lock as for a change.
    """
    transaction = Transaction()
    ids = sorted({r.id for r in records})
    if not ids:
        return
    table = Model.__table__()
    cursor = transaction.connection.cursor()
    if backend.name == 'postgresql':
        # trytond's own lock does not wait (NOWAIT): under a burst of
        # duplicate requests most would fail. In this REPEATABLE READ
        # transaction, a row updated by the request waited for raises a
        # serialization failure, so what follows always reads the rows as
        # last committed. In the order of their ids, so that two requests
        # never deadlock.
        with_lock_timeout(cursor, table.select(
                table.id, where=table.id.in_(ids), order_by=table.id,
                for_=For('SHARE' if share else 'UPDATE')))
    else:
        Model.lock(records)
    if backend.name == 'sqlite':
        # SQLite has no row lock and reads outside of a write transaction:
        # writing first takes its database lock, and the reads that follow
        # see what the previous request committed.
        touch_rows(Model, records)
        for cache in transaction.cache.values():
            cache.clear()


def with_lock_timeout(cursor, *queries):
    """Run the queries, which take row locks, under the module's lock
    timeout, and give the transaction its own timeout back afterwards: one
    round trip to PostgreSQL (a pipeline) instead of one per statement

    A query that cannot have its lock raises a DatabaseOperationalError
    when the pipeline ends, and the statements after it are not run.
    """
    # libpq before 14 has no pipeline: one round trip per statement there
    pipeline = (cursor.connection.pipeline() if Pipeline.is_supported()
        else contextlib.nullcontext())
    with pipeline:
        cursor.execute(
            "SELECT set_config('account_payment_ogone.lock_timeout_before', "
            "current_setting('lock_timeout'), true)")
        cursor.execute(
            "SELECT set_config('lock_timeout', %s, true)",
            (f'{lock_timeout() * 1000:d}ms',))
        for query in queries:
            cursor.execute(*query)
        cursor.execute(
            "SELECT set_config('lock_timeout', current_setting("
            "'account_payment_ogone.lock_timeout_before'), true)")


def touch_rows(Model, records):
    """Write the rows without changing them

    A request that waits for their lock then reads what this transaction
    wrote elsewhere, even in other tables: on PostgreSQL its own snapshot is
    refused and trytond restarts it.
    """
    ids = sorted({r.id for r in records})
    if not ids:
        return
    table = Model.__table__()
    cursor = Transaction().connection.cursor()
    cursor.execute(*table.update(
            [table.id], [table.id], where=table.id.in_(ids)))
