"""What the load tests share: their sizes, a pool of concurrent clients that times each request, the figures
they print, and the sandbox's record of every transaction."""
from __future__ import annotations

import os
import statistics
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Iterable, Optional

import requests

# The sizes of the issue are the defaults; OGONE_LOAD_SCALE=0.2 runs a fifth of each (make test does, to keep
# the topology suite within its time on a 2-core machine; make load runs them whole).
SCALE_VARIABLE = "OGONE_LOAD_SCALE"


def scaled(size: int, minimum: int = 1) -> int:
    "``size`` times OGONE_LOAD_SCALE (1 when unset), at least ``minimum``"
    text = os.environ.get(SCALE_VARIABLE, "").strip() or "1"
    try:
        scale = float(text)
    except ValueError:
        raise ValueError(f"{SCALE_VARIABLE} is a number, not {text!r}") from None
    if scale <= 0:
        raise ValueError(f"{SCALE_VARIABLE} is above 0, not {text!r}")
    return max(minimum, round(size * scale))


def wait_until(condition: Callable[[], object], deadline: float, what: str, interval: float = 0.5):
    "Polls ``condition`` until it returns something true; fails the test after ``deadline`` seconds"
    end = time.monotonic() + deadline
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"not done after {deadline:.0f} s: {what}")
        time.sleep(interval)


@dataclass
class Timings:
    "Each request's status code and latency, from every client thread"
    statuses: Counter = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    finished: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, status: object, latency: float) -> None:
        with self._lock:
            self.statuses[status] += 1
            self.latencies.append(latency)

    def stop(self) -> None:
        self.finished = time.monotonic()

    @property
    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    @property
    def count(self) -> int:
        return len(self.latencies)

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return 0.0
        return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]

    def summary(self, unit: str = "requests") -> str:
        rate = self.count / self.elapsed if self.elapsed else 0.0
        codes = ", ".join(f"{code} x {n}" for code, n in sorted(self.statuses.items(), key=lambda item: str(item[0])))
        mean = statistics.fmean(self.latencies) if self.latencies else 0.0
        return (f"{self.count} {unit} in {self.elapsed:.1f} s = {rate:.1f} {unit}/s; {codes}; latency "
                f"p50 {self.percentile(0.5) * 1000:.0f} ms, p95 {self.percentile(0.95) * 1000:.0f} ms, "
                f"mean {mean * 1000:.0f} ms, max {max(self.latencies, default=0) * 1000:.0f} ms")


def run_concurrently(tasks: Iterable[Callable[[requests.Session], object]], clients: int) -> list:
    """Runs each task on one of ``clients`` threads, each with its own HTTP session (a customer or an Ogone
    server); returns the results in the order of the tasks. The first exception of a task is raised.

    Every request opens its own connection: a connection kept alive may be closed by gunicorn (after its
    2 s keep-alive) just as the next request goes out on it, which a browser retries on its own and
    requests does not."""
    local = threading.local()

    def session() -> requests.Session:
        if not hasattr(local, "session"):
            local.session = requests.Session()
            local.session.headers["Connection"] = "close"
        return local.session

    with ThreadPoolExecutor(max_workers=clients) as pool:
        futures = [pool.submit(lambda task=task: task(session())) for task in tasks]
        return [future.result() for future in futures]


def figures(title: str, lines: Iterable[str]) -> None:
    "Prints the figures of a test where pytest shows them (-s) and in its captured output"
    print(f"\n== {title}")
    for line in lines:
        print(f"   {line}")


def sandbox_transactions(stack, order_id: Optional[str] = None) -> list[dict]:
    "Every transaction the sandbox recorded for the default merchant (the admin API lists 500 by default)"
    from ogone_core.sandbox.merchants import DEFAULT_MERCHANT
    params = {"pspid": DEFAULT_MERCHANT.pspid, "limit": "100000"}
    if order_id:
        params["orderid"] = order_id
    response = requests.get(f"{stack.sandbox_url}admin/api/transactions", params=params, timeout=60)
    response.raise_for_status()
    return response.json()["transactions"]


def web_restarts(stack) -> list[str]:
    "The lines of gunicorn's log where it killed or lost a worker process (a request over its timeout)"
    text = stack.web.log.read_text(errors="replace")
    return [line for line in text.splitlines()
            if "WORKER TIMEOUT" in line or "was sent SIGKILL" in line or "exited with code" in line]
