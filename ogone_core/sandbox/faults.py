"""Faults for reliability tests: what can go wrong between a merchant and the platform.

A rule applies to one PSPID, or to one ORDERID of it (the most specific rule wins). Request faults
(``latency``, ``http_500``, ``drop_connection``, ``answer_delay``) act on the protocol pages named in ``pages``
(all of them when empty) and use up one of ``times`` each time they act; feedback faults act on every feedback
of the orders the rule covers while the rule exists.

While ``answer_delay`` holds an answer, the request is already processed and its client still waits: the
sandbox lists such answers (``HeldAnswers``) with the client's address, so that a crash test can kill the
very process that waits, at the moment the platform has done the work and the merchant does not know it.
"""
from __future__ import annotations

import contextlib
import itertools
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from typing import Any, Optional

from .store import Store

PAGES = ("orderstandard", "order_agree", "orderdirect", "maintenancedirect", "querydirect", "alias_gateway")


# How long a page or a feedback may be held back, in seconds: long enough to outlast any client timeout.
_DELAYS = {"latency": 300.0, "answer_delay": 300.0, "feedback_delay": 86_400.0}
MAX_TIMES = 1_000_000


class FaultSettingsError(ValueError):
    pass


@dataclass(frozen=True)
class Faults:
    latency: float = 0.0  # seconds slept before the page answers
    http_500: bool = False  # answer 500 without processing anything
    drop_connection: bool = False  # process the request, then close the connection without an answer
    answer_delay: float = 0.0  # seconds the answer is held back after the request was processed
    feedback_delay: float = 0.0  # server-to-server feedback sent this many seconds later
    feedback_duplicate: bool = False  # server-to-server feedback sent twice
    feedback_before_redirect: bool = False  # feedback delivered before the browser gets its redirect
    double_url_encode: bool = False  # feedback values URL-encoded twice (redirect and server-to-server)
    pages: tuple[str, ...] = ()

    @property
    def acts_on_requests(self) -> bool:
        return bool(self.latency or self.http_500 or self.drop_connection or self.answer_delay)

    @property
    def acts_on_feedback(self) -> bool:
        return bool(self.feedback_delay or self.feedback_duplicate or self.feedback_before_redirect
                    or self.double_url_encode)

    def covers(self, page: str) -> bool:
        return not self.pages or page in self.pages


NO_FAULTS = Faults()
_NAMES = {f.name for f in fields(Faults)}


def parse_faults(data: Mapping[str, Any]) -> Faults:
    unknown = sorted(set(data) - _NAMES)
    if unknown:
        raise FaultSettingsError(f"unknown fault(s): {', '.join(unknown)}; known: {', '.join(sorted(_NAMES))}")
    values = dict(data)
    for name, most in _DELAYS.items():
        if name in values:
            value = values[name]
            # "not 0 <= value" also refuses NaN, which compares false with everything.
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= most:
                raise FaultSettingsError(f"{name} is a number of seconds from 0 to {most:g}")
            values[name] = float(value)
    for name in ("http_500", "drop_connection", "feedback_duplicate", "feedback_before_redirect",
                 "double_url_encode"):
        if name in values and not isinstance(values[name], bool):
            raise FaultSettingsError(f"{name} is true or false")
    if "pages" in values:
        if not isinstance(values["pages"], (list, tuple)) or not all(isinstance(p, str) for p in values["pages"]):
            raise FaultSettingsError(f"pages is a list of page names: {', '.join(PAGES)}")
        pages = tuple(values["pages"])
        unknown_pages = [page for page in pages if page not in PAGES]
        if unknown_pages:
            raise FaultSettingsError(f"unknown page(s) {', '.join(unknown_pages)}; pages: {', '.join(PAGES)}")
        values["pages"] = pages
    if values.get("http_500") and values.get("drop_connection"):
        raise FaultSettingsError("http_500 and drop_connection exclude each other")
    if values.get("http_500") and values.get("answer_delay"):
        # http_500 answers before processing: there would be no processed request to hold the answer of
        raise FaultSettingsError("http_500 and answer_delay exclude each other")
    return Faults(**values)


class FaultBook:
    def __init__(self, store: Store, now):
        self._store = store
        self._now = now

    def add(self, pspid: str, orderid: Optional[str], settings: Mapping[str, Any],
            times: Optional[int] = None) -> int:
        if not isinstance(settings, Mapping):
            raise FaultSettingsError("faults is a JSON object")
        parse_faults(settings)
        if times is not None and (isinstance(times, bool) or not isinstance(times, int)
                                  or not 1 <= times <= MAX_TIMES):
            raise FaultSettingsError(f"times is an integer from 1 to {MAX_TIMES}")
        return self._store.add_fault_rule(pspid, orderid or None, dict(settings), times, self._now()).id

    def for_request(self, pspid: str, orderid: str, page: str) -> Faults:
        """The faults for one request; a request fault with a count is used up here."""
        for rule in self._store.fault_rules(pspid, orderid):
            faults = parse_faults(rule.settings)
            if faults.acts_on_requests and faults.covers(page):
                if rule.remaining is not None:
                    self._store.consume_fault_rule(rule.id)
                return faults
        return NO_FAULTS

    def for_feedback(self, pspid: str, orderid: str) -> Faults:
        for rule in self._store.fault_rules(pspid, orderid):
            faults = parse_faults(rule.settings)
            if faults.acts_on_feedback:
                return faults
        return NO_FAULTS


@dataclass(frozen=True)
class HeldAnswer:
    "An answer ``answer_delay`` holds back: the request was processed, its client waits"
    id: int
    pspid: str
    orderid: str
    page: str
    client: str  # the waiting connection's address, host:port
    since: float
    until: float


class HeldAnswers:
    "The answers held back now, for the admin API"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._held: dict[int, HeldAnswer] = {}

    @contextlib.contextmanager
    def holding(self, pspid: str, orderid: str, page: str, client: str, since: float,
                until: float) -> Iterator[HeldAnswer]:
        with self._lock:
            answer = HeldAnswer(next(self._ids), pspid, orderid, page, client, since, until)
            self._held[answer.id] = answer
        try:
            yield answer
        finally:
            with self._lock:
                del self._held[answer.id]

    def list(self, pspid: str = "") -> list[HeldAnswer]:
        with self._lock:
            return [answer for answer in self._held.values() if not pspid or answer.pspid == pspid]
