"""DirectLink: ``orderdirect``, ``maintenancedirect`` and ``querydirect`` (and their ``_utf8`` twins).

Every answer is an XML ``ncresponse`` with HTTP 200, errors included: a refused request is STATUS 0 with
NCERROR / NCERRORPLUS, as on the platform.
"""
from __future__ import annotations

import base64
import hmac
import re
import secrets
from typing import Optional

from werkzeug.wrappers import Response

from ..amounts import format_plain_amount
from . import acquirer, ncerrors
from .cards import Behaviour, CardInput, card_by_key, check_card_input
from .checks import MAX_AMOUNT_DIGITS, PageRequest, Problem, order_fields, production_refused, signature_problem
from .clock import trxdate, utc_date
from .feedback import paramplus_pairs
from .hosted import URL_FIELDS
from .merchants import Merchant
from .pages import Html, hidden, render
from .service import Sandbox
from .store import RETRYABLE_STATUSES
from .store import HistoryLine, Transaction
from .wire import ncresponse, whole_number

ECI_DEFAULT = "7"
RECURRING_ECI = ("2", "9")  # recurring payments carry no CVC
_XML_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


def _status_fields(ncerror: str, status: int | str, plus: str = "") -> list[tuple[str, str]]:
    if not plus:
        plus = ncerrors.OK_PLUS if ncerror == ncerrors.OK else ncerrors.text(ncerror)
    return [("NCSTATUS", ncerrors.ncstatus(ncerror)), ("NCERROR", ncerror), ("NCERRORPLUS", plus)]


def refusal(request: PageRequest, problem: Problem, payid: str = "0", acceptance: str = "",
            extra: Optional[list[tuple[str, str]]] = None) -> Response:
    params = request.params
    attributes = [("orderID", params.get("ORDERID")), ("PAYID", payid)]
    attributes += extra or []
    attributes += _status_fields(problem.ncerror, 0, problem.plus)
    attributes += [("ACCEPTANCE", acceptance), ("STATUS", "0"), ("amount", ""),
                   ("currency", params.stripped("CURRENCY"))]
    return ncresponse(attributes, charset=request.charset)


def authenticate(sandbox: Sandbox, request: PageRequest) -> tuple[Optional[Merchant], Optional[Problem]]:
    params = request.params
    merchant = sandbox.merchant(params.stripped("PSPID"))
    if merchant is None:
        return None, Problem.of(ncerrors.PSPID_NOT_FOUND)
    problem = production_refused(merchant, request.env)
    if problem:
        return None, problem
    user = params.stripped("USERID")
    if user and user == merchant.pspid:
        return None, Problem(ncerrors.PASSWORD_INCORRECT, ncerrors.API_NOT_ALLOWED_TEXT)
    password_ok = hmac.compare_digest(params.get("PSWD").encode("utf-8"), merchant.api_password.encode("utf-8"))
    if not merchant.api_user or user != merchant.api_user or not password_ok:
        return None, Problem.of(ncerrors.PASSWORD_INCORRECT)
    return merchant, None


def _checked(sandbox: Sandbox, request: PageRequest,
             signature_required: bool = True) -> tuple[Optional[Merchant], Optional[Problem]]:
    merchant, problem = authenticate(sandbox, request)
    if problem:
        return None, problem
    params = request.params
    problem = signature_problem(params, params.without("SHASIGN"), merchant.directlink_passphrase, merchant,
                                request.charset, required=signature_required)
    return (None, problem) if problem else (merchant, None)


def _order_attributes(tx: Transaction, status: int, ncerror: str, plus: str = "") -> list[tuple[str, str]]:
    attributes = [("orderID", tx.orderid), ("PAYID", str(tx.payid))]
    attributes += _status_fields(ncerror, status, plus)
    attributes += [("ACCEPTANCE", tx.acceptance), ("STATUS", str(status)), ("IPCTY", "99"), ("CCCTY", "99"),
                   ("ECI", tx.eci), ("CVCCheck", "NO"), ("AAVCheck", "NO"), ("VC", ""),
                   ("amount", format_plain_amount(tx.amount)), ("currency", tx.currency),
                   ("PM", tx.pm), ("BRAND", tx.brand)]
    if tx.alias:
        attributes.append(("ALIAS", tx.alias))
    return attributes


def _card(sandbox: Sandbox, merchant: Merchant, request: PageRequest) -> tuple[Optional[CardInput], Optional[Problem]]:
    params = request.params
    alias_name = params.stripped("ALIAS")
    number = params.get("CARDNO").replace(" ", "").strip()
    if number:
        if alias_name and alias_name == number:
            return None, Problem.of(ncerrors.ALIAS_EQUALS_CARD)
        cvc = params.get("CVC") or params.get("ECOM_PAYMENT_CARD_VERIFICATION")
        card, errors = check_card_input(number, params.get("ED"), cvc, params.get("CN"),
                                        utc_date(sandbox.clock),
                                        cvc_required=params.stripped("ECI") not in RECURRING_ECI)
        if errors:
            return None, Problem(errors[0].ncerror, "|".join(error.message for error in errors))
        return card, None
    if alias_name:
        stored = sandbox.store.alias(merchant.pspid, alias_name)
        if stored is None:
            return None, Problem(ncerrors.DATA_VALIDATION, " unknown alias")
        return CardInput(card_by_key(stored.card_key), stored.ed, params.get("CN").strip() or stored.cn), None
    return None, Problem(ncerrors.DATA_VALIDATION, " no card no|no exp date")


