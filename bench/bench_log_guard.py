"""The log guard the test suites run under, per record: what it adds to formatting the record at all.

Two handlers on the same records, in one process: the floor, a handler that formats each record and keeps
nothing (what any handler at DEBUG pays), and ``LogGuard`` with 50 secrets, which formats each record once and
searches it once for all of them and for a CVC after its name. The records are the kinds the suites log at
DEBUG: urllib3's request lines, a short message with arguments, and an error with its traceback.
Prints records per second and the ratio guard/floor.
"""
from __future__ import annotations

import logging
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ogone_core.sandbox.log_guard import LogGuard  # noqa: E402

SECRETS = [f"bench-passphrase-{index:04d}-secret" for index in range(46)] + [
    "4111111111111111", "5399999999999999", "374111111111111", "sandbox-password"]
ROUNDS, REPEATS = 7, 3


def records() -> list[logging.LogRecord]:
    query = ("PSPID=SANDBOX&ORDERID=shop-42-1&AMOUNT=4250&CURRENCY=EUR&CN=Jane+Doe&CARDNO=XXXXXXXXXXXX1111"
             "&SHASIGN=" + "A1B2C3D4" * 16)
    try:
        raise ValueError("the answer is not well-formed XML: Start tag expected, '<' not found")
    except ValueError:
        exc_info = sys.exc_info()
    return [
        logging.LogRecord("urllib3.connectionpool", logging.DEBUG, __file__, 1,
                          '%s://%s:%s "%s %s %s" %s %s', ("http", "127.0.0.1", 8080, "GET",
                                                          f"/ncol/test/orderstandard_utf8.asp?{query}",
                                                          "HTTP/1.1", 200, 776), None),
        logging.LogRecord("ogone_core.transport", logging.DEBUG, __file__, 1,
                          "DirectLink %s: HTTP %s in %.3f s", ("orderdirect_utf8.asp", 200, 0.042), None),
        logging.LogRecord("trytond_payment_ogone.routes", logging.WARNING, __file__, 1,
                          "Ogone feedback refused (%s, %s from %s): %s",
                          ("shop-42-1", "server", "127.0.0.1", "SignatureError: SHASIGN does not match"), None),
        logging.LogRecord("trytond_payment_ogone.routes", logging.ERROR, __file__, 1, "Ogone %s failed",
                          ("feedback",), exc_info),
    ]


class FormatOnly(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        self.format(record)


def per_second(handler: logging.Handler, batch: list[logging.LogRecord], count: int) -> float:
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(count):
            for record in batch:
                record.exc_text = None  # formatted again, as a new record would be
                handler.handle(record)
        best = min(best, time.perf_counter() - start)
    return count * len(batch) / best


def main() -> None:
    batch = records()
    floor, guard = FormatOnly(), LogGuard(SECRETS)
    floor.setFormatter(logging.Formatter("%(message)s"))
    results = {"floor": [], "guard": []}
    for _ in range(REPEATS):  # interleaved, so that both see the same machine
        results["floor"].append(per_second(floor, batch, 5_000))
        results["guard"].append(per_second(guard, batch, 5_000))
    assert not guard.leaks
    floor_rate, guard_rate = statistics.median(results["floor"]), statistics.median(results["guard"])
    print(f"format only: {floor_rate:12,.0f} records/s ({1e6 / floor_rate:.1f} us a record)")
    print(f"log guard:   {guard_rate:12,.0f} records/s ({1e6 / guard_rate:.1f} us a record)")
    print(f"ratio guard/format only: {floor_rate / guard_rate:.2f}")


if __name__ == "__main__":
    main()
