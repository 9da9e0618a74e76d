"""The hosted payment pages speak the LANGUAGE of the order: card page, 3-D Secure page, result page and
error page, in English, French, German, Dutch and Italian; any other language falls back to English."""
from __future__ import annotations

import html
import re
from decimal import Decimal

import pytest
import requests

from ogone_core import HostedPaymentRequest
from ogone_core.sandbox.translations import TEXTS, language
from sandbox_fixtures import default_merchant, new_merchant, unique
from test_sandbox_hosted_page import forms_of, post_form

VISA = "4111111111111111"
VISA_3DS = "4000000000000002"


def visible(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def open_payment_page(sandbox, code: str, merchant=None, **options) -> requests.Response:
    request = HostedPaymentRequest(unique("L"), Decimal("12.50"), "EUR", language=code, **options)
    signed = request.render((merchant or default_merchant(sandbox)).account())
    return post_form(signed.action, signed.fields)


def pay(sandbox, page: requests.Response, card: str, **typed) -> requests.Response:
    form = forms_of(page.text)["payment-form"]
    fields = [(name, attrs.get("value", "")) for name, attrs in form["inputs"].items() if attrs.get("type") == "hidden"]
    fields += [("CN", typed.get("CN", "Zoë Müller")), ("CARDNO", card), ("ED", "12/35"), ("CVC", "123"),
               ("action", "pay")]
    return post_form(requests.compat.urljoin(page.url, form["attrs"]["action"]), fields)


@pytest.mark.parametrize("code", ["en_US", "fr_FR", "de_DE", "nl_NL", "nl_BE", "it_IT", "fr_BE"])
def test_the_card_page_speaks_the_language_of_the_order(sandbox, code):
    words = TEXTS[language(code)]
    page = open_payment_page(sandbox, code)
    assert page.status_code == 200
    text = visible(page.text)
    for key in ("payment", "merchant", "order_reference", "total_amount", "card_holder", "card_number", "expiry",
                "cvc", "pay", "cancel", "test_cards", "note"):
        assert words[key] in text, (code, key)
    assert f'<html lang="{language(code)}">' in page.text


@pytest.mark.parametrize("code", ["es_ES", "pt_PT", "ja_JP", "", "xx", "fr"])
def test_other_languages_fall_back_to_english(sandbox, code):
    if code == "fr":  # a bare language code is understood too
        assert "Numéro de carte" in visible(open_payment_page(sandbox, code).text)
        return
    text = visible(open_payment_page(sandbox, code).text)
    assert "Card number" in text and "Total amount" in text and "Pay" in text


@pytest.mark.parametrize("code", ["en_US", "fr_FR", "de_DE", "nl_NL", "it_IT"])
def test_the_3d_secure_and_result_pages_speak_the_language_of_the_order(sandbox, code):
    words = TEXTS[language(code)]
    # No ACCEPTURL: the sandbox shows the result itself.
    acs = pay(sandbox, open_payment_page(sandbox, code), VISA_3DS)
    text = visible(acs.text)
    for key in ("acs_title", "acs_server", "amount", "merchant", "order", "approve", "fail", "cancel"):
        assert words[key] in text, (code, key)
    form = forms_of(acs.text)["acs-form"]
    fields = [(name, attrs.get("value", "")) for name, attrs in form["inputs"].items()] + [("action", "approve")]
    result = post_form(requests.compat.urljoin(acs.url, form["attrs"]["action"]), fields)
    text = visible(result.text)
    assert result.status_code == 200
    for key in ("accepted", "no_url", "parameter", "value"):
        assert words[key] in text, (code, key)


@pytest.mark.parametrize("code", ["fr_FR", "de_DE", "nl_NL", "it_IT"])
def test_cancel_refusal_and_form_errors_speak_the_language_of_the_order(sandbox, code):
    words = TEXTS[language(code)]
    page = open_payment_page(sandbox, code)
    form = forms_of(page.text)["payment-form"]
    hidden = [(name, attrs.get("value", "")) for name, attrs in form["inputs"].items()
              if attrs.get("type") == "hidden"]
    action = requests.compat.urljoin(page.url, form["attrs"]["action"])
    missing_holder = visible(post_form(action, hidden + [("CN", ""), ("CARDNO", VISA), ("ED", "12/35"),
                                                        ("CVC", "123"), ("action", "pay")]).text)
    assert words["holder_required"] in missing_holder
    cancelled = visible(post_form(action, hidden + [("action", "cancel")]).text)
    assert words["cancelled"] in cancelled
    again = visible(post_form(action, hidden + [("action", "cancel")]).text)  # the session is over
    assert words["error_title"] in again and words["error_intro"] in again


@pytest.mark.parametrize("code", ["en_US", "fr_FR", "de_DE", "nl_NL", "it_IT"])
def test_a_refused_card_with_attempts_left_is_told_in_the_language_of_the_order(sandbox, code):
    merchant = new_merchant(sandbox, hosted_page_attempts=2)
    again = pay(sandbox, open_payment_page(sandbox, code, merchant), "4000000000000028")
    expected = TEXTS[language(code)]["try_another_card"].format(reason="Authorization declined")
    assert expected in visible(again.text)
    assert "payment-form" in forms_of(again.text)


def test_an_error_page_before_the_card_page_speaks_the_language_of_the_order(sandbox):
    request = HostedPaymentRequest(unique("L"), Decimal("12.50"), "EUR", language="de_DE")
    signed = request.render(default_merchant(sandbox).account())
    fields = [(name, "0" * 128 if name == "SHASIGN" else value) for name, value in signed.fields]
    text = visible(post_form(signed.action, fields).text)
    assert "Ein Fehler ist aufgetreten" in text and "unknown order/1/s" in text


def test_every_language_has_every_text():
    keys = set(TEXTS["en"])
    for code, words in TEXTS.items():
        assert set(words) == keys, code
        assert all(text.strip() for text in words.values()), code
        assert "{reason}" in words["try_another_card"], code