def html_answer(request: PageRequest, tx: Transaction) -> str:
    """The base64 HTML fragment that takes the customer to the sandbox's access control server."""
    term_url = f"{request.base_url}order_A3DS{'_utf8' if tx.charset == 'utf-8' else ''}.asp"
    pareq = base64.b64encode(f"PAYID={tx.payid}".encode("ascii")).decode("ascii")
    fields = Html("\n".join([hidden("PaReq", pareq), hidden("TermUrl", term_url), hidden("MD", tx.session or "")]))
    fragment = render("html_answer.html", acs_url=f"{request.base_url}Test_3D_ACS.asp", fields=fields)
    return base64.b64encode(fragment.encode("utf-8")).decode("ascii")


def order_direct(sandbox: Sandbox, request: PageRequest) -> Response:
    merchant, problem = _checked(sandbox, request)
    if problem:
        return refusal(request, problem)
    params = request.params
    fields, problem = order_fields(params, merchant.default_operation, acquirer.NEW_ORDER_OPERATIONS)
    if problem:
        return refusal(request, problem)
    card, problem = _card(sandbox, merchant, request)
    if problem:
        return refusal(request, problem)
    alias_name = params.stripped("ALIAS")
    three_ds = params.stripped("FLAG3D").upper() == "Y" and card.card.behaviour is Behaviour.THREE_D_SECURE
    now = sandbox.now()
    base = {
        "pspid": merchant.pspid, "orderid": fields.orderid, "source": "directlink", "env": request.env,
        "charset": request.charset, "operation": fields.operation, "amount": fields.amount,
        "currency": fields.currency, "pm": "CreditCard", "brand": card.card.brand, "cardno": card.masked,
        "card_key": card.card.key, "cn": card.holder, "ed": card.expiry,
        "eci": params.stripped("ECI") or ECI_DEFAULT, "ip": params.stripped("REMOTE_ADDR") or request.client_ip,
        "complus": params.get("COMPLUS"), "paramplus": params.get("PARAMPLUS"), "created_at": now,
        "trxdate": trxdate(sandbox.clock),
    }
    with sandbox.store.atomic():
        original = sandbox.store.live_order(merchant.pspid, fields.orderid)
        if original is not None:
            return refusal(request, Problem.of(ncerrors.ALREADY_PROCESSED), payid=str(original.payid),
                           acceptance=original.acceptance)
        if three_ds:
            kept = {name: params.get(name) for name in ("ALIAS", "ALIASPERSISTEDAFTERUSE", "PARAMVAR", "LANGUAGE")
                    if params.get(name)}
            urls = {name: params.stripped(name) for name in URL_FIELDS if params.stripped(name)}
            tx = sandbox.store.insert_transaction(
                {**base, "status": 46, "ncerror": ncerrors.OK, "urls": urls, "request": kept,
                 "session": secrets.token_urlsafe(24)}, acquirer.line_operation(fields.operation))
            attributes = _order_attributes(tx, 46, ncerrors.OK, ncerrors.IDENTIFICATION_REQUESTED)
            return ncresponse(attributes, html_answer(request, tx), charset=request.charset)
        outcome = acquirer.new_order(card.card.behaviour, fields.operation)
        kept_alias = ""
        if alias_name and outcome.status not in RETRYABLE_STATUSES:
            if params.get("CARDNO").strip():
                persisted = params.stripped("ALIASPERSISTEDAFTERUSE").upper() != "N"
                sandbox.store.save_alias(merchant.pspid, alias_name, card.card.key, card.masked, card.card.brand,
                                         card.expiry, card.holder, persisted, now)
            kept_alias = alias_name
        tx = sandbox.store.insert_transaction(
            {**base, "status": outcome.status, "ncerror": outcome.ncerror, "acceptance": outcome.acceptance,
             "alias": kept_alias},
            acquirer.line_operation(fields.operation), sandbox.settle_at(merchant, outcome), outcome.settle_status,
            outcome.settle_ncerror)
    return ncresponse(_order_attributes(tx, tx.status, tx.ncerror), charset=request.charset)


def _find_transaction(sandbox: Sandbox, merchant: Merchant, request: PageRequest) -> tuple[Optional[Transaction], Optional[Problem]]:
    params = request.params
    payid, orderid = params.stripped("PAYID"), params.stripped("ORDERID")
    if not payid and not orderid:
        return None, Problem(ncerrors.DATA_VALIDATION, " no payid|no orderid")
    if payid:
        number = whole_number(payid)
        tx = sandbox.store.transaction(number) if number is not None else None
    else:
        tx = sandbox.store.latest_by_order(merchant.pspid, orderid)
    if tx is None or tx.pspid != merchant.pspid:
        return None, Problem.of(ncerrors.ORIGINAL_ORDER_ACCESS)
    return tx, None


