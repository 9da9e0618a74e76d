"""Crash consistency on the production topology: a trytond-worker is killed (SIGKILL) after its DirectLink call
reached Ogone and before its transaction committed the answer. The payment (or refund) stays processing; once
the worker is restarted, trytond-cron's reconciliation queries Ogone and settles it; Ogone charged (refunded)
exactly once.

The moment is chosen at the sandbox, not with a hook in the product: the fault ``answer_delay`` holds the answer
after the operation is recorded, and the sandbox's list of held answers gives the address of the waiting
connection, hence the worker process that sent it. The sandbox sends no feedback here (``feedback_timing``
``none``), so that only the query can tell Tryton what happened.
"""
from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

import pytest
import requests

from ogone_core.sandbox.merchants import DEFAULT_MERCHANT
from topology import Stack
from topology.processes import _socket_inodes, wait_until

HELD_FOR = 60.0  # how long the sandbox holds the answer: longer than the test needs to kill the worker
PSPID = DEFAULT_MERCHANT.pspid  # the stack's Ogone account
RESOLVED_WITHIN = 180.0  # trytond-cron wakes up once a minute; then a worker runs the query


@pytest.fixture(scope="module")
def stack():
    # settle_delay 0: a refund is settled (8) when Ogone is next asked about it, not half a minute later
    with Stack(web_processes=2, workers=2, cron=True,
               merchant={"feedback_timing": "none", "settle_delay": 0}) as running:
        running.proteus()
        yield running


def sandbox_admin(stack, path, **params):
    response = requests.get(f"{stack.sandbox_url}admin/api/{path}", params=params, timeout=10)
    response.raise_for_status()
    return response.json()


def add_fault(stack, order_id, page):
    requests.post(f"{stack.sandbox_url}admin/api/faults", timeout=10, json={
        "pspid": PSPID, "orderid": order_id, "times": 1,
        "faults": {"answer_delay": HELD_FOR, "pages": [page]}}).raise_for_status()


def wait_for(condition, deadline, what):
    return wait_until(condition, deadline, what, interval=0.1)


def worker_waiting_on(stack, client_address):
    """The index of the trytond-worker one of whose processes holds the connection ``host:port`` (the local end,
    as the sandbox sees its client)"""
    port = int(client_address.rsplit(":", 1)[1])
    local = f":{port:04X}"
    with open("/proc/net/tcp") as table:
        inodes = {row.split()[9] for row in table.read().splitlines()[1:] if row.split()[1].endswith(local)}
    found = [index for index, worker in enumerate(stack.workers)
             if any(_socket_inodes(pid) & inodes for pid in worker.group_pids())]
    assert len(found) == 1, (client_address, found)
    return found[0]


def kill_the_waiting_worker(stack, order_id, page):
    "Once the sandbox holds the answer about ``order_id``, SIGKILL the worker waiting for it; returns its index"
    held = wait_for(lambda: [h for h in sandbox_admin(stack, "held", pspid=PSPID)["held"]
                             if h["orderid"] == order_id and h["page"] == page], 60, f"{page} of {order_id}")
    index = worker_waiting_on(stack, held[0]["client"])
    stack.kill_worker(index)
    # Killed while waiting: the sandbox sees the connection close with the answer never given
    wait_for(lambda: held[0]["id"] not in [h["id"] for h in sandbox_admin(stack, "held", pspid=PSPID)["held"]],
             10, "the sandbox to see the killed worker's connection close")
    return index


def run_crons_now(stack):
    """Makes trytond-cron run, at its next wake-up (within a minute), the reconciliation for the company (the
    module's crons select the payments of the companies they are set for) and trytond's retry of the tasks left
    unfinished (hourly)"""
    with stack.transaction() as pool:
        Cron = pool.get("ir.cron")
        reconcile, = Cron.search([("method", "=", "account.payment|ogone_reconcile")])
        retry, = Cron.search([("method", "=", "ir.queue|retry")])
        due = dt.datetime.now() - dt.timedelta(minutes=1)
        Cron.write([reconcile], {"companies": [("add", [stack.company_id])], "next_call": due},
                   [retry], {"next_call": due})


def decided(state_of, states=("succeeded", "failed")):
    "Waits until ``state_of()`` is one of ``states``; returns it"
    def final():
        state = state_of()
        return state if state in states else None
    return wait_for(final, RESOLVED_WITHIN, f"one of {states}")


def figures(title, lines):
    "Printed where pytest shows them (-s) and in the captured output of a failure"
    print(f"\n== {title}")
    for line in lines:
        print(f"   {line}")


def tasks(stack, method, record_id):
    with stack.transaction() as pool:
        Queue = pool.get("ir.queue")
        return [(task.dequeued_at, task.finished_at) for task in Queue.search([])
                if task.data.get("method") == method and record_id in (task.data.get("instances") or [])]


def new_payment(stack, amount, card="4111111111111111"):
    from proteus import Model
    party = Model.get("party.party")(name="Crash Customer")
    party.save()
    alias = stack.save_card(party.id, card)
    payment = Model.get("account.payment")(journal=stack.journal_id, kind="receivable", party=party,
                                           amount=amount)
    payment.ogone_alias = Model.get("account.payment.ogone.alias")(alias)
    payment.click("submit")
    return payment


