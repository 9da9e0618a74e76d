"""What goes over the wire: reading form parameters in a page's charset, writing the DirectLink XML answer,
and putting feedback parameters on a URL or in a body."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Optional
from urllib.parse import parse_qsl, quote_plus, urlencode

from werkzeug.wrappers import Request, Response

UTF8 = "utf-8"
LATIN1 = "iso-8859-1"
FORM_TYPE = "application/x-www-form-urlencoded"


# SQLite integers hold 18 digits whatever they are; longer "numbers" are refused before they get there.
MAX_NUMBER_DIGITS = 18


def whole_number(text: str, max_digits: int = MAX_NUMBER_DIGITS) -> Optional[int]:
    """A number written in ASCII digits (``str.isdigit`` also takes "²" and "٣"), or None."""
    if text and len(text) <= max_digits and text.isascii() and text.isdigit():
        return int(text)
    return None


def page_charset(page: str) -> str:
    """``*_utf8.asp`` pages speak UTF-8, the others ISO-8859-1: the platform cannot detect the charset."""
    return UTF8 if page.lower().endswith("_utf8") else LATIN1


class Params:
    """Request parameters: the raw pairs (for signatures) and a case-insensitive view (for reading)."""

    def __init__(self, pairs: Iterable[tuple[str, str]]):
        self.pairs: list[tuple[str, str]] = list(pairs)
        self._upper: dict[str, str] = {}
        for name, value in self.pairs:
            self._upper.setdefault(name.upper(), value)

    def get(self, name: str, default: str = "") -> str:
        return self._upper.get(name.upper(), default)

    def stripped(self, name: str) -> str:
        return self.get(name).strip()

    def __contains__(self, name: str) -> bool:
        return name.upper() in self._upper

    def without(self, *names: str) -> list[tuple[str, str]]:
        excluded = {name.upper() for name in names}
        return [(name, value) for name, value in self.pairs if name.upper() not in excluded]

    def only(self, names: Iterable[str]) -> list[tuple[str, str]]:
        wanted = {name.upper() for name in names}
        return [(name, value) for name, value in self.pairs if name.upper() in wanted]

    def __repr__(self) -> str:
        # Names only: values may be card data or passwords.
        return f"Params({', '.join(name for name, _ in self.pairs)})"


def _decode_pairs(text: str, charset: str) -> list[tuple[str, str]]:
    return parse_qsl(text, keep_blank_values=True, encoding=charset, errors="replace")


def read_params(request: Request, charset: str) -> Params:
    """GET query and url-encoded POST body, percent-decoded in the page's charset."""
    pairs = _decode_pairs(request.query_string.decode(LATIN1), charset)
    if request.method == "POST":
        mimetype = request.mimetype or FORM_TYPE
        if mimetype == FORM_TYPE:
            pairs += _decode_pairs(request.get_data(cache=True).decode(charset, errors="replace"), charset)
        elif mimetype == "multipart/form-data":
            pairs += [(name, value) for name, value in request.form.items(multi=True)]
    return Params(pairs)


def _xml_attribute(value: str) -> str:
    escaped = (value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
               .replace("\r", "&#13;").replace("\n", "&#10;"))
    return escaped


def ncresponse(attributes: Iterable[tuple[str, str]], html_answer: Optional[str] = None,
               charset: str = LATIN1) -> Response:
    """The DirectLink answer: one ``ncresponse`` element whose attributes carry the data.

    Non-ASCII characters are written as character references, so the bytes are the same in either charset
    and any XML parser reads them right whatever it assumes.
    """
    attrs = "\n".join(f'{name}="{_xml_attribute(str(value))}"' for name, value in attributes)
    if html_answer is None:
        body = f'<?xml version="1.0"?><ncresponse\n{attrs}>\n</ncresponse>'
    else:
        body = (f'<?xml version="1.0"?><ncresponse\n{attrs}>\n'
                f"<HTML_ANSWER>{html_answer}</HTML_ANSWER>\n</ncresponse>")
    data = body.encode("ascii", errors="xmlcharrefreplace")
    label = "utf-8" if charset == UTF8 else "iso-8859-1"
    return Response(data, status=200, content_type=f"text/XML; Charset={label}")


def encode_pairs(pairs: Iterable[tuple[str, str]], charset: str, double: bool = False) -> str:
    pairs = list(pairs)
    if double:
        pairs = [(name, quote_plus(value, encoding=charset, errors="replace")) for name, value in pairs]
    return urlencode(pairs, encoding=charset, errors="replace")


def append_query(url: str, pairs: Iterable[tuple[str, str]], charset: str, double: bool = False) -> str:
    query = encode_pairs(pairs, charset, double)
    if not query:
        return url
    separator = "&" if "?" in url else "?"
    if url.endswith(("?", "&")):
        separator = ""
    return f"{url}{separator}{query}"
