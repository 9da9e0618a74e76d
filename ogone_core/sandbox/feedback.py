"""Transaction feedback: the parameters the platform sends back, signed with SHA-OUT, on the browser
redirect and in the server-to-server request; and the delivery of those requests with deferred retries.

Every delivery attempt is recorded. A delivery succeeds on a 2xx answer; anything else (another status,
a refused connection, a timeout) schedules the next attempt ``retry_interval`` seconds later, up to
``1 + feedback_retries`` attempts (the platform retries every 10 minutes, four times).
"""
from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Callable, Optional
from urllib.parse import parse_qsl

from ..amounts import format_plain_amount
from ..parameters import parameter_list
from ..signing import compute_shasign
from .clock import Clock
from .merchants import FEEDBACK_PARAMETER_ORDER, Merchant
from .store import FeedbackJob, HistoryLine, Store, Transaction
from .wire import append_query, encode_pairs

# Ogone writes a few names in mixed case; SHA-OUT upper-cases them all.
WIRE_NAMES = {"ORDERID": "orderID", "AMOUNT": "amount", "CURRENCY": "currency", "CVCCHECK": "CVCCheck",
              "AAVCHECK": "AAVCheck"}

ACCEPT_STATUSES = (4, 5, 9, 40, 41, 46, 50, 51, 91)
UNCERTAIN_STATUSES = (52, 92)
DECLINE_STATUSES = (2, 93)
CANCEL_STATUSES = (1,)


def _values(tx: Transaction, line: Optional[HistoryLine]) -> dict[str, str]:
    status = line.status if line else tx.status
    ncerror = line.ncerror if line else tx.ncerror
    amount = line.amount if line else tx.amount
    return {
        "ORDERID": tx.orderid,
        "CURRENCY": tx.currency,
        "AMOUNT": format_plain_amount(amount),
        "PM": tx.pm,
        "ACCEPTANCE": tx.acceptance,
        "STATUS": str(status),
        "CARDNO": tx.cardno,
        "ALIAS": tx.alias,
        "ED": tx.ed,
        "CN": tx.cn,
        "TRXDATE": tx.trxdate,
        "PAYID": str(tx.payid),
        "PAYIDSUB": str(line.payidsub) if line else "0",
        "NCERROR": ncerror,
        "BRAND": tx.brand,
        "IPCTY": "99",
        "CCCTY": "99",
        "ECI": tx.eci,
        "CVCCHECK": "NO",
        "AAVCHECK": "NO",
        "VC": "",
        "IP": tx.ip,
    }


def paramplus_pairs(paramplus: str, charset: str) -> list[tuple[str, str]]:
    """PARAMPLUS parsed into the parameters it carries.

    Names that the SHA-OUT list knows are left out: they would either break the signature or, if signed,
    let a merchant-side value pass for a platform one (``STATUS=9`` in PARAMPLUS).
    """
    listed = parameter_list("out")
    pairs = parse_qsl(paramplus, keep_blank_values=True, encoding=charset, errors="replace")
    return [(name, value) for name, value in pairs
            if name and name.upper() not in listed and name.upper() != "SHASIGN"]


def feedback_parameters(tx: Transaction, merchant: Merchant,
                        line: Optional[HistoryLine] = None) -> list[tuple[str, str]]:
    """The feedback as sent: selected parameters with the platform's names, COMPLUS, PARAMPLUS, SHASIGN."""
    values = _values(tx, line)
    selected = set(merchant.feedback_parameters)
    if line is not None and line.payidsub:
        selected.add("PAYIDSUB")  # a status change names the history line it is about
    pairs = [(WIRE_NAMES.get(name, name), values[name]) for name in FEEDBACK_PARAMETER_ORDER if name in selected]
    if tx.complus:
        pairs.append(("COMPLUS", tx.complus))
    emitted = {name.upper() for name, _ in pairs}
    pairs += [(name, value) for name, value in paramplus_pairs(tx.paramplus, tx.charset)
              if name.upper() not in emitted]
    if merchant.sha_out:
        pairs.append(("SHASIGN", compute_shasign(pairs, merchant.sha_out, merchant.algorithm, "out", tx.charset)))
    return pairs


