"""End to end in a real browser: headless Chromium pays on the sandbox the way a person does.

The other tests drive the pages with ``requests``; here the pages' own JavaScript runs: the merchant's
auto-posting redirect page (``SignedForm.html()``), the payment page, the 3-D Secure page, and the DirectLink
``HTML_ANSWER`` that posts itself to the access control server. Each payment ends on the merchant's return
URL, whose handler verifies the feedback with ``verify_feedback``.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal

import pytest

import browser
from ogone_core import (Card, DirectLinkClient, HostedPaymentRequest, OrderRequest, RequestsTransport, Status,
                        ThreeDSecure)
from ogone_core.sandbox import DEFAULT_MERCHANT, start_server
from ogone_core.sandbox.customer import default_expiry
from ogone_core.sandbox.server import SandboxServer

_MISSING = browser.missing()
pytestmark = pytest.mark.skipif(_MISSING is not None, reason=_MISSING or "")

if _MISSING is None:
    from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

DEADLINE = 15  # seconds for any page to appear
AMOUNT = Decimal("12.50")
VISA = "4111111111111111"
VISA_3DS = "4000000000000002"


@dataclass
class Shop:
    server: SandboxServer
    site: browser.MerchantSite
    orders: dict[str, int] = field(default_factory=dict)  # order id -> final STATUS, for the back office

    def account(self, charset: str = "utf-8"):
        return DEFAULT_MERCHANT.account(self.server.test_base_url, charset)

    def urls(self, charset: str = "utf-8") -> dict[str, str]:
        return {f"{kind}_url": self.site.return_url(kind, charset)
                for kind in ("accept", "decline", "exception", "cancel")}


@pytest.fixture(scope="module")
def shop():
    with start_server() as server:
        site = browser.MerchantSite(DEFAULT_MERCHANT.sha_out, DEFAULT_MERCHANT.algorithm.value)
        try:
            yield Shop(server, site)
        finally:
            site.stop()


@pytest.fixture(scope="module")
def chromium():
    instance = browser.Chromium()
    try:
        yield instance
    finally:
        instance.quit()


@pytest.fixture
def driver(chromium) -> "WebDriver":
    yield chromium.driver
    chromium.driver.delete_all_cookies()
    chromium.driver.get("about:blank")


def order_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12].upper()}"


def wait_for(driver: "WebDriver", condition, what: str):
    """Wait up to DEADLINE for ``condition``; on timeout, say what was expected and what the browser shows."""
    try:
        return WebDriverWait(driver, DEADLINE, poll_frequency=0.05,
                             ignored_exceptions=(StaleElementReferenceException,)).until(condition)
    except TimeoutException:
        text = driver.execute_script("return document.body ? document.body.innerText : ''")
        raise AssertionError(f"no {what} within {DEADLINE} s; the browser is at {driver.current_url}:\n"
                             f"{text[:2000]}") from None


def element(driver: "WebDriver", element_id: str):
    return wait_for(driver, EC.visibility_of_element_located((By.ID, element_id)), f"#{element_id}")


def landing(driver: "WebDriver", url: str) -> str:
    """Wait for the browser to arrive on the merchant's ``url`` and return what the page says."""
    wait_for(driver, lambda d: d.current_url.startswith(url + "?") and
             d.find_elements(By.ID, "outcome"), f"return to {url}")
    return driver.find_element(By.ID, "outcome").text


def type_into(driver: "WebDriver", **values: str) -> None:
    for name, value in values.items():
        box = driver.find_element(By.NAME, name)
        box.clear()
        box.send_keys(value)


def press(driver: "WebDriver", form_id: str, action: str) -> None:
    driver.find_element(By.CSS_SELECTOR, f'#{form_id} button[name="action"][value="{action}"]').click()


def open_checkout(driver: "WebDriver", shop: Shop, order: str, charset: str = "utf-8", **request) -> None:
    """The merchant's redirect page: Chromium opens it and its form must post itself to the sandbox."""
    form = HostedPaymentRequest(order_id=order, amount=AMOUNT, currency="EUR", **shop.urls(charset),
                                **request).render(shop.account(charset))
    driver.get(shop.site.put(order, form.html()))
    element(driver, "payment-form")
    assert driver.current_url.startswith(form.action), driver.current_url
    assert driver.find_element(By.ID, "orderid").text == order
    shown, currency = driver.find_element(By.ID, "amount").text.split()
    assert (Decimal(shown), currency) == (AMOUNT, "EUR")


