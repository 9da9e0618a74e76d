"""The hosted payment page (e-Commerce): ``orderstandard[_utf8].asp``, the card page, the 3-D Secure
challenge and the redirect back to the merchant.

Page flow: the signed order form arrives at ``orderstandard``; the card form posts to ``order_agree``; a
3-D Secure card goes on to the access control server page ``Test_3D_ACS.asp``, whose answer posts to
``order_A3DS``. The last step answers 303 to ACCEPTURL / DECLINEURL / EXCEPTIONURL / CANCELURL.
"""
from __future__ import annotations

import secrets
from typing import Optional

from werkzeug.utils import redirect
from werkzeug.wrappers import Response

from ..status import Status
from . import acquirer, ncerrors
from .cards import TEST_CARDS, Behaviour, CardInput, card_by_key, check_card_input
from .checks import PageRequest, Problem, order_fields, production_refused, signature_problem
from .clock import utc_date
from .dynamic_template import DynamicTemplate, TemplateRefused, fetch_template
from .pages import Html, display_amount, escape, hidden, messages, page, table, template_page
from .merchants import Merchant
from .service import STORE_ALIAS_FIELD, Finished, OrderAlreadyProcessed, Sandbox
from .store import Transaction
from .translations import text

ECI_ECOMMERCE = "7"
ECI_AUTHENTICATED = "5"

# Request fields the rest of the flow needs; kept with the transaction.
_KEPT_FIELDS = ("ALIAS", "ALIASUSAGE", "ALIASOPERATION", "ALIASPERSISTEDAFTERUSE", "PARAMVAR", "COM", "LANGUAGE",
                "CN", "TITLE", "FLAG3D", "WIN3DS", "TP")
URL_FIELDS = ("ACCEPTURL", "DECLINEURL", "EXCEPTIONURL", "CANCELURL", "BACKURL", "HOMEURL", "CATALOGURL")


def error_page(problem: Problem, status: int = 200, language: Optional[str] = None) -> Response:
    details = Html(f'<p>NCERROR <span id="ncerror">{problem.ncerror}</span></p>')
    return page("error_page.html", text(language, "error_title"), http_status=status, language=language,
                text=problem.plus.strip(), details=details)


def cards_table() -> Html:
    return table(((card.number, card.brand, card.description) for card in TEST_CARDS),
                 ("Card number", "Brand", "Behaviour"))


def order_standard(sandbox: Sandbox, request: PageRequest) -> Response:
    params = request.params
    language = params.get("LANGUAGE")
    merchant = sandbox.merchant(params.stripped("PSPID"))
    if merchant is None:
        return error_page(Problem.of(ncerrors.PSPID_NOT_FOUND), language=language)
    problem = production_refused(merchant, request.env)
    problem = problem or signature_problem(params, params.without("SHASIGN"), merchant.sha_in, merchant,
                                           request.charset)
    if problem:
        return error_page(problem, language=language)
    fields, problem = order_fields(params, merchant.default_operation, acquirer.NEW_ORDER_OPERATIONS)
    if problem:
        return error_page(problem, language=language)
    template = None
    if params.stripped("TP"):
        # Fetched before anything is stored: a template the sandbox cannot use refuses the request.
        try:
            template = fetch_template(params.stripped("TP"))
        except TemplateRefused as refused:
            return error_page(Problem(ncerrors.DATA_VALIDATION, f"TP: {refused}"), language=language)
    kept = {name: params.get(name) for name in _KEPT_FIELDS if params.get(name)}
    urls = {name: params.stripped(name) for name in URL_FIELDS if params.stripped(name)}
    with sandbox.store.atomic():
        original = sandbox.store.live_order(merchant.pspid, fields.orderid)
        if original is not None:
            return error_page(Problem.of(ncerrors.ALREADY_PROCESSED), language=language)
        tx = sandbox.store.insert_transaction({
            "pspid": merchant.pspid, "orderid": fields.orderid, "source": "ecommerce", "env": request.env,
            "charset": request.charset, "operation": fields.operation, "amount": fields.amount,
            "currency": fields.currency, "status": 0, "ncerror": ncerrors.OK, "pm": "CreditCard",
            "cn": params.get("CN"), "ip": request.client_ip, "complus": params.get("COMPLUS"),
            "paramplus": params.get("PARAMPLUS"), "urls": urls, "request": kept, "created_at": sandbox.now(),
            "session": secrets.token_urlsafe(24),
        }, acquirer.line_operation(fields.operation))
    return payment_page(sandbox, request, tx, template=template)


