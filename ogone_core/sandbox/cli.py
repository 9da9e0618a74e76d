"""``ogone-sandbox``: run the local Ogone test platform.

The first line of output is the URL, so scripts can start it with ``--port 0`` and read where it listens.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Optional, Sequence

from .merchants import MerchantSettingsError
from .server import bind, is_loopback


def default_state_path() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "ogone-sandbox" / "state.sqlite3"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ogone-sandbox", description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8642, help="port; 0 picks a free one (default 8642)")
    p.add_argument("--state", type=Path, default=None,
                   help=f"SQLite file that keeps the state across restarts (default {default_state_path()})")
    p.add_argument("--memory", action="store_true", help="keep the state in memory only")
    p.add_argument("--config", type=Path, default=None, help="JSON file with merchants and scenarios")
    p.add_argument("--allow-remote", action="store_true",
                   help="allow listening on a non-loopback address (the sandbox is never a payment server)")
    p.add_argument("--allowed-host", action="append", default=[], metavar="NAME",
                   help="a host name (besides IP addresses and localhost) under which the home page, back office "
                        "and admin API answer; repeatable")
    p.add_argument("--quiet", action="store_true", help="print only the URL")
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parser().parse_args(argv)
    if not is_loopback(args.host) and not args.allow_remote:
        print(f"ogone-sandbox: refusing to listen on {args.host}: the sandbox is a test platform; "
              "use --allow-remote if other machines of your test network must reach it", file=sys.stderr)
        return 2
    state = None if args.memory else (args.state or default_state_path())
    try:
        server = bind(args.host, args.port, allow_remote=args.allow_remote, state_path=state, config=args.config,
                      allowed_hosts=args.allowed_host)
    except (MerchantSettingsError, ValueError, OSError) as error:
        print(f"ogone-sandbox: {error}", file=sys.stderr)
        return 2
    print(server.url, flush=True)
    if not args.quiet:
        logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
        print(f"DirectLink / e-Commerce base URL: {server.test_base_url}", flush=True)
        print(f"State: {state or 'in memory'}", flush=True)
        print("Default merchant: PSPID SANDBOX, API user SANDBOXAPI (see the home page)", flush=True)

    def stop(signum, frame):  # serve_forever returns once shutdown is asked from another thread
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server._server.server_close()
        server.app.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
