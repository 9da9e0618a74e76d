"""The admin side: a JSON API for tests under ``/admin/api/`` and a read-only HTML back office at ``/admin/``.

Card numbers appear masked, secrets as "set"; nothing here can reveal a passphrase or a password.
"""
from __future__ import annotations

import dataclasses
import json
from typing import Any, Optional

from werkzeug.wrappers import Request, Response

from ..amounts import format_plain_amount
from ..status import Status
from .faults import FaultSettingsError
from .merchants import MerchantSettingsError
from .pages import Html, display_amount, link, page, table
from .service import Sandbox
from .store import FeedbackJob, HistoryLine, StoredAlias, Transaction
from .wire import MAX_NUMBER_DIGITS, whole_number


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data, indent=1), status=status, content_type="application/json")


def error_response(message: str, status: int = 400) -> Response:
    return _json({"error": message}, status)


def _describe(status: int) -> str:
    try:
        return Status.parse(status).description
    except Exception:
        return ""


def transaction_json(tx: Transaction) -> dict[str, Any]:
    return {
        "payid": tx.payid, "pspid": tx.pspid, "orderid": tx.orderid, "source": tx.source, "env": tx.env,
        "charset": tx.charset, "operation": tx.operation, "amount": format_plain_amount(tx.amount),
        "amount_wire": tx.amount, "currency": tx.currency, "status": tx.status,
        "status_description": _describe(tx.status), "ncerror": tx.ncerror, "acceptance": tx.acceptance,
        "pm": tx.pm, "brand": tx.brand, "cardno": tx.cardno, "cn": tx.cn, "ed": tx.ed, "eci": tx.eci,
        "alias": tx.alias, "ip": tx.ip, "complus": tx.complus, "paramplus": tx.paramplus, "urls": dict(tx.urls),
        "trxdate": tx.trxdate, "created_at": tx.created_at,
    }


def line_json(tx: Transaction, line: HistoryLine) -> dict[str, Any]:
    return {
        "payidsub": line.payidsub, "operation": line.operation,
        "amount": format_plain_amount(line.amount), "amount_wire": line.amount,
        "status": line.status, "status_description": _describe(line.status), "ncerror": line.ncerror,
        "created_at": line.created_at, "settle_at": line.settle_at, "settles_to": line.settle_status,
    }


def job_json(sandbox: Sandbox, job: FeedbackJob) -> dict[str, Any]:
    return {
        "id": job.id, "kind": job.kind, "payidsub": job.payidsub, "url": job.url, "method": job.method,
        "charset": job.charset, "params": [list(pair) for pair in job.params],
        "double_encoded": job.double_encoded, "state": job.state, "attempts_made": job.attempts,
        "max_attempts": job.max_attempts, "next_at": job.next_at, "created_at": job.created_at,
        "attempts": [{"number": a.number, "at": a.at, "duration": round(a.duration, 4),
                      "http_status": a.http_status, "error": a.error, "delivered": a.delivered}
                     for a in sandbox.store.feedback_attempts(job.id)],
    }


def alias_json(alias: StoredAlias) -> dict[str, Any]:
    return {"pspid": alias.pspid, "alias": alias.alias, "cardno": alias.cardno, "brand": alias.brand,
            "ed": alias.ed, "cn": alias.cn, "persisted": alias.persisted, "created_at": alias.created_at,
            "updated_at": alias.updated_at}


def transaction_detail(sandbox: Sandbox, tx: Transaction) -> dict[str, Any]:
    data = transaction_json(tx)
    data["history"] = [line_json(tx, line) for line in sandbox.store.history(tx.payid)]
    data["feedback"] = [job_json(sandbox, job) for job in sandbox.store.feedback_jobs(tx.payid)]
    return data


class BadInput(ValueError):
    """An admin call with a value of the wrong type or out of range: answered 400 with the message."""


