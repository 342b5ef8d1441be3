"""tuner dashboard: optuna-dashboard on the study storage."""

from __future__ import annotations

import argparse
import sys

from tuner.commands._common import add_storage, int_at_least, resolve_storage

HELP = "browse the studies in optuna-dashboard"
DESCRIPTION = """\
Serve optuna-dashboard on the study storage (SQLite, PostgreSQL or journal file) until Ctrl-C.
Live: it shows trials as workers finish them.

example:
  tuner dashboard --port 8080      # then open http://127.0.0.1:8080/
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_storage(parser)
    parser.add_argument(
        "--port", type=int_at_least(1, 65535), default=8080, help="port (default: 8080)"
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="interface (default: 127.0.0.1; 0.0.0.0 to share on the network)",
    )


def run(args: argparse.Namespace) -> int:
    from optuna_dashboard import run_server

    from tuner.study.storage import describe, open_storage

    storage = resolve_storage(args)
    store = open_storage(storage, heartbeat=None)
    print(
        f"optuna-dashboard on {describe(storage)}: http://{args.host}:{args.port}/ (Ctrl-C stops)",
        file=sys.stderr,
        flush=True,
    )
    run_server(store, host=args.host, port=args.port)
    return 0
