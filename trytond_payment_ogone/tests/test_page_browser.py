"""The customer's pages in headless Chromium, end to end with the sandbox:
the checkout, the sandbox's payment page inside Tryton's dynamic template
(TP), the result of each outcome and the error page, each photographed at a
phone's and a desktop's width.

The screenshots are kept in test-artifacts/screenshots/ at the top of the
source tree (or in $OGONE_SCREENSHOTS) for a person to look at.
"""
import os
import shutil
import tempfile
import unittest
from decimal import Decimal
from pathlib import Path

from ogone_core.sandbox import DEFAULT_MERCHANT, start_server
from ogone_core.sandbox.customer import default_expiry

from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, RouteTestCase
from trytond.transaction import Transaction

from .test_page import _set_company_look
from .test_route import _setup_database
from .tools import LANGUAGES, TrytonServer, load_translations

DEADLINE = 20  # seconds for any page to appear
WIDTHS = {'phone': 390, 'desktop': 1280}
CARDS = {
    'paid': '4111111111111111',
    'refused': '4000000000000028',
    'pending': '4000000000000911',
    'cancelled': '4111111111111111',
    }
TITLES = {
    'paid': "Payment accepted",
    'refused': "Payment refused",
    'pending': "Payment pending",
    'cancelled': "Payment cancelled",
    }


def screenshot_dir():
    directory = os.environ.get('OGONE_SCREENSHOTS') or str(
        Path(__file__).resolve().parents[2] / 'test-artifacts'
        / 'screenshots')
    os.makedirs(directory, exist_ok=True)
    return directory


def missing_browser():
    try:
        import selenium  # noqa: F401
    except ImportError:
        return 'selenium is not installed'
    binary = os.environ.get('CHROMIUM') or shutil.which('chromium')
    driver = os.environ.get('CHROMEDRIVER') or shutil.which('chromedriver')
    if not all(path and os.access(path, os.X_OK) for path in [binary, driver]):
        return ('no chromium/chromedriver: run `make browser` as root '
            '(or apt-get install chromium chromium-driver)')
    return None


