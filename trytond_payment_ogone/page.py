"""The pages a customer sees: Tryton reports whose HTML templates an
administrator can replace, in the company's look (name, logo, website)."""
import base64
import logging
from urllib.parse import urlsplit

from trytond.i18n import gettext
from trytond.pool import Pool
from trytond.protocols.wrappers import HTTPStatus, Response
from trytond.report import Report
from trytond.transaction import Transaction

logger = logging.getLogger(__name__)

# Ogone replaces it with its payment form in the dynamic template (TP);
# Genshi reads "$$" as an escaped "$", so templates print it from data.
PAYMENT_ZONE = '$$$PAYMENT ZONE$$$'
# Pixels: a logo in a page header
LOGO_SIZE = (360, 120)
_IMAGE_TYPES = [
    (b'\x89PNG\r\n\x1a\n', 'image/png'),
    (b'\xff\xd8\xff', 'image/jpeg'),
    (b'GIF87a', 'image/gif'),
    (b'GIF89a', 'image/gif'),
    ]


def _image_type(image):
    for magic, mimetype in _IMAGE_TYPES:
        if image.startswith(magic):
            return mimetype
    if image[:4] == b'RIFF' and image[8:12] == b'WEBP':
        return 'image/webp'
    if b'<svg' in image[:1024]:
        return 'image/svg+xml'
    return None


def logo_url(company):
    """The company's logo as a data: URL, or '' when it has none

    Inline, so that the page needs no other request: the dynamic template
    is shown on Ogone's site, where a link to Tryton may not be reachable.
    """
    if not company or not company.logo:
        return ''
    try:
        # Pillow makes it a PNG of the size asked; without it the logo as
        # stored. Not get_logo: its cache is written in a second transaction,
        # which waits on SQLite for the lock that a feedback already holds.
        image, _, _ = company._logo_resize(*LOGO_SIZE)
    except Exception:
        logger.debug("company logo not shown", exc_info=True)
        return ''
    image = bytes(image)
    mimetype = _image_type(image)
    if not mimetype:
        return ''
    return f'data:{mimetype};base64,{base64.b64encode(image).decode()}'


def the_company():
    "The company of a database that has only one, else None"
    pool = Pool()
    Company = pool.get('company.company')
    companies = Company.search([], limit=2)
    if len(companies) == 1:
        return companies[0]
    return None


def website_url(website):
    "An http(s) link from a website as parties keep it (often www.example.com)"
    website = (website or '').strip()
    if not website:
        return ''
    scheme = urlsplit(website).scheme.lower()
    if not scheme and '.' in website.split('/')[0]:
        return f'https://{website}'
    if scheme in {'http', 'https'}:
        return website
    return ''


def company_look(company=None, account=None):
    """What the pages show of the company: name, logo and the link back to its
    website (the account's, else the company's party's)"""
    if company is None:
        company = the_company()
    website = website_url(
        (account.website if account else None)
        or (company.party.website if company else None))
    name = company.rec_name if company else ''
    return {
        'name': name,
        'logo': logo_url(company),
        'website': website,
        'back': gettext('account_payment_ogone.msg_page_back', company=name)
        if name else gettext('account_payment_ogone.msg_page_back_website'),
        }


def amount_text(amount, currency):
    "The amount as the customer's language writes it"
    pool = Pool()
    Lang = pool.get('ir.lang')
    return Lang.get().currency(amount, currency)


def render(report_name, data, status=HTTPStatus.OK):
    """The HTML page of the report; ``data`` is the report's ``data``

    Every page carries ``lang`` (the code of its language) and ``company``
    (from company_look).
    """
    pool = Pool()
    Page = pool.get(report_name, type='report')
    data = {'lang': Transaction().language.replace('_', '-'), **data}
    if 'company' not in data:
        data['company'] = company_look()
    ext, content, _, _ = Page.execute([], data)
    assert ext == 'html', ext
    if isinstance(content, bytes):
        content = content.decode('utf-8')
    return Response(
        content, status, content_type='text/html; charset=utf-8')


def message_page(title, text, next_='', outcome='info', status=HTTPStatus.OK,
        **values):
    """A page saying one thing to the customer: a result or an error

    ``values`` may add ``company`` (company_look), ``amount`` and
    ``reference``.
    """
    return render('account.payment.ogone.result', {
            'title': title,
            'text': text,
            'next': next_,
            'outcome': outcome,
            'amount': '',
            'reference': '',
            **values,
            }, status)


class ResultPage(Report):
    "The result and error pages of the checkout and of card registration"
    __name__ = 'account.payment.ogone.result'


class CardPage(Report):
    "The card registration form, which posts to Ogone's Alias Gateway"
    __name__ = 'account.payment.ogone.card'


class PaymentTemplate(Report):
    "The dynamic template (TP) in which Ogone shows its payment form"
    __name__ = 'account.payment.ogone.template'