def _behaviour(tx: Transaction) -> Behaviour:
    return card_by_key(tx.card_key).behaviour if tx.card_key else Behaviour.APPROVED


def maintenance_direct(sandbox: Sandbox, request: PageRequest) -> Response:
    merchant, problem = _checked(sandbox, request)
    if problem:
        return refusal(request, problem)
    params = request.params
    tx, problem = _find_transaction(sandbox, merchant, request)
    if problem:
        return refusal(request, problem, payid=params.stripped("PAYID") or "0")
    operation = params.stripped("OPERATION").upper()
    amount_text = params.stripped("AMOUNT")
    amount = whole_number(amount_text, MAX_AMOUNT_DIGITS)
    if not operation:
        problem = Problem(ncerrors.DATA_VALIDATION, " no operation")
    elif amount_text and amount is None:
        problem = Problem.of(ncerrors.AMOUNT_NOT_A_NUMBER)
    elif amount_text and amount <= 0:
        problem = Problem(ncerrors.DATA_VALIDATION, " amount must be positive")
    if problem:
        return _maintenance_refusal(request, tx, problem)
    with sandbox.store.atomic():
        decision = acquirer.maintenance(sandbox.store.history(tx.payid), _behaviour(tx), operation,
                                        amount if amount_text else None)
        if isinstance(decision, acquirer.Refusal):
            return _maintenance_refusal(request, tx, Problem.of(decision.ncerror))
        outcome = decision.outcome
        line = sandbox.store.add_line(tx.payid, decision.operation, decision.amount, outcome.status,
                                      outcome.ncerror, outcome.acceptance, sandbox.now(),
                                      sandbox.settle_at(merchant, outcome), outcome.settle_status,
                                      outcome.settle_ncerror)
    return ncresponse(_line_attributes(tx, line), charset=request.charset)


def _maintenance_refusal(request: PageRequest, tx: Transaction, problem: Problem) -> Response:
    attributes = [("orderID", tx.orderid), ("PAYID", str(tx.payid)), ("PAYIDSUB", "0")]
    attributes += _status_fields(problem.ncerror, 0, problem.plus)
    attributes += [("ACCEPTANCE", ""), ("STATUS", "0"), ("amount", ""), ("currency", tx.currency)]
    return ncresponse(attributes, charset=request.charset)


def _line_attributes(tx: Transaction, line: HistoryLine) -> list[tuple[str, str]]:
    attributes = [("orderID", tx.orderid), ("PAYID", str(tx.payid)), ("PAYIDSUB", str(line.payidsub))]
    attributes += _status_fields(line.ncerror, line.status)
    attributes += [("ACCEPTANCE", line.acceptance or tx.acceptance), ("STATUS", str(line.status)),
                   ("amount", format_plain_amount(line.amount)), ("currency", tx.currency),
                   ("PM", tx.pm), ("BRAND", tx.brand)]
    return attributes


def query_direct(sandbox: Sandbox, request: PageRequest) -> Response:
    # Queries move no money; the platform's own integrations query without SHASIGN, so it is checked
    # only when given.
    merchant, problem = _checked(sandbox, request, signature_required=False)
    if problem:
        return refusal(request, problem)
    params = request.params
    tx, problem = _find_transaction(sandbox, merchant, request)
    if problem:
        return refusal(request, problem, payid=params.stripped("PAYID") or "0")
    lines = sandbox.store.history(tx.payid)
    payidsub = params.stripped("PAYIDSUB")
    if payidsub and params.stripped("PAYID"):
        chosen = [line for line in lines if line.payidsub == whole_number(payidsub)]
        if not chosen:
            return _maintenance_refusal(request, tx, Problem.of(ncerrors.HISTORY_ITEM_ACCESS))
        line, amount = chosen[0], chosen[0].amount
    else:
        line, amount = lines[-1], tx.amount
    attributes = [("orderID", tx.orderid), ("PAYID", str(tx.payid)), ("PAYIDSUB", str(line.payidsub))]
    attributes += _status_fields(line.ncerror, line.status)
    attributes += [("ACCEPTANCE", tx.acceptance), ("STATUS", str(line.status)), ("ECI", tx.eci),
                   ("amount", format_plain_amount(amount)), ("currency", tx.currency),
                   ("PM", tx.pm), ("BRAND", tx.brand), ("CARDNO", tx.cardno), ("IP", tx.ip)]
    if tx.alias:
        attributes.append(("ALIAS", tx.alias))
    if tx.complus:
        attributes.append(("COMPLUS", tx.complus))
    taken = {name.upper() for name, _ in attributes}
    attributes += [(name, value) for name, value in paramplus_pairs(tx.paramplus, tx.charset)
                   if _XML_NAME.match(name) and name.upper() not in taken]
    return ncresponse(attributes, charset=request.charset)