def _body(request: Request) -> dict[str, Any]:
    data = request.get_data(cache=True)
    if not data.strip():
        return {}
    try:
        body = json.loads(data)
    except (ValueError, RecursionError):
        raise BadInput("the body is not JSON") from None
    if not isinstance(body, dict):
        raise BadInput("the body is a JSON object")
    return body


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadInput(f"{name} is a string")
    return value


def _payid(value: Any) -> Optional[int]:
    if value is None:
        return None
    number = whole_number(value) if isinstance(value, str) else value
    if isinstance(number, bool) or not isinstance(number, int) or not 0 <= number < 10 ** MAX_NUMBER_DIGITS:
        raise BadInput("payid is a PAYID number")
    return number


def _flag(body: dict[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise BadInput(f"{name} is true or false")
    return value


def api(sandbox: Sandbox, request: Request, path: str) -> Response:
    try:
        return _api(sandbox, request, path.strip("/"))
    except BadInput as problem:
        return error_response(str(problem))


def _api(sandbox: Sandbox, request: Request, path: str) -> Response:
    method = request.method
    body = _body(request) if method in ("POST", "DELETE") else {}
    args = request.args
    if path == "health" and method == "GET":
        return _json({"ok": True, "time": sandbox.now()})
    if path == "transactions" and method == "GET":
        limit = whole_number(args.get("limit", "500"))
        if limit is None:
            return error_response("limit is a number")
        found = sandbox.store.list_transactions(args.get("pspid", ""), args.get("orderid", ""), limit)
        return _json({"transactions": [transaction_json(tx) for tx in found]})
    if path.startswith("transactions/") and method == "GET":
        payid = path.split("/", 1)[1]
        number = whole_number(payid)
        tx = sandbox.store.transaction(number) if number is not None else None
        if tx is None:
            return error_response(f"no transaction with PAYID {payid}", 404)
        return _json(transaction_detail(sandbox, tx))
    if path == "settle" and method == "POST":
        return _settle(sandbox, body)
    if path == "faults":
        return _faults(sandbox, method, body, args)
    if path == "held" and method == "GET":
        return _json({"held": [dataclasses.asdict(answer) for answer in sandbox.held.list(args.get("pspid", ""))]})
    if path == "merchants":
        if method == "GET":
            return _json({"merchants": [m.public_dict() for m in sandbox.merchants()]})
        if method == "POST":
            _text(body, "pspid")  # refused here if not a string, before it is looked up
            try:
                merchant, created = sandbox.upsert_merchant(body)
            except MerchantSettingsError as error:
                return error_response(str(error))
            return _json({"merchant": merchant.public_dict(), "created": created}, 201 if created else 200)
    if path == "feedback/retry" and method == "POST":
        jobs = sandbox.feedback.run_pending(due_only=_flag(body, "due_only"), payid=_payid(body.get("payid")))
        return _json({"attempted": [job_json(sandbox, job) for job in jobs]})
    if path == "aliases" and method == "GET":
        return _json({"aliases": [alias_json(alias) for alias in sandbox.store.aliases(args.get("pspid", ""))]})
    return error_response(f"no admin endpoint {method} /admin/api/{path}", 404)


def _settle(sandbox: Sandbox, body: dict[str, Any]) -> Response:
    payid = _payid(body.get("payid"))
    pspid, orderid = _text(body, "pspid"), _text(body, "orderid")
    if payid is None and orderid:
        tx = sandbox.store.latest_by_order(pspid, orderid)
        if tx is None:
            return error_response("no such order", 404)
        payid = tx.payid
    moved = sandbox.settle(force=not _flag(body, "due_only"), payid=payid, pspid=pspid)
    settled = []
    for tx_payid, payidsub in moved:
        line = sandbox.store.line(tx_payid, payidsub)
        settled.append({"payid": tx_payid, "payidsub": payidsub, "status": line.status})
    return _json({"settled": settled})


def _faults(sandbox: Sandbox, method: str, body: dict[str, Any], args) -> Response:
    if method == "GET":
        return _json({"faults": [{"id": r.id, "pspid": r.pspid, "orderid": r.orderid, "faults": dict(r.settings),
                                  "times": r.remaining} for r in sandbox.store.fault_rules(args.get("pspid", ""))]})
    if method == "POST":
        _text(body, "pspid")  # refused here if not a string, before it is looked up
        _text(body, "orderid")
        try:
            rule_id = sandbox.add_fault_rule(body)
        except (FaultSettingsError, ValueError) as error:
            return error_response(str(error))
        return _json({"id": rule_id}, 201)
    if method == "DELETE":
        pspid = _text(body, "pspid") or args.get("pspid", "")
        orderid = _text(body, "orderid") or args.get("orderid")
        return _json({"deleted": sandbox.store.delete_fault_rules(pspid, orderid)})
    return error_response(f"no admin endpoint {method} /admin/api/faults", 405)


# HTML back office ------------------------------------------------------------------------------------------
def backoffice(sandbox: Sandbox, request: Request, path: str) -> Response:
    path = path.strip("/")
    if path.startswith("transactions/"):
        payid = path.split("/", 1)[1]
        number = whole_number(payid)
        tx = sandbox.store.transaction(number) if number is not None else None
        if tx is None:
            return page("error_page.html", "Not found", http_status=404, text=f"No transaction {payid}",
                        details=Html(""))
        return _transaction_page(sandbox, tx)
    if path:
        return page("error_page.html", "Not found", http_status=404, text="No such page", details=Html(""))
    pspid, orderid = request.args.get("pspid", ""), request.args.get("orderid", "")
    rows = [(link(f"/admin/transactions/{tx.payid}", str(tx.payid)), tx.pspid, tx.orderid, tx.source,
             f"{display_amount(tx.amount)} {tx.currency}", f"{tx.status} {_describe(tx.status)}",
             tx.ncerror, tx.cardno, tx.alias) for tx in sandbox.store.list_transactions(pspid, orderid)]
    merchants = [(m.pspid, m.algorithm.value, m.api_user, m.feedback_url or "-", m.feedback_timing)
                 for m in sandbox.merchants()]
    return page("backoffice.html", "Back office", pspid=pspid, orderid=orderid,
                transactions=table(rows, ("PAYID", "PSPID", "ORDERID", "Source", "Amount", "Status", "NCERROR",
                                          "Card", "Alias")),
                merchants=table(merchants, ("PSPID", "Hash", "API user", "Feedback URL", "Feedback timing")))


def _transaction_page(sandbox: Sandbox, tx: Transaction) -> Response:
    data = transaction_json(tx)
    summary = table([(name, value if not isinstance(value, dict) else json.dumps(value))
                     for name, value in data.items()], ("Field", "Value"))
    history = table([(line.payidsub, line.operation, display_amount(line.amount),
                      f"{line.status} {_describe(line.status)}", line.ncerror,
                      "" if line.settle_status is None else f"settles to {line.settle_status}")
                     for line in sandbox.store.history(tx.payid)],
                    ("PAYIDSUB", "Operation", "Amount", "Status", "NCERROR", "Pending"))
    attempts = []
    for job in sandbox.store.feedback_jobs(tx.payid):
        tried = sandbox.store.feedback_attempts(job.id)
        if not tried:
            attempts.append((job.id, job.kind, job.method, job.url, job.state, "-", "-", "-"))
        for attempt in tried:
            attempts.append((job.id, job.kind, job.method, job.url, job.state, attempt.number,
                             attempt.http_status or "-", attempt.error or "delivered"))
    feedback = table(attempts, ("Job", "Kind", "Method", "URL", "State", "Attempt", "HTTP", "Result"))
    return page("backoffice_transaction.html", f"Transaction {tx.payid}", payid=tx.payid, summary=summary,
                history=history, feedback=feedback)
