"""A storm of duplicate feedback on the production topology: for each payment, 100 correctly signed
feedbacks from 20 concurrent clients over real HTTP to gunicorn, browser redirects (GET) and
server-to-server requests (POST) mixed, identical duplicates, pending and authorized news after the paid
one, and Ogone's deferred retries arriving after the first wave settled.

Each payment moves once (one clearing move), no request gets a 5xx, and every accepted feedback is a line
of the payment's history."""
from __future__ import annotations

import datetime as dt
import os
import random
import time
from collections import Counter
from decimal import Decimal

import pytest

from topology import Stack

from .load import Timings, figures, run_concurrently, web_restarts

PAYMENTS = 5  # cheap enough to run whole in make test
FEEDBACKS = 100  # per payment: the first wave and the deferred retries
CLIENTS = 20
# The first wave: what the customer's browser and Ogone's server send while the payment is being decided
FIRST_WAVE = [("9", 45), ("5", 15), ("51", 15)]
# Ogone's deferred retries and late pending news, once the payment is paid
SECOND_WAVE = [("9", 10), ("51", 8), ("5", 7)]
RANKS = {"51": 1, "5": 3, "9": 4}
assert sum(n for _, n in FIRST_WAVE + SECOND_WAVE) == FEEDBACKS


@pytest.fixture(scope="module")
def stack():
    with Stack(web_processes=2, web_threads=2, workers=2, cron=True, log_dir=os.environ.get("LOAD_LOG_DIR")) as running:
        yield running


def clearing_journal(stack):
    """A journal whose succeeded payments post a clearing move at once: a payment that succeeded twice would
    show a second move"""
    from proteus import Model
    from trytond.modules.account.tests.tools import create_chart, create_fiscalyear, get_accounts
    from trytond.modules.account_invoice.tests.tools import set_fiscalyear_invoice_sequences

    create_chart()
    fiscalyear = set_fiscalyear_invoice_sequences(create_fiscalyear())
    fiscalyear.click("create_period")
    accounts = get_accounts()
    clearing = Model.get("account.account")(
        parent=accounts["payable"].parent, name="Ogone Clearing", type=accounts["payable"].type,
        reconcile=True, deferral=True)
    clearing.save()
    cash, = Model.get("account.journal").find([("code", "=", "CASH")])
    # The first move of a period in a journal creates its journal-period under a table lock that trytond
    # takes without waiting (NOWAIT, a few tries): the first payments of a period settled at the same
    # moment may get a 503, which Ogone retries. A running accounting has it already.
    period, = [p for p in fiscalyear.periods if p.start_date <= dt.date.today() <= p.end_date]
    Model.get("account.journal.period")(journal=cash, period=period).save()
    Journal = Model.get("account.payment.journal")
    journal = Journal(name="Ogone (clearing)", process_method="ogone", ogone_account=stack.account_id,
                      clearing_account=clearing, clearing_journal=cash, clearing_posting_delay=dt.timedelta(0))
    journal.save()
    return journal


def opened_checkouts(stack, journal, count):
    "Payments whose customer opened the checkout page, which gives each its ORDERID"
    import requests
    from proteus import Model

    Payment = Model.get("account.payment")
    payments = []
    for index in range(count):
        payment = Payment(journal=journal, kind="receivable", party=stack.party_id,
                          amount=Decimal("10.00") + index)
        payment.click("submit")
        link = payment.click("ogone_checkout")
        requests.get(link, timeout=30).raise_for_status()
        payment.reload()
        assert payment.ogone_order_id, payment.id
        payments.append(payment)
    return payments


def feedback_requests(payment, wave):
    "The feedbacks of one wave for a payment: (payment id, method, status, params), half GET, half POST"
    from ogone_core.sandbox.merchants import DEFAULT_MERCHANT
    from trytond_payment_ogone.tests.tools import signed_feedback

    requests_ = []
    for status, count in wave:
        params = signed_feedback(payment.ogone_order_id, status, payment.amount, passphrase=DEFAULT_MERCHANT.sha_out,
                                 PAYID=f"7{payment.id:06d}")
        for index in range(count):
            requests_.append((payment.id, "GET" if index % 2 else "POST", status, params))
    return requests_


def send(stack, timings):
    "A client's request of a feedback; each answers (payment id, HTTP status)"
    def sender(request):
        payment_id, method, status, params = request

        def task(session):
            started = time.monotonic()
            if method == "GET":
                response = session.get(stack.return_url, params=params, timeout=120)
            else:
                response = session.post(stack.return_url, data=params, timeout=120)
            timings.record(response.status_code, time.monotonic() - started)
            return payment_id, response.status_code
        return task
    return sender


