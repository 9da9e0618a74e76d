"""The ``ogone-sandbox`` command, importable without the sandbox's extra dependencies.

``ogone_core.sandbox`` needs werkzeug, which the core does not; without it, the command says in one line
which extra to install instead of showing a traceback.
"""
from __future__ import annotations

import sys
from typing import Optional, Sequence

MISSING_EXTRA = ("ogone-sandbox: the sandbox needs the 'sandbox' extra (werkzeug): "
                 "pip install 'ogone-payments[sandbox]'")


def main(argv: Optional[Sequence[str]] = None) -> int:
    try:
        import werkzeug  # noqa: F401
    except ImportError:
        print(MISSING_EXTRA, file=sys.stderr)
        return 2
    from .sandbox.cli import main as sandbox_main
    return sandbox_main(argv)


if __name__ == "__main__":
    sys.exit(main())
