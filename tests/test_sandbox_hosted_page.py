"""The hosted payment page over real HTTP: signed form in, card page, 3-D Secure, redirect with feedback."""
from __future__ import annotations

from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest
import requests

from ogone_core import Account, DirectLinkClient, HostedPaymentRequest, compute_shasign, verify_feedback
from ogone_core.sandbox.customer import CustomerError, pay
from sandbox_fixtures import admin, default_merchant, new_merchant, unique

SHOP = "http://shop.example"


def order(merchant, charset="utf-8", amount="12.50", **options):
    options.setdefault("accept_url", f"{SHOP}/accept")
    options.setdefault("decline_url", f"{SHOP}/decline")
    request = HostedPaymentRequest(unique("H"), Decimal(amount), options.pop("currency", "EUR"), **options)
    return request, request.render(merchant.account(charset))


def post_form(action, fields, charset="utf-8", method="post"):
    body = urlencode(list(fields), encoding=charset)
    if method == "get":
        return requests.get(f"{action}?{body}", allow_redirects=False, timeout=30)
    return requests.post(action, data=body, allow_redirects=False, timeout=30,
                         headers={"Content-Type": "application/x-www-form-urlencoded"})


class Forms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms = {}
        self.current = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.current = attrs.get("id")
            self.forms[self.current] = {"attrs": attrs, "inputs": {}, "buttons": []}
        elif tag == "input" and self.current:
            self.forms[self.current]["inputs"][attrs.get("name")] = attrs
        elif tag == "button" and self.current:
            self.forms[self.current]["buttons"].append((attrs.get("name"), attrs.get("value")))

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None


def forms_of(html):
    parser = Forms()
    parser.feed(html)
    return parser.forms


def error_text(html):
    start = html.index('id="error-text">') + len('id="error-text">')
    return html[start:html.index("<", start)]


def test_payment_page_has_the_documented_form(sandbox):
    merchant = default_merchant(sandbox)
    _, form = order(merchant)
    response = post_form(form.action, form.fields)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    found = forms_of(response.text)["payment-form"]
    assert found["attrs"]["method"] == "post"
    assert {"CN", "CARDNO", "ED", "CVC"} <= set(found["inputs"])
    assert ("action", "pay") in found["buttons"] and ("action", "cancel") in found["buttons"]
    assert "ED" in found["inputs"] and found["inputs"]["ED"].get("placeholder") == "MM/YY"


@pytest.mark.parametrize("charset", ["utf-8", "iso-8859-1"])
@pytest.mark.parametrize("algorithm", ["sha1", "sha256", "sha512"])
def test_approved_payment_redirects_with_signed_feedback(sandbox, charset, algorithm):
    merchant = new_merchant(sandbox, algorithm=algorithm)
    request, form = order(merchant, charset, customer_name="Jérôme Müller", complus="cart 42/é",
                          paramplus={"SessionID": "s-1", "STATUS": "9"})
    assert form.action.endswith("orderstandard_utf8.asp" if charset == "utf-8" else "orderstandard.asp")
    result = pay(form.action, form.fields, "4111111111111111", holder="Jérôme Müller")
    assert result.base_url == f"{SHOP}/accept"
    names = [name for name, _ in result.pairs]
    # Ogone's own spelling, and the order it sends them in.
    assert names[:3] == ["orderID", "currency", "amount"]
    assert names[-1] == "SHASIGN" and result.params["SHASIGN"] == result.params["SHASIGN"].upper()
    feedback = verify_feedback(result.pairs, merchant.settings["sha_out"], algorithm, charset)
    assert feedback.order_id == request.order_id
    assert feedback.status == 9 and feedback.amount == Decimal("12.5") and feedback.currency == "EUR"
    assert feedback.card_number == "XXXXXXXXXXXX1111" and feedback.card_holder == "Jérôme Müller"
    assert feedback.complus == "cart 42/é"
    # PARAMPLUS comes back unsigned; a name of the SHA-OUT list inside it is not passed on.
    assert feedback.unsigned["SessionID"] == "s-1"
    assert [value for name, value in result.pairs if name.upper() == "STATUS"] == ["9"]
    assert feedback.pay_id.isdigit() and feedback.ip == "127.0.0.1"
    assert feedback.transaction_date is not None
    assert len(result.params["SHASIGN"]) == {"sha1": 40, "sha256": 64, "sha512": 128}[algorithm]


