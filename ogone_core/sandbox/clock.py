"""Time as the sandbox sees it: a callable returning Unix seconds, replaceable in tests."""
from __future__ import annotations

import datetime
import threading
import time
from typing import Callable

Clock = Callable[[], float]

system_clock: Clock = time.time


class ManualClock:
    """A clock that only moves when told to: settle delays and feedback retries without waiting."""

    def __init__(self, start: float | None = None):
        self._now = time.time() if start is None else start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        with self._lock:
            self._now += seconds
            return self._now


def utc_date(clock: Clock) -> datetime.date:
    return datetime.datetime.fromtimestamp(clock(), datetime.timezone.utc).date()


def trxdate(clock: Clock) -> str:
    """TRXDATE as the platform writes it: MM/DD/YY."""
    return utc_date(clock).strftime("%m/%d/%y")
