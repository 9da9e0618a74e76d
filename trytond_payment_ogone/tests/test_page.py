"""The pages a customer sees: company look, amount, reference, what happens
next, the link back, the customer's language, the dynamic template (TP)."""
import base64
import re
from html import unescape
from urllib.parse import urlencode

import polib
from ogone_core import compute_shasign

from trytond.i18n import gettext
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, RouteTestCase
from trytond.transaction import Transaction

from ..page import PAYMENT_ZONE
from .test_route import _setup_database
from .tools import (
    LANGUAGES, SHA_IN, create_submitted_payment, load_translations,
    locale_file, signed_feedback)

INPUT = re.compile(r'<input type="hidden" name="([^"]*)" value="([^"]*)"')
LOGO = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="180" height="48">'
    b'<rect width="180" height="48" rx="8" fill="#2b6cb0"/>'
    b'<text x="90" y="31" font-size="20" text-anchor="middle" '
    b'fill="#fff" font-family="sans-serif">Ogone Shop</text></svg>')
LOGO_URL = 'data:image/svg+xml;base64,' + base64.b64encode(LOGO).decode()


def _set_company_look(logo=LOGO, website='www.ogone-shop.example'):
    pool = Pool()
    Company = pool.get('company.company')
    Party = pool.get('party.party')
    company, = Company.search([])
    company.logo = logo
    company.save()
    Party.write([company.party], {'website': website})


def page_text(response):
    "The text of the page, tags dropped and blanks collapsed"
    text = re.sub(r'<[^>]+>', ' ', response.text)
    return ' '.join(unescape(text).split())