def test_iso_page_feedback_is_latin1_encoded_on_the_url(sandbox):
    merchant = default_merchant(sandbox)
    _, form = order(merchant, "iso-8859-1")
    result = pay(form.action, form.fields, "4111111111111111", holder="Zoë")
    assert "CN=Zo%EB" in result.url
    verify_feedback(result.pairs, merchant.settings["sha_out"], "sha512", "iso-8859-1")
    with pytest.raises(Exception):
        verify_feedback(result.pairs, merchant.settings["sha_out"], "sha512", "utf-8")


def test_authorisation_gives_status_5(sandbox):
    merchant = default_merchant(sandbox)
    _, form = order(merchant, operation="RES")
    assert pay(form.action, form.fields, "5399999999999999").status == 5


@pytest.mark.parametrize("card", ["4000000000000002", "5555555555554444", "371449635311004"])
def test_three_d_secure_cards_go_through_the_acs_page(sandbox, card):
    merchant = default_merchant(sandbox)
    _, form = order(merchant)
    response = post_form(form.action, form.fields)
    page = forms_of(response.text)["payment-form"]
    hidden = [(name, attrs.get("value", "")) for name, attrs in page["inputs"].items()
              if attrs.get("type") == "hidden"]
    typed = [("CN", "A B"), ("CARDNO", card), ("ED", "12/39"), ("CVC", "1234"), ("action", "pay")]
    acs = requests.post(requests.compat.urljoin(response.url, page["attrs"]["action"]), data=hidden + typed,
                        allow_redirects=False, timeout=30)
    acs_form = forms_of(acs.text)["acs-form"]
    assert {("action", "approve"), ("action", "fail")} <= set(acs_form["buttons"])
    _, again = order(merchant)
    result = pay(again.action, again.fields, card)
    assert result.status == 9
    params = result.params
    assert params["CARDNO"].endswith(card[-4:])


def test_three_d_secure_failure_and_cancel(sandbox):
    merchant = default_merchant(sandbox)
    _, form = order(merchant, cancel_url=f"{SHOP}/cancel")
    failed = pay(form.action, form.fields, "4000000000000002", three_ds="fail")
    assert failed.status == 2 and failed.params["NCERROR"] == "40001134"
    assert failed.base_url == f"{SHOP}/decline"
    _, form = order(merchant, cancel_url=f"{SHOP}/cancel")
    cancelled = pay(form.action, form.fields, "4000000000000002", three_ds="cancel")
    assert cancelled.status == 1 and cancelled.base_url == f"{SHOP}/cancel"


def test_cancel_button_goes_to_cancelurl_or_declineurl(sandbox):
    merchant = default_merchant(sandbox)
    _, form = order(merchant, cancel_url=f"{SHOP}/cancel")
    result = pay(form.action, form.fields, "", cancel=True)
    assert result.status == 1 and result.base_url == f"{SHOP}/cancel"
    _, form = order(merchant)
    result = pay(form.action, form.fields, "", cancel=True)
    assert result.status == 1 and result.base_url == f"{SHOP}/decline"


@pytest.mark.parametrize("card, operation, status, ncerror, target", [
    ("4000000000000028", "SAL", 2, "30051001", "decline"),
    ("4000000000000937", "SAL", 93, "30001001", "decline"),
    ("4000000000000937", "RES", 5, "0", "accept"),
    ("4000000000000523", "SAL", 92, "20001001", "exception"),
    ("4000000000000531", "RES", 52, "20001001", "exception"),
    ("4000000000000911", "SAL", 91, "0", "accept"),
    ("4000000000000911", "RES", 51, "0", "accept"),
    ("4000000000000408", "SAL", 0, "40001001", "exception"),
])
def test_trigger_cards(sandbox, card, operation, status, ncerror, target):
    merchant = default_merchant(sandbox)
    _, form = order(merchant, operation=operation, exception_url=f"{SHOP}/exception")
    result = pay(form.action, form.fields, card)
    assert (result.status, result.params["NCERROR"], result.base_url) == (status, ncerror, f"{SHOP}/{target}")


