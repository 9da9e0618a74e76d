"""Hostile requests to the routes of a real trytond over HTTP: never a 5xx, never a secret in a page, and
nothing that is not correctly signed changes a payment, its feedback history or the saved cards.

The budget is fixed and the examples derandomized: the same requests, in a few seconds, every run.
"""
from urllib.parse import quote, urlencode

import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ogone_core import compute_shasign

from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, RouteTestCase
from trytond.transaction import Transaction

from .test_route import INPUT, _setup_database
from .tools import (
    SHA_IN, SHA_OUT, TrytonServer, create_submitted_payment, signed_feedback)

FUZZ = settings(
    max_examples=120, derandomize=True, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
OTHER_SHA_OUT = 'fuzz_other_account_sha_out_77'
API_PASSWORD = 'api-password'
SECRETS = [SHA_IN, SHA_OUT, API_PASSWORD]
METHODS = ['GET', 'POST', 'GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS',
    'HEAD', 'PROPFIND']
NASTY = ['', ' ', '\x00', '%00', '%', '%zz', '&', '=', '+', '\u2028', 'ſ',
    '€', '😀', '9' * 3000, "'; DROP TABLE account_payment; --", '../..',
    '<script>alert(1)</script>', '1e308', 'NaN', '-1', '١٢', '²']
CONTENT_TYPES = [
    'application/x-www-form-urlencoded',
    'application/x-www-form-urlencoded; charset=utf-16',
    'application/x-www-form-urlencoded; charset=nope',
    'multipart/form-data; boundary=x', 'multipart/form-data',
    'text/plain', 'application/json', '']


@st.composite
def forged_feedback(draw, orders):
    "A feedback that cannot verify, most often about a real order"
    order_id, alias = draw(st.sampled_from(list(orders.values()) * 3 + [
                ('shop-0-1', None), ('shop-999999-1', None),
                (None, None)]))
    if order_id is None:
        order_id = draw(st.one_of(
                st.sampled_from(NASTY), st.text(max_size=45)))
    elif draw(st.booleans()):
        # Looks like the real one to a careless comparison
        order_id = draw(st.sampled_from([
                    order_id.upper(), f' {order_id}', f'{order_id}\x00',
                    f'{order_id}\n', order_id + '1', quote(order_id)]))
    status = draw(st.sampled_from(['9', '5', '2', '1', '91', '8', '7']))
    amount = draw(st.sampled_from(['42.50', '42.5', '0.01', '4250']))
    params = signed_feedback(
        order_id or 'x', status, amount,
        **({'ALIAS': alias} if alias else {}))
    how = draw(st.sampled_from([
                'forged', 'missing', 'other passphrase', 'sha256',
                'changed', 'empty', 'twice']))
    if how == 'forged':
        params['SHASIGN'] = draw(st.one_of(
                st.text(alphabet='0123456789ABCDEFabcdef', min_size=128,
                    max_size=128),
                st.sampled_from(NASTY), st.text(max_size=20)))
    elif how == 'missing':
        del params['SHASIGN']
    elif how == 'other passphrase':
        del params['SHASIGN']
        params['SHASIGN'] = compute_shasign(
            params, draw(st.sampled_from([OTHER_SHA_OUT, SHA_IN])),
            'sha512', direction='out')
    elif how == 'sha256':
        del params['SHASIGN']
        params['SHASIGN'] = compute_shasign(
            params, SHA_OUT, 'sha256', direction='out')
    elif how == 'changed':
        name = draw(st.sampled_from(
                [n for n in params if n != 'SHASIGN']))
        value = draw(st.one_of(
                st.sampled_from(NASTY + ['9', '42.50', 'EUR']),
                st.text(min_size=1, max_size=10)))
        if value == params[name] or not value:
            value = params[name] + '0'
        params[name] = value
    elif how == 'empty':
        params['SHASIGN'] = ''
    pairs = list(params.items())
    if how == 'twice':
        pairs.append(('shasign', params['SHASIGN']))
    # Names in any case, and whatever else comes with them
    pairs = [(draw(st.sampled_from([n, n.lower(), n.upper()])), v)
        for n, v in pairs]
    pairs += draw(st.lists(st.tuples(
                st.one_of(st.sampled_from(
                        ['ORDERID', 'orderid', 'STATUS', 'PARAMVAR',
                            'COMPLUS', 'x', '']),
                    st.text(max_size=8)),
                st.one_of(st.sampled_from(NASTY), st.text(max_size=12))),
            max_size=3))
    return draw(st.permutations(pairs))


@st.composite
def hostile_request(draw, orders):
    pairs = draw(forged_feedback(orders))
    method = draw(st.sampled_from(METHODS))
    charset = draw(st.sampled_from(['utf-8', 'iso-8859-1', 'utf-16']))
    body = urlencode(pairs, encoding=charset, errors='replace').encode(
        'ascii')
    extra = draw(st.sampled_from(
            [b''] * 6 + [b'&\xff\xfe=\x00', b'&%', b'&' + b'a=&' * 600,
                b'&CN=' + b'A' * 2_000_000]))
    return (draw(st.sampled_from(['return'] * 4 + ['card-return'])),
        method, body + extra, draw(st.sampled_from(CONTENT_TYPES)))


class AccountPaymentOgoneFuzzTestCase(RouteTestCase):
    "Fuzz the routes of Account Payment Ogone"
    module = 'account_payment_ogone'

    @classmethod
    def setUpDatabase(cls):
        _setup_database()

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if DB_NAME == ':memory:':
            return
        cls.server = TrytonServer().start()
        cls.session = requests.Session()
        cls.base = (
            f'{cls.server.url}/{DB_NAME}/r/account_payment_ogone')
        # Payments a hostile request could try to move: one waiting for the
        # customer, one paid with a saved card, one in ISO-8859-1, one
        # never opened
        cls.orders, cls.tokens = {}, []
        for name, journal, save_card, paid in [
                ('waiting', "Ogone", False, False),
                ('paid', "Ogone", True, True),
                ('latin', "Ogone ISO-8859-1", False, False),
                ('unopened', "Ogone", None, False)]:
            payment_id, token = create_submitted_payment(DB_NAME, journal)
            cls.tokens.append(token)
            if save_card is None:
                continue
            page = cls.session.get(
                f'{cls.base}/checkout/{token}',
                params={'save_card': '1'} if save_card else None, timeout=60)
            assert page.status_code == 200, page.text
            fields = dict(INPUT.findall(page.text))
            cls.orders[name] = (fields['ORDERID'], fields.get('ALIAS'))
            if paid:
                answer = cls.session.post(f'{cls.base}/return', timeout=60,
                    data=signed_feedback(
                        fields['ORDERID'], 9, '42.50', ALIAS=fields['ALIAS']))
                assert answer.status_code == 200, answer.text

    @classmethod
    def tearDownClass(cls):
        if DB_NAME != ':memory:':
            cls.session.close()
            cls.server.stop()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        if DB_NAME == ':memory:':
            self.skipTest("a server thread cannot see an in-memory database")

    @staticmethod
    def state():
        "What a request that is not correctly signed must leave as it is"
        pool = Pool(DB_NAME)
        Payment = pool.get('account.payment')
        Feedback = pool.get('account.payment.ogone.feedback')
        Alias = pool.get('account.payment.ogone.alias')
        Order = pool.get('account.payment.ogone.order')
        with Transaction().start(DB_NAME, 0, readonly=True):
            return {
                'payments': [
                    (p.id, p.state, p.ogone_status, p.ogone_order_id,
                        p.ogone_pay_id, p.ogone_review)
                    for p in Payment.search([], order=[('id', 'ASC')])],
                'feedbacks': Feedback.search([], count=True),
                'aliases': [
                    (a.alias, a.active)
                    for a in Alias.search([], order=[('id', 'ASC')])],
                'orders': Order.search([], count=True),
                }

    def refusals(self):
        Refusal = Pool(DB_NAME).get('account.payment.ogone.refusal')
        with Transaction().start(DB_NAME, 0, readonly=True):
            return [(r.account.id, r.cause) for r in Refusal.search([])]

    def assertHarmless(self, response, description):
        self.assertLess(
            response.status_code, 500,
            f"{description} -> {response.status_code}: {response.text[:300]}")
        for secret in SECRETS:
            self.assertNotIn(secret.encode(), response.content, description)

    # -- the return and card-return routes ----------------------------------

    def test_return_route_refuses_what_is_not_signed(self):
        "Forged, replayed or mangled feedback: no 5xx, nothing changes"
        before = self.state()
        refusals = len(self.refusals())
        seen = set()

        @FUZZ
        @given(request=hostile_request(self.orders))
        def fuzz(request):
            path, method, body, content_type = request
            url = f'{self.base}/{path}'
            if method in {'GET', 'HEAD', 'DELETE', 'OPTIONS'}:
                response = self.session.request(
                    method, f'{url}?{body.decode("latin-1")}', timeout=60)
            else:
                response = self.session.request(
                    method, url, data=body, timeout=60,
                    headers={'Content-Type': content_type})
            description = f'{method} {path} {body[:300]!r}'
            self.assertHarmless(response, description)
            seen.add(response.status_code)
            self.assertEqual(self.state(), before, description)
        fuzz()
        # The fuzz reached the signature check, not only the ORDERID's
        self.assertLessEqual({400, 404}, seen)
        # Kept, but bounded: the last ten of each cause per account
        causes = self.refusals()
        self.assertGreater(len(causes), refusals)
        self.assertLessEqual(
            max(causes.count(c) for c in set(causes)), 10)

    # -- the checkout and template routes --------------------------------------

    def test_checkout_route_with_any_token_or_arguments(self):
        "Random tokens and real ones with junk: no 5xx, no new attempt"
        before = self.state()
        tokens = self.tokens[:3]

        @FUZZ
        @given(
            token=st.one_of(
                st.sampled_from(tokens),
                st.sampled_from(tokens).map(lambda t: t.upper()),
                st.sampled_from(tokens).map(lambda t: t + '%00'),
                st.sampled_from(NASTY).map(lambda t: quote(t, safe='')),
                st.text(max_size=140).map(lambda t: quote(t, safe='')),
                st.sampled_from(['a' * 129, '..%2F..%2Fetc', '%2F', '.'])),
            page=st.sampled_from(['checkout'] * 3 + ['template', 'card']),
            method=st.sampled_from(METHODS),
            args=st.lists(st.tuples(
                    st.sampled_from(['save_card', 'SAVE_CARD', 'lang',
                            'token', 'x']),
                    st.one_of(st.sampled_from(NASTY),
                        st.sampled_from(['1', 'true', 'yes', '0']))),
                max_size=3),
            language=st.sampled_from(['', 'fr', 'de;q=0.5, nl', '*', 'xx-YY',
                    ',;=q', 'é' * 50]))
        def fuzz(token, page, method, args, language):
            url = f'{self.base}/{page}/{token}'
            query = urlencode(args, errors='surrogatepass')
            response = self.session.request(
                method, f'{url}?{query}' if query else url, timeout=60,
                headers={'Accept-Language': language.encode('utf-8')})
            description = f'{method} {page}/{token}?{query}'
            self.assertHarmless(response, description)
            self.assertEqual(self.state(), before, description)
        fuzz()
