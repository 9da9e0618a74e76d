"""Merchant accounts of the sandbox: the settings an Ogone back office holds for one PSPID."""
from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..account import Account
from ..signing import Algorithm
from ..validation import Operation

FEEDBACK_TIMINGS = ("deferred", "online", "none")
FEEDBACK_METHODS = ("POST", "GET")

# The set Ogone's own setup guide tells merchants to select under "Dynamic e-Commerce parameters".
DEFAULT_FEEDBACK_PARAMETERS = ("ALIAS", "AMOUNT", "CARDNO", "CN", "CURRENCY", "IP", "NCERROR", "ORDERID",
                               "PAYID", "PM", "STATUS", "TRXDATE")

# Every parameter the sandbox can put in a feedback, in the order the platform sends them.
FEEDBACK_PARAMETER_ORDER = ("ORDERID", "CURRENCY", "AMOUNT", "PM", "ACCEPTANCE", "STATUS", "CARDNO", "ALIAS",
                            "ED", "CN", "TRXDATE", "PAYID", "PAYIDSUB", "NCERROR", "BRAND", "IPCTY", "CCCTY",
                            "ECI", "CVCCHECK", "AAVCHECK", "VC", "IP")

_SECRETS = ("sha_in", "sha_out", "directlink_sha_in", "api_password")
_TEXTS = ("sha_in", "sha_out", "api_user", "api_password", "directlink_sha_in", "feedback_url",
          "feedback_url_declined", "status_change_url", "feedback_method", "feedback_timing", "default_operation")
MAX_TEXT = 2000
# Durations a test can wait for, with their upper bound in seconds (NaN, infinity and 1e308 are refused).
_DURATIONS = {"feedback_retry_interval": 86_400.0, "feedback_timeout": 300.0, "settle_delay": 86_400.0,
              "uncertain_delay": 86_400.0}
_COUNTS = {"feedback_retries": 100, "hosted_page_attempts": 100}


class MerchantSettingsError(ValueError):
    """A merchant setting in the configuration or in an admin call is invalid."""


@dataclass(frozen=True)
class Merchant:
    """One PSPID. Secrets stay out of ``repr`` and of ``public_dict``."""

    pspid: str
    sha_in: str = field(default="", repr=False)
    sha_out: str = field(default="", repr=False)  # empty: no parameters on the redirect, as on the platform
    algorithm: Algorithm = Algorithm.SHA512
    api_user: str = ""
    api_password: str = field(default="", repr=False)
    # "Checks for DirectLink and Batch" has its own SHA-IN passphrase on the platform; empty = same as sha_in.
    directlink_sha_in: str = field(default="", repr=False)
    feedback_parameters: tuple[str, ...] = DEFAULT_FEEDBACK_PARAMETERS
    redirect_with_parameters: bool = True
    feedback_url: str = ""
    feedback_url_declined: str = ""
    status_change_url: str = ""
    feedback_method: str = "POST"
    feedback_timing: str = "deferred"
    feedback_retry_interval: float = 600.0
    feedback_retries: int = 4
    feedback_timeout: float = 10.0
    settle_delay: float = 30.0
    uncertain_delay: float = 60.0
    default_operation: str = "SAL"
    hosted_page_attempts: int = 1
    # Configuration > Alias > My alias information: the payment page asks the customer, with a checkbox,
    # whether to keep the card behind the ALIAS the merchant sent; unticked, no alias is stored.
    alias_checkbox: bool = False
    allow_prod: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.pspid, str) or not self.pspid.strip() or len(self.pspid) > 30:
            raise MerchantSettingsError("pspid is required (1 to 30 characters)")
        for name in _TEXTS:
            value = getattr(self, name)
            if not isinstance(value, str) or len(value) > MAX_TEXT:
                raise MerchantSettingsError(f"{name} is a string of at most {MAX_TEXT} characters")
        for name in ("redirect_with_parameters", "allow_prod"):
            if not isinstance(getattr(self, name), bool):
                raise MerchantSettingsError(f"{name} is true or false")
        if not isinstance(self.feedback_parameters, (list, tuple)) or not all(
                isinstance(name, str) for name in self.feedback_parameters):
            raise MerchantSettingsError("feedback_parameters is a list of parameter names")
        if not self.sha_in:
            raise MerchantSettingsError(f"{self.pspid}: the SHA-IN passphrase is required")
        try:
            object.__setattr__(self, "algorithm", Algorithm.parse(self.algorithm))
        except ValueError as error:
            raise MerchantSettingsError(str(error)) from None
        names = tuple(str(name).upper() for name in self.feedback_parameters)
        unknown = [name for name in names if name not in FEEDBACK_PARAMETER_ORDER]
        if unknown:
            raise MerchantSettingsError(
                f"unknown feedback parameter(s) {', '.join(unknown)}; known: {', '.join(FEEDBACK_PARAMETER_ORDER)}")
        object.__setattr__(self, "feedback_parameters", names)
        method = str(self.feedback_method).upper()
        if method not in FEEDBACK_METHODS:
            raise MerchantSettingsError("feedback_method is POST or GET")
        object.__setattr__(self, "feedback_method", method)
        if self.feedback_timing not in FEEDBACK_TIMINGS:
            raise MerchantSettingsError(f"feedback_timing is one of {', '.join(FEEDBACK_TIMINGS)}")
        if self.default_operation not in (Operation.SALE.value, Operation.AUTHORIZATION.value):
            raise MerchantSettingsError("default_operation is SAL or RES")
        for name, most in _DURATIONS.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= most:
                raise MerchantSettingsError(f"{name} must be a number of seconds from 0 to {most:g}")
            object.__setattr__(self, name, float(value))
        if self.feedback_timeout <= 0:
            raise MerchantSettingsError("feedback_timeout must be more than 0 seconds")
        for name, most in _COUNTS.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= most:
                raise MerchantSettingsError(f"{name} must be an integer from 0 to {most}")
        if self.hosted_page_attempts < 1:
            raise MerchantSettingsError("hosted_page_attempts must be at least 1")
        if not isinstance(self.alias_checkbox, bool):
            raise MerchantSettingsError("alias_checkbox is true or false")

    @property
    def directlink_passphrase(self) -> str:
        return self.directlink_sha_in or self.sha_in

    def account(self, environment: str, charset: str = "utf-8") -> Account:
        """The client-side ``Account`` for this merchant on a running sandbox (``server.test_base_url``)."""
        return Account(pspid=self.pspid, sha_in=self.sha_in, sha_out=self.sha_out, api_user_id=self.api_user,
                       api_password=self.api_password, algorithm=self.algorithm, environment=environment,
                       charset=charset)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["algorithm"] = self.algorithm.value
        data["feedback_parameters"] = list(self.feedback_parameters)
        return data

    def public_dict(self) -> dict[str, Any]:
        data = self.to_dict()
        for name in _SECRETS:
            data[name] = "set" if data[name] else ""
        return data

    def updated(self, changes: Mapping[str, Any]) -> "Merchant":
        return merchant_from_dict({**self.to_dict(), **changes})


