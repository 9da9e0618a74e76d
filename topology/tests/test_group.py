"""A month-end group of 1,000 saved-card payments on the production topology: the accountant processes the
group, which queues one charge per payment, and the two trytond-worker processes send them to the sandbox.

Each ORDERID is charged exactly once at the sandbox, every payment ends final, and the payments Ogone has
not decided when the workers are done (uncertain, processed offline) are each in reach of a cron that
finishes them: the reconciliation cron, run once Ogone settled them, does."""
from __future__ import annotations

import datetime as dt
import os
import time
from collections import Counter
from decimal import Decimal
from types import SimpleNamespace

import pytest
import requests

from topology import Stack

from .load import figures, sandbox_transactions, scaled, wait_until

PAYMENTS = scaled(1000, minimum=50)
APPROVED = ["4111111111111111", "5399999999999999", "374111111111111", "6759649826438453", "3530111333300000"]
REFUSED = "4000000000000028"
UNCERTAIN = "4000000000000523"  # STATUS 92, settling to 9
OFFLINE = "4000000000000911"  # STATUS 91, settling to 9
FINAL = {"succeeded", "failed"}
# The sandbox's final status for each card, and Tryton's state for it
EXPECTED = {REFUSED: (2, "failed"), UNCERTAIN: (9, "succeeded"), OFFLINE: (9, "succeeded"),
            **{number: (9, "succeeded") for number in APPROVED}}


def card_of(index):
    "Most cards are approved, one in ten refused, one in fifty uncertain and one in fifty processed offline"
    if index % 50 == 7:
        return UNCERTAIN
    if index % 50 == 23:
        return OFFLINE
    if index % 10 == 5:
        return REFUSED
    return APPROVED[index % len(APPROVED)]


@pytest.fixture(scope="module")
def stack():
    # The sandbox settles the uncertain and offline payments when told, not on its own clock
    with Stack(web_processes=2, workers=2, cron=True, log_dir=os.environ.get("LOAD_LOG_DIR"),
               merchant={"settle_delay": 3600, "uncertain_delay": 3600}) as running:
        yield running


def saved_cards(stack):
    "One customer per card, the card saved at the sandbox through its Alias Gateway"
    from proteus import Model
    cards = {}
    for number in [*APPROVED, REFUSED, UNCERTAIN, OFFLINE]:
        party = Model.get("party.party")(name=f"Customer {number[-4:]}")
        party.save()
        cards[number] = (party.id, stack.save_card(party.id, number))
    return cards


def crons_for_the_company(stack, methods):
    "What the setup guide asks of the administrator: the module's crons run for the company"
    from proteus import Model
    Cron = Model.get("ir.cron")
    Company = Model.get("company.company")
    crons = {}
    for method in methods:
        cron, = Cron.find([("method", "=", f"account.payment|{method}")])
        if stack.company_id not in [c.id for c in cron.companies]:
            cron.companies.append(Company(stack.company_id))
            cron.save()
        crons[method] = cron
    return crons


def payment_states(stack, ids):
    "What the test reads of each payment, read in one transaction"
    with stack.transaction() as pool:
        Payment = pool.get("account.payment")
        return {p.id: SimpleNamespace(state=p.state, ogone_status=p.ogone_status, ogone_order_id=p.ogone_order_id,
                                      orders=len(p.ogone_orders)) for p in Payment.browse(ids)}


def left_to_crons(stack, ids):
    """The payments still processing, each with the cron that will finish it: the charge cron sends what was
    never sent, the reconciliation cron queries what was sent and is not final"""
    with stack.transaction() as pool:
        Payment = pool.get("account.payment")
        Cron = pool.get("ir.cron")
        processing = Payment.search([("id", "in", ids), ("state", "=", "processing")])
        reach = {}
        for payment in processing:
            if payment.ogone_to_charge:
                reach[payment.id] = "ogone_charge"
            elif payment.ogone_order_id and not payment.ogone_capture_needed:
                reach[payment.id] = "ogone_reconcile"
            else:
                reach[payment.id] = None
        for method in set(reach.values()) - {None}:
            cron, = Cron.search([("method", "=", f"account.payment|{method}")])
            assert cron.active and cron.next_call and stack.company_id in [c.id for c in cron.companies], method
        return reach


