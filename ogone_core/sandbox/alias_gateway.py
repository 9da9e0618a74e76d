"""Alias Gateway (``alias_gateway[_utf8].asp``): the merchant's own card form posts here; the sandbox checks
the card's format, stores it behind an alias, and redirects the browser to ACCEPTURL (STATUS 0 created,
2 updated) or EXCEPTIONURL (STATUS 1) with SHA-OUT-signed parameters. No payment happens."""
from __future__ import annotations

import uuid

from werkzeug.utils import redirect
from werkzeug.wrappers import Response

from ..signing import compute_shasign
from ..validation import validate_alias
from ..errors import InvalidRequest
from . import ncerrors
from .cards import check_card_input
from .checks import PageRequest, Problem, production_refused, signature_problem
from .clock import utc_date
from .feedback import paramplus_pairs
from .hosted import error_page
from .service import Sandbox
from .wire import append_query

# The merchant signs only its own fields: the card fields are typed by the customer into the same form.
SIGNED_FIELDS = ("ACCEPTURL", "ALIAS", "ALIASPERSISTEDAFTERUSE", "BRAND", "EXCEPTIONURL", "LANGUAGE", "ORDERID",
                 "PARAMPLUS", "PSPID")
STATUS_CREATED, STATUS_REFUSED, STATUS_UPDATED = "0", "1", "2"


def alias_gateway(sandbox: Sandbox, request: PageRequest) -> Response:
    params = request.params
    merchant = sandbox.merchant(params.stripped("PSPID"))
    if merchant is None:
        return error_page(Problem.of(ncerrors.PSPID_NOT_FOUND))
    problem = production_refused(merchant, request.env)
    problem = problem or signature_problem(params, params.only(SIGNED_FIELDS), merchant.sha_in, merchant,
                                           request.charset)
    if problem:
        return error_page(problem)
    accept_url, exception_url = params.stripped("ACCEPTURL"), params.stripped("EXCEPTIONURL")
    if not accept_url:
        return error_page(Problem(ncerrors.DATA_VALIDATION, " no accepturl"))
    number = params.get("CARDNO").replace(" ", "").strip()
    card, errors = check_card_input(number, params.get("ED"), params.get("CVC"), params.get("CN"),
                                    utc_date(sandbox.clock))
    alias_name = params.stripped("ALIAS")
    if alias_name and number and alias_name == number:
        problem = Problem.of(ncerrors.ALIAS_EQUALS_CARD)
    elif alias_name:
        try:
            validate_alias(alias_name)
        except InvalidRequest:
            problem = Problem(ncerrors.DATA_VALIDATION, " invalid alias")
    by_field = {error.field: error.ncerror for error in errors}
    if errors or problem:
        status, ncerror = STATUS_REFUSED, (problem.ncerror if problem else errors[0].ncerror)
        plus = problem.plus if problem else "|".join(error.message for error in errors)
        target = exception_url or accept_url
        masked, brand, expiry, holder = "", "", "", params.get("CN").strip()
    else:
        alias_name = alias_name or uuid.uuid4().hex.upper()
        persisted = params.stripped("ALIASPERSISTEDAFTERUSE").upper() != "N"
        existed = sandbox.store.save_alias(merchant.pspid, alias_name, card.card.key, card.masked, card.card.brand,
                                           card.expiry, card.holder, persisted, sandbox.now())
        status, ncerror, target = (STATUS_UPDATED if existed else STATUS_CREATED), ncerrors.OK, accept_url
        plus = ncerrors.OK_PLUS
        masked, brand, expiry, holder = card.masked, card.card.brand, card.expiry, card.holder
    pairs = [("ALIAS", alias_name), ("BRAND", brand), ("CARDNO", masked), ("CN", holder), ("ED", expiry),
             ("NCERROR", ncerror), ("NCERRORPLUS", plus), ("NCERRORCARDNO", by_field.get("CARDNO", ncerrors.OK)),
             ("NCERRORCN", by_field.get("CN", ncerrors.OK)), ("NCERRORCVC", by_field.get("CVC", ncerrors.OK)),
             ("NCERRORED", by_field.get("ED", ncerrors.OK)), ("ORDERID", params.stripped("ORDERID")),
             ("STATUS", status)]
    pairs += paramplus_pairs(params.get("PARAMPLUS"), request.charset)
    if merchant.sha_out:
        pairs.append(("SHASIGN", compute_shasign(pairs, merchant.sha_out, merchant.algorithm, "out",
                                                 request.charset)))
    return redirect(append_query(target, pairs, request.charset), code=303)