_FIELDS = {f.name for f in dataclasses.fields(Merchant)}


def merchant_from_dict(data: Mapping[str, Any]) -> Merchant:
    if not isinstance(data, Mapping):
        raise MerchantSettingsError("a merchant is a JSON object of settings")
    unknown = sorted(set(data) - _FIELDS)
    if unknown:
        raise MerchantSettingsError(f"unknown merchant setting(s): {', '.join(unknown)}")
    values = dict(data)
    if isinstance(values.get("feedback_parameters"), list):
        values["feedback_parameters"] = tuple(values["feedback_parameters"])
    try:
        return Merchant(**values)
    except TypeError as error:
        raise MerchantSettingsError(str(error)) from None


DEFAULT_MERCHANT = Merchant(
    pspid="SANDBOX",
    api_user="SANDBOXAPI",
    api_password="sandbox-password",
    sha_in="sandbox_sha_in_passphrase_0001",
    sha_out="sandbox_sha_out_passphrase_001",
    algorithm=Algorithm.SHA512,
)


@dataclass(frozen=True)
class SandboxConfig:
    merchants: tuple[Merchant, ...] = ()
    scenarios: tuple[Mapping[str, Any], ...] = ()
    default_merchant: bool = True


def load_config(config: "Mapping[str, Any] | str | Path | None") -> SandboxConfig:
    """``config`` is a dict or the path of a JSON file: ``{"merchants": [...], "scenarios": [...]}``."""
    if config is None:
        return SandboxConfig()
    if isinstance(config, (str, Path)):
        try:
            data = json.loads(Path(config).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:  # unreadable, not UTF-8, not JSON
            raise MerchantSettingsError(f"cannot read the configuration {config}: {error}") from None
    else:
        data = config
    if not isinstance(data, Mapping):
        raise MerchantSettingsError("the configuration is a JSON object")
    unknown = sorted(set(data) - {"merchants", "scenarios", "default_merchant"})
    if unknown:
        raise MerchantSettingsError(f"unknown configuration key(s): {', '.join(unknown)}")
    merchants, scenarios = data.get("merchants", ()), data.get("scenarios", ())
    if not isinstance(merchants, (list, tuple)) or not isinstance(scenarios, (list, tuple)) or not all(
            isinstance(item, Mapping) for item in scenarios):
        raise MerchantSettingsError("merchants and scenarios are lists of JSON objects")
    merchants = tuple(merchant_from_dict(item) for item in merchants)
    scenarios = tuple(scenarios)
    return SandboxConfig(merchants, scenarios, bool(data.get("default_merchant", True)))