def test_a_group_of_saved_cards_is_charged_once_each_by_two_workers(stack):
    from proteus import Model, Wizard

    stack.proteus()
    cards = saved_cards(stack)
    crons = crons_for_the_company(stack, ["ogone_charge", "ogone_reconcile"])
    Payment = Model.get("account.payment")
    Alias = Model.get("account.payment.ogone.alias")
    payments = []
    for index in range(PAYMENTS):
        party_id, alias_id = cards[card_of(index)]
        payment = Payment(journal=stack.journal_id, kind="receivable", party=party_id,
                          amount=Decimal("10.00") + Decimal(index) / 100)
        payment.ogone_alias = Alias(alias_id)
        payments.append(payment)
    Payment.save(payments)
    Payment.click(payments, "submit")
    ids = [p.id for p in payments]
    card = {p.id: card_of(index) for index, p in enumerate(payments)}

    started = time.monotonic()
    # The accountant processes the group: [queue] worker = True, so this only queues one charge per payment
    Wizard("account.payment.process", payments)
    queued = time.monotonic() - started

    def answered():
        "Every payment final or given a status by Ogone, and no charge task left"
        with stack.transaction() as pool:
            Queue = pool.get("ir.queue")
            if Queue.search([("finished_at", "=", None)], count=True):
                return False
            Payment = pool.get("account.payment")
            return not Payment.search([("id", "in", ids), ("state", "=", "processing"),
                                       ("ogone_status", "=", None)], count=True)
    wait_until(answered, 60 + PAYMENTS * 0.6, "the workers charging the group")
    charged = time.monotonic() - started
    after_workers = Counter((p.state, p.ogone_status) for p in payment_states(stack, ids).values())

    # Left for later by Ogone: each must be in reach of a cron; once Ogone settled them, the
    # reconciliation cron (its run brought forward) finishes them through the workers.
    reach = left_to_crons(stack, ids)
    assert None not in reach.values(), [i for i, cron in reach.items() if cron is None]
    assert {card[i] for i in reach} <= {UNCERTAIN, OFFLINE}, reach
    for payment_id in reach:
        order_id = payment_states(stack, [payment_id])[payment_id].ogone_order_id
        requests.post(f"{stack.sandbox_url}admin/api/settle", timeout=10,
                      json={"pspid": "SANDBOX", "orderid": order_id}).raise_for_status()
    for method in sorted(set(reach.values())):
        crons[method].click("run_once")
    wait_until(lambda: not payment_states_in(stack, ids, {"processing"}), 120, "the crons finishing the rest")
    total = time.monotonic() - started

    final = payment_states(stack, ids)
    transactions = sandbox_transactions(stack)
    by_order = Counter(t["orderid"] for t in transactions)
    status = {t["orderid"]: t["status"] for t in transactions}
    figures(f"Group: {PAYMENTS} saved-card payments, 2 trytond-worker processes", [
        f"process wizard (queues the charges) {queued:.1f} s; workers done {charged - queued:.1f} s after it = "
        f"{PAYMENTS / (charged - queued):.1f} payments/s; end to end {PAYMENTS / charged:.1f} payments/s; "
        f"all final after the reconciliation cron at {total:.1f} s",
        "after the workers (state, STATUS): " + ", ".join(
            f"{state} {code} x {n}" for (state, code), n in sorted(after_workers.items(), key=str)),
        f"left to the reconciliation cron: {len(reach)}",
        f"sandbox transactions {len(transactions)} for {len(final)} payments; "
        f"ORDERIDs charged more than once: {sum(1 for n in by_order.values() if n > 1)}"])

    assert len(transactions) == PAYMENTS
    for payment_id, payment in final.items():
        assert payment.state in FINAL, payment_id
        assert by_order[payment.ogone_order_id] == 1, (payment_id, payment.ogone_order_id)
        assert payment.orders == 1, payment_id
        assert (status[payment.ogone_order_id], payment.state) == EXPECTED[card[payment_id]], payment_id
        assert payment.ogone_status == str(status[payment.ogone_order_id]), payment_id

    # The crons run again find nothing to send
    crons["ogone_charge"].click("run_once")
    crons["ogone_reconcile"].click("run_once")
    with stack.transaction() as pool:
        Queue = pool.get("ir.queue")
        assert Queue.search([("finished_at", "=", None)], count=True) == 0
    assert len(sandbox_transactions(stack)) == PAYMENTS


def payment_states_in(stack, ids, states):
    with stack.transaction() as pool:
        Payment = pool.get("account.payment")
        return Payment.search([("id", "in", ids), ("state", "in", list(states))], count=True)