def test_uncertain_without_exceptionurl_falls_back_to_accepturl(sandbox):
    merchant = default_merchant(sandbox)
    _, form = order(merchant)
    assert pay(form.action, form.fields, "4000000000000523").base_url == f"{SHOP}/accept"


def test_no_url_shows_the_sandbox_result_page(sandbox):
    merchant = default_merchant(sandbox)
    request = HostedPaymentRequest(unique("H"), Decimal("3"), "EUR")
    form = request.render(merchant.account())
    result = pay(form.action, form.fields, "4111111111111111")
    assert result.url == "" and result.status == 9
    assert "Payment accepted" in result.page and request.order_id in result.page


def test_card_errors_keep_the_customer_on_the_page(sandbox):
    merchant = default_merchant(sandbox)
    _, form = order(merchant)
    with pytest.raises(CustomerError) as caught:
        pay(form.action, form.fields, "4111111111111112", expiry="13/30", cvc="12a")
    message = str(caught.value)
    assert "The card number or account number (PAN) is invalid" in message
    assert "Invalid expiration month" in message and "CVC contains non-numeric info" in message
    for number, text in [("4242424242424242", "Card number incorrect or incompatible"),
                         ("", "Card Number Empty"), ("4111-1111", "Card number contains non-numeric info"),
                         ("4" * 22, "Card number is too long")]:
        _, form = order(merchant)
        with pytest.raises(CustomerError, match=text):
            pay(form.action, form.fields, number)
    _, form = order(merchant)
    with pytest.raises(CustomerError, match="Expiration date must be in the future"):
        pay(form.action, form.fields, "4111111111111111", expiry="01/20")
    _, form = order(merchant)
    with pytest.raises(CustomerError, match="Expiration date contains non-numeric info"):
        pay(form.action, form.fields, "4111111111111111", expiry="ab/cd")
    _, form = order(merchant)
    with pytest.raises(CustomerError, match="CVC missing at input"):
        pay(form.action, form.fields, "4111111111111111", cvc="")
    _, form = order(merchant)
    with pytest.raises(CustomerError, match="CVC too long"):
        pay(form.action, form.fields, "4111111111111111", cvc="123456")
    _, form = order(merchant)
    with pytest.raises(CustomerError, match="Card Holder Name is too long"):
        pay(form.action, form.fields, "4111111111111111", holder="x" * 36)
    _, form = order(merchant)
    with pytest.raises(CustomerError, match="Card holder name is required"):
        pay(form.action, form.fields, "4111111111111111", holder="")


def test_refused_card_can_be_retried_when_the_merchant_allows_attempts(sandbox):
    merchant = new_merchant(sandbox, hosted_page_attempts=2)
    _, form = order(merchant)
    session = requests.Session()
    response = post_form(form.action, form.fields)
    page = forms_of(response.text)["payment-form"]
    token = page["inputs"]["PAYMENT_TOKEN"]["value"]
    action = requests.compat.urljoin(response.url, page["attrs"]["action"])
    card = [("CN", "A"), ("ED", "12/39"), ("CVC", "123"), ("action", "pay"), ("PAYMENT_TOKEN", token)]
    again = session.post(action, data=card + [("CARDNO", "4000000000000028")], allow_redirects=False)
    assert again.status_code == 200 and "Your payment was refused (Authorization declined)" in again.text
    final = session.post(action, data=card + [("CARDNO", "4111111111111111")], allow_redirects=False)
    assert final.status_code == 303
    assert dict(parse_qsl(urlsplit(final.headers["Location"]).query))["STATUS"] == "9"
    replay = session.post(action, data=card + [("CARDNO", "4111111111111111")], allow_redirects=False)
    assert error_text(replay.text) == "This order has already been processed"


