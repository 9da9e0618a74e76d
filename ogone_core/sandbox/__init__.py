"""A faithful local Ogone server: hosted payment page, DirectLink, Alias Gateway, feedback, faults.

    from ogone_core.sandbox import start_server, DEFAULT_MERCHANT
    with start_server() as sandbox:
        account = Account(DEFAULT_MERCHANT.pspid, ..., environment=sandbox.test_base_url)

See doc/sandbox.md for the test cards, the faults and the admin API.
"""
try:
    import werkzeug  # noqa: F401
except ImportError:  # the core installs without it; only the sandbox needs it
    raise ImportError("the Ogone sandbox needs werkzeug: pip install 'ogone-payments[sandbox]'") from None

from .app import SandboxApp, create_app
from .cards import TEST_CARDS, Behaviour, TestCard
from .clock import ManualClock
from .merchants import DEFAULT_MERCHANT, Merchant
from .server import SandboxServer, start_server

__all__ = ["DEFAULT_MERCHANT", "TEST_CARDS", "Behaviour", "ManualClock", "Merchant", "SandboxApp",
           "SandboxServer", "TestCard", "create_app", "start_server"]
