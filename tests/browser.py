"""Headless Chromium for the end-to-end tests, and a tiny merchant web site for it to visit.

Chromium and its driver come from the system (Debian: ``apt-get install chromium chromium-driver``, which
``make browser`` does as root). Selenium is given the driver explicitly, so it never downloads anything.
``CHROMIUM`` and ``CHROMEDRIVER`` override the paths.
"""
from __future__ import annotations

import html
import os
import shutil
import tempfile
import threading
from typing import Optional
from urllib.parse import parse_qsl

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from ogone_core import Feedback, OgoneError, verify_feedback

INSTALL_HINT = ("headless Chromium is needed: run `make browser` as root "
                "(or `apt-get install chromium chromium-driver`)")

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-quic", "--disable-dev-shm-usage", "--window-size=1200,900")


def _find(variable: str, names: tuple[str, ...]) -> Optional[str]:
    configured = os.environ.get(variable)
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    return None


def missing() -> Optional[str]:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]'); " + INSTALL_HINT
    if _find("CHROMIUM", ("chromium", "chromium-browser")) is None:
        return "no chromium executable; " + INSTALL_HINT
    if _find("CHROMEDRIVER", ("chromedriver",)) is None:
        return "no chromedriver executable; " + INSTALL_HINT
    return None


class Chromium:
    """A headless Chromium with a fresh profile, driven by Selenium through the system chromedriver."""

    def __init__(self) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must never reach the network
        self._profile = tempfile.TemporaryDirectory(prefix="chromium-profile-")
        options = webdriver.ChromeOptions()
        options.binary_location = _find("CHROMIUM", ("chromium", "chromium-browser"))
        for flag in CHROMIUM_FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={self._profile.name}")
        service = Service(executable_path=_find("CHROMEDRIVER", ("chromedriver",)))
        try:
            self.driver = webdriver.Chrome(service=service, options=options)
        except Exception:
            self._profile.cleanup()
            raise
        self.driver.set_page_load_timeout(20)

    def quit(self) -> None:
        try:
            self.driver.quit()
        finally:
            self._profile.cleanup()


def screenshot_dir() -> str:
    """Where the browser tests keep their screenshots: $OGONE_SCREENSHOTS, else test-artifacts/screenshots/ at the
    top of the source tree (not committed)."""
    directory = os.environ.get("OGONE_SCREENSHOTS") or os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "test-artifacts", "screenshots")
    os.makedirs(directory, exist_ok=True)
    return directory


def screenshot(driver, name: str, width: int) -> str:
    """The whole page at ``width`` CSS pixels (a phone below 700, with its viewport rules), as tall as its content.

    Returns the PNG's path. The page must not be wider than ``width``: it could not be read on a phone.
    """
    mobile = width < 700
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": mobile})
    height = driver.execute_script("return document.documentElement.scrollHeight")
    scroll_width = driver.execute_script("return document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{name} is {scroll_width} px wide at {width} px"
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": max(int(height), 200), "deviceScaleFactor": 1,
                            "mobile": mobile})
    path = os.path.join(screenshot_dir(), f"{name}.png")
    try:
        with open(path, "wb") as file:
            file.write(driver.get_screenshot_as_png())
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    return path


class MerchantSite:
    """The merchant's web site on a free port.

    ``put(name, html)`` publishes a page at ``/page/<name>``; ``/return/<charset>/<kind>`` is the return URL
    for every outcome (``kind`` is accept, decline, exception or cancel): it verifies the feedback with
    ``verify_feedback`` (decoding the query in the account's charset), keeps it in ``returns``, and shows
    the result to the customer.
    """

    def __init__(self, sha_out: str, algorithm: str) -> None:
        self.sha_out = sha_out
        self.algorithm = algorithm
        self.pages: dict[str, str] = {}
        self.returns: dict[str, tuple[str, Feedback]] = {}  # order id -> (kind, verified feedback)
        self.rejected: list[str] = []  # query strings that did not verify
        self._lock = threading.Lock()
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}/"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def put(self, name: str, page: str) -> str:
        with self._lock:
            self.pages[name] = page
        return f"{self.url}page/{name}"

    def return_url(self, kind: str, charset: str = "utf-8") -> str:
        return f"{self.url}return/{charset}/{kind}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _app(self, environ, start_response):
        request = Request(environ)
        parts = request.path.strip("/").split("/")
        if len(parts) == 2 and parts[0] == "page" and parts[1] in self.pages:
            response = Response(self.pages[parts[1]], content_type="text/html; charset=utf-8")
        elif len(parts) == 3 and parts[0] == "return" and parts[1] in ("utf-8", "iso-8859-1"):
            response = self._return(request, parts[1], parts[2])
        else:
            response = Response("Not found", status=404, content_type="text/plain")
        return response(environ, start_response)

    def _return(self, request: Request, charset: str, kind: str) -> Response:
        query = request.query_string.decode("latin-1")
        pairs = parse_qsl(query, keep_blank_values=True, encoding=charset)
        try:
            feedback = verify_feedback(pairs, self.sha_out, self.algorithm, charset)
        except OgoneError as error:
            with self._lock:
                self.rejected.append(query)
            return self._page(f'<h1 id="outcome">rejected</h1><p id="reason">{html.escape(str(error))}</p>',
                              400)
        with self._lock:
            self.returns[feedback.order_id] = (kind, feedback)
        amount = "" if feedback.amount is None else f"{feedback.amount:.2f}"
        return self._page(
            f'<h1 id="outcome">{html.escape(str(feedback.category))}</h1>'
            f'<p>Order <span id="order">{html.escape(feedback.order_id)}</span>: '
            f'<span id="amount">{amount}</span> <span id="currency">{html.escape(feedback.currency)}</span>, '
            f'STATUS <span id="status">{int(feedback.status)}</span> '
            f'({html.escape(feedback.status.description)}), card '
            f'<span id="card">{html.escape(feedback.card_number)}</span>, holder '
            f'<span id="holder">{html.escape(feedback.card_holder)}</span></p>')

    @staticmethod
    def _page(body: str, status: int = 200) -> Response:
        return Response(f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Shop</title></head>'
                        f"<body>{body}</body></html>\n", status=status,
                        content_type="text/html; charset=utf-8")