def test_get_request_works_like_post(sandbox):
    merchant = default_merchant(sandbox)
    _, form = order(merchant)
    response = post_form(form.action, form.fields, method="get")
    assert "payment-form" in forms_of(response.text)


def test_lowercase_shasign_is_accepted(sandbox):
    merchant = default_merchant(sandbox)
    _, form = order(merchant)
    fields = [(name, value.lower() if name == "SHASIGN" else value) for name, value in form.fields]
    assert pay(form.action, fields, "4111111111111111").status == 9


def _signed(merchant, fields, charset="utf-8"):
    fields = [(name, value) for name, value in fields if name != "SHASIGN"]
    return fields + [("SHASIGN", compute_shasign(fields, merchant.settings["sha_in"], "sha512", "in", charset))]


def test_error_pages_use_the_platforms_texts(sandbox):
    merchant = default_merchant(sandbox)
    _, form = order(merchant)
    fields = list(form.fields)
    unsigned = [(name, value) for name, value in fields if name != "SHASIGN"]
    assert error_text(post_form(form.action, unsigned).text) == "unknown order/0/s"
    tampered = [(name, "99999" if name == "AMOUNT" else value) for name, value in fields]
    assert error_text(post_form(form.action, tampered).text) == "unknown order/1/s"
    # Signed over UTF-8 bytes but the browser sent ISO-8859-1 bytes to the UTF-8 page.
    _, utf8_form = order(merchant, customer_name="Jérôme")
    assert error_text(post_form(utf8_form.action, utf8_form.fields, "iso-8859-1").text) == "unknown order/1/s"
    stranger = [(name, "NOBODY" if name == "PSPID" else value) for name, value in fields]
    assert error_text(post_form(form.action, stranger).text) == "Pspid not found or not correct"
    missing = _signed(merchant, [(n, v) for n, v in fields if n not in ("ORDERID", "CURRENCY")])
    assert error_text(post_form(form.action, missing).text) == "no orderid|no currency"
    for name, value, text in [("CURRENCY", "XYZ", "Invalid currency"), ("AMOUNT", "12.50", "Amount is not a number"),
                              ("AMOUNT", "0", "amount must be positive"),
                              ("OPERATION", "RFS", "Requested Operation code not allowed"),
                              ("ORDERID", "x" * 41, "orderid too long")]:
        changed = _signed(merchant, [(n, value if n == name else v) for n, v in fields])
        page = post_form(form.action, changed).text
        assert error_text(page) == text, name


def test_an_order_paid_once_cannot_be_paid_again(sandbox):
    merchant = default_merchant(sandbox)
    _, form = order(merchant)
    assert pay(form.action, form.fields, "4111111111111111").status == 9
    page = post_form(form.action, form.fields).text
    assert error_text(page) == "This order has already been processed"
    assert 'id="ncerror">50001113<' in page


def test_a_cancelled_or_refused_order_can_be_tried_again(sandbox):
    merchant = default_merchant(sandbox)
    _, form = order(merchant)
    first = pay(form.action, form.fields, "4000000000000028")
    assert first.status == 2
    second = pay(form.action, form.fields, "4111111111111111")
    assert second.status == 9 and second.params["PAYID"] != first.params["PAYID"]
    found = admin(sandbox, "GET", "transactions", params={"pspid": merchant.pspid,
                                                            "orderid": first.params["orderID"]})
    assert sorted(tx["status"] for tx in found["transactions"]) == [2, 9]


def test_prod_path_is_refused_unless_the_merchant_allows_it(sandbox):
    merchant = new_merchant(sandbox)
    request = HostedPaymentRequest(unique("H"), Decimal("1"), "EUR")
    form = request.render(merchant.account(env="prod"))
    assert "/ncol/prod/" in form.action
    page = post_form(form.action, form.fields).text
    assert error_text(page).startswith("Pspid not found or not correct: the sandbox is a test platform")
    merchant.update(allow_prod=True)
    assert pay(form.action, form.fields, "4111111111111111").status == 9


