"""The sandbox's state in SQLite: merchants, transactions with their history lines, aliases, feedback jobs
and their attempts, fault rules.

One connection guarded by a re-entrant lock: SQLite serialises writers anyway, and a single connection is the
only way an in-memory database can be shared by every server thread. Each ``atomic()`` block is one SQLite
transaction, so a duplicate-ORDERID check and the insert that follows cannot interleave with another client.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from .merchants import Merchant, merchant_from_dict

FIRST_PAYID = 3000000001

# Statuses after which the same ORDERID may be tried again (abandoned, cancelled, refused).
RETRYABLE_STATUSES = (0, 1, 2, 93)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS merchants (
    pspid TEXT PRIMARY KEY,
    settings TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS transactions (
    payid INTEGER PRIMARY KEY AUTOINCREMENT,
    pspid TEXT NOT NULL,
    orderid TEXT NOT NULL,
    source TEXT NOT NULL,
    env TEXT NOT NULL,
    charset TEXT NOT NULL,
    operation TEXT NOT NULL,
    amount INTEGER NOT NULL,
    currency TEXT NOT NULL,
    status INTEGER NOT NULL,
    ncerror TEXT NOT NULL DEFAULT '0',
    ncerrorplus TEXT NOT NULL DEFAULT '',
    acceptance TEXT NOT NULL DEFAULT '',
    pm TEXT NOT NULL DEFAULT '',
    brand TEXT NOT NULL DEFAULT '',
    cardno TEXT NOT NULL DEFAULT '',
    card_key TEXT NOT NULL DEFAULT '',
    cn TEXT NOT NULL DEFAULT '',
    ed TEXT NOT NULL DEFAULT '',
    eci TEXT NOT NULL DEFAULT '',
    alias TEXT NOT NULL DEFAULT '',
    ip TEXT NOT NULL DEFAULT '',
    complus TEXT NOT NULL DEFAULT '',
    paramplus TEXT NOT NULL DEFAULT '',
    urls TEXT NOT NULL DEFAULT '{}',
    request TEXT NOT NULL DEFAULT '{}',
    created_at REAL NOT NULL,
    trxdate TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0,
    session TEXT UNIQUE
);
CREATE INDEX IF NOT EXISTS transactions_order ON transactions (pspid, orderid);
CREATE TABLE IF NOT EXISTS history (
    payid INTEGER NOT NULL REFERENCES transactions (payid),
    payidsub INTEGER NOT NULL,
    operation TEXT NOT NULL,
    amount INTEGER NOT NULL,
    status INTEGER NOT NULL,
    ncerror TEXT NOT NULL DEFAULT '0',
    acceptance TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    settle_at REAL,
    settle_status INTEGER,
    settle_ncerror TEXT,
    PRIMARY KEY (payid, payidsub)
);
CREATE INDEX IF NOT EXISTS history_settle ON history (settle_at);
CREATE TABLE IF NOT EXISTS aliases (
    pspid TEXT NOT NULL,
    alias TEXT NOT NULL,
    card_key TEXT NOT NULL,
    cardno TEXT NOT NULL,
    brand TEXT NOT NULL,
    ed TEXT NOT NULL,
    cn TEXT NOT NULL DEFAULT '',
    persisted INTEGER NOT NULL DEFAULT 1,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (pspid, alias)
);
CREATE TABLE IF NOT EXISTS feedback_jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    payid INTEGER NOT NULL,
    payidsub INTEGER NOT NULL DEFAULT 0,
    kind TEXT NOT NULL,
    url TEXT NOT NULL,
    method TEXT NOT NULL,
    charset TEXT NOT NULL,
    params TEXT NOT NULL,
    double_encoded INTEGER NOT NULL DEFAULT 0,
    timeout REAL NOT NULL,
    retry_interval REAL NOT NULL,
    max_attempts INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT 'pending',
    in_flight INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    next_at REAL
);
CREATE INDEX IF NOT EXISTS feedback_due ON feedback_jobs (state, next_at);
CREATE TABLE IF NOT EXISTS feedback_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id INTEGER NOT NULL REFERENCES feedback_jobs (id),
    number INTEGER NOT NULL,
    at REAL NOT NULL,
    duration REAL NOT NULL,
    http_status INTEGER,
    error TEXT NOT NULL DEFAULT '',
    delivered INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS fault_rules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    pspid TEXT NOT NULL,
    orderid TEXT,
    settings TEXT NOT NULL,
    remaining INTEGER,
    created_at REAL NOT NULL
);
"""