def returned(shop: Shop, order: str, kind: str, status: int):
    """The feedback the merchant's return handler verified for ``order``."""
    assert not shop.site.rejected, shop.site.rejected
    got_kind, feedback = shop.site.returns[order]
    assert (got_kind, feedback.order_id, int(feedback.status)) == (kind, order, status)
    assert feedback.amount == AMOUNT and feedback.currency == "EUR"
    assert feedback.pay_id.isdigit()
    shop.orders[order] = status
    return feedback


@pytest.mark.parametrize("charset", ["utf-8", "iso-8859-1"])
def test_customer_pays_on_the_hosted_page(driver, shop, charset):
    order = order_id("WEB")
    holder = "Zoë Ünal-Dupont"
    open_checkout(driver, shop, order, charset, customer_name=holder)
    # The name the merchant signed came through the browser's form encoding intact.
    assert driver.find_element(By.ID, "CN").get_attribute("value") == holder
    type_into(driver, CARDNO=VISA, ED=default_expiry(), CVC="123")
    press(driver, "payment-form", "pay")

    assert landing(driver, shop.site.return_url("accept", charset)) == "paid"
    assert driver.find_element(By.ID, "amount").text == "12.50"
    assert driver.find_element(By.ID, "currency").text == "EUR"
    assert driver.find_element(By.ID, "status").text == "9"
    feedback = returned(shop, order, "accept", 9)
    assert feedback.status is Status.PAYMENT_REQUESTED
    assert feedback.card_number == "XXXXXXXXXXXX1111"
    assert feedback.card_holder == holder
    assert driver.find_element(By.ID, "holder").text == holder


@pytest.mark.parametrize("answer, kind, status, outcome", [
    ("approve", "accept", 9, "paid"),
    ("fail", "decline", 2, "refused"),
])
def test_three_d_secure_on_the_hosted_page(driver, shop, answer, kind, status, outcome):
    order = order_id("3DS")
    open_checkout(driver, shop, order)
    type_into(driver, CN="Test Customer", CARDNO=VISA_3DS, ED=default_expiry(), CVC="123")
    press(driver, "payment-form", "pay")
    element(driver, "acs-form")
    assert "XXXXXXXXXXXX0002" in driver.find_element(By.TAG_NAME, "main").text
    press(driver, "acs-form", answer)

    assert landing(driver, shop.site.return_url(kind)) == outcome
    feedback = returned(shop, order, kind, status)
    if status == 2:
        assert feedback.ncerror == "40001134"


def test_customer_cancels_on_the_payment_page(driver, shop):
    order = order_id("CXL")
    open_checkout(driver, shop, order)
    press(driver, "payment-form", "cancel")

    assert landing(driver, shop.site.return_url("cancel")) == "cancelled"
    assert driver.find_element(By.ID, "status").text == "1"
    returned(shop, order, "cancel", 1)


def test_directlink_three_d_secure_html_answer(driver, shop):
    order = order_id("DL3DS")
    user_agent = driver.execute_script("return navigator.userAgent")
    client = DirectLinkClient(shop.account(), RequestsTransport(read_timeout=15.0))
    reply = client.new_order(OrderRequest(
        order_id=order, amount=AMOUNT, currency="EUR",
        card=Card(VISA_3DS, default_expiry(), "123", "Test Customer"),
        three_d_secure=ThreeDSecure(**shop.urls(), http_user_agent=user_agent)))
    assert reply.status == 46 and reply.needs_authentication and reply.html_answer

    # The merchant writes HTML_ANSWER into its page; its script posts the customer to the ACS.
    page = ('<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Card verification</title></head>'
            f"<body><p>Verifying your card with your bank.</p>\n{reply.html_answer}\n</body></html>\n")
    driver.get(shop.site.put(order, page))
    element(driver, "acs-form")
    assert driver.current_url == f"{shop.server.test_base_url}Test_3D_ACS.asp"
    press(driver, "acs-form", "approve")

    assert landing(driver, shop.site.return_url("accept")) == "paid"
    feedback = returned(shop, order, "accept", 9)
    assert feedback.pay_id == reply.pay_id
    assert client.query(order_id=order).status == 9


