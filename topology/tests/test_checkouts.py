"""500 customers paying at the same time on the production topology: each opens its payment's checkout
link on gunicorn, pays (or is refused, or cancels) on the sandbox's pages, and comes back to Tryton, while
the sandbox sends its server-to-server feedback to gunicorn too.

Every payment ends in the state the sandbox shows for its ORDERID, and every request, the customer's and
the sandbox's, was answered without a server error."""
from __future__ import annotations

import os
import time
from collections import Counter
from decimal import Decimal

import pytest

from topology import Stack

from .load import Timings, figures, run_concurrently, sandbox_transactions, scaled, web_restarts

CHECKOUTS = scaled(500, minimum=20)
CUSTOMERS = 24
BASELINE = 10  # customers paying one after the other first, the baseline of the run
# What customers do on the payment page, one customer in ten of each kind but the paying ones
PAID, REFUSED, CANCELLED = "paid", "refused", "cancelled"
CARDS = {PAID: "4111111111111111", REFUSED: "4000000000000028", CANCELLED: "4111111111111111"}
# Tryton's state for the sandbox's final status
STATES = {9: "succeeded", 2: "failed", 1: "failed"}


def behaviour(index):
    return {3: REFUSED, 7: CANCELLED}.get(index % 10, PAID)


@pytest.fixture(scope="module")
def stack():
    with Stack(web_processes=2, web_threads=2, workers=2, cron=True,
               log_dir=os.environ.get("LOAD_LOG_DIR")) as running:
        yield running


def checkout_links(stack, count):
    "Submitted payments and their checkout links, as the accountant's button gives them"
    from proteus import Model

    Payment = Model.get("account.payment")
    payments = [Payment(journal=stack.journal_id, kind="receivable", party=stack.party_id,
                        amount=Decimal("5.00") + Decimal(index) / 4) for index in range(count)]
    Payment.save(payments)
    Payment.click(payments, "submit")
    with stack.transaction() as pool:
        Payment = pool.get("account.payment")
        links = {}
        for payment in Payment.browse([p.id for p in payments]):
            Payment.ogone_checkout([payment])
            links[payment.id] = Payment(payment.id).ogone_checkout_url
    return links


def customer(stack, payment_id, link, kind, timings):
    "A customer's checkout; it answers (payment id, the sandbox's STATUS, the return page's HTTP status)"
    from ogone_core.sandbox.customer import pay
    from trytond_payment_ogone.demo import checkout_form

    def task(session):
        started = time.monotonic()
        action, fields = checkout_form(link)
        assert action.startswith(stack.sandbox_base_url), action
        result = pay(action, fields, CARDS[kind], cancel=kind == CANCELLED, session=session)
        # The browser comes back to the return URL with the feedback on its query
        back = session.get(result.url, timeout=120)
        timings.record(back.status_code, time.monotonic() - started)
        return payment_id, result.status, back.status_code
    return task


def server_feedback_answers(stack, transactions):
    "The HTTP status of each attempt the sandbox made to deliver its server-to-server feedback"
    import requests
    answers = Counter()
    session = requests.Session()
    for transaction in transactions:
        detail = session.get(f"{stack.sandbox_url}admin/api/transactions/{transaction['payid']}", timeout=30)
        detail.raise_for_status()
        for job in detail.json()["feedback"]:
            for attempt in job["attempts"]:
                answers[attempt["http_status"] or attempt["error"]] += 1
    return answers


def test_concurrent_checkouts_end_as_the_sandbox_shows(stack):
    stack.proteus()
    links = checkout_links(stack, CHECKOUTS)
    alone, timings = Timings(), Timings()
    tasks = [customer(stack, payment_id, link, behaviour(index), alone if index < BASELINE else timings)
             for index, (payment_id, link) in enumerate(sorted(links.items()))]
    alone.started = time.monotonic()
    answers = run_concurrently(tasks[:BASELINE], 1)
    alone.stop()
    timings.started = time.monotonic()
    answers += run_concurrently(tasks[BASELINE:], CUSTOMERS)
    timings.stop()
    kinds = {payment_id: behaviour(index) for index, payment_id in enumerate(sorted(links))}
    outcomes = Counter((kinds[payment_id], status, code) for payment_id, status, code in answers)
    paid_statuses = {payment_id: status for payment_id, status, _ in answers}

    with stack.transaction() as pool:
        payments = {p.id: (p.state, p.ogone_status, p.ogone_order_id)
                    for p in pool.get("account.payment").browse(list(links))}
    transactions = sandbox_transactions(stack)
    by_order = {}
    for transaction in transactions:
        by_order.setdefault(transaction["orderid"], []).append(transaction)
    deliveries = server_feedback_answers(stack, transactions)
    figures(f"Checkouts: {CHECKOUTS} customers paying, {CUSTOMERS} at a time, gunicorn 2 processes x 2 threads", [
        f"{CUSTOMERS} at a time: " + timings.summary("checkouts"),
        "baseline, one at a time: " + alone.summary("checkouts"),
        f"throughput concurrent/baseline {timings.count / timings.elapsed / (alone.count / alone.elapsed):.2f}",
        "outcomes (behaviour, sandbox STATUS, return page HTTP): " + ", ".join(
            f"{kind} {status} {code} x {n}" for (kind, status, code), n in sorted(outcomes.items())),
        "Tryton states: " + ", ".join(f"{s} x {n}" for s, n in sorted(Counter(
            state for state, _, _ in payments.values()).items())),
        "sandbox server-to-server deliveries, per answer: " + ", ".join(
            f"{code} x {n}" for code, n in sorted(deliveries.items(), key=str))])

    assert alone.statuses + timings.statuses == Counter({200: CHECKOUTS})
    assert web_restarts(stack) == []
    assert deliveries == Counter({200: CHECKOUTS})
    assert {kind: outcomes_of(outcomes, kind) for kind in (PAID, REFUSED, CANCELLED)} == {
        PAID: {9}, REFUSED: {2}, CANCELLED: {1}}
    for payment_id, (state, ogone_status, order_id) in payments.items():
        found = by_order.get(order_id, [])
        assert len(found) == 1, (payment_id, order_id, found)
        sandbox_status = found[0]["status"]
        assert sandbox_status == paid_statuses[payment_id], payment_id
        assert (state, ogone_status) == (STATES[sandbox_status], str(sandbox_status)), payment_id


def outcomes_of(outcomes, kind):
    return {status for (k, status, _), n in outcomes.items() if k == kind}
