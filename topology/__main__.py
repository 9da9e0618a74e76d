"""``python -m topology`` (``make stack``): the production topology on this machine until Ctrl-C."""
from __future__ import annotations

import argparse
import signal
import time
from decimal import Decimal

from .stack import Stack, drop_templates


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m topology", description=__doc__.splitlines()[0])
    parser.add_argument("--web", type=int, default=2, help="gunicorn worker processes (default 2)")
    parser.add_argument("--workers", type=int, default=2, help="trytond-worker processes (default 2)")
    parser.add_argument("--no-cron", action="store_true", help="do not start trytond-cron")
    parser.add_argument("--database", help="database name (default: a fresh one; dropped on exit)")
    parser.add_argument("--log-dir", help="keep each process's log in this directory")
    parser.add_argument("--no-template", action="store_true",
                        help="run trytond-admin on the database instead of copying the cached template")
    parser.add_argument("--drop-templates", action="store_true",
                        help="drop the cached template databases and exit")
    args = parser.parse_args(argv)
    if args.drop_templates:
        for name in drop_templates():
            print(f"dropped {name}")
        return 0

    def interrupt(signum, frame):
        raise KeyboardInterrupt
    # SIGTERM stops the stack as Ctrl-C does (both end in the with block's stop)
    signal.signal(signal.SIGTERM, interrupt)
    print("Starting the stack:", flush=True)
    with Stack(web_processes=args.web, workers=args.workers, cron=not args.no_cron, database=args.database,
               log_dir=args.log_dir, use_template=not args.no_template, verbose=True) as stack:
        from proteus import Model
        payment = Model.get("account.payment")(journal=stack.journal_id, kind="receivable", party=stack.party_id,
                                               amount=Decimal("49.90"))
        payment.click("submit")
        link = payment.click("ogone_checkout")
        print(f"\nStarted in {stack.timings['total']:.1f} s; database {stack.database} on PostgreSQL, "
              f"config {stack.config_path}")
        for process in stack.processes():
            where = {"web": f"{stack.tryton_url} (gunicorn, {args.web} processes)",
                     "sandbox": f"{stack.sandbox_url} (ogone-sandbox; back office {stack.sandbox_url}admin/)",
                     "cron": "trytond-cron"}.get(process.name, "trytond-worker")
            print(f"  {process.name:<9} pid {process.pid:<7} {where}; log {process.log}")
        print(f"  Tryton client: {stack.rpc_url} (admin / admin)")
        print(f"  Ogone return URL: {stack.return_url}")
        print(f"\nPay 49.90 EUR in a browser (card 4111111111111111): {link}\nCtrl-C to stop.", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            print("\nStopping ...", flush=True)
    print(f"Stopped in {stack.timings['stop']:.1f} s: every process ended, database dropped.", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
