"""Account: frozen configuration with masked secrets and one endpoint table per environment."""
import dataclasses

import pytest

from ogone_core.account import Account, Page
from ogone_core.errors import ConfigurationError
from ogone_core.signing import Algorithm

SHA_IN = "In-Passphrase-4711!"
SHA_OUT = "Out-Passphrase-0815?"
API_PASSWORD = "Api-Pa55word-secret"


def make(**overrides):
    settings = dict(pspid="MyPSPID", sha_in=SHA_IN, sha_out=SHA_OUT, api_user_id="apiuser",
                    api_password=API_PASSWORD)
    settings.update(overrides)
    return Account(**settings)


def test_account_is_frozen():
    account = make()
    with pytest.raises(dataclasses.FrozenInstanceError):
        account.sha_in = "other"
    with pytest.raises(dataclasses.FrozenInstanceError):
        account.environment = "prod"


def test_repr_and_str_mask_secrets():
    account = make()
    for text in (repr(account), str(account), f"{account}"):
        assert SHA_IN not in text
        assert SHA_OUT not in text
        assert API_PASSWORD not in text
        assert "MyPSPID" in text
        assert "apiuser" in text
    assert "api_password=set" in repr(account)
    assert "sha_in=set" in repr(account)
    assert "api_password=not set" in repr(make(api_password=""))


def test_defaults():
    account = make()
    assert account.algorithm is Algorithm.SHA512
    assert account.environment == "test"
    assert account.charset == "utf-8"
    assert account.encoding == "utf-8"
    assert not account.is_production


@pytest.mark.parametrize("algorithm, expected", [("sha1", Algorithm.SHA1), ("SHA-256", Algorithm.SHA256),
                                                 (Algorithm.SHA512, Algorithm.SHA512)])
def test_algorithm_is_parsed(algorithm, expected):
    assert make(algorithm=algorithm).algorithm is expected


@pytest.mark.parametrize("page, url", [
    (Page.HOSTED_PAYMENT, "https://ogone.test.v-psp.com/ncol/test/orderstandard_utf8.asp"),
    (Page.ORDER_DIRECT, "https://ogone.test.v-psp.com/ncol/test/orderdirect_utf8.asp"),
    (Page.MAINTENANCE_DIRECT, "https://ogone.test.v-psp.com/ncol/test/maintenancedirect_utf8.asp"),
    (Page.QUERY_DIRECT, "https://ogone.test.v-psp.com/ncol/test/querydirect_utf8.asp"),
    (Page.ALIAS_GATEWAY, "https://ogone.test.v-psp.com/ncol/test/alias_gateway_utf8.asp"),
])
def test_test_environment_urls(page, url):
    assert make().url(page) == url


@pytest.mark.parametrize("page, url", [
    (Page.HOSTED_PAYMENT, "https://secure.ogone.com/ncol/prod/orderstandard_utf8.asp"),
    (Page.ORDER_DIRECT, "https://secure.ogone.com/ncol/prod/orderdirect_utf8.asp"),
    (Page.MAINTENANCE_DIRECT, "https://secure.ogone.com/ncol/prod/maintenancedirect_utf8.asp"),
    (Page.QUERY_DIRECT, "https://secure.ogone.com/ncol/prod/querydirect_utf8.asp"),
    (Page.ALIAS_GATEWAY, "https://secure.ogone.com/ncol/prod/alias_gateway_utf8.asp"),
])
def test_prod_environment_urls(page, url):
    account = make(environment="prod")
    assert account.url(page) == url
    assert account.is_production


def test_page_given_as_text():
    assert make().url("querydirect") == "https://ogone.test.v-psp.com/ncol/test/querydirect_utf8.asp"


def test_iso_8859_1_uses_the_plain_pages():
    account = make(environment="prod", charset="iso-8859-1")
    assert account.encoding == "iso-8859-1"
    assert account.url(Page.HOSTED_PAYMENT) == "https://secure.ogone.com/ncol/prod/orderstandard.asp"
    assert account.url(Page.ORDER_DIRECT) == "https://secure.ogone.com/ncol/prod/orderdirect.asp"
    assert make(charset="iso-8859-1").url(Page.QUERY_DIRECT) == (
        "https://ogone.test.v-psp.com/ncol/test/querydirect.asp")


@pytest.mark.parametrize("environment, base", [
    ("http://127.0.0.1:8080", "http://127.0.0.1:8080/ncol/test/"),
    ("http://127.0.0.1:8080/", "http://127.0.0.1:8080/ncol/test/"),
    ("http://127.0.0.1:8080/ncol/test/", "http://127.0.0.1:8080/ncol/test/"),
    ("http://127.0.0.1:8080/ncol/test", "http://127.0.0.1:8080/ncol/test/"),
    ("https://mdepayments.epdq.co.uk/ncol/test/", "https://mdepayments.epdq.co.uk/ncol/test/"),
    (" https://payments.epdq.co.uk/ncol/prod/ ", "https://payments.epdq.co.uk/ncol/prod/"),
])
def test_custom_base_url(environment, base):
    account = make(environment=environment)
    assert account.base_url == base
    assert account.url(Page.ORDER_DIRECT) == base + "orderdirect_utf8.asp"


def test_custom_production_base_url_is_production():
    assert make(environment="https://payments.epdq.co.uk/ncol/prod/").is_production
    assert not make(environment="http://127.0.0.1:8080").is_production


@pytest.mark.parametrize("field, value", [
    ("pspid", ""), ("pspid", "   "), ("pspid", None), ("pspid", "P" * 31),
    ("sha_in", ""), ("sha_out", ""), ("sha_in", None), ("sha_out", None),
])
def test_missing_or_bad_credentials_are_refused(field, value):
    with pytest.raises(ConfigurationError):
        make(**{field: value})


@pytest.mark.parametrize("environment", ["staging", "TEST", "ftp://example.com/ncol/test/", "http://",
                                         "https://example.com/ncol/test/?x=1", "https://example.com/#frag", ""])
def test_bad_environment_is_refused(environment):
    with pytest.raises(ConfigurationError, match="environment|base URL"):
        make(environment=environment)


@pytest.mark.parametrize("algorithm", ["md5", "sha384", ""])
def test_bad_algorithm_is_refused(algorithm):
    with pytest.raises(ConfigurationError, match="hash algorithm"):
        make(algorithm=algorithm)


def test_bad_charset_is_refused():
    with pytest.raises(ConfigurationError, match="charset"):
        make(charset="utf8")


def test_configuration_errors_do_not_reveal_secrets():
    with pytest.raises(ConfigurationError) as caught:
        make(sha_out="", environment="nowhere")
    assert SHA_IN not in str(caught.value)
    assert API_PASSWORD not in str(caught.value)


def test_api_credentials_are_required_for_directlink():
    make().require_api_credentials()  # complete: nothing raised
    with pytest.raises(ConfigurationError, match="API user"):
        make(api_user_id="").require_api_credentials()
    with pytest.raises(ConfigurationError, match="API user"):
        make(api_password="").require_api_credentials()