class AccountPaymentOgonePageTestCase(RouteTestCase):
    "Test the customer pages of Account Payment Ogone"
    module = 'account_payment_ogone'

    @classmethod
    def setUpDatabase(cls):
        _setup_database()
        _set_company_look()
        load_translations(*LANGUAGES)

    def create_payment(self, lang=None, journal="Ogone"):
        return create_submitted_payment(
            DB_NAME, journal, lang=lang, reference="INV-7")

    def write_account(self, pspid='SHOP', **values):
        with Transaction().start(DB_NAME, 1):
            Account = Pool(DB_NAME).get('account.payment.ogone.account')
            accounts = Account.search([('pspid', '=', pspid)])
            old = {name: getattr(accounts[0], name) for name in values}
            Account.write(accounts, values)
        self.addCleanup(self._restore_account, pspid, old)

    def _restore_account(self, pspid, values):
        with Transaction().start(DB_NAME, 1):
            Account = Pool(DB_NAME).get('account.payment.ogone.account')
            Account.write(Account.search([('pspid', '=', pspid)]), values)

    def route(self, path, **args):
        query = f'?{urlencode(args)}' if args else ''
        return self.client().get(
            f'/{self.db_name}/r/account_payment_ogone/{path}{query}')

    def checkout_fields(self, token):
        response = self.route(f'checkout/{token}')
        self.assertEqual(response.status_code, 200, response.text)
        return dict(
            (unescape(n), unescape(v))
            for n, v in INPUT.findall(response.text))

    def browser_return(self, params):
        return self.client().get(
            f'/{self.db_name}/r/account_payment_ogone/return',
            query_string=params)

    def assertCompanyLook(self, response, website):
        self.assertIn('name="viewport"', response.text)
        self.assertIn('<span id="company-name" class="company">Ogone Shop',
            response.text)
        self.assertIn(f'id="company-logo" src="{LOGO_URL}"', response.text)
        if website:
            self.assertIn(f'id="back" class="back" href="{website}"',
                response.text)
        else:
            self.assertNotIn('id="back"', response.text)

    def test_checkout_page_shows_company_amount_and_reference(self):
        "The checkout page names the company, the amount and the reference"
        _, token = self.create_payment()
        response = self.route(f'checkout/{token}')
        self.assertEqual(response.status_code, 200)
        self.assertCompanyLook(response, 'https://www.ogone-shop.example')
        text = page_text(response)
        self.assertIn("Amount €42.50", text)
        self.assertIn("Reference INV-7", text)
        self.assertIn("You pay on the secure page of our payment provider "
            "Ogone", text)
        self.assertIn('<html lang="en">', response.text)

    def test_result_pages_for_each_outcome(self):
        "Each outcome has its title, text, amount, reference and next step"
        for status, message in [
                (9, 'msg_result_paid'),
                (51, 'msg_result_pending'),
                (2, 'msg_result_refused'),
                (1, 'msg_result_cancelled')]:
            with self.subTest(status=status):
                _, token = self.create_payment()
                order_id = self.checkout_fields(token)['ORDERID']
                response = self.browser_return(
                    signed_feedback(order_id, status, '42.50'))
                self.assertEqual(response.status_code, 200)
                self.assertCompanyLook(
                    response, 'https://www.ogone-shop.example')
                outcome = message.rsplit('_', 1)[1]
                self.assertIn(f'class="card {outcome}"', response.text)
                text = page_text(response)
                for suffix in ['_title', '', '_next']:
                    self.assertIn(self.english(message + suffix), text)
                self.assertIn("Amount €42.50 Reference INV-7", text)

    def english(self, message):
        with Transaction().start(DB_NAME, 0, readonly=True):
            return gettext(f'account_payment_ogone.{message}')

    def test_result_pages_in_each_language(self):
        "The result page is in the party's language, labels included"
        for code in LANGUAGES:
            with self.subTest(language=code):
                po = {e.msgctxt: e.msgstr
                    for e in polib.pofile(locale_file(code))}
                _, token = self.create_payment(lang=code)
                order_id = self.checkout_fields(token)['ORDERID']
                response = self.browser_return(
                    signed_feedback(order_id, 9, '42.50'))
                text = page_text(response)
                self.assertIn(f'<html lang="{code}">', response.text)
                for name in [
                        'msg_result_paid_title', 'msg_result_paid',
                        'msg_result_paid_next', 'msg_page_amount',
                        'msg_page_reference']:
                    self.assertIn(
                        po[f'model:ir.message,text:{name}'], text)
                back = po['model:ir.message,text:msg_page_back'] % {
                    'company': "Ogone Shop"}
                self.assertIn(back, text)
                self.assertIn("42,50", text)

    def test_error_page_in_company_look(self):
        "An unknown link shows the error page with the company's name"
        response = self.route('checkout/unknown-token')
        self.assertEqual(response.status_code, 404)
        self.assertCompanyLook(response, 'https://www.ogone-shop.example')
        self.assertIn('class="card error"', response.text)
        self.assertIn("This payment link is not valid", page_text(response))

    def test_account_website_replaces_company_website(self):
        "The account's website is the link back; unsafe links are dropped"
        for website, expected in [
                ('https://shop.example/thanks', 'https://shop.example/thanks'),
                ('javascript:alert(1)', None),
                ]:
            with self.subTest(website=website):
                self.write_account(website=website)
                _, token = self.create_payment()
                order_id = self.checkout_fields(token)['ORDERID']
                response = self.browser_return(
                    signed_feedback(order_id, 9, '42.50'))
                self.assertCompanyLook(response, expected)
                self.assertNotIn('javascript:', response.text)

    def test_administrator_overrides_the_result_template(self):
        "A template stored on the report action replaces the shipped one"
        with Transaction().start(DB_NAME, 1):
            ActionReport = Pool(DB_NAME).get('ir.action.report')
            report, = ActionReport.search([
                    ('report_name', '=', 'account.payment.ogone.result')])
            ActionReport.write([report], {'report_content': (
                        b'<html xmlns:py="http://genshi.edgewall.org/">'
                        b'<body><h1 id="own">Our own ${data["title"]}</h1>'
                        b'</body></html>')})
        self.addCleanup(self._reset_report_content)
        _, token = self.create_payment()
        order_id = self.checkout_fields(token)['ORDERID']
        response = self.browser_return(signed_feedback(order_id, 9, '42.50'))
        self.assertIn('<h1 id="own">Our own Payment accepted</h1>',
            response.text)

    def _reset_report_content(self):
        with Transaction().start(DB_NAME, 1):
            ActionReport = Pool(DB_NAME).get('ir.action.report')
            report, = ActionReport.search([
                    ('report_name', '=', 'account.payment.ogone.result')])
            ActionReport.write([report], {'report_content': None})

    def test_checkout_sends_the_template_url_when_asked(self):
        "TP is the checkout's template page, signed, only when asked"
        _, token = self.create_payment()
        self.assertNotIn('TP', self.checkout_fields(token))
        self.write_account(dynamic_template=True)
        _, token = self.create_payment()
        fields = self.checkout_fields(token)
        self.assertTrue(fields['TP'].endswith(
                f'/{self.db_name}/r/account_payment_ogone/template/{token}'),
            fields['TP'])
        shasign = fields.pop('SHASIGN')
        self.assertEqual(
            compute_shasign(fields, SHA_IN, 'sha512', direction='in'),
            shasign)

    def test_template_page_holds_the_payment_zone_once(self):
        "The template page is in the company's look with Ogone's marker"
        _, token = self.create_payment(lang='fr')
        response = self.route(f'template/{token}')
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.text.count(PAYMENT_ZONE), 1)
        self.assertEqual(PAYMENT_ZONE, '$$$PAYMENT ZONE$$$')
        self.assertCompanyLook(response, 'https://www.ogone-shop.example')
        self.assertIn('<html lang="fr">', response.text)
        # Only absolute or inline references: the page is shown on Ogone's site
        self.assertEqual(
            re.findall(r'(?:src|href)="(?!https://|data:)[^"]*"',
                response.text), [])
        response = self.route('template/unknown-token')
        self.assertEqual(response.status_code, 404)
        self.assertNotIn(PAYMENT_ZONE, response.text)

    def test_card_registration_page_in_company_look(self):
        "The card registration form carries the company's look"
        with Transaction().start(DB_NAME, 1):
            pool = Pool(DB_NAME)
            Registration = pool.get(
                'account.payment.ogone.card_registration')
            Party = pool.get('party.party')
            Account = pool.get('account.payment.ogone.account')
            party = Party(name="Card Owner")
            party.save()
            account, = Account.search([('pspid', '=', 'SHOP')])
            token = Registration.new_for(party, account).token
        response = self.route(f'card/{token}')
        self.assertEqual(response.status_code, 200)
        self.assertCompanyLook(response, 'https://www.ogone-shop.example')
        for name in ['CN', 'CARDNO', 'ED', 'CVC']:
            self.assertIn(f'<input id="{name}" name="{name}"', response.text)
        self.assertIn('inputmode="numeric"', response.text)
