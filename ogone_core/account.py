"""A merchant account on the platform and where its pages live."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from urllib.parse import urlsplit

from .errors import ConfigurationError
from .signing import Algorithm

BASE_URLS = {
    "test": "https://ogone.test.v-psp.com/ncol/test/",
    "prod": "https://secure.ogone.com/ncol/prod/",
}
CHARSETS = ("utf-8", "iso-8859-1")


class Page(str, Enum):
    HOSTED_PAYMENT = "orderstandard"
    ORDER_DIRECT = "orderdirect"
    MAINTENANCE_DIRECT = "maintenancedirect"
    QUERY_DIRECT = "querydirect"
    ALIAS_GATEWAY = "alias_gateway"


def _mask(secret: str) -> str:
    return "set" if secret else "not set"


@dataclass(frozen=True)
class Account:
    """Credentials and settings of one PSPID.

    ``environment`` is ``"test"``, ``"prod"`` or a base URL: the folder that holds the ``*.asp`` pages of a
    white-label platform or of the local sandbox (``http://127.0.0.1:8080/ncol/test/``; a bare host gets
    ``/ncol/test/``). ``charset`` picks the ``_utf8`` pages (default) or the ISO-8859-1 ones; the signature
    is computed in the same charset.
    """

    pspid: str
    sha_in: str = field(repr=False)
    sha_out: str = field(repr=False)
    api_user_id: str = ""
    api_password: str = field(default="", repr=False)
    algorithm: Algorithm = Algorithm.SHA512
    environment: str = "test"
    charset: str = "utf-8"

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "algorithm", Algorithm.parse(self.algorithm))
        except ValueError as error:
            raise ConfigurationError(str(error)) from None
        if not self.pspid or not self.pspid.strip():
            raise ConfigurationError("the PSPID is required")
        if len(self.pspid) > 30:
            raise ConfigurationError("the PSPID is at most 30 characters")
        if not self.sha_in or not self.sha_out:
            raise ConfigurationError("both the SHA-IN and the SHA-OUT passphrases are required")
        if self.charset not in CHARSETS:
            raise ConfigurationError(f"charset must be one of {', '.join(CHARSETS)}")
        object.__setattr__(self, "environment", self.environment.strip())
        self.base_url  # validates the environment

    def __repr__(self) -> str:
        return (f"Account(pspid={self.pspid!r}, api_user_id={self.api_user_id!r}, "
                f"api_password={_mask(self.api_password)}, sha_in={_mask(self.sha_in)}, "
                f"sha_out={_mask(self.sha_out)}, algorithm={self.algorithm.value!r}, "
                f"environment={self.environment!r}, charset={self.charset!r})")

    @property
    def base_url(self) -> str:
        if self.environment in BASE_URLS:
            return BASE_URLS[self.environment]
        parts = urlsplit(self.environment)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigurationError(
                f"environment must be 'test', 'prod' or an http(s) base URL, not {self.environment!r}")
        if parts.query or parts.fragment:
            raise ConfigurationError("the base URL must not carry a query or a fragment")
        path = parts.path if parts.path not in ("", "/") else "/ncol/test/"
        if not path.endswith("/"):
            path += "/"
        return f"{parts.scheme}://{parts.netloc}{path}"

    @property
    def is_production(self) -> bool:
        return self.environment == "prod" or "/ncol/prod/" in self.base_url

    @property
    def encoding(self) -> str:
        return self.charset

    def url(self, page: Page) -> str:
        suffix = "_utf8" if self.charset == "utf-8" else ""
        return f"{self.base_url}{Page(page).value}{suffix}.asp"

    def require_api_credentials(self) -> None:
        if not self.api_user_id or not self.api_password:
            raise ConfigurationError(
                "DirectLink needs an API user and its password (Configuration > Users > API user)")