def test_no_sha_out_passphrase_means_no_parameters_on_the_redirect(sandbox):
    merchant = new_merchant(sandbox, sha_out="")
    request = HostedPaymentRequest(unique("H"), Decimal("1"), "EUR", accept_url=f"{SHOP}/ok")
    form = request.render(Account(pspid=merchant.pspid, sha_in=merchant.settings["sha_in"], sha_out="unused",
                                  environment=sandbox.test_base_url))
    assert pay(form.action, form.fields, "4111111111111111").url == f"{SHOP}/ok"


def test_two_payment_pages_of_one_order_cannot_both_take_the_money(sandbox):
    # Two tabs opened on one checkout carry the same ORDERID: the platform must refuse the second payment.
    request, form = order(default_merchant(sandbox))
    first_tab = post_form(form.action, form.fields)
    second_tab = post_form(form.action, form.fields)
    assert "payment-form" in forms_of(first_tab.text) and "payment-form" in forms_of(second_tab.text)
    assert pay(form.action, form.fields, "4111111111111111").status == 9
    page = forms_of(second_tab.text)["payment-form"]
    fields = {name: attrs.get("value", "") for name, attrs in page["inputs"].items()}
    fields.update(CN="Test Customer", CARDNO="4111111111111111", ED="12/35", CVC="123", action="pay")
    answer = requests.post(urljoin(form.action, page["attrs"]["action"]), data=fields, allow_redirects=False,
                           timeout=30)
    assert answer.status_code != 303
    assert "50001113" in answer.text and error_text(answer.text) == "This order has already been processed"
    statuses = [t["status"] for t in admin(sandbox, "GET", "transactions",
                                           params={"orderid": request.order_id})["transactions"]]
    assert sorted(statuses) == [0, 0, 9]  # the first tab left unused, the refused second tab, the payment


def _open_tab(form):
    """Post the signed form like a browser tab; return the payment page's form target and fields."""
    page = forms_of(post_form(form.action, form.fields).text)["payment-form"]
    fields = {name: attrs.get("value", "") for name, attrs in page["inputs"].items()}
    fields.update(CN="Test Customer", ED="12/35", CVC="123", action="pay")
    return urljoin(form.action, page["attrs"]["action"]), fields


def test_a_double_click_cannot_finish_a_payment_twice(sandbox):
    # Two answers for one payment page racing (a double click): the one that comes second works on a stale
    # copy of the transaction and must not finish it again (9 turned into 2, with two signed feedbacks).
    from ogone_core.sandbox import acquirer
    from ogone_core.sandbox.service import OrderAlreadyProcessed

    request, form = order(default_merchant(sandbox))
    target, fields = _open_tab(form)
    service = sandbox.app.sandbox
    stale = service.store.by_session(fields["PAYMENT_TOKEN"])
    merchant = service.merchant(stale.pspid)
    service.finish_payment(stale, merchant, acquirer.Outcome(9, acceptance="test123"))
    with pytest.raises(OrderAlreadyProcessed):
        service.finish_payment(stale, merchant, acquirer.Outcome(2, ncerror="30051001"))
    rows = admin(sandbox, "GET", "transactions", params={"orderid": request.order_id})["transactions"]
    assert [row["status"] for row in rows] == [9]


def test_a_query_by_orderid_answers_for_the_transaction_that_holds_it(sandbox):
    # Two tabs opened, the first paid: the second, abandoned and newer, must not hide the payment.
    merchant = default_merchant(sandbox)
    request, form = order(merchant)
    first_target, first_fields = _open_tab(form)
    _open_tab(form)
    answer = requests.post(first_target, data=dict(first_fields, CARDNO="4111111111111111"),
                           allow_redirects=False, timeout=30)
    assert answer.status_code == 303
    reply = DirectLinkClient(merchant.account()).query(order_id=request.order_id)
    assert (reply.status.value, reply.order_id) == (9, request.order_id)
