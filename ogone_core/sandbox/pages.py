"""HTML pages from the templates in ``templates/``: ``$name`` placeholders, every value escaped unless it is
an ``Html`` fragment built by the sandbox itself."""
from __future__ import annotations

import html
from functools import lru_cache
from importlib import resources
from string import Template
from typing import TYPE_CHECKING, Callable, Iterable, Optional

from werkzeug.wrappers import Response

from .translations import texts

if TYPE_CHECKING:
    from .dynamic_template import DynamicTemplate


class Html(str):
    """Markup the sandbox built and escaped itself."""


def escape(value: object) -> str:
    if isinstance(value, Html):
        return value
    return html.escape("" if value is None else str(value), quote=True)


@lru_cache(maxsize=None)
def _template(name: str) -> Template:
    text = resources.files("ogone_core.sandbox").joinpath("templates", name).read_text(encoding="utf-8")
    return Template(text)


def render(name: str, **values: object) -> Html:
    return Html(_template(name).substitute({key: escape(value) for key, value in values.items()}))


def page(name: str, title: str, http_status: int = 200, language: Optional[str] = None,
         **values: object) -> Response:
    """A page in the layout, its texts in ``language`` (Ogone's LANGUAGE, ``fr_FR``; English by default)."""
    words = texts(language)
    body = render(name, **{**words, **values})
    document = render("layout.html", title=title, body=body, **words)
    return Response(document.encode("utf-8"), status=http_status, content_type="text/html; charset=utf-8",
                    headers={"Cache-Control": "no-store"})


def template_page(template: "DynamicTemplate") -> Callable[..., Response]:
    """Like ``page``, but the page is the merchant's dynamic template with the payment zone in its marker."""
    def render_in_template(name: str, title: str, http_status: int = 200, language: Optional[str] = None,
                           **values: object) -> Response:
        words = texts(language)
        zone = render("payment_zone.html", body=render(name, **{**words, **values}), **words)
        return Response(template.wrap(zone).encode("utf-8"), status=http_status,
                        content_type="text/html; charset=utf-8", headers={"Cache-Control": "no-store"})
    return render_in_template


def table(rows: Iterable[Iterable[object]], header: Iterable[str] = ()) -> Html:
    head = "".join(f"<th>{escape(cell)}</th>" for cell in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in rows)
    return Html(f"<table>{f'<thead><tr>{head}</tr></thead>' if head else ''}<tbody>{body}</tbody></table>")


def display_amount(wire: int) -> str:
    """AMOUNT (the amount x 100) as a person reads it: ``150000`` -> ``1500``, ``1250`` -> ``12.50``."""
    whole, cents = divmod(int(wire), 100)
    return f"{whole}.{cents:02d}" if cents else str(whole)


def hidden(name: str, value: str) -> Html:
    return Html(f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">')


def link(url: str, text: str) -> Html:
    return Html(f'<a href="{escape(url)}">{escape(text)}</a>')


def messages(items: Iterable[str]) -> Html:
    items = list(items)
    if not items:
        return Html("")
    return Html('<ul class="errors">' + "".join(f"<li>{escape(item)}</li>" for item in items) + "</ul>")