@dataclass(frozen=True)
class Transaction:
    payid: int
    pspid: str
    orderid: str
    source: str  # "ecommerce" or "directlink"
    env: str  # "test" or "prod"
    charset: str  # "utf-8" or "iso-8859-1": the charset of the page that created it
    operation: str  # RES or SAL
    amount: int  # AMOUNT as sent: the amount x 100, whatever the currency
    currency: str
    status: int
    ncerror: str = "0"
    ncerrorplus: str = ""
    acceptance: str = ""
    pm: str = ""
    brand: str = ""
    cardno: str = ""  # masked
    card_key: str = field(default="", repr=False)
    cn: str = ""
    ed: str = ""
    eci: str = ""
    alias: str = ""
    ip: str = ""
    complus: str = ""
    paramplus: str = ""
    urls: Mapping[str, str] = field(default_factory=dict)
    request: Mapping[str, Any] = field(default_factory=dict, repr=False)
    created_at: float = 0.0
    trxdate: str = ""
    attempts: int = 0
    session: Optional[str] = field(default=None, repr=False)


@dataclass(frozen=True)
class HistoryLine:
    payid: int
    payidsub: int
    operation: str
    amount: int
    status: int
    ncerror: str
    acceptance: str
    created_at: float
    settle_at: Optional[float]
    settle_status: Optional[int]
    settle_ncerror: Optional[str]

    @property
    def pending(self) -> bool:
        return self.settle_at is not None


@dataclass(frozen=True)
class StoredAlias:
    pspid: str
    alias: str
    card_key: str = field(repr=False)
    cardno: str
    brand: str
    ed: str
    cn: str
    persisted: bool
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class FeedbackJob:
    id: int
    payid: int
    payidsub: int
    kind: str
    url: str
    method: str
    charset: str
    params: tuple[tuple[str, str], ...]
    double_encoded: bool
    timeout: float
    retry_interval: float
    max_attempts: int
    attempts: int
    state: str
    in_flight: bool
    created_at: float
    next_at: Optional[float]


@dataclass(frozen=True)
class FeedbackAttempt:
    job_id: int
    number: int
    at: float
    duration: float
    http_status: Optional[int]
    error: str
    delivered: bool


@dataclass(frozen=True)
class FaultRule:
    id: int
    pspid: str
    orderid: Optional[str]
    settings: Mapping[str, Any]
    remaining: Optional[int]
    created_at: float


_TRANSACTION_FIELDS = [f.name for f in dataclasses.fields(Transaction)]
_JSON_FIELDS = ("urls", "request")


def _where(**equal: Optional[str]) -> tuple[str, list[str]]:
    """``WHERE a = ? AND b = ?`` for the filters that are given (empty ones filter nothing)."""
    given = {column: value for column, value in equal.items() if value}
    clause = f"WHERE {' AND '.join(f'{column} = ?' for column in given)}" if given else ""
    return clause, list(given.values())


def _transaction(row: sqlite3.Row) -> Transaction:
    values = {name: row[name] for name in _TRANSACTION_FIELDS}
    for name in _JSON_FIELDS:
        values[name] = json.loads(values[name])
    return Transaction(**values)


def _line(row: sqlite3.Row) -> HistoryLine:
    return HistoryLine(**{f.name: row[f.name] for f in dataclasses.fields(HistoryLine)})


def _job(row: sqlite3.Row) -> FeedbackJob:
    values = {f.name: row[f.name] for f in dataclasses.fields(FeedbackJob)}
    values["params"] = tuple(tuple(pair) for pair in json.loads(values["params"]))
    values["double_encoded"] = bool(values["double_encoded"])
    values["in_flight"] = bool(values["in_flight"])
    return FeedbackJob(**values)


