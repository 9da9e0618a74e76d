"""Parsing a hostile DirectLink answer: 65,000 attributes in 520 KB (names distinct in any case), just under the size limit.

Three ways over the same body, in one process: ``parse_ncresponse``; the floor, lxml building the tree
without anyone reading it; and the former way, reading the attributes off the tree element one by one,
which searches the element's attribute list for each of them (quadratic). Prints CPU seconds and ratios,
and the per-attribute cost against a normal 20-attribute answer, which stays flat when parsing is linear.
"""
from __future__ import annotations

import itertools
import string
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lxml import etree  # noqa: E402

from ogone_core.ncresponse import MAX_RESPONSE_BYTES, parse_ncresponse  # noqa: E402

NORMAL = (b'<?xml version="1.0"?><ncresponse orderID="ORD-1001" PAYID="3014726912" PAYIDSUB="0" NCSTATUS="0" '
          b'NCERROR="0" NCERRORPLUS="!" ACCEPTANCE="test123" STATUS="9" ECI="7" amount="125" currency="EUR" '
          b'PM="CreditCard" BRAND="VISA" CARDNO="XXXXXXXXXXXX1111" ALIAS="CUST-42" IP="192.0.2.1" '
          b'CVCCheck="OK" AAVCheck="OK" VC="NO" IPCTY="BE"/>')


def hostile(count: int) -> bytes:
    letters = string.ascii_uppercase.encode()
    names = (bytes(name) for name in itertools.product(letters, repeat=4))
    attributes = b" ".join(name + b'=""' for name in itertools.islice(names, count - 1))
    return b'<ncresponse STATUS="9" ' + attributes + b' ZZZZ="1"/>'


def tree_only(body: bytes) -> None:
    etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))


def tree_attributes(body: bytes) -> None:
    root = etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))
    {name.upper(): value for name, value in root.attrib.items()}


def cpu(function, body: bytes, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        function(body)
        best = min(best, time.process_time() - started)
    return best


def main() -> None:
    body = hostile(65_000)
    assert len(body) <= MAX_RESPONSE_BYTES
    library = cpu(lambda b: parse_ncresponse(b, "text/xml"), body, 5)
    floor = cpu(tree_only, body, 5)
    former = cpu(tree_attributes, body, 1)
    normal = cpu(lambda b: [parse_ncresponse(b, "text/xml") for _ in range(1000)], NORMAL, 5) / 1000
    print(f"hostile answer: {len(body):,} bytes, 65,000 attributes")
    print(f"parse_ncresponse        {library * 1000:8.1f} ms CPU")
    print(f"lxml tree, not read     {floor * 1000:8.1f} ms CPU   library/floor {library / floor:5.2f}")
    print(f"tree attributes read    {former * 1000:8.1f} ms CPU   former/library {former / library:7.1f}")
    print(f"normal 20-attribute answer {normal * 1e6:6.1f} us;  per attribute: normal "
          f"{normal / 20 * 1e6:.2f} us, hostile {library / 65_000 * 1e6:.2f} us")


if __name__ == "__main__":
    main()
