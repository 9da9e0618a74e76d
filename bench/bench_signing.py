"""Signing throughput: ``compute_shasign`` against raw hashlib over the already-built canonical string.

Both run in the same process, interleaved, so the ratio holds whatever the machine is doing. The library
does all the work (case folding, whitelist filtering, empty values, duplicate check, sorting, joining,
encoding); the baseline only hashes. Prints both throughputs and the ratio library/raw for each algorithm.
A third line measures a straightforward sort-and-join implementation without filtering, for reference.
"""
from __future__ import annotations

import hashlib
import statistics
import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ogone_core import canonical_string, compute_shasign  # noqa: E402

PASSPHRASE = "sandbox_sha_in_passphrase_0001"
# A realistic 20-parameter hosted-page request, in the mixed case merchants send.
PARAMS = {
    "PSPID": "SANDBOX", "orderID": "INV-2026-000123-1", "amount": "12550", "currency": "EUR",
    "language": "en_US", "CN": "Jeanne Dupont", "EMAIL": "jeanne.dupont@example.com",
    "ownerAddress": "12 rue de la Paix", "ownerZIP": "75002", "ownertown": "Paris", "ownercty": "FR",
    "ownertelno": "+33 1 23 45 67 89", "COM": "Invoice INV-2026-000123", "OPERATION": "SAL",
    "ACCEPTURL": "https://erp.example.com/db/r/account_payment_ogone/return",
    "DECLINEURL": "https://erp.example.com/db/r/account_payment_ogone/return",
    "EXCEPTIONURL": "https://erp.example.com/db/r/account_payment_ogone/return",
    "CANCELURL": "https://erp.example.com/db/r/account_payment_ogone/return",
    "ALIAS": "CUST-42-CARD-1", "ALIASUSAGE": "Pay your next invoices with this card",
}
ROUNDS = 7


def straightforward(params, passphrase, algorithm):
    items = sorted((name.upper(), value) for name, value in params.items() if value)
    text = "".join(f"{name}={value}{passphrase}" for name, value in items)
    return hashlib.new(algorithm, text.encode("utf-8")).hexdigest().upper()


def measure(function, number: int) -> float:
    """Best-of-rounds calls per second (the minimum is the least disturbed measurement)."""
    times = timeit.repeat(function, number=number, repeat=ROUNDS)
    return number / min(times)


def main() -> None:
    assert len(PARAMS) == 20
    print(f"{'algorithm':<8} {'library/s':>12} {'raw/s':>12} {'ratio':>7} {'plain sort+join ratio':>22}")
    for algorithm in ("sha1", "sha256", "sha512"):
        canonical = canonical_string(PARAMS, PASSPHRASE, "in")
        expected = hashlib.new(algorithm, canonical.encode("utf-8")).hexdigest().upper()
        assert compute_shasign(PARAMS, PASSPHRASE, algorithm) == expected
        hash_function = getattr(hashlib, algorithm)

        def raw():
            return hash_function(canonical.encode("utf-8")).hexdigest().upper()

        def library():
            return compute_shasign(PARAMS, PASSPHRASE, algorithm)

        def plain():
            return straightforward(PARAMS, PASSPHRASE, algorithm)

        number = 20000
        ratios, plain_ratios, library_rates, raw_rates = [], [], [], []
        for _ in range(3):  # interleave so drift hits both sides alike
            raw_rate = measure(raw, number)
            library_rate = measure(library, number)
            plain_rate = measure(plain, number)
            ratios.append(raw_rate / library_rate)
            plain_ratios.append(raw_rate / plain_rate)
            library_rates.append(library_rate)
            raw_rates.append(raw_rate)
        print(f"{algorithm:<8} {statistics.median(library_rates):>12,.0f} {statistics.median(raw_rates):>12,.0f} "
              f"{statistics.median(ratios):>7.2f} {statistics.median(plain_ratios):>22.2f}")


if __name__ == "__main__":
    main()