class Store:
    def __init__(self, path: "str | Path | None" = None):
        self.path = str(path) if path else ":memory:"
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._depth = 0
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        with self._lock:
            if path:
                self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)
            seeded = self._db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'transactions'").fetchone()
            if seeded is None:
                self._db.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('transactions', ?)",
                                 (FIRST_PAYID - 1,))
            # A delivery cut short by a stop is simply due again.
            self._db.execute("UPDATE feedback_jobs SET in_flight = 0 WHERE in_flight = 1")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextlib.contextmanager
    def atomic(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            outermost = self._depth == 0
            if outermost:
                self._db.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield self._db
            except BaseException:
                self._depth -= 1
                if outermost:
                    self._db.execute("ROLLBACK")
                raise
            self._depth -= 1
            if outermost:
                self._db.execute("COMMIT")

    def _query(self, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    # merchants ---------------------------------------------------------------------------------------------
    def save_merchant(self, merchant: Merchant) -> None:
        with self.atomic() as db:
            db.execute("INSERT OR REPLACE INTO merchants (pspid, settings) VALUES (?, ?)",
                       (merchant.pspid, json.dumps(merchant.to_dict())))

    def merchants(self) -> dict[str, Merchant]:
        return {row["pspid"]: merchant_from_dict(json.loads(row["settings"]))
                for row in self._query("SELECT * FROM merchants ORDER BY pspid")}

    # transactions ------------------------------------------------------------------------------------------
    def live_order(self, pspid: str, orderid: str, excluding: int = 0) -> Optional[Transaction]:
        """The transaction that makes ORDERID "already processed", if any (other than ``excluding``)."""
        marks = ",".join("?" * len(RETRYABLE_STATUSES))
        rows = self._query(
            f"SELECT * FROM transactions WHERE pspid = ? AND orderid = ? AND status NOT IN ({marks}) "
            "AND payid != ? ORDER BY payid LIMIT 1", (pspid, orderid, *RETRYABLE_STATUSES, excluding))
        return _transaction(rows[0]) if rows else None

    def insert_transaction(self, values: Mapping[str, Any], line_operation: str,
                           settle_at: Optional[float] = None, settle_status: Optional[int] = None,
                           settle_ncerror: Optional[str] = None) -> Transaction:
        values = dict(values)
        for name in _JSON_FIELDS:
            values[name] = json.dumps(values.get(name, {}))
        names = [name for name in values if name in _TRANSACTION_FIELDS and name != "payid"]
        with self.atomic() as db:
            cursor = db.execute(
                f"INSERT INTO transactions ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                tuple(values[name] for name in names))
            payid = cursor.lastrowid
            db.execute(
                "INSERT INTO history (payid, payidsub, operation, amount, status, ncerror, acceptance, "
                "created_at, settle_at, settle_status, settle_ncerror) VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (payid, line_operation, values["amount"], values["status"], values.get("ncerror", "0"),
                 values.get("acceptance", ""), values["created_at"], settle_at, settle_status, settle_ncerror))
            return self.transaction(payid)

    def transaction(self, payid: int) -> Optional[Transaction]:
        rows = self._query("SELECT * FROM transactions WHERE payid = ?", (payid,))
        return _transaction(rows[0]) if rows else None

    def latest_by_order(self, pspid: str, orderid: str) -> Optional[Transaction]:
        """The transaction an ORDERID stands for: the one that holds it, else the latest attempt."""
        live = self.live_order(pspid, orderid)
        if live is not None:
            return live
        rows = self._query("SELECT * FROM transactions WHERE pspid = ? AND orderid = ? ORDER BY payid DESC LIMIT 1",
                           (pspid, orderid))
        return _transaction(rows[0]) if rows else None

    def by_session(self, session: str) -> Optional[Transaction]:
        rows = self._query("SELECT * FROM transactions WHERE session = ?", (session,))
        return _transaction(rows[0]) if rows else None

    def update_transaction(self, payid: int, **values: Any) -> Transaction:
        for name in _JSON_FIELDS:
            if name in values:
                values[name] = json.dumps(values[name])
        unknown = set(values) - set(_TRANSACTION_FIELDS)
        if unknown:
            raise ValueError(f"unknown transaction field(s) {unknown}")
        with self.atomic() as db:
            db.execute(f"UPDATE transactions SET {', '.join(f'{name} = ?' for name in values)} WHERE payid = ?",
                       (*values.values(), payid))
            return self.transaction(payid)

    def list_transactions(self, pspid: str = "", orderid: str = "", limit: int = 500) -> list[Transaction]:
        where, args = _where(pspid=pspid, orderid=orderid)
        rows = self._query(f"SELECT * FROM transactions {where} ORDER BY payid DESC LIMIT ?", (*args, limit))
        return [_transaction(row) for row in rows]

    # history -----------------------------------------------------------------------------------------------
    def history(self, payid: int) -> list[HistoryLine]:
        return [_line(row) for row in self._query("SELECT * FROM history WHERE payid = ? ORDER BY payidsub",
                                                  (payid,))]

    def add_line(self, payid: int, operation: str, amount: int, status: int, ncerror: str, acceptance: str,
                 now: float, settle_at: Optional[float] = None, settle_status: Optional[int] = None,
                 settle_ncerror: Optional[str] = None) -> HistoryLine:
        with self.atomic() as db:
            payidsub = db.execute("SELECT COALESCE(MAX(payidsub), 0) + 1 FROM history WHERE payid = ?",
                                  (payid,)).fetchone()[0]
            db.execute(
                "INSERT INTO history (payid, payidsub, operation, amount, status, ncerror, acceptance, created_at, "
                "settle_at, settle_status, settle_ncerror) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (payid, payidsub, operation, amount, status, ncerror, acceptance, now, settle_at, settle_status,
                 settle_ncerror))
            self._refresh_status(db, payid)
            return self.line(payid, payidsub)

    def line(self, payid: int, payidsub: int) -> Optional[HistoryLine]:
        rows = self._query("SELECT * FROM history WHERE payid = ? AND payidsub = ?", (payid, payidsub))
        return _line(rows[0]) if rows else None

    def update_line(self, payid: int, payidsub: int, **values: Any) -> None:
        with self.atomic() as db:
            db.execute(f"UPDATE history SET {', '.join(f'{name} = ?' for name in values)} "
                       "WHERE payid = ? AND payidsub = ?", (*values.values(), payid, payidsub))
            self._refresh_status(db, payid)

    @staticmethod
    def _refresh_status(db: sqlite3.Connection, payid: int) -> None:
        # The platform shows the status of the latest history line as the status of the transaction.
        latest = db.execute("SELECT status, ncerror FROM history WHERE payid = ? ORDER BY payidsub DESC LIMIT 1",
                            (payid,)).fetchone()
        db.execute("UPDATE transactions SET status = ?, ncerror = ? WHERE payid = ?",
                   (latest["status"], latest["ncerror"], payid))

    def settle(self, now: float, force: bool = False, payid: Optional[int] = None,
               pspid: str = "") -> list[tuple[int, int]]:
        """Move pending lines (51/91/81/61, 52/92) to their final status; returns the (PAYID, PAYIDSUB) moved."""
        clauses = ["h.settle_at IS NOT NULL"]
        args: list[Any] = []
        if not force:
            clauses.append("h.settle_at <= ?")
            args.append(now)
        if payid is not None:
            clauses.append("h.payid = ?")
            args.append(payid)
        if pspid:
            clauses.append("t.pspid = ?")
            args.append(pspid)
        with self.atomic() as db:
            rows = db.execute(
                "SELECT h.payid, h.payidsub, h.settle_status, h.settle_ncerror FROM history h "
                f"JOIN transactions t ON t.payid = h.payid WHERE {' AND '.join(clauses)} "
                "ORDER BY h.payid, h.payidsub", args).fetchall()
            for row in rows:
                db.execute("UPDATE history SET status = ?, ncerror = ?, settle_at = NULL, settle_status = NULL, "
                           "settle_ncerror = NULL WHERE payid = ? AND payidsub = ?",
                           (row["settle_status"], row["settle_ncerror"] or "0", row["payid"], row["payidsub"]))
                self._refresh_status(db, row["payid"])
            return [(row["payid"], row["payidsub"]) for row in rows]

    def next_settle_at(self) -> Optional[float]:
        row = self._query("SELECT MIN(settle_at) FROM history WHERE settle_at IS NOT NULL")[0]
        return row[0]

    # aliases -----------------------------------------------------------------------------------------------
    def save_alias(self, pspid: str, alias: str, card_key: str, cardno: str, brand: str, ed: str, cn: str,
                   persisted: bool, now: float) -> bool:
        """Create or update an alias; True when it already existed (the platform's "alias updated")."""
        with self.atomic() as db:
            existed = db.execute("SELECT 1 FROM aliases WHERE pspid = ? AND alias = ?",
                                 (pspid, alias)).fetchone() is not None
            if existed:
                db.execute("UPDATE aliases SET card_key = ?, cardno = ?, brand = ?, ed = ?, cn = ?, persisted = ?, "
                           "updated_at = ? WHERE pspid = ? AND alias = ?",
                           (card_key, cardno, brand, ed, cn, int(persisted), now, pspid, alias))
            else:
                db.execute("INSERT INTO aliases (pspid, alias, card_key, cardno, brand, ed, cn, persisted, "
                           "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           (pspid, alias, card_key, cardno, brand, ed, cn, int(persisted), now, now))
            return existed

    def alias(self, pspid: str, alias: str) -> Optional[StoredAlias]:
        rows = self._query("SELECT * FROM aliases WHERE pspid = ? AND alias = ?", (pspid, alias))
        return self._alias(rows[0]) if rows else None

    def delete_alias(self, pspid: str, alias: str) -> None:
        with self.atomic() as db:
            db.execute("DELETE FROM aliases WHERE pspid = ? AND alias = ?", (pspid, alias))

    def aliases(self, pspid: str = "") -> list[StoredAlias]:
        if pspid:
            rows = self._query("SELECT * FROM aliases WHERE pspid = ? ORDER BY created_at", (pspid,))
        else:
            rows = self._query("SELECT * FROM aliases ORDER BY created_at")
        return [self._alias(row) for row in rows]

    @staticmethod
    def _alias(row: sqlite3.Row) -> StoredAlias:
        values = {f.name: row[f.name] for f in dataclasses.fields(StoredAlias)}
        values["persisted"] = bool(values["persisted"])
        return StoredAlias(**values)

    # feedback ----------------------------------------------------------------------------------------------
    def add_feedback_job(self, payid: int, payidsub: int, kind: str, url: str, method: str, charset: str,
                         params: list[tuple[str, str]], double_encoded: bool, timeout: float,
                         retry_interval: float, max_attempts: int, now: float, due_at: float,
                         claimed: bool = False) -> FeedbackJob:
        """A new job; ``claimed`` keeps the background worker off it because the caller delivers it now."""
        with self.atomic() as db:
            cursor = db.execute(
                "INSERT INTO feedback_jobs (payid, payidsub, kind, url, method, charset, params, double_encoded, "
                "timeout, retry_interval, max_attempts, created_at, next_at, in_flight) VALUES (?, ?, ?, ?, ?, ?, "
                "?, ?, ?, ?, ?, ?, ?, ?)",
                (payid, payidsub, kind, url, method, charset, json.dumps(params), int(double_encoded), timeout,
                 retry_interval, max_attempts, now, due_at, int(claimed)))
            return self.feedback_job(cursor.lastrowid)

    def feedback_job(self, job_id: int) -> Optional[FeedbackJob]:
        rows = self._query("SELECT * FROM feedback_jobs WHERE id = ?", (job_id,))
        return _job(rows[0]) if rows else None

    def claim_feedback_job(self, job_id: int) -> Optional[FeedbackJob]:
        """Mark a pending job as being delivered; None when another thread got it first."""
        with self.atomic() as db:
            cursor = db.execute("UPDATE feedback_jobs SET in_flight = 1 WHERE id = ? AND in_flight = 0 "
                                "AND state = 'pending'", (job_id,))
            return self.feedback_job(job_id) if cursor.rowcount == 1 else None

    def pending_feedback_jobs(self, due_before: Optional[float] = None,
                              payid: Optional[int] = None) -> list[FeedbackJob]:
        clauses = ["state = 'pending'", "in_flight = 0"]
        args: list[Any] = []
        if due_before is not None:
            clauses.append("next_at <= ?")
            args.append(due_before)
        if payid is not None:
            clauses.append("payid = ?")
            args.append(payid)
        rows = self._query(f"SELECT * FROM feedback_jobs WHERE {' AND '.join(clauses)} ORDER BY next_at, id", args)
        return [_job(row) for row in rows]

    def next_feedback_at(self) -> Optional[float]:
        return self._query("SELECT MIN(next_at) FROM feedback_jobs WHERE state = 'pending' AND in_flight = 0")[0][0]

    def finish_attempt(self, job: FeedbackJob, at: float, duration: float, http_status: Optional[int],
                       error: str, delivered: bool) -> FeedbackJob:
        number = job.attempts + 1
        if delivered:
            state, next_at = "delivered", None
        elif number >= job.max_attempts:
            state, next_at = "failed", None
        else:
            state, next_at = "pending", at + job.retry_interval
        with self.atomic() as db:
            db.execute("INSERT INTO feedback_attempts (job_id, number, at, duration, http_status, error, delivered) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?)", (job.id, number, at, duration, http_status, error,
                                                        int(delivered)))
            db.execute("UPDATE feedback_jobs SET attempts = ?, state = ?, next_at = ?, in_flight = 0 WHERE id = ?",
                       (number, state, next_at, job.id))
            return self.feedback_job(job.id)

    def feedback_jobs(self, payid: int) -> list[FeedbackJob]:
        return [_job(row) for row in self._query("SELECT * FROM feedback_jobs WHERE payid = ? ORDER BY id",
                                                 (payid,))]

    def feedback_attempts(self, job_id: int) -> list[FeedbackAttempt]:
        rows = self._query("SELECT * FROM feedback_attempts WHERE job_id = ? ORDER BY number", (job_id,))
        return [FeedbackAttempt(**{f.name: (bool(row[f.name]) if f.name == "delivered" else row[f.name])
                                   for f in dataclasses.fields(FeedbackAttempt)}) for row in rows]

    # faults ------------------------------------------------------------------------------------------------
    def add_fault_rule(self, pspid: str, orderid: Optional[str], settings: Mapping[str, Any],
                       remaining: Optional[int], now: float) -> FaultRule:
        with self.atomic() as db:
            cursor = db.execute("INSERT INTO fault_rules (pspid, orderid, settings, remaining, created_at) "
                                "VALUES (?, ?, ?, ?, ?)", (pspid, orderid, json.dumps(settings), remaining, now))
            return self._fault_rules("WHERE id = ?", (cursor.lastrowid,))[0]

    def fault_rules(self, pspid: str = "", orderid: Optional[str] = None) -> list[FaultRule]:
        if not pspid:
            return self._fault_rules("", ())
        # The most specific rule wins: order rules come first, newest first.
        return self._fault_rules("WHERE pspid = ? AND (orderid IS NULL OR orderid = ?) "
                                 "ORDER BY orderid IS NULL, id DESC", (pspid, orderid or ""))

    def _fault_rules(self, where: str, args: tuple) -> list[FaultRule]:
        rows = self._query(f"SELECT * FROM fault_rules {where}", args)
        return [FaultRule(row["id"], row["pspid"], row["orderid"], json.loads(row["settings"]), row["remaining"],
                          row["created_at"]) for row in rows]

    def consume_fault_rule(self, rule_id: int) -> None:
        with self.atomic() as db:
            db.execute("UPDATE fault_rules SET remaining = remaining - 1 WHERE id = ? AND remaining IS NOT NULL",
                       (rule_id,))
            db.execute("DELETE FROM fault_rules WHERE id = ? AND remaining IS NOT NULL AND remaining <= 0",
                       (rule_id,))

    def delete_fault_rules(self, pspid: str = "", orderid: Optional[str] = None) -> int:
        where, args = _where(pspid=pspid, orderid=orderid)
        with self.atomic() as db:
            return db.execute(f"DELETE FROM fault_rules {where}", args).rowcount