def redirect_target(tx: Transaction, status: int) -> str:
    """ACCEPTURL / DECLINEURL / EXCEPTIONURL / CANCELURL with the platform's fall-backs; "" for none."""
    urls = tx.urls
    accept, decline = urls.get("ACCEPTURL", ""), urls.get("DECLINEURL", "")
    exception, cancel = urls.get("EXCEPTIONURL", ""), urls.get("CANCELURL", "")
    if status in UNCERTAIN_STATUSES:
        return exception or accept
    if status in DECLINE_STATUSES:
        return decline
    if status in CANCEL_STATUSES:
        return cancel or decline
    if status == 0:
        return exception or decline
    return accept


def server_to_server_url(tx: Transaction, merchant: Merchant, status: int) -> str:
    if status in ACCEPT_STATUSES or status in UNCERTAIN_STATUSES:
        url = merchant.feedback_url
    else:
        url = merchant.feedback_url_declined or merchant.feedback_url
    return url.replace("<PARAMVAR>", tx.request.get("PARAMVAR", "")) if url else ""


def redirect_url(target: str, tx: Transaction, merchant: Merchant, params: Sequence[tuple[str, str]],
                 double_encoded: bool) -> str:
    # Without a SHA-OUT passphrase the platform sends no parameters on the redirection URLs.
    if not merchant.redirect_with_parameters or not merchant.sha_out:
        return target
    return append_query(target, params, tx.charset, double_encoded)


@dataclass(frozen=True)
class DeliveryResult:
    http_status: Optional[int]
    error: str
    duration: float

    @property
    def delivered(self) -> bool:
        return self.http_status is not None and 200 <= self.http_status < 300


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a 3xx is an answer to record, not to follow
        return None


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def send(job: FeedbackJob) -> DeliveryResult:
    body = encode_pairs(job.params, job.charset, job.double_encoded)
    headers = {"User-Agent": "ogone-sandbox feedback"}
    if job.method == "POST":
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        request = urllib.request.Request(job.url, data=body.encode("ascii"), headers=headers, method="POST")
    else:
        request = urllib.request.Request(append_query(job.url, job.params, job.charset, job.double_encoded),
                                         headers=headers, method="GET")
    started = time.monotonic()
    try:
        with _OPENER.open(request, timeout=job.timeout) as response:
            response.read(65536)
            return DeliveryResult(response.status, "", time.monotonic() - started)
    except urllib.error.HTTPError as error:
        error.close()
        return DeliveryResult(error.code, f"HTTP {error.code}", time.monotonic() - started)
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        return DeliveryResult(None, f"{type(reason).__name__}: {reason}", time.monotonic() - started)


class FeedbackDispatcher:
    """Creates feedback jobs and runs them; safe to call from any thread."""

    def __init__(self, store: Store, clock: Clock, wake: Callable[[], None],
                 sender: Callable[[FeedbackJob], DeliveryResult] = send):
        self._store = store
        self._clock = clock
        self._wake = wake
        self._send = sender

    def schedule(self, tx: Transaction, merchant: Merchant, kind: str, url: str,
                 params: list[tuple[str, str]], payidsub: int = 0, delay: float = 0.0,
                 double_encoded: bool = False, deliver_now: bool = False) -> FeedbackJob:
        """Queue a feedback; with ``deliver_now`` the first attempt is made before this returns."""
        now = self._clock()
        job = self._store.add_feedback_job(
            tx.payid, payidsub, kind, url, merchant.feedback_method, tx.charset, params, double_encoded,
            merchant.feedback_timeout, merchant.feedback_retry_interval, 1 + merchant.feedback_retries,
            now, now + delay, claimed=deliver_now)
        if deliver_now:
            return self._attempt(job)
        self._wake()
        return job

    def deliver(self, job_id: int) -> Optional[FeedbackJob]:
        """One attempt now; None when the job is not pending or another thread is on it."""
        job = self._store.claim_feedback_job(job_id)
        if job is None:
            return None
        return self._attempt(job)

    def _attempt(self, job: FeedbackJob) -> FeedbackJob:
        at = self._clock()
        try:
            result = self._send(job)
        except Exception as error:  # a bug in delivery must not leave the job claimed forever
            result = DeliveryResult(None, f"{type(error).__name__}", 0.0)
        return self._store.finish_attempt(job, at, result.duration, result.http_status, result.error,
                                          result.delivered)

    def due_jobs(self) -> list[FeedbackJob]:
        return self._store.pending_feedback_jobs(due_before=self._clock())

    def run_pending(self, due_only: bool = False, payid: Optional[int] = None) -> list[FeedbackJob]:
        jobs = self._store.pending_feedback_jobs(due_before=self._clock() if due_only else None, payid=payid)
        done = [self.deliver(job.id) for job in jobs]
        return [job for job in done if job is not None]