DEFAULT_ALIAS_USAGE = "Save my card details for future payments to this merchant."


def asks_alias(tx: Transaction) -> bool:
    """Whether the payment would store the card behind an alias: the merchant named one, or let us name it."""
    return bool(tx.request.get("ALIAS")) or tx.request.get("ALIASOPERATION", "").upper() == "BYPSP"


def alias_choice(merchant: Optional[Merchant], tx: Transaction) -> Html:
    if not (merchant and merchant.alias_checkbox and asks_alias(tx)):
        return Html("")
    checked = " checked" if tx.request.get(STORE_ALIAS_FIELD) == "Y" else ""
    usage = tx.request.get("ALIASUSAGE") or DEFAULT_ALIAS_USAGE
    return Html(f'<p class="alias-choice"><label><input type="checkbox" id="{STORE_ALIAS_FIELD}" '
                f'name="{STORE_ALIAS_FIELD}" value="Y"{checked}> {escape(usage)}</label></p>')


def payment_page(sandbox: Sandbox, request: PageRequest, tx: Transaction, errors: tuple[str, ...] = (),
                 status: int = 200, template: Optional[DynamicTemplate] = None) -> Response:
    stored = sandbox.store.alias(tx.pspid, tx.request.get("ALIAS", "")) if tx.request.get("ALIAS") else None
    description = tx.request.get("COM", "")
    merchant = sandbox.merchant(tx.pspid)
    choice = alias_choice(merchant, tx)
    language = tx.request.get("LANGUAGE")
    if template is None and tx.request.get("TP"):
        # Shown again (a card refused, a typo): the platform fetches the merchant's page each time.
        try:
            template = fetch_template(tx.request["TP"].strip())
        except TemplateRefused as refused:
            return error_page(Problem(ncerrors.DATA_VALIDATION, f"TP: {refused}"), language=language)
    render_page = page if template is None else template_page(template)
    return render_page(
        "payment_page.html", text(language, "payment"), http_status=status, language=language,
        pspid=tx.pspid, orderid=tx.orderid, amount=display_amount(tx.amount),
        currency=tx.currency,
        description=Html(f"<tr><th>Description</th><td>{escape(description)}</td></tr>")
        if description else Html(""),
        # With the checkbox, ALIASUSAGE is its label.
        alias_usage=Html(f'<p class="alias-usage">{escape(tx.request.get("ALIASUSAGE", ""))}</p>')
        if tx.request.get("ALIASUSAGE") and not choice else Html(""),
        alias_choice=choice,
        errors=messages(errors),
        action=f"order_agree{request.suffix}.asp",
        token=hidden("PAYMENT_TOKEN", tx.session or ""),
        cn=tx.cn or (stored.cn if stored else ""),
        cardno=stored.cardno if stored else "",
        ed=f"{stored.ed[:2]}/{stored.ed[2:]}" if stored else "",
        cards=cards_table(),
    )


def _session(sandbox: Sandbox, token: str, expected_status: int) -> tuple[Optional[Transaction], Optional[Response]]:
    tx = sandbox.store.by_session(token) if token else None
    if tx is None:
        return None, error_page(Problem(ncerrors.DATA_VALIDATION, "unknown or expired payment session"))
    if tx.status != expected_status:
        return None, error_page(Problem.of(ncerrors.ALREADY_PROCESSED), language=tx.request.get("LANGUAGE"))
    return tx, None


def order_agree(sandbox: Sandbox, request: PageRequest) -> Response:
    params = request.params
    tx, refusal = _session(sandbox, params.stripped("PAYMENT_TOKEN"), 0)
    if refusal:
        return refusal
    merchant = sandbox.merchant(tx.pspid)
    if params.stripped("action").lower() == "cancel":
        return finish(sandbox, tx, merchant, acquirer.Outcome(1))
    if merchant.alias_checkbox and asks_alias(tx):
        # Kept with the transaction: a 3-D Secure card finishes on a later page.
        choice = "Y" if params.stripped(STORE_ALIAS_FIELD).upper() == "Y" else "N"
        tx = sandbox.store.update_transaction(tx.payid, request={**tx.request, STORE_ALIAS_FIELD: choice})
    card, errors = _card_from_form(sandbox, tx, params.get("CARDNO"), params.get("ED"), params.get("CVC"),
                                   params.get("CN"))
    if errors:
        return payment_page(sandbox, request, tx, errors)
    tx = sandbox.store.update_transaction(tx.payid, cardno=card.masked, card_key=card.card.key,
                                          brand=card.card.brand, ed=card.expiry, cn=card.holder,
                                          eci=ECI_ECOMMERCE, trxdate="")
    if card.card.behaviour is Behaviour.THREE_D_SECURE:
        sandbox.store.update_line(tx.payid, 0, status=46, ncerror=ncerrors.OK)
        return acs_page_for(sandbox.store.transaction(tx.payid), request)
    outcome = acquirer.new_order(card.card.behaviour, tx.operation)
    if outcome.status in (2, 93) and tx.attempts + 1 < merchant.hosted_page_attempts:
        sandbox.store.update_transaction(tx.payid, attempts=tx.attempts + 1)
        message = text(tx.request.get("LANGUAGE"), "try_another_card", reason=ncerrors.text(outcome.ncerror))
        return payment_page(sandbox, request, sandbox.store.transaction(tx.payid), (message,))
    return finish(sandbox, tx, merchant, outcome)


