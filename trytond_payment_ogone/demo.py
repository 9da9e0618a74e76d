"""``make demo``, part 3: a customer pays a Tryton payment through the local Ogone sandbox.

Creates a scratch SQLite database with ``trytond-admin`` (as an administrator would), activates
account_payment_ogone, configures an Ogone account and journal for the sandbox, then pays a payment through
its checkout link over real HTTP: Tryton's checkout page, the sandbox's payment page, the sandbox's
server-to-server feedback and the browser's redirect back to Tryton's return route; then an invoice paid
from its link, a month end of saved cards, refunds and a double payment refunded from its review.

``python -m trytond_payment_ogone.demo --serve`` keeps both servers running afterwards and prints a checkout
link to pay in a real browser.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal
from html import unescape
from pathlib import Path

import requests

DATABASE = "ogone_demo"
ADMIN_PASSWORD = "admin"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def create_database(folder: Path, port: int) -> Path:
    """The commands an administrator runs: initialise a database, then activate the module."""
    config = folder / "trytond.conf"
    config.write_text(
        "[database]\nuri = sqlite://\npath = {path}\nlanguage = en\n"
        "[web]\nlisten = 127.0.0.1:{port}\nhostname = 127.0.0.1:{port}\n".format(path=folder, port=port))
    (folder / f"{DATABASE}.sqlite").touch()
    passfile = folder / "password"
    passfile.write_text(ADMIN_PASSWORD)
    admin = [str(Path(sys.executable).with_name("trytond-admin")), "-c", str(config), "-d", DATABASE]
    environment = dict(os.environ, TRYTONPASSFILE=str(passfile))
    for step, arguments in (("initialise the database", ["--all", "--email", "admin@example.com"]),
                            ("activate account_payment_ogone, with invoices and clearing",
                             ["-u", "account_payment_ogone", "account_invoice", "account_payment_clearing",
                              "--activate-dependencies"])):
        started = time.monotonic()
        print(f"   trytond-admin: {step} ...", end="", flush=True)
        subprocess.run(admin + arguments, env=environment, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
        print(f" {time.monotonic() - started:.0f} s")
    return config


def serve_tryton(port: int) -> None:
    from werkzeug.serving import WSGIRequestHandler, make_server

    from trytond.wsgi import app

    class QuietHandler(WSGIRequestHandler):
        def log_request(self, *args: object) -> None:
            pass  # the demo prints what happens; request lines would hide it

    server = make_server("127.0.0.1", port, app, threaded=True, request_handler=QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()


def checkout_form(url: str) -> tuple[str, list[tuple[str, str]]]:
    """What a browser does with the checkout page: read the form that posts itself to Ogone."""
    page = requests.get(url, timeout=30)
    page.raise_for_status()
    action, = re.findall(r'<form id="payment-form" method="post" action="([^"]*)"', page.text)
    fields = [(unescape(name), unescape(value)) for name, value in
              re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)"', page.text)]
    return unescape(action), fields


def wait_for_state(payment, states: set[str], deadline: float = 30.0) -> str:
    end = time.monotonic() + deadline
    while True:
        payment.reload()
        if payment.state in states or time.monotonic() > end:
            return payment.state
        time.sleep(0.1)


def save_card_at_ogone(sandbox, account, party, card_number: str):
    """A card the customer saved at Ogone (Alias Gateway), recorded on the party as an administrator's
    import of existing aliases records it."""
    from ogone_core import Account, AliasGatewayRequest, verify_alias_feedback
    from ogone_core.sandbox import DEFAULT_MERCHANT
    from ogone_core.sandbox.customer import create_alias
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    core = Account(pspid=account.pspid, sha_in=DEFAULT_MERCHANT.sha_in, sha_out=DEFAULT_MERCHANT.sha_out,
                   environment=sandbox.test_base_url)
    form = AliasGatewayRequest(accept_url="http://127.0.0.1:9/accept", exception_url="http://127.0.0.1:9/exception",
                               alias=f"CARD-{party.id}").render(core)
    saved = verify_alias_feedback(list(create_alias(form.action, form.fields, card_number).pairs), DEFAULT_MERCHANT.sha_out)
    with Transaction().start(DATABASE, 0) as transaction:
        Alias = Pool(DATABASE).get("account.payment.ogone.alias")
        alias, = Alias.create([{"party": party.id, "account": account.id, "alias": saved.alias, "brand": saved.brand,
                                "card_number": saved.card_number, "expiry": saved.expiry}])
        transaction.commit()
        return alias.id


def month_end(sandbox, account) -> list:
    """The accountant's month end: saved cards charged by processing a payment group, one authorization
    captured, the uncertain and the lost answers resolved by the reconciliation cron."""
    from proteus import Model, Wizard

    print("\n   Month end: the accountant processes a group of payments with saved cards")
    Party = Model.get("party.party")
    Alias = Model.get("account.payment.ogone.alias")
    Journal = Model.get("account.payment.journal")
    Payment = Model.get("account.payment")
    Cron = Model.get("ir.cron")
    Company = Model.get("company.company")
    company, = Company.find([])
    account.order_id_prefix = "MONTH"
    account.save()
    journal, = Journal.find([("name", "=", "Ogone")])
    authorizations = Journal(name="Ogone (authorize, capture later)", process_method="ogone",
                             ogone_account=account, ogone_authorization_only=True)
    authorizations.save()
    # The sandbox settles offline and uncertain payments when told, not on its own clock.
    requests.post(f"{sandbox.url}admin/api/merchants", timeout=10, json={
        "pspid": account.pspid, "settle_delay": 3600, "uncertain_delay": 3600}).raise_for_status()

    rows = [("Anna Berg", "4111111111111111", "89.00", journal, "paid"),
            ("Bruno Costa", "4000000000000028", "45.00", journal, "card refused"),
            ("Chloé Martin", "4000000000000523", "120.00", journal, "bank unsure (92)"),
            ("David Olsen", "374111111111111", "64.50", journal, "connection lost after the charge"),
            ("Emma Weber", "5399999999999999", "230.00", authorizations, "authorized, then captured")]
    payments = []
    for name, card_number, amount, payment_journal, story in rows:
        party = Party(name=name)
        party.save()
        card = Alias(save_card_at_ogone(sandbox, account, party, card_number))
        payment = Payment(journal=payment_journal, kind="receivable", party=party, amount=Decimal(amount))
        payment.ogone_alias = card
        payment.click("submit")
        payments.append((payment, story))
    lost = payments[3][0]
    # The sandbox charges this card, then drops the connection before answering.
    requests.post(f"{sandbox.url}admin/api/faults", timeout=10, json={
        "pspid": account.pspid, "orderid": f"MONTH-{lost.id}-1",
        "faults": {"drop_connection": True, "pages": ["orderdirect"]}, "times": 1}).raise_for_status()

    group = [p for p, _ in payments if p.journal.id == journal.id]
    Wizard("account.payment.process", group)
    Wizard("account.payment.process", [payments[4][0]])
    for payment, story in payments:
        payment.reload()
        print(f"     {payment.party.rec_name:<13} {payment.ogone_alias.rec_name:<40} {story:<33} -> "
              f"{payment.state}, {payment.ogone_status_string or 'no answer yet'}")

    def run_cron(method: str) -> None:
        cron, = Cron.find([("method", "=", f"account.payment|{method}")])
        if not cron.companies:
            cron.companies.append(Company(company.id))
            cron.save()
        cron.click("run_once")

    authorized = payments[4][0]
    authorized.click("ogone_capture")
    authorized.reload()
    print(f"   Capture of {authorized.party.rec_name}'s authorization sent: "
          f"{authorized.ogone_feedbacks[0].status_string}")
    print("   Later, Ogone settles what was pending; the reconciliation cron queries it:")
    for payment, _ in payments:
        requests.post(f"{sandbox.url}admin/api/settle", timeout=10,
                      json={"pspid": account.pspid, "orderid": payment.ogone_order_id}).raise_for_status()
    run_cron("ogone_reconcile")
    run_cron("ogone_charge")

    transactions = requests.get(f"{sandbox.url}admin/api/transactions", timeout=10,
                                params={"pspid": account.pspid}).json()["transactions"]
    header = ("customer", "amount", "Tryton state", "Tryton's Ogone status", "sandbox status", "charges")
    lines = []
    for payment, _ in payments:
        payment.reload()
        found = [t for t in transactions if t["orderid"] == payment.ogone_order_id]
        lines.append((payment.party.rec_name, f"{payment.amount} {payment.currency.code}", payment.state,
                      payment.ogone_status_string,
                      ", ".join(f"{t['status']} ({t['status_description']})" for t in found),
                      str(len(found))))
    widths = [max(len(row[i]) for row in [header] + lines) for i in range(len(header))]
    print()
    for row in [header, tuple("-" * w for w in widths)] + lines:
        print("     " + "  ".join(value.ljust(width) for value, width in zip(row, widths)).rstrip())
    return [payment for payment, _ in payments]


def run_reconcile_cron() -> None:
    from proteus import Model
    Cron = Model.get("ir.cron")
    Company = Model.get("company.company")
    cron, = Cron.find([("method", "=", "account.payment|ogone_reconcile")])
    if not cron.companies:
        cron.companies.append(Company.find([])[0])
        cron.save()
    cron.click("run_once")


def settle(sandbox, account, order_id: str) -> None:
    requests.post(f"{sandbox.url}admin/api/settle", timeout=10,
                  json={"pspid": account.pspid, "orderid": order_id}).raise_for_status()


def partial_refund(sandbox, account, payment) -> None:
    """A partial refund written, approved, sent once over DirectLink and settled by Ogone."""
    from proteus import Model

    print("\n   Refunds: the customer returns part of an order")
    Refund = Model.get("account.payment.ogone.refund")
    refund = Refund(payment=payment, amount=Decimal("20.00"), reason="Two items returned")
    refund.click("submit")
    refund.click("approve")
    refund.reload()
    print(f"   refund of {refund.amount} EUR on {payment.party.rec_name}'s {payment.amount} EUR, approved "
          f"and sent as {'RFS' if refund.ogone_last else 'RFD'}: {refund.state}, "
          f"{refund.ogone_status_string}")
    settle(sandbox, account, payment.ogone_order_id)
    run_reconcile_cron()
    refund.reload()
    payment.reload()
    print(f"   Ogone settles it, the reconciliation cron finds out: refund {refund.state}, "
          f"{refund.ogone_status_string}; payment {payment.state}, amount now {payment.amount} EUR")


def double_payment(sandbox, account, new_payment) -> None:
    """A customer pays two checkout pages of one payment; the extra order is refunded from the review."""
    from ogone_core.sandbox.customer import pay
    from proteus import Model

    print("\n   A customer pays twice: a page opened before the payment was reset, and the new one")
    payment = new_payment("75.00")
    old_page = checkout_form(payment.click("ogone_checkout"))
    payment.click("draft")
    payment.click("submit")
    new_page = checkout_form(payment.click("ogone_checkout"))
    pay(*new_page, "4111111111111111")
    wait_for_state(payment, {"succeeded"})
    pay(*old_page, "4111111111111111")
    end = time.monotonic() + 30
    while not payment.ogone_review and time.monotonic() < end:
        time.sleep(0.1)
        payment.reload()
    print(f"   payment {payment.state}, Ogone review needed: {bool(payment.ogone_review)}")
    payment.click("ogone_refund_extra")
    Refund = Model.get("account.payment.ogone.refund")
    refund, = Refund.find([("payment", "=", payment.id)])
    refund.click("approve")
    settle(sandbox, account, refund.order.name)
    run_reconcile_cron()
    refund.reload()
    payment.reload()
    print(f"   Refund Paid Twice, approved: refund of order {refund.order.name} {refund.state}, "
          f"{refund.ogone_status_string}; payment {payment.state}, amount {payment.amount} EUR")
    payment.click("ogone_clear_review")
    payment.reload()
    print(f"   review cleared: {payment.ogone_review_note}")


def invoice_paid_online(account) -> None:
    """A customer invoice paid from its link; the clearing of the payment makes the invoice paid."""
    import datetime as dt

    from ogone_core.sandbox.customer import pay
    from proteus import Model
    from trytond.modules.account.tests.tools import create_chart, create_fiscalyear, get_accounts
    from trytond.modules.account_invoice.tests.tools import set_fiscalyear_invoice_sequences

    print("\n   Invoices paid online (with account_invoice and account_payment_clearing)")
    create_chart()
    fiscalyear = set_fiscalyear_invoice_sequences(create_fiscalyear())
    fiscalyear.click("create_period")
    accounts = get_accounts()
    Account = Model.get("account.account")
    clearing = Account(parent=accounts["payable"].parent, name="Ogone Clearing", type=accounts["payable"].type,
                       reconcile=True, deferral=True)
    clearing.save()
    cash, = Model.get("account.journal").find([("code", "=", "CASH")])
    journal = Model.get("account.payment.journal")(
        name="Ogone Invoices", process_method="ogone", ogone_account=account, clearing_account=clearing,
        clearing_journal=cash, clearing_posting_delay=dt.timedelta(0))
    journal.save()
    configuration = Model.get("account.configuration")(1)
    configuration.ogone_invoice_journal = journal
    configuration.save()

    customer = Model.get("party.party")(name="Fatima Haddad")
    customer.save()
    invoice = Model.get("account.invoice")(type="out", party=customer)
    line = invoice.lines.new()
    line.account = accounts["revenue"]
    line.description = "Consulting"
    line.quantity = 1
    line.unit_price = Decimal("240.00")
    invoice.click("post")
    print(f"   invoice {invoice.number} of {invoice.total_amount} EUR posted; its pay online link for the "
          f"e-mail:\n     {invoice.ogone_pay_url}")
    action, fields = checkout_form(invoice.ogone_pay_url)
    result = pay(action, fields, "5399999999999999", holder="Fatima Haddad")
    invoice.reload()
    payment, = invoice.ogone_payments
    state = wait_for_state(payment, {"succeeded", "failed"})
    end = time.monotonic() + 30
    while invoice.state != "paid" and time.monotonic() < end:
        time.sleep(0.1)
        invoice.reload()
    print(f"   the customer pays it with MasterCard 5399...: STATUS {result.status}; payment {state}, "
          f"clearing move {payment.clearing_move.state if payment.clearing_move else 'none'}; invoice {invoice.state}, "
          f"{invoice.amount_to_pay} EUR to pay")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--serve", action="store_true",
                        help="keep the servers running and print a checkout link for a browser")
    args = parser.parse_args(argv)

    from ogone_core.sandbox import DEFAULT_MERCHANT, start_server
    from ogone_core.sandbox.customer import pay

    print("\n3. Tryton: account_payment_ogone with the sandbox, over real HTTP")
    folder = Path(tempfile.mkdtemp(prefix="ogone-demo-"))
    port = free_port()
    config_file = create_database(folder, port)
    # trytond reads the host of the URLs it builds when first imported, so before any import of it.
    os.environ["TRYTOND_CONFIG"] = str(config_file)
    os.environ["TRYTOND_WEB__HOSTNAME"] = f"127.0.0.1:{port}"

    from proteus import Model
    from proteus import config as proteus_config
    from trytond.modules.company.tests.tools import create_company
    from trytond.modules.currency.tests.tools import get_currency

    proteus_config.set_trytond(DATABASE, config_file=str(config_file))
    serve_tryton(port)
    sandbox = start_server()
    tryton_url = f"http://127.0.0.1:{port}"
    create_company(currency=get_currency("EUR"))

    Account = Model.get("account.payment.ogone.account")
    account = Account(name="Sandbox", pspid=DEFAULT_MERCHANT.pspid, api_user_id=DEFAULT_MERCHANT.api_user,
                      api_password=DEFAULT_MERCHANT.api_password, sha_in_secret=DEFAULT_MERCHANT.sha_in,
                      sha_out_secret=DEFAULT_MERCHANT.sha_out, hash_algorithm="sha512", environment="custom",
                      base_url=sandbox.test_base_url)
    account.save()
    print(f"   Ogone account for PSPID {account.pspid}; its return URL for the back office:\n"
          f"     {account.return_url}")
    # The back-office step of the setup guide: both feedback URLs = the return URL, POST.
    requests.post(f"{sandbox.url}admin/api/merchants", timeout=10, json={
        "pspid": DEFAULT_MERCHANT.pspid, "feedback_url": account.return_url,
        "feedback_url_declined": account.return_url, "feedback_method": "POST", "feedback_timing": "online",
    }).raise_for_status()
    Journal = Model.get("account.payment.journal")
    journal = Journal(name="Ogone", process_method="ogone", ogone_account=account)
    journal.save()
    Party = Model.get("party.party")
    customer = Party(name="Jeanne Dupont")
    customer.save()
    Payment = Model.get("account.payment")

    def new_payment(amount: str):
        payment = Payment(journal=journal, kind="receivable", party=customer, amount=Decimal(amount))
        payment.click("submit")
        return payment

    payment = new_payment("125.50")
    checkout_url = payment.click("ogone_checkout")
    print(f"   payment of 125.50 EUR submitted; the Ogone Checkout button gives the link to send:\n"
          f"     {checkout_url}")
    action, fields = checkout_form(checkout_url)
    order_id = dict(fields)["ORDERID"]
    result = pay(action, fields, "4111111111111111", holder="Jeanne Dupont")
    print(f"   the customer pays ORDERID {order_id} on the sandbox page with VISA 4111...: STATUS {result.status}")
    back = requests.get(result.url, timeout=30)
    title = re.search(r"<h1>(.*?)</h1>", back.text)
    print(f"   the browser comes back to Tryton: HTTP {back.status_code}, \"{unescape(title.group(1))}\"")
    state = wait_for_state(payment, {"succeeded", "failed"})
    print(f"   the payment is {state}: PAYID {payment.ogone_pay_id}, status {payment.ogone_status_string}")
    for feedback in payment.ogone_feedbacks:
        print(f"     feedback from the {feedback.source}: STATUS {feedback.status}, "
              f"{'applied' if feedback.applied else 'already known, history only'}")

    refused = new_payment("12.00")
    action, fields = checkout_form(refused.click("ogone_checkout"))
    result = pay(action, fields, "4000000000000028")
    requests.get(result.url, timeout=30)
    print(f"   another payment with a card the bank refuses: {wait_for_state(refused, {'failed', 'succeeded'})}, "
          f"NCERROR {refused.ogone_ncerror_string}")

    tampered = dict(result.pairs, STATUS="9")
    answer = requests.get(result.url.split("?", 1)[0], params=tampered, timeout=30)
    refused.reload()
    print(f"   the same feedback with STATUS changed to 9: HTTP {answer.status_code}, payment still "
          f"{refused.state}")

    invoice_paid_online(account)
    month_end_payments = month_end(sandbox, account)
    partial_refund(sandbox, account, month_end_payments[0])
    double_payment(sandbox, account, new_payment)

    if args.serve:
        waiting = new_payment("49.90")
        link = waiting.click("ogone_checkout")
        print(f"\n   Servers running. Pay in a browser: {link}\n"
              f"   Sandbox back office: {sandbox.url}admin/\n"
              f"   Tryton RPC for a client: {tryton_url}/{DATABASE}/ (admin / {ADMIN_PASSWORD})\n"
              "   Ctrl+C to stop.")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    sandbox.stop()
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