def order_id_of(stack, payment, attempt):
    with stack.transaction() as pool:
        prefix = pool.get("account.payment.ogone.account")(stack.account_id).effective_order_id_prefix
    return f"{prefix}-{payment.id}-{attempt}"


def charges_of(stack, order_id):
    "Every order the sandbox recorded for the payment of ``order_id``, whatever its attempt number"
    prefix = order_id.rsplit("-", 1)[0] + "-"
    return [t for t in stack.sandbox_transactions() if t["orderid"].startswith(prefix)]


def settle_after_restart(stack, killed, killed_at, task, record):
    """The task the killed worker died in is taken and never finished: restart the worker, make the crons due,
    and wait until the reconciliation has made the record succeed and the task has run again; return the
    seconds from the kill to the record's success"""
    (dequeued, finished), = tasks(stack, task, record.id)
    assert dequeued is not None and finished is None

    stack.restart_worker(killed)
    run_crons_now(stack)

    def state():
        record.reload()
        return record.state
    assert decided(state) == "succeeded"
    resolved_after = time.monotonic() - killed_at
    wait_for(lambda: all(finished for _, finished in tasks(stack, task, record.id)), 90,
             f"the interrupted {task} task to run again")
    record.reload()
    return resolved_after


def test_a_worker_killed_after_charging_leaves_a_payment_the_reconciliation_settles_once(stack):
    from proteus import Model, Wizard

    payment = new_payment(stack, Decimal("42.00"))
    order_id = order_id_of(stack, payment, 1)
    add_fault(stack, order_id, "orderdirect")
    Wizard("account.payment.process", [payment])

    killed = kill_the_waiting_worker(stack, order_id, "orderdirect")
    killed_at = time.monotonic()
    charged, = stack.sandbox_transactions(order_id)
    assert charged["status"] == 9 and Decimal(charged["amount"]) == Decimal("42.00")
    payment.reload()
    assert (payment.state, payment.ogone_order_id, payment.ogone_status) == ("processing", order_id, None)
    resolved_after = settle_after_restart(stack, killed, killed_at, "ogone_charge", payment)
    assert payment.ogone_pay_id == str(charged["payid"]) and payment.ogone_attempts == 1
    history = [(f.source, f.status, f.applied) for f in payment.ogone_feedbacks]
    assert ("query", "9", True) in history and not [h for h in history if h[0] == "directlink"], history
    # The charge task, run again after the retry, found the payment sent and sent nothing
    charges = charges_of(stack, order_id)
    assert [t["orderid"] for t in charges] == [order_id]
    assert Model.get("account.payment")(payment.id).state == "succeeded"
    figures("Crash after the charge reached Ogone (worker SIGKILLed, restarted)", [
        f"payment succeeded {resolved_after:.0f} s after the kill, by the reconciliation's query "
        "(trytond-cron wakes up once a minute)",
        f"charges at the sandbox for the payment: {len(charges)}; attempts: {payment.ogone_attempts}"])


def test_a_worker_killed_after_refunding_leaves_a_refund_the_reconciliation_settles_once(stack):
    from proteus import Model, Wizard

    payment = new_payment(stack, Decimal("30.00"))
    Wizard("account.payment.process", [payment])

    def payment_state():
        payment.reload()
        return payment.state
    assert decided(payment_state) == "succeeded"
    charged, = stack.sandbox_transactions(payment.ogone_order_id)

    add_fault(stack, payment.ogone_order_id, "maintenancedirect")
    refund = Model.get("account.payment.ogone.refund")(payment=payment, amount=Decimal("12.00"),
                                                        reason="Returned")
    refund.click("submit")
    refund.click("approve")

    killed = kill_the_waiting_worker(stack, payment.ogone_order_id, "maintenancedirect")
    killed_at = time.monotonic()
    lines = sandbox_admin(stack, f"transactions/{charged['payid']}")["history"]
    refunds = [line for line in lines if line["operation"] in ("RFD", "RFS")]
    assert [(line["operation"], Decimal(line["amount"])) for line in refunds] == [("RFD", Decimal("12.00"))]
    refund.reload()
    assert (refund.state, refund.ogone_sent, refund.ogone_pay_id_sub) == ("processing", True, None)
    resolved_after = settle_after_restart(stack, killed, killed_at, "ogone_process", refund)
    assert refund.ogone_pay_id_sub == str(refunds[0]["payidsub"]) and refund.ogone_status == "8"
    payment.reload()
    assert (payment.state, payment.amount) == ("succeeded", Decimal("18.00"))
    lines = sandbox_admin(stack, f"transactions/{charged['payid']}")["history"]
    refunded = [line for line in lines if line["operation"] in ("RFD", "RFS")]
    assert [line["operation"] for line in refunded] == ["RFD"]
    assert len(charges_of(stack, payment.ogone_order_id)) == 1
    figures("Crash after the refund reached Ogone (worker SIGKILLed, restarted)", [
        f"refund succeeded {resolved_after:.0f} s after the kill, by the reconciliation's query "
        "(trytond-cron wakes up once a minute)",
        f"refunds at the sandbox for the order: {len(refunded)}; payment amount now {payment.amount}"])