def _card_from_form(sandbox: Sandbox, tx: Transaction, number: str, expiry: str, cvc: str,
                    holder: str) -> tuple[Optional[CardInput], tuple[str, ...]]:
    today = utc_date(sandbox.clock)
    alias_name = tx.request.get("ALIAS", "")
    stored = sandbox.store.alias(tx.pspid, alias_name) if alias_name else None
    if stored and number.strip() == stored.cardno:
        # The customer kept the stored card shown on the page (its masked number).
        number = card_by_key(stored.card_key).number
    card, errors = check_card_input(number, expiry, cvc, holder, today, cvc_required=True)
    problems = [f"{error.field}: {error.message}" for error in errors]
    if not holder.strip():
        problems.append(f"CN: {text(tx.request.get('LANGUAGE'), 'holder_required')}")
    if problems:
        return None, tuple(problems)
    return card, ()


def acs_page_for(tx: Transaction, request: PageRequest) -> Response:
    language = tx.request.get("LANGUAGE")
    return page("acs_page.html", text(language, "acs_title"), language=language, cardno=tx.cardno,
                brand=tx.brand, amount=display_amount(tx.amount), currency=tx.currency,
                pspid=tx.pspid, orderid=tx.orderid, action=f"order_A3DS{'_utf8' if tx.charset == 'utf-8' else ''}.asp",
                md=hidden("MD", tx.session or ""))


def acs(sandbox: Sandbox, request: PageRequest) -> Response:
    """``Test_3D_ACS.asp``: where a DirectLink HTML_ANSWER sends the customer."""
    tx, refusal = _session(sandbox, request.params.stripped("MD"), 46)
    if refusal:
        return refusal
    return acs_page_for(tx, request)


def order_a3ds(sandbox: Sandbox, request: PageRequest) -> Response:
    """The ACS answer: approve runs the authorisation, fail refuses it, cancel is the customer's cancel."""
    params = request.params
    tx, refusal = _session(sandbox, params.stripped("MD"), 46)
    if refusal:
        return refusal
    merchant = sandbox.merchant(tx.pspid)
    action = params.stripped("action").lower()
    if action == "approve":
        outcome = acquirer.new_order(card_by_key(tx.card_key).behaviour, tx.operation)
        return finish(sandbox, tx, merchant, outcome, eci=ECI_AUTHENTICATED)
    if action == "cancel":
        return finish(sandbox, tx, merchant, acquirer.Outcome(1))
    return finish(sandbox, tx, merchant, acquirer.authentication_failed())


def finish(sandbox: Sandbox, tx: Transaction, merchant: Merchant, outcome: acquirer.Outcome,
           eci: str = "") -> Response:
    try:
        finished = sandbox.finish_payment(tx, merchant, outcome, eci=eci)
    except OrderAlreadyProcessed:
        return error_page(Problem.of(ncerrors.ALREADY_PROCESSED), language=tx.request.get("LANGUAGE"))
    return finished_response(finished)


def finished_response(finished: Finished) -> Response:
    if finished.redirect:
        return redirect(finished.redirect, code=303)
    tx = finished.transaction
    status = Status.parse(tx.status)
    language = tx.request.get("LANGUAGE")
    headline = {1: "cancelled", 2: "refused", 93: "refused"}.get(tx.status, "result")
    if tx.status in (5, 9):
        headline = "accepted"
    headline = text(language, headline)
    return page("result_page.html", headline, language=language, headline=headline, status=tx.status,
                description=status.description,
                params=table(finished.params, (text(language, "parameter"), text(language, "value"))))
