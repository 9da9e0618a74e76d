"""``make demo``: sign a hosted-page request, explain it, and verify the documentation's feedback example."""
from __future__ import annotations

from decimal import Decimal

from . import Account, HostedPaymentRequest, SignatureError, explain, verify_feedback

# The passphrase and values of Ogone's own e-Commerce guide (section 11), public test data.
GUIDE_PASSPHRASE = "Mysecretsig1875!?"
GUIDE_FEEDBACK = (
    "orderID=12&currency=EUR&amount=15&PM=CreditCard&ACCEPTANCE=1234&STATUS=9"
    "&CARDNO=XXXXXXXXXXXX1111&PAYID=32100123&NCERROR=0&BRAND=VISA"
    "&SHASIGN=209113288F93A9AB8E474EA78D899AFDBB874355")


def main() -> None:
    from urllib.parse import parse_qsl

    account = Account(pspid="MyPSPID", sha_in=GUIDE_PASSPHRASE, sha_out=GUIDE_PASSPHRASE, algorithm="sha1")
    request = HostedPaymentRequest(order_id="1234", amount=Decimal("15.00"), currency="EUR",
                                   language="en_US", operation="SAL",
                                   accept_url="https://shop.example/ogone/return")
    form = request.render(account)
    print("1. A hosted payment page request, signed with SHA-1 (the guide's example plus an ACCEPTURL)")
    print(f"   POST {form.action}")
    for name, value in form.fields:
        print(f"     {name} = {value}")
    explanation = explain(form.fields, "in")
    print("   What is signed, and in which order (passphrase masked):")
    print(f"     {explanation.masked_string()}")
    for name, reason in explanation.excluded:
        print(f"     left out: {name} ({reason})")

    print("\n2. The feedback example of the guide (section 11.2), verified with SHA-OUT")
    feedback = verify_feedback(parse_qsl(GUIDE_FEEDBACK), GUIDE_PASSPHRASE, "sha1")
    print(f"   signature valid: ORDERID {feedback.order_id}, PAYID {feedback.pay_id}, "
          f"{feedback.amount} {feedback.currency}, STATUS {feedback.status} -> {feedback.category}")

    tampered = GUIDE_FEEDBACK.replace("amount=15", "amount=1")
    try:
        verify_feedback(parse_qsl(tampered), GUIDE_PASSPHRASE, "sha1")
    except SignatureError as error:
        print(f"\n3. The same feedback with amount=1 is refused:\n   {type(error).__name__}: {error}")


if __name__ == "__main__":
    main()