def history(stack, payment_ids):
    "Each payment's feedback lines in the order they were written: [(status, applied)]"
    with stack.transaction() as pool:
        Feedback = pool.get("account.payment.ogone.feedback")
        lines = Feedback.search([("payment", "in", payment_ids)], order=[("id", "ASC")])
        found = {payment_id: [] for payment_id in payment_ids}
        for line in lines:
            found[line.payment.id].append((line.status, line.applied))
        return found


def clearing_moves(stack, payment_ids):
    with stack.transaction() as pool:
        Move = pool.get("account.move")
        moves = Move.search([("origin", "in", [f"account.payment,{i}" for i in payment_ids])])
        return Counter(move.origin.id for move in moves)


def test_duplicate_storm_moves_each_payment_once(stack):
    from proteus import Model

    stack.proteus()
    baseline, *payments = opened_checkouts(stack, clearing_journal(stack), PAYMENTS + 1)
    ids = [p.id for p in payments]
    rng = random.Random(10)

    # The baseline of the same run: one client sends a payment's 100 feedbacks one after the other
    alone = Timings()
    one_by_one = feedback_requests(baseline, FIRST_WAVE + SECOND_WAVE)
    rng.shuffle(one_by_one)
    alone_answers = run_concurrently(map(send(stack, alone), one_by_one), 1)
    alone.stop()

    timings = Timings()
    sender = send(stack, timings)
    first = [r for p in payments for r in feedback_requests(p, FIRST_WAVE)]
    rng.shuffle(first)
    first_answers = run_concurrently(map(sender, first), CLIENTS)
    Payment = Model.get("account.payment")
    settled = {p.id: (p.state, p.ogone_status) for p in Payment.find([("id", "in", ids)])}
    after_first = history(stack, ids)

    # Ogone retries later what it did not know was received, and late pending news comes after the paid one
    second = [r for p in payments for r in feedback_requests(p, SECOND_WAVE)]
    rng.shuffle(second)
    second_answers = run_concurrently(map(sender, second), CLIENTS)
    timings.stop()

    ids_all = [baseline.id, *ids]
    lines = history(stack, ids_all)
    moves = clearing_moves(stack, ids_all)
    final = {p.id: p for p in Payment.find([("id", "in", ids_all)])}
    applied = Counter(status for found in lines.values() for status, moved in found if moved)
    figures(f"Duplicate storm: {PAYMENTS} payments x {FEEDBACKS} feedbacks, {CLIENTS} clients, "
            "gunicorn 2 processes x 2 threads", [
                "storm: " + timings.summary(),
                "baseline, one client, one payment: " + alone.summary(),
                f"throughput storm/baseline {timings.count / timings.elapsed / (alone.count / alone.elapsed):.2f}",
                f"first wave {len(first)}, deferred retries {len(second)}",
                "feedback lines applied, per status: " + ", ".join(
                    f"{status} x {n}" for status, n in sorted(applied.items())),
                f"clearing moves {sum(moves.values())} for {len(ids_all)} payments"])

    answers = alone_answers + first_answers + second_answers
    codes = [code for _, code in answers]
    accepted = Counter(payment_id for payment_id, code in answers if code == 200)
    assert web_restarts(stack) == []
    assert [c for c in codes if c >= 500] == []
    assert Counter(codes) == Counter({200: FEEDBACKS * len(ids_all)})
    for payment_id in ids_all:
        payment = final[payment_id]
        assert (payment.state, payment.ogone_status, payment.ogone_capture_needed) == ("succeeded", "9", False)
        assert not payment.ogone_review, payment_id
        # Every accepted feedback is in the history
        assert len(lines[payment_id]) == accepted[payment_id] == FEEDBACKS, payment_id
        moved = moved_of(lines[payment_id])
        # Each applied feedback moved the payment further, and only one paid it
        ranks = [RANKS[status] for status in moved]
        assert ranks == sorted(set(ranks)) and moved[-1] == "9", (payment_id, moved)
        assert moves[payment_id] == 1, payment_id
    for payment_id in ids:
        assert settled[payment_id] == ("succeeded", "9"), payment_id
        # The deferred retries and the late news after it was paid changed nothing
        assert [s for s, a in after_first[payment_id] if a] == moved_of(lines[payment_id]), payment_id


def moved_of(lines):
    return [status for status, applied in lines if applied]