def test_home_page_and_back_office(driver, shop):
    # The home page, with its stylesheet, and its demo form all the way to the sandbox's result page.
    driver.get(shop.server.url)
    assert driver.find_element(By.TAG_NAME, "h1").text == "Ogone sandbox"
    assert element(driver, "base-url").text == shop.server.test_base_url
    assert driver.execute_script(
        "return Array.from(document.styleSheets).some(s => s.href && s.href.endsWith('/static/sandbox.css')"
        " && s.cssRules.length > 0)")
    driver.find_element(By.CSS_SELECTOR, '#demo-form button[type="submit"]').click()
    element(driver, "payment-form")
    demo_order = driver.find_element(By.ID, "orderid").text
    assert demo_order.startswith("DEMO-")
    type_into(driver, CN="Test Customer", CARDNO=VISA, ED=default_expiry(), CVC="123")
    press(driver, "payment-form", "pay")
    assert element(driver, "status").text == "9"
    assert driver.find_element(By.TAG_NAME, "h1").text == "Payment accepted"
    shop.orders[demo_order] = 9

    # The back office lists every transaction made in this module, with its final status.
    driver.get(f"{shop.server.url}admin/")
    assert driver.find_element(By.TAG_NAME, "h1").text == "Back office"
    rows = {}
    for row in driver.find_elements(By.CSS_SELECTOR, "main table:first-of-type tbody tr"):
        cells = [cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
        if len(cells) == 9:
            rows[cells[2]] = cells
    for order, status in shop.orders.items():
        assert order in rows, f"{order} is not in the back office"
        assert rows[order][1] == DEFAULT_MERCHANT.pspid
        assert rows[order][5].split()[0] == str(status), rows[order]

    # A transaction's page, reached by its link.
    driver.find_element(By.LINK_TEXT, rows[demo_order][0]).click()
    wait_for(driver, EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), f"Transaction {rows[demo_order][0]}"),
             "the transaction page")
    assert "History" in driver.find_element(By.TAG_NAME, "main").text


SHOP_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Chez Zoë</title>
<style>body { margin: 0; font-family: Georgia, serif; background: #fbf6ee; }
header { background: #7b2d26; color: #fff; padding: 1em; font-size: 1.3em; }
main { padding: 1em; } footer { padding: 1em; color: #7b2d26; }</style></head>
<body><header id="shop-header">Chez Zoë &#8212; fine cheese</header>
<main>$$$PAYMENT ZONE$$$</main><footer id="shop-footer">Chez Zoë, Gent</footer></body></html>"""


@pytest.mark.parametrize("width", [390, 1280])
def test_payment_page_inside_the_merchant_template(driver, shop, width):
    """TP: the sandbox fetches the merchant's page, pays inside it, and the page reads on a phone and a desktop."""
    order = order_id("TPL")
    template_url = shop.site.put(f"template-{order}", SHOP_TEMPLATE)
    open_checkout(driver, shop, order, template=template_url)
    assert driver.find_element(By.ID, "shop-header").text == "Chez Zoë — fine cheese"
    assert driver.find_element(By.ID, "shop-footer").text == "Chez Zoë, Gent"
    assert driver.title == "Chez Zoë"
    browser.screenshot(driver, f"sandbox-template-{width}", width)
    type_into(driver, CN="Zoë Martin", CARDNO=VISA, ED=default_expiry(), CVC="123")
    press(driver, "payment-form", "pay")
    assert landing(driver, shop.site.return_url("accept")) == "paid"
    returned(shop, order, "accept", 9)


@pytest.mark.parametrize("width", [390, 1280])
def test_payment_page_and_result_screenshots(driver, shop, width):
    """The sandbox's own payment, result and error pages, photographed at a phone's and a desktop's width."""
    order = order_id("SHOT")
    open_checkout(driver, shop, order)
    browser.screenshot(driver, f"sandbox-payment-{width}", width)
    type_into(driver, CN="Zoë Martin", CARDNO="4000000000000028", ED=default_expiry(), CVC="123")
    press(driver, "payment-form", "pay")
    assert landing(driver, shop.site.return_url("decline")) == "refused"
    returned(shop, order, "decline", 2)
    order = order_id("SHOT")
    form = HostedPaymentRequest(order_id=order, amount=AMOUNT, currency="EUR",
                                template=f"{shop.site.url}no-such-template").render(shop.account())
    driver.get(shop.site.put(order, form.html()))
    assert "TP: the template URL answered HTTP 404" in element(driver, "error-text").text
    browser.screenshot(driver, f"sandbox-error-{width}", width)