@unittest.skipIf(missing_browser(), missing_browser() or '')
class AccountPaymentOgonePageBrowserTestCase(RouteTestCase):
    "Test the customer pages of Account Payment Ogone in a browser"
    module = 'account_payment_ogone'

    @classmethod
    def setUpClass(cls):
        cls.sandbox = start_server()
        try:
            super().setUpClass()
            cls.tryton = TrytonServer().start()
        except Exception:
            cls.sandbox.stop()
            raise
        cls.browser, cls.profile = cls._chromium()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.browser.quit()
            shutil.rmtree(cls.profile, ignore_errors=True)
            cls.tryton.stop()
            cls.sandbox.stop()
        finally:
            super().tearDownClass()

    @classmethod
    def _chromium(cls):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        os.environ.setdefault('SE_OFFLINE', 'true')
        profile = tempfile.mkdtemp(prefix='chromium-')
        options = webdriver.ChromeOptions()
        options.binary_location = (
            os.environ.get('CHROMIUM') or shutil.which('chromium'))
        for flag in ['--headless', '--no-sandbox', '--disable-gpu',
                '--no-first-run', '--disable-background-networking',
                '--disable-component-update', '--disable-sync',
                '--disable-quic', '--disable-dev-shm-usage',
                f'--user-data-dir={profile}']:
            options.add_argument(flag)
        service = Service(executable_path=(
                os.environ.get('CHROMEDRIVER')
                or shutil.which('chromedriver')))
        browser = webdriver.Chrome(service=service, options=options)
        browser.set_page_load_timeout(DEADLINE)
        return browser, profile

    @classmethod
    def setUpDatabase(cls):
        pool = Pool()
        Account = pool.get('account.payment.ogone.account')
        Journal = pool.get('account.payment.journal')
        Company = pool.get('company.company')
        _setup_database()
        _set_company_look()
        load_translations(*LANGUAGES)
        company, = Company.search([])
        account = Account(
            name="Sandbox", pspid=DEFAULT_MERCHANT.pspid,
            api_user_id=DEFAULT_MERCHANT.api_user,
            api_password=DEFAULT_MERCHANT.api_password,
            sha_in_secret=DEFAULT_MERCHANT.sha_in,
            sha_out_secret=DEFAULT_MERCHANT.sha_out,
            hash_algorithm='sha512', environment='custom',
            base_url=cls.sandbox.test_base_url, order_id_prefix='browser',
            dynamic_template=True)
        account.save()
        Journal(
            name="Sandbox", process_method='ogone', ogone_account=account,
            currency=company.currency, company=company).save()

    def checkout_url(self, lang=None):
        pool = Pool(DB_NAME)
        Company = pool.get('company.company')
        Journal = pool.get('account.payment.journal')
        Party = pool.get('party.party')
        Payment = pool.get('account.payment')
        Lang = pool.get('ir.lang')
        with Transaction().start(DB_NAME, 1):
            company, = Company.search([])
            with set_company(company):
                journal, = Journal.search([('name', '=', "Sandbox")])
                party = Party(name="Jane Doe")
                if lang:
                    party.lang, = Lang.search([('code', '=', lang)])
                party.save()
                payment = Payment(
                    company=company, journal=journal, kind='receivable',
                    party=party, amount=Decimal('42.50'),
                    reference="INV-2026-0042")
                payment.save()
                Payment.submit([payment])
                Payment.process_ogone(payment)
                token = payment.ogone_checkout_id
        return (f'{self.tryton.url}/{DB_NAME}/r/account_payment_ogone/'
            f'checkout/{token}')

    def use_width(self, width):
        self.browser.execute_cdp_cmd('Emulation.setDeviceMetricsOverride', {
                'width': width, 'height': 900, 'deviceScaleFactor': 1,
                'mobile': width < 700})

    def screenshot(self, name, width):
        "The whole page, as tall as its content"
        height = self.browser.execute_script(
            'return document.documentElement.scrollHeight')
        self.browser.execute_cdp_cmd('Emulation.setDeviceMetricsOverride', {
                'width': width, 'height': max(int(height), 200),
                'deviceScaleFactor': 1, 'mobile': width < 700})
        # Pages wider than the screen cannot be read on a phone
        scroll_width = self.browser.execute_script(
            'return document.documentElement.scrollWidth')
        self.assertLessEqual(scroll_width, width, name)
        path = os.path.join(screenshot_dir(), f'tryton-{name}.png')
        with open(path, 'wb') as file:
            file.write(self.browser.get_screenshot_as_png())
        self.use_width(width)
        return path

    def wait(self, condition):
        from selenium.webdriver.support.ui import WebDriverWait
        return WebDriverWait(self.browser, DEADLINE).until(condition)

    def text_of(self, element_id):
        from selenium.webdriver.common.by import By
        return self.browser.find_element(By.ID, element_id).text

    def pay(self, outcome, label):
        "From the checkout link to Tryton's result page; photographed"
        from selenium.webdriver.common.by import By
        width = WIDTHS[label]
        url = self.checkout_url()
        if outcome == 'paid':
            # Scripts off: the checkout page stays instead of posting itself
            self.browser.execute_cdp_cmd(
                'Emulation.setScriptExecutionDisabled', {'value': True})
            try:
                self.browser.get(url)
                self.assertEqual(self.text_of('company-name'), "Ogone Shop")
                self.screenshot(f'checkout-{label}', width)
            finally:
                self.browser.execute_cdp_cmd(
                    'Emulation.setScriptExecutionDisabled', {'value': False})
        self.browser.get(url)
        self.wait(lambda b: b.current_url.startswith(
                self.sandbox.test_base_url)
            and b.find_elements(By.ID, 'CARDNO'))
        # The sandbox's form inside Tryton's page in the company's look
        self.assertEqual(self.text_of('company-name'), "Ogone Shop")
        self.assertIn('42.50 EUR', self.text_of('ogone-payment-zone'))
        if outcome == 'paid':
            self.screenshot(f'sandbox-template-{label}', width)
        if outcome == 'cancelled':
            self.browser.find_element(
                By.CSS_SELECTOR, '#payment-form button[value="cancel"]'
                ).click()
        else:
            for name, value in [('CN', 'Jane Doe'),
                    ('CARDNO', CARDS[outcome]), ('ED', default_expiry()),
                    ('CVC', '123')]:
                box = self.browser.find_element(By.NAME, name)
                box.clear()
                box.send_keys(value)
            self.browser.find_element(
                By.CSS_SELECTOR, '#payment-form button[value="pay"]').click()
        self.wait(lambda b: b.current_url.startswith(self.tryton.url)
            and b.find_elements(By.ID, 'result-text'))
        self.assertEqual(
            self.browser.find_element(By.TAG_NAME, 'h1').text,
            TITLES[outcome])
        self.assertEqual(self.text_of('company-name'), "Ogone Shop")
        self.assertEqual(self.text_of('reference'), "INV-2026-0042")
        self.assertEqual(
            self.browser.find_element(By.ID, 'back').get_attribute('href'),
            'https://www.ogone-shop.example/')
        self.screenshot(f'result-{outcome}-{label}', width)

    def test_pages_at_phone_and_desktop_width(self):
        "Every page a customer sees, paid in the template, photographed"
        from selenium.webdriver.common.by import By
        for label, width in WIDTHS.items():
            self.use_width(width)
            for outcome in TITLES:
                with self.subTest(outcome=outcome, width=label):
                    self.pay(outcome, label)
            with self.subTest(page='error', width=label):
                self.browser.get(
                    f'{self.tryton.url}/{DB_NAME}/r/account_payment_ogone/'
                    'checkout/no-such-link')
                self.wait(lambda b: b.find_elements(By.ID, 'result-text'))
                self.assertEqual(
                    self.browser.find_element(By.TAG_NAME, 'h1').text,
                    "Page not found")
                self.screenshot(f'error-{label}', width)
