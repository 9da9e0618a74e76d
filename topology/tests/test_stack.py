"""The stack against a real PostgreSQL, gunicorn, trytond-worker, trytond-cron and ogone-sandbox."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
import requests

from topology import Stack
from topology.processes import group_members, is_loopback_address, listening_addresses

ROOT = Path(__file__).resolve().parents[2]


def wait_for_state(payment, states, deadline=60.0):
    end = time.monotonic() + deadline
    while True:
        payment.reload()
        if payment.state in states or time.monotonic() > end:
            return payment.state
        time.sleep(0.1)


@pytest.fixture(scope="module")
def stack():
    with Stack(web_processes=2, workers=2, cron=True) as running:
        yield running


def test_every_part_runs_and_listens_on_loopback_only(stack):
    web = listening_addresses(stack.web.pid)
    assert f"127.0.0.1:{stack.web_port}" in web
    assert len(stack.web.group_pids()) == 1 + 2  # the arbiter and two workers
    assert all(is_loopback_address(address) for address in web), web
    sandbox = listening_addresses(stack.sandbox.pid)
    assert sandbox and all(is_loopback_address(address) for address in sandbox), sandbox
    assert stack.sandbox_url.startswith("http://127.0.0.1:")
    for process in [*stack.workers, stack.cron]:
        assert process.alive(), process.name
        assert len(process.group_pids()) == 2, process.name  # the command and its one task process
        assert listening_addresses(process.pid) == [], process.name
    assert requests.get(f"{stack.sandbox_url}admin/api/transactions", params={"pspid": "SANDBOX"},
                        timeout=10).status_code == 200


def test_the_module_crons_work_for_the_company(stack):
    with stack.transaction() as pool:
        crons = pool.get("ir.cron").search([("method", "like", "%ogone%")])
        assert len(crons) == 4
        assert all([c.id for c in cron.companies] == [stack.company_id] for cron in crons)


def test_a_customer_pays_through_the_checkout_link(stack):
    from proteus import Model

    from ogone_core.sandbox.customer import pay
    from trytond_payment_ogone.demo import checkout_form

    stack.proteus()
    payment = Model.get("account.payment")(journal=stack.journal_id, kind="receivable", party=stack.party_id,
                                           amount=Decimal("31.40"))
    payment.click("submit")
    link = payment.click("ogone_checkout")
    assert link.startswith(stack.tryton_url + "/")
    action, fields = checkout_form(link)
    assert action.startswith(stack.sandbox_base_url)
    result = pay(action, fields, "4111111111111111")
    assert result.status == 9
    assert requests.get(result.url, timeout=30).status_code == 200
    assert wait_for_state(payment, {"succeeded", "failed"}) == "succeeded"
    charged, = stack.sandbox_transactions(payment.ogone_order_id)
    assert Decimal(str(charged["amount"])) == Decimal("31.40")


def test_a_saved_card_is_charged_by_a_worker(stack):
    from proteus import Model, Wizard

    stack.proteus()
    party = Model.get("party.party")(name="Saved Card Customer")
    party.save()
    alias = stack.save_card(party.id, "4111111111111111")
    payment = Model.get("account.payment")(journal=stack.journal_id, kind="receivable", party=party,
                                           amount=Decimal("12.50"))
    payment.ogone_alias = Model.get("account.payment.ogone.alias")(alias)
    payment.click("submit")
    Wizard("account.payment.process", [payment])
    # [queue] worker = True: this process only queued the charge; a trytond-worker sends it.
    assert wait_for_state(payment, {"succeeded", "failed"}) == "succeeded"
    charged, = stack.sandbox_transactions(payment.ogone_order_id)
    assert charged["status"] == 9
    with stack.transaction() as pool:
        Queue = pool.get("ir.queue")
        tasks = Queue.search([("finished_at", "!=", None)])
        assert any(task.data.get("method") == "ogone_charge" for task in tasks), [t.data for t in tasks]


def test_a_killed_worker_is_replaced(stack):
    killed = stack.workers[0].group_pids()
    stack.kill_worker(0, signal.SIGKILL)
    assert not any(pid in group_members(stack.workers[0].pgid) for pid in killed)
    assert not stack.workers[0].alive()
    replacement = stack.restart_worker(0)
    assert replacement.alive() and replacement.pid not in killed


def test_stop_leaves_no_process_and_no_database(stack):
    groups = [process.pgid for process in stack.processes()]
    assert stack.database_exists()
    folder = stack.folder
    stack.stop()
    assert [pid for pgid in groups for pid in group_members(pgid)] == []
    assert not stack.database_exists()
    assert not folder.exists()


def database_exists(name):
    import psycopg
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as connection:
        return connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def test_the_command_stops_everything_on_sigterm(tmp_path):
    import psycopg
    # The database a stack killed outright left behind: the next stack drops it
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    abandoned = f"topology_{int(gone.stdout)}_abcdef"
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{abandoned}"')
    database = f"topology_command_{os.getpid()}"
    command = subprocess.Popen([sys.executable, "-m", "topology", "--web", "1", "--workers", "1", "--no-cron",
                                "--database", database, "--log-dir", str(tmp_path)],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        for line in command.stdout:
            lines.append(line)
            if "Ctrl-C to stop" in line:
                break
        output = "".join(lines)
        assert "Ctrl-C to stop" in output, output
        assert not database_exists(abandoned)
        pids = [int(line.split(" pid ")[1].split()[0]) for line in lines if " pid " in line]
        assert len(pids) == 3, output  # sandbox, web, one worker
        link = [line for line in lines if "in a browser" in line][0].rsplit(" ", 1)[1].strip()
        assert requests.get(link, timeout=30).status_code == 200
        command.send_signal(signal.SIGTERM)
        command.wait(timeout=60)
        rest = command.stdout.read()
        assert "Stopped" in rest, rest
    finally:
        if command.poll() is None:
            command.kill()
    assert [pid for pgid in pids for pid in group_members(pgid)] == []
    assert not database_exists(database)


def processes_naming(text):
    "The pids of the processes whose command line holds ``text``"
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                if text.encode() in cmdline.read():
                    found.append(int(entry))
        except (OSError, ValueError):
            continue
    return found


def test_a_stack_killed_while_building_its_template_leaves_nothing_behind(tmp_path):
    # A template of a name of its own, so that this stack builds one, as after a change of the module
    script = ("import topology.stack as stack; "
              f"stack.template_name = lambda: 'topology_template_killed_{os.getpid()}'; "
              "stack.Stack(web_processes=1, workers=0, cron=False).start()")
    starting = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
    building = f"topology_{starting.pid}_"
    import psycopg

    def building_database():
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as connection:
            return [name for name, in connection.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s", (building + "%_building",))]
    try:
        end = time.monotonic() + 60
        while not (building_database() and processes_naming(building)):
            assert starting.poll() is None and time.monotonic() < end, "the template build did not start"
            time.sleep(0.05)
    finally:
        starting.kill()
        starting.wait()
    end = time.monotonic() + 30
    while processes_naming(building):  # trytond-admin ends with the process that started it
        assert time.monotonic() < end, f"left running: {processes_naming(building)}"
        time.sleep(0.1)
    from topology.stack import drop_abandoned_databases
    drop_abandoned_databases()  # as the next stack does
    assert building_database() == []
    # Its folder of configuration and logs (a process killed outright cannot remove it)
    import glob
    import shutil
    import tempfile
    for folder in glob.glob(os.path.join(tempfile.gettempdir(), building + "*")):
        shutil.rmtree(folder)
