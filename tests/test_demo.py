"""The core demo fails loudly: a step whose outcome does not happen stops it with status 1 and a message.

The sandbox always produces the outcomes the demo shows, so these tests break it on purpose (the one place
where patching the sandbox is the only way to get there): the lost connection that does not happen, and a
refused card that is approved.
"""
from __future__ import annotations

from ogone_core import demo
from ogone_core.sandbox import acquirer
from ogone_core.sandbox.cards import Behaviour
from ogone_core.sandbox.faults import NO_FAULTS, FaultBook


def test_the_demo_passes_when_every_outcome_happens(capsys):
    assert demo.main() == 0
    captured = capsys.readouterr()
    assert "so the order is queried, not re-sent: STATUS 9 (Payment requested) -> paid" in captured.out
    assert captured.err == ""


def test_the_demo_fails_when_the_connection_is_not_lost(monkeypatch, capsys):
    monkeypatch.setattr(FaultBook, "for_request", lambda self, pspid, orderid, page: NO_FAULTS)
    assert demo.main() == 1
    captured = capsys.readouterr()
    assert captured.err == (
        "\ndemo failed: the connection lost after processing must raise OutcomeUnknown: expected outcome did "
        "not happen (got an answer, STATUS 9 (Payment requested))\n")
    assert "the connection drops after the platform processed an order" not in captured.out


def test_the_demo_fails_when_the_refused_card_is_approved(monkeypatch, capsys):
    approve = acquirer.new_order
    monkeypatch.setattr(acquirer, "new_order", lambda behaviour, operation: approve(Behaviour.APPROVED, operation))
    assert demo.main() == 1
    captured = capsys.readouterr()
    assert captured.err == ("\ndemo failed: the card the bank refuses: expected outcome did not happen "
                            "(got 9 (Payment requested))\n")
    assert "a card the bank refuses is an answer" not in captured.out
