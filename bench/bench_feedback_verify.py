"""Feedback verification: ``verify_feedback`` against raw hashlib over the already-built canonical string.

The feedback is a realistic 15-parameter server-to-server post-sale request plus its SHASIGN, given as the
list of pairs the return URL parses (and, second line, as a dict). ``verify_feedback`` does all the work on each call: finding SHASIGN,
matching names case-insensitively against the SHA-OUT list, leaving out empty values, sorting, joining,
encoding, hashing, comparing in constant time, then the typed result (ORDERID and STATUS required, STATUS
known, AMOUNT strict, CURRENCY a currency code). The baseline only hashes the canonical string. Both run in
the same process, in short rounds taken in turn, so the ratio holds whatever the machine is doing.

    python bench/bench_feedback_verify.py            # the figures of bench/README.md
    python bench/bench_feedback_verify.py --profile  # where the time of one call goes (cProfile)
"""
from __future__ import annotations

import cProfile
import hashlib
import pstats
import statistics
import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ogone_core import Status, canonical_string, compute_shasign, verify_feedback  # noqa: E402

PASSPHRASE = "sandbox_sha_out_passphrase_0001"
# What the platform posts after a paid card payment, in its own mixed case.
PAIRS = [
    ("orderID", "TRYTON-1234-1"), ("currency", "EUR"), ("amount", "125.5"), ("PM", "CreditCard"),
    ("ACCEPTANCE", "test123"), ("STATUS", "9"), ("CARDNO", "XXXXXXXXXXXX1111"), ("ED", "1229"),
    ("CN", "Jeanne Dupont"), ("TRXDATE", "11/30/26"), ("PAYID", "3041187542"), ("NCERROR", "0"),
    ("BRAND", "VISA"), ("IP", "192.0.2.10"), ("ALIAS", "CUST-42-CARD-1"),
]
ROUNDS = 30
NUMBER = 5000


def measure(raw, library) -> tuple[float, float]:
    """Best-of-rounds calls per second of both, in short rounds taken in turn: the minimum is the least
    disturbed measurement, and a machine busy with other work slows both sides alike."""
    raw_timer, library_timer = timeit.Timer(raw), timeit.Timer(library)
    raw_times, library_times = [], []
    for _ in range(ROUNDS):
        raw_times.append(raw_timer.timeit(NUMBER))
        library_times.append(library_timer.timeit(NUMBER))
    return NUMBER / min(raw_times), NUMBER / min(library_times)


def main() -> None:
    assert len(PAIRS) == 15
    algorithm = "sha512"
    received = PAIRS + [("SHASIGN", compute_shasign(PAIRS, PASSPHRASE, algorithm, "out"))]
    canonical = canonical_string(PAIRS, PASSPHRASE, "out").encode("utf-8")
    feedback = verify_feedback(received, PASSPHRASE, algorithm)
    assert feedback.status is Status.PAYMENT_REQUESTED and feedback.order_id == "TRYTON-1234-1"

    def raw():
        return hashlib.sha512(canonical).hexdigest().upper()

    def library():
        return verify_feedback(received, PASSPHRASE, algorithm)

    if "--profile" in sys.argv:
        profile = cProfile.Profile()
        profile.runcall(lambda: [library() for _ in range(20000)])
        pstats.Stats(profile).sort_stats("tottime").print_stats(12)
        return

    as_dict = dict(received)
    print(f"{'verify_feedback given':<24} {'library/s':>12} {'raw/s':>12} {'ratio':>7}")
    for label, params in (("a list of pairs (route)", received), ("a dict", as_dict)):
        ratios, library_rates, raw_rates = [], [], []
        for _ in range(3):
            raw_rate, library_rate = measure(raw, lambda: verify_feedback(params, PASSPHRASE, algorithm))
            ratios.append(raw_rate / library_rate)
            library_rates.append(library_rate)
            raw_rates.append(raw_rate)
        print(f"{label:<24} {statistics.median(library_rates):>12,.0f} "
              f"{statistics.median(raw_rates):>12,.0f} {statistics.median(ratios):>7.2f}")

if __name__ == "__main__":
    main()
