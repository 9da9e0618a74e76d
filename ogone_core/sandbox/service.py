"""The sandbox platform: merchants, settling of pending statuses, and the end of a payment (status, alias,
feedback) shared by the hosted page, DirectLink 3-D Secure and the admin calls."""
from __future__ import annotations

import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Callable, Optional

from .acquirer import ACCEPTANCE, OFFLINE, Outcome
from .clock import Clock, trxdate
from .faults import FaultBook, Faults, HeldAnswers
from .feedback import (FeedbackDispatcher, feedback_parameters, redirect_target, redirect_url,
                       server_to_server_url)
from .merchants import DEFAULT_MERCHANT, Merchant, SandboxConfig, merchant_from_dict
from .store import RETRYABLE_STATUSES, Store, Transaction


# The payment page's checkbox (merchant setting ``alias_checkbox``): "Y" when the customer keeps the card.
STORE_ALIAS_FIELD = "STOREALIAS"


class OrderAlreadyProcessed(Exception):
    """Another transaction of the same ORDERID was already paid, authorised or is in progress."""


@dataclass(frozen=True)
class Finished:
    """A payment that reached its result: where the browser goes (``redirect`` "" = the result page)."""

    transaction: Transaction
    params: list[tuple[str, str]]
    redirect: str


class Sandbox:
    def __init__(self, store: Store, clock: Clock, config: SandboxConfig, wake: Callable[[], None]):
        self.store = store
        self.clock = clock
        self.faults = FaultBook(store, clock)
        self.held = HeldAnswers()
        self.feedback = FeedbackDispatcher(store, clock, wake)
        self._lock = threading.Lock()
        if config.default_merchant and "SANDBOX" not in {m.pspid for m in config.merchants}:
            if DEFAULT_MERCHANT.pspid not in store.merchants():
                store.save_merchant(DEFAULT_MERCHANT)
        for merchant in config.merchants:
            store.save_merchant(merchant)
        self._merchants = store.merchants()
        for rule in config.scenarios:
            self.add_fault_rule(rule)

    # merchants ---------------------------------------------------------------------------------------------
    def merchant(self, pspid: str) -> Optional[Merchant]:
        with self._lock:
            return self._merchants.get(pspid)

    def merchants(self) -> list[Merchant]:
        with self._lock:
            return list(self._merchants.values())

    def upsert_merchant(self, changes: Mapping[str, Any]) -> tuple[Merchant, bool]:
        """Create a merchant, or change some settings of an existing one. Returns (merchant, created)."""
        pspid = changes.get("pspid", "")
        with self._lock:
            existing = self._merchants.get(pspid)
            merchant = existing.updated(changes) if existing else merchant_from_dict(changes)
            self.store.save_merchant(merchant)
            self._merchants[merchant.pspid] = merchant
            return merchant, existing is None

    def add_fault_rule(self, rule: Mapping[str, Any]) -> int:
        pspid = rule.get("pspid", "")
        if not pspid or self.merchant(pspid) is None:
            raise ValueError(f"fault rule for an unknown PSPID {pspid!r}")
        unknown = sorted(set(rule) - {"pspid", "orderid", "faults", "times"})
        if unknown:
            raise ValueError(f"unknown fault rule key(s): {', '.join(unknown)}")
        return self.faults.add(pspid, rule.get("orderid"), rule.get("faults", {}), rule.get("times"))

    # time --------------------------------------------------------------------------------------------------
    def now(self) -> float:
        return self.clock()

    def settle_at(self, merchant: Merchant, outcome: Outcome) -> Optional[float]:
        if outcome.settle_status is None:
            return None
        delay = merchant.settle_delay if outcome.settle_kind == OFFLINE else merchant.uncertain_delay
        return self.clock() + delay

    def settle(self, force: bool = False, payid: Optional[int] = None, pspid: str = "") -> list[tuple[int, int]]:
        """Settle due pending lines (all of them with ``force``) and tell merchants who asked for status changes."""
        moved = self.store.settle(self.clock(), force=force, payid=payid, pspid=pspid)
        for tx_payid, payidsub in moved:
            tx = self.store.transaction(tx_payid)
            line = self.store.line(tx_payid, payidsub)
            if payidsub == 0 and line.status in (5, 9) and not tx.acceptance:
                tx = self.store.update_transaction(tx_payid, acceptance=ACCEPTANCE)
            merchant = self.merchant(tx.pspid)
            if merchant and merchant.status_change_url:
                params = feedback_parameters(tx, merchant, line)
                self.feedback.schedule(tx, merchant, "status-change", merchant.status_change_url, params,
                                       payidsub=payidsub)
        return moved

    # payments ----------------------------------------------------------------------------------------------
    def finish_payment(self, tx: Transaction, merchant: Merchant, outcome: Outcome,
                       eci: str = "") -> Finished:
        """Record the result of a hosted-page or 3-D Secure payment, then send its feedback.

        Two payment pages opened for one ORDERID (two tabs) cannot both take the money: the platform checks
        that an order is not paid twice, so the second one raises ``OrderAlreadyProcessed``.
        """
        settle_at = self.settle_at(merchant, outcome)
        changes: dict[str, Any] = {"acceptance": outcome.acceptance, "trxdate": trxdate(self.clock)}
        if eci:
            changes["eci"] = eci
        with self.store.atomic():
            # A double click posts the same page twice: only the first answer may finish the payment.
            if self.store.transaction(tx.payid).status != tx.status:
                raise OrderAlreadyProcessed(tx.orderid)
            if (outcome.status not in RETRYABLE_STATUSES
                    and self.store.live_order(tx.pspid, tx.orderid, excluding=tx.payid) is not None):
                raise OrderAlreadyProcessed(tx.orderid)
            if outcome.status not in RETRYABLE_STATUSES:
                changes["alias"] = self._keep_alias(tx, merchant)
            self.store.update_transaction(tx.payid, **changes)
            self.store.update_line(tx.payid, 0, status=outcome.status, ncerror=outcome.ncerror,
                                   acceptance=outcome.acceptance, settle_at=settle_at,
                                   settle_status=outcome.settle_status, settle_ncerror=outcome.settle_ncerror)
            tx = self.store.transaction(tx.payid)
        # Outside the store's lock: an online feedback may make the merchant call the sandbox back.
        params = feedback_parameters(tx, merchant)
        faults = self.faults.for_feedback(tx.pspid, tx.orderid)
        self.send_feedback(tx, merchant, params, faults)
        target = redirect_target(tx, tx.status)
        redirect = redirect_url(target, tx, merchant, params, faults.double_url_encode) if target else ""
        return Finished(tx, params, redirect)

    def _keep_alias(self, tx: Transaction, merchant: Merchant) -> str:
        """Store the card behind the alias the merchant asked for (or one the platform names: BYPSP).

        Where the merchant lets the customer decide (the payment page's checkbox), a customer who did not
        tick it keeps no alias: nothing is stored and the feedback's ALIAS is empty.
        """
        if merchant.alias_checkbox and tx.request.get(STORE_ALIAS_FIELD) != "Y":
            return tx.alias
        requested = tx.request.get("ALIAS", "")
        if not requested and tx.request.get("ALIASOPERATION", "").upper() == "BYPSP":
            requested = uuid.uuid4().hex.upper()
        if not requested or not tx.card_key:
            return tx.alias
        persisted = tx.request.get("ALIASPERSISTEDAFTERUSE", "Y").upper() != "N"
        self.store.save_alias(tx.pspid, requested, tx.card_key, tx.cardno, tx.brand, tx.ed, tx.cn, persisted,
                              self.clock())
        return requested

    def send_feedback(self, tx: Transaction, merchant: Merchant, params: list[tuple[str, str]],
                      faults: Faults) -> None:
        url = server_to_server_url(tx, merchant, tx.status)
        if not url or merchant.feedback_timing == "none":
            return
        online = merchant.feedback_timing == "online" or faults.feedback_before_redirect
        copies = 2 if faults.feedback_duplicate else 1
        for _ in range(copies):
            self.feedback.schedule(tx, merchant, "payment", url, params, delay=faults.feedback_delay,
                                   double_encoded=faults.double_url_encode,
                                   deliver_now=online and not faults.feedback_delay)
