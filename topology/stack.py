"""The production topology on one machine: PostgreSQL, a fresh database with account_payment_ogone,
gunicorn serving ``trytond.application:app`` (or another WSGI application) with several processes,
``trytond-worker`` processes, one ``trytond-cron`` and ``ogone-sandbox``, all on loopback ports.

    with Stack(web_processes=2, workers=2) as stack:
        stack.proteus()                          # proteus, in this process, on the stack's database
        payment = Model.get("account.payment")(journal=stack.journal_id, ...)

The test process talks to the database in-process (``stack.transaction()``, ``stack.proteus()``), not through
the web processes, so that a test can kill or load those without losing its own view of the data. trytond's
configuration is global to a process: one ``Stack`` at a time per process, and the process should not use
trytond with another configuration while the stack runs.

Each process is started in a process group of its own and gets SIGTERM when the thread that started it ends
(Linux's parent-death signal), so that nothing outlives a killed test run: start the stack and call
``restart_worker`` from a thread that lives as long as the stack (the main thread). A test run killed with
SIGKILL leaves its database (``topology_<pid>_<hex>``) behind, until the next stack starts and drops it.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from importlib import metadata
from pathlib import Path
from typing import Iterator, Mapping, Optional, Sequence

import requests

from .processes import Process, StackError, free_port, new_group_dying_with_parent, start_process, wait_until

__all__ = ["Stack", "StackError"]

POSTGRESQL_URI = "postgresql://postgres@127.0.0.1:5432/"
MODULES = ("account_payment_ogone", "account_invoice", "account_payment_clearing")
ADMIN_PASSWORD = "admin"
TEMPLATES_KEPT = 4
BIN = Path(sys.executable).parent

_running: Optional["Stack"] = None  # trytond's configuration is per process: one stack at a time


def _postgresql_connect(database: str = "postgres"):
    import psycopg
    return psycopg.connect(f"{POSTGRESQL_URI}{database}", autocommit=True, connect_timeout=3)


def template_name() -> str:
    """The name of the template database for this code: a digest of the module's files and of the installed
    trytond distributions, so that a change of either builds a new one"""
    digest = hashlib.sha256(" ".join(MODULES).encode())
    names = {(d.metadata["Name"] or "").lower().replace("-", "_"): d.version for d in metadata.distributions()}
    for name, version in sorted(names.items()):
        if name.startswith(("trytond", "proteus")):
            digest.update(f"{name}=={version}\n".encode())
    module = Path(__file__).resolve().parent.parent / "trytond_payment_ogone"
    for path in sorted(module.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".xml", ".cfg", ".po", ".html") and "tests" not in path.parts:
            digest.update(str(path.relative_to(module)).encode() + b"\0" + path.read_bytes())
    return f"topology_template_{digest.hexdigest()[:16]}"


def drop_templates() -> list[str]:
    "Drops every template database of the stack; returns their names"
    with _postgresql_connect() as connection:
        names = [name for name, in connection.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE 'topology\\_template\\_%'").fetchall()]
        for name in names:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return names


def drop_abandoned_databases() -> list[str]:
    """Drops the databases of stacks whose process is gone without stopping them (a test run killed with
    SIGKILL): those with a default name, ``topology_<pid>_<hex>``, whose pid no longer runs"""
    with _postgresql_connect() as connection:
        names = [name for name, in connection.execute("SELECT datname FROM pg_database").fetchall()]
        dropped = []
        for name in names:
            # and the template such a stack was building under its name
            match = re.fullmatch(r"topology_(\d+)_[0-9a-f]{6}(_building)?", name)
            if match and not os.path.exists(f"/proc/{match.group(1)}"):
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                dropped.append(name)
    return dropped


def _gunicorn_has_control_socket() -> bool:
    usage = subprocess.run([str(BIN / "gunicorn"), "--help"], capture_output=True, text=True).stdout
    return "--no-control-socket" in usage


class Stack:
    """Starts every part on ``start()`` (or ``with``) and stops them all on ``stop()``, even half started.

    Options: ``web_processes`` gunicorn workers (``web_threads`` threads each); ``workers`` trytond-worker
    processes, each running its tasks in ``worker_processes`` processes (``-n``); ``cron``; ``database`` (a
    fresh name by default; an existing database of that name is dropped); ``sandbox_args`` extra
    ``ogone-sandbox`` arguments; ``merchant`` settings of the default merchant for the sandbox's admin API
    (``feedback_timing``, ``settle_delay``, ...; the feedback URLs are set to the account's return URL);
    ``log_dir`` where each process writes its log (kept; by default a temporary directory, removed);
    ``trytond_config`` extra sections, e.g. ``{"account_payment_ogone": {"lost_after": "120"}}``;
    ``web_app`` the WSGI application gunicorn serves (``module:name``, ``trytond.application:app`` by default),
    with ``web_args`` extra gunicorn arguments (``--pythonpath``, ``--config``) and ``web_environment`` extra
    variables of its processes;
    ``start_workers``: False leaves the trytond-worker processes to ``restart_worker`` (a bench that first runs
    the queue's tasks in its own process);
    ``use_template``: copy the database from a template database kept in PostgreSQL for this code
    (``topology_template_<digest>``, built by trytond-admin the first time and again when the module or
    trytond changes, the 4 most recent kept; ``python -m topology --drop-templates`` removes them), else run
    trytond-admin every time.
    """

    def __init__(self, *, web_processes: int = 2, web_threads: int = 1, workers: int = 2,
                 worker_processes: int = 1, cron: bool = True, database: Optional[str] = None,
                 sandbox_args: Sequence[str] = (), merchant: Optional[Mapping[str, object]] = None,
                 log_dir: Optional[os.PathLike] = None,
                 trytond_config: Optional[Mapping[str, Mapping[str, object]]] = None,
                 use_template: bool = True, start_workers: bool = True, deadline: float = 120.0,
                 verbose: bool = False, web_app: str = "trytond.application:app",
                 web_args: Sequence[str] = (), web_environment: Optional[Mapping[str, str]] = None) -> None:
        self.web_processes = web_processes
        self.web_threads = web_threads
        self.worker_count = workers
        self.worker_processes = worker_processes
        self.cron_enabled = cron
        self.database = database or f"topology_{os.getpid()}_{secrets.token_hex(3)}"
        self.sandbox_args = list(sandbox_args)
        self.merchant = dict(merchant or {})
        self.trytond_config = {section: dict(options) for section, options in (trytond_config or {}).items()}
        self.use_template = use_template
        self.start_workers = start_workers
        self.web_app = web_app
        self.web_args = list(web_args)
        self.web_environment = dict(web_environment or {})
        self.deadline = deadline
        self.verbose = verbose
        self.folder = Path(tempfile.mkdtemp(prefix=f"{self.database}-"))
        self.log_dir = Path(log_dir) if log_dir else self.folder / "logs"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.config_path = self.folder / "trytond.conf"
        self.web_port = free_port()
        self.timings: dict[str, float] = {}
        self.web: Optional[Process] = None
        self.workers: list[Optional[Process]] = [None] * workers
        self.cron: Optional[Process] = None
        self.sandbox: Optional[Process] = None
        self.sandbox_url = ""
        self.return_url = ""  # the Ogone account's: Ogone's feedback and the customer's way back
        self.account_id = self.journal_id = self.party_id = self.company_id = 0
        self._database_created = False
        self._worker_generation = 0
        self._worker_names = [""] * workers
        self._previous_sigterm = None
        self._stopped = False

    # Addresses --------------------------------------------------------------------------------------------

    @property
    def tryton_url(self) -> str:
        "Base URL of the web processes (no trailing slash)"
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def rpc_url(self) -> str:
        "JSON-RPC URL of the database for a Tryton client (admin / admin)"
        return f"{self.tryton_url}/{self.database}/"

    @property
    def sandbox_base_url(self) -> str:
        "The sandbox's DirectLink / e-Commerce base URL (an account's ``base_url``)"
        return f"{self.sandbox_url}ncol/test/"

    def pids(self) -> dict[str, int]:
        "Each part's pid: ``sandbox``, ``web`` (gunicorn's arbiter), ``worker-0``..., ``cron``"
        return {process.name: process.pid for process in self.processes()}

    def group_pids(self) -> dict[str, list[int]]:
        "Each part's living processes: the leader and its children (gunicorn's workers, the task processes)"
        return {process.name: process.group_pids() for process in self.processes()}

    def processes(self) -> list[Process]:
        return [p for p in [self.sandbox, self.web, *self.workers, self.cron] if p is not None]

    # Start ------------------------------------------------------------------------------------------------

    def __enter__(self) -> "Stack":
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @contextlib.contextmanager
    def _step(self, name: str) -> Iterator[None]:
        "Times a step of the start into ``timings``"
        started = time.monotonic()
        if self.verbose:
            print(f"  {name} ...", end="", flush=True)
        yield
        self.timings[name] = time.monotonic() - started
        if self.verbose:
            print(f" {self.timings[name]:.1f} s", flush=True)

    def start(self) -> "Stack":
        global _running
        if _running is not None:
            raise StackError("a stack already runs in this process (trytond's configuration is global)")
        _running = self
        self._catch_sigterm()
        started = time.monotonic()
        try:
            with self._step("PostgreSQL"):
                self._ensure_postgresql()
                drop_abandoned_databases()
            with self._step("sandbox"):
                self._start_sandbox()
            with self._step("database"):
                self._write_config()
                self._create_database()
            with self._step("web, workers, cron started; company, account, journal"):
                self._start_web()
                for index in range(self.worker_count if self.start_workers else 0):
                    self.workers[index] = self._start_worker(index)
                self._set_up_in_process()
                # After the setup, which sets the crons' companies: trytond-cron writes the crons as it starts,
                # and the setup's write would then fail on their concurrent update.
                if self.cron_enabled:
                    self.cron = self._start_cron()
            with self._step("web, workers, cron answering"):
                self._wait_web()
                for index in range(self.worker_count if self.start_workers else 0):
                    self._wait_worker(index)
                if self.cron is not None:
                    self._wait_connected(self.cron, f"{self.database}-cron", "")
        except BaseException:
            self.stop()
            raise
        self.timings["total"] = time.monotonic() - started
        return self

    def _catch_sigterm(self) -> None:
        # A SIGTERM to the process running the stack goes through stop() like Ctrl-C does.
        if threading.current_thread() is threading.main_thread() \
                and signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
            def terminate(signum, frame):
                raise SystemExit(128 + signum)
            self._previous_sigterm = signal.signal(signal.SIGTERM, terminate)

    def _ensure_postgresql(self) -> None:
        try:
            _postgresql_connect().close()
            return
        except Exception:
            pass
        versions = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
        if not versions:
            raise StackError(f"PostgreSQL does not answer at {POSTGRESQL_URI} and no local cluster to start")
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

        def answers() -> bool:
            try:
                _postgresql_connect().close()
                return True
            except Exception:
                return False
        wait_until(answers, 30, "PostgreSQL")

    def _environment(self, application_name: str) -> dict[str, str]:
        environment = {key: value for key, value in os.environ.items() if not key.startswith("TRYTOND_")}
        environment.update(TRYTOND_CONFIG=str(self.config_path), TRYTOND_APPNAME=application_name,
                           TRYTONPASSFILE=str(self.folder / "password"))
        return environment

    def _start_sandbox(self) -> None:
        command = [str(BIN / "ogone-sandbox"), "--port", "0", "--memory", "--quiet", *self.sandbox_args]
        self.sandbox = start_process("sandbox", command, self.log_dir / "sandbox.log",
                                     self._environment("sandbox"), cwd=self.folder)

        def url() -> str:
            if not self.sandbox.alive():
                raise StackError(f"ogone-sandbox stopped:\n{self.sandbox.log_tail()}")
            first = self.sandbox.log.read_text(errors="replace").split("\n", 1)
            return first[0] if len(first) == 2 and first[0].startswith("http") else ""
        self.sandbox_url = wait_until(url, 30, "ogone-sandbox")
        if not self.sandbox_url.endswith("/"):
            self.sandbox_url += "/"

    def _write_config(self) -> None:
        sections: dict[str, dict[str, object]] = {
            "database": {"uri": POSTGRESQL_URI, "language": "en"},
            "web": {"listen": f"127.0.0.1:{self.web_port}", "hostname": f"127.0.0.1:{self.web_port}"},
            "queue": {"worker": "True"},
            # The stack starts in seconds and runs for minutes: no need for a week of sessions.
            "session": {"timeout": "3600", "max_attempt": "100"},
        }
        for section, options in self.trytond_config.items():
            sections.setdefault(section, {}).update(options)
        self.config_path.write_text("".join(
            f"[{section}]\n" + "".join(f"{key} = {value}\n" for key, value in options.items())
            for section, options in sections.items()))
        (self.folder / "password").write_text(ADMIN_PASSWORD)

    def _create_database(self) -> None:
        """A copy of the template database of this code (built with trytond-admin when missing), or, with
        ``use_template=False``, trytond-admin on the stack's own database"""
        with _postgresql_connect() as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        if not self.use_template:
            self._trytond_admin(self.database)
            return
        template = template_name()
        with _postgresql_connect() as connection:
            exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (template,)).fetchone()
        if not exists:
            self._build_template(template)
        with _postgresql_connect() as connection:
            connection.execute(f'CREATE DATABASE "{self.database}" TEMPLATE "{template}"')
        self._database_created = True

    def _build_template(self, template: str) -> None:
        # Built under a name of its own, then renamed: a stack starting meanwhile never copies half of it.
        building = f"{self.database}_building"
        try:
            self._trytond_admin(building)
            with _postgresql_connect() as connection:
                # Other source trees (branches) may use other templates: the most recent few are kept.
                for old, in connection.execute(
                        "SELECT datname FROM pg_database WHERE datname LIKE 'topology\\_template\\_%%'"
                        " ORDER BY oid DESC OFFSET %s", (TEMPLATES_KEPT - 1,)).fetchall():
                    try:
                        connection.execute(f'DROP DATABASE IF EXISTS "{old}"')
                    except Exception:
                        pass  # being copied by a stack starting now: dropped by a later build
                try:
                    connection.execute(f'ALTER DATABASE "{building}" RENAME TO "{template}"')
                except Exception:
                    pass  # another stack built it first
        finally:
            with _postgresql_connect() as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)')

    def _trytond_admin(self, database: str) -> None:
        with _postgresql_connect() as connection:
            connection.execute(f'CREATE DATABASE "{database}" ENCODING \'UTF8\' TEMPLATE template0')
        if database == self.database:
            self._database_created = True
        # One call: initialise and activate together, so the pool is loaded once.
        command = [str(BIN / "trytond-admin"), "-c", str(self.config_path), "-d", database,
                   "--all", "--email", "admin@example.com", "-u", *MODULES, "--activate-dependencies"]
        log = self.log_dir / "trytond-admin.log"
        with open(log, "ab") as output:
            # Ends with this process even when it is killed outright, like the stack's other processes
            finished = subprocess.run(command, env=self._environment("trytond-admin"), stdout=output,
                                      stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=900,
                                      preexec_fn=new_group_dying_with_parent)
        if finished.returncode:
            raise StackError(f"trytond-admin failed ({finished.returncode}), see {log}:\n"
                             + "\n".join(log.read_text(errors="replace").splitlines()[-20:]))

    def _start_web(self) -> None:
        # --preload: the pool is loaded once by the arbiter (TRYTOND_DATABASE_NAMES) before it forks the
        # workers, so each of them serves the database from its first request.
        command = [str(BIN / "gunicorn"), "--preload", "--workers", str(self.web_processes),
                   "--bind", f"127.0.0.1:{self.web_port}", "--graceful-timeout", "5",
                   "--error-logfile", "-", *self.web_args, self.web_app]
        if self.web_threads > 1:
            command[1:1] = ["--threads", str(self.web_threads)]
        if _gunicorn_has_control_socket():
            # Its default path is one per user: two stacks (or a stack and another gunicorn) would share it.
            command[1:1] = ["--no-control-socket"]
        environment = self._environment(f"{self.database}-web")
        environment["TRYTOND_DATABASE_NAMES"] = self.database
        environment.update(self.web_environment)
        self.web = start_process("web", command, self.log_dir / "web.log", environment, cwd=self.folder)

    def _start_worker(self, index: int) -> Process:
        # The generation tells a restarted worker's connections from those of the one it replaces.
        self._worker_generation += 1
        self._worker_names[index] = f"{self.database}-worker-{index}.{self._worker_generation}"
        command = [str(BIN / "trytond-worker"), "-c", str(self.config_path), "-d", self.database,
                   "-n", str(self.worker_processes)]
        return start_process(f"worker-{index}", command, self.log_dir / f"worker-{index}.log",
                             self._environment(self._worker_names[index]), cwd=self.folder)

    def _start_cron(self) -> Process:
        command = [str(BIN / "trytond-cron"), "-c", str(self.config_path), "-d", self.database, "-n", "1"]
        return start_process("cron", command, self.log_dir / "cron.log", self._environment(f"{self.database}-cron"),
                             cwd=self.folder)

    def _wait_web(self) -> None:
        def answers() -> bool:
            if not self.web.alive():
                raise StackError(f"gunicorn stopped:\n{self.web.log_tail()}")
            try:
                response = requests.post(self.tryton_url + "/rpc/", json={
                    "id": 0, "method": "common.server.version", "params": []}, timeout=5)
            except requests.RequestException:
                return False
            return response.status_code == 200
        wait_until(answers, self.deadline, "gunicorn")
        # Every worker forked and serving: the arbiter forks them right after loading the application.
        wait_until(lambda: len(self.web.group_pids()) >= self.web_processes + 1, self.deadline, "gunicorn workers")

    def _wait_connected(self, process: Process, application_name: str, query_contains: str) -> None:
        "Waits until ``process`` has a connection to the database, which it opens once its pool is loaded"
        def connected() -> bool:
            if not process.alive():
                raise StackError(f"{process.name} stopped:\n{process.log_tail()}")
            with _postgresql_connect() as connection:
                row = connection.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND application_name = %s"
                    " AND query LIKE %s", (self.database, application_name, f"%{query_contains}%")).fetchone()
            return row[0] > 0
        wait_until(connected, self.deadline, process.name, interval=0.2)

    def _wait_worker(self, index: int) -> None:
        # The worker pulls from ir_queue only after its task processes have loaded the pool.
        self._wait_connected(self.workers[index], self._worker_names[index], "ir_queue")

    def _set_up_in_process(self) -> None:
        "The administrator's setup, as demo.py does it: company, Ogone account, the sandbox's feedback, journal"
        os.environ["TRYTOND_CONFIG"] = str(self.config_path)
        os.environ["TRYTOND_WEB__HOSTNAME"] = f"127.0.0.1:{self.web_port}"
        from trytond import config as trytond_config
        trytond_config.update_etc(str(self.config_path))
        if "trytond.url" in sys.modules:
            # trytond.url reads the host name once, when first imported; this process may have imported it
            # before the stack existed.
            sys.modules["trytond.url"].HOSTNAME = f"127.0.0.1:{self.web_port}"

        from proteus import Model

        from ogone_core.sandbox.merchants import DEFAULT_MERCHANT
        from trytond.modules.company.tests.tools import create_company
        from trytond.modules.currency.tests.tools import get_currency

        self.proteus()
        create_company(currency=get_currency("EUR"))
        self.company_id, = [c.id for c in Model.get("company.company").find([])]
        account = Model.get("account.payment.ogone.account")(
            name="Sandbox", pspid=DEFAULT_MERCHANT.pspid, api_user_id=DEFAULT_MERCHANT.api_user,
            api_password=DEFAULT_MERCHANT.api_password, sha_in_secret=DEFAULT_MERCHANT.sha_in,
            sha_out_secret=DEFAULT_MERCHANT.sha_out, hash_algorithm="sha512", environment="custom",
            base_url=self.sandbox_base_url)
        account.save()
        self.account_id = account.id
        self.return_url = account.return_url
        if not self.return_url.startswith(self.tryton_url + "/"):
            raise StackError(f"the account's return URL {self.return_url} is not on the stack's {self.tryton_url}")
        # The back-office step of the setup guide: both feedback URLs are the return URL, in POST.
        settings = {"pspid": DEFAULT_MERCHANT.pspid, "feedback_url": self.return_url,
                    "feedback_url_declined": self.return_url, "feedback_method": "POST",
                    "feedback_timing": "online"}
        settings.update(self.merchant)
        requests.post(f"{self.sandbox_url}admin/api/merchants", json=settings, timeout=10).raise_for_status()
        journal = Model.get("account.payment.journal")(name="Ogone", process_method="ogone", ogone_account=account)
        journal.save()
        self.journal_id = journal.id
        # The module's crons select the payments of the companies they are set for: without this step of the
        # setup guide, trytond-cron would reconcile, charge and capture nothing.
        Company = Model.get("company.company")
        for cron in Model.get("ir.cron").find([("method", "like", "%ogone%")]):
            cron.companies.append(Company(self.company_id))
            cron.save()
        party = Model.get("party.party")(name="Stack Customer")
        party.save()
        self.party_id = party.id

    # In-process access -------------------------------------------------------------------------------------

    def proteus(self):
        "Makes proteus work in this process on the stack's database, as admin; returns proteus' config"
        from proteus import config as proteus_config
        return proteus_config.set_trytond(self.database, config_file=str(self.config_path))

    @contextlib.contextmanager
    def transaction(self, user: int = 0, context: Optional[dict] = None) -> Iterator[object]:
        """A trytond transaction in this process on the stack's database, committed when the block ends
        without error; yields the pool"""
        from trytond.pool import Pool
        from trytond.transaction import Transaction
        with Transaction().start(self.database, user, context=context) as transaction:
            yield Pool(self.database)
            transaction.commit()

    def save_card(self, party_id: int, card_number: str, alias: Optional[str] = None) -> int:
        """A card saved at the sandbox through its Alias Gateway, recorded on the party as an import of
        existing aliases records it; returns the ``account.payment.ogone.alias`` id"""
        from ogone_core import Account, AliasGatewayRequest, verify_alias_feedback
        from ogone_core.sandbox.customer import create_alias
        from ogone_core.sandbox.merchants import DEFAULT_MERCHANT

        core = Account(pspid=DEFAULT_MERCHANT.pspid, sha_in=DEFAULT_MERCHANT.sha_in,
                       sha_out=DEFAULT_MERCHANT.sha_out, environment=self.sandbox_base_url)
        form = AliasGatewayRequest(accept_url="http://127.0.0.1:9/accept", exception_url="http://127.0.0.1:9/exception",
                                   alias=alias or f"CARD-{party_id}-{secrets.token_hex(4)}").render(core)
        saved = verify_alias_feedback(list(create_alias(form.action, form.fields, card_number).pairs),
                                      DEFAULT_MERCHANT.sha_out)
        with self.transaction() as pool:
            record, = pool.get("account.payment.ogone.alias").create([{
                "party": party_id, "account": self.account_id, "alias": saved.alias, "brand": saved.brand,
                "card_number": saved.card_number, "expiry": saved.expiry}])
            return record.id

    def sandbox_transactions(self, order_id: Optional[str] = None) -> list[dict]:
        "What the sandbox recorded for the default merchant (its admin API), only ``order_id``'s if given"
        from ogone_core.sandbox.merchants import DEFAULT_MERCHANT
        response = requests.get(f"{self.sandbox_url}admin/api/transactions", params={"pspid": DEFAULT_MERCHANT.pspid},
                                timeout=10)
        response.raise_for_status()
        transactions = response.json()["transactions"]
        return [t for t in transactions if order_id is None or t["orderid"] == order_id]

    # Crash tests -------------------------------------------------------------------------------------------

    def kill_worker(self, index: int, signum: int = signal.SIGKILL, wait: bool = True) -> None:
        """Sends ``signum`` to trytond-worker ``index`` and its task processes (its whole process group);
        with ``wait``, returns once none of them is left"""
        worker = self.workers[index]
        worker.signal_group(signum)
        if wait:
            wait_until(lambda: not worker.group_pids(), 30, f"worker-{index} to stop")
            worker.popen.wait(timeout=5)

    def restart_worker(self, index: int) -> Process:
        "Stops trytond-worker ``index`` if it runs, starts a new one and waits until it pulls tasks"
        if self.workers[index] is not None:
            self.workers[index].stop()
        self.workers[index] = self._start_worker(index)
        self._wait_worker(index)
        return self.workers[index]

    # Stop -------------------------------------------------------------------------------------------------

    def stop(self) -> None:
        "Stops every process (whole groups, SIGKILL after a deadline), drops the database, removes temp files"
        global _running
        if self._stopped:
            return
        self._stopped = True
        started = time.monotonic()
        # A second Ctrl-C or SIGTERM while stopping would leave the rest running and the database behind
        ignored = {}
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                ignored[signum] = signal.signal(signum, signal.SIG_IGN)
        try:
            for process in reversed(self.processes()):
                process.signal_group(signal.SIGTERM)
            for process in reversed(self.processes()):
                process.stop()
            if self._database_created:
                self._drop_database()
        finally:
            for signum, handler in ignored.items():
                signal.signal(signum, handler)
            if self._previous_sigterm is not None:
                signal.signal(signal.SIGTERM, self._previous_sigterm)
            # The logs are in the folder unless a log_dir was given, which is kept
            shutil.rmtree(self.folder, ignore_errors=True)
            if _running is self:
                _running = None
            self.timings["stop"] = time.monotonic() - started

    def _drop_database(self) -> None:
        try:
            from trytond import backend
            backend.Database(self.database).close()  # this process's own connections (in-process access)
        except Exception:
            pass
        with _postgresql_connect() as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')

    def database_exists(self) -> bool:
        with _postgresql_connect() as connection:
            return connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.database,)).fetchone() \
                is not None
