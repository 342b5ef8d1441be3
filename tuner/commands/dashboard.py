"""tuner dashboard: optuna-dashboard on the study storage."""

from __future__ import annotations

import argparse
import socket
import sys

from tuner.commands._common import add_storage, int_at_least, resolve_storage
from tuner.errors import ConfigError

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


def check_port(host: str, port: int) -> None:
    """Refuse a port the server could not listen on, before the server prints that it listens.

    Binds the way the server does (``SO_REUSEADDR``, as Python's HTTP servers set it), so a port
    held only by closed connections still passes, and a port another process listens on fails.

    Raises:
        ConfigError: the port is in use or not allowed, or the host does not resolve.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ConfigError(
            f"--host {host!r} does not resolve ({exc.strerror}); pass an address of this "
            "machine, e.g. --host 127.0.0.1 or --host 0.0.0.0."
        ) from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            reason = exc.strerror
        else:
            return
        # a port the system has free right now, as an example that works
        probe.bind((address[0], 0, *address[2:]))
        free = probe.getsockname()[1]
    raise ConfigError(
        f"Cannot listen on {host}:{port}: {reason}. Pick a free port, e.g. --port {free}."
    )


def run(args: argparse.Namespace) -> int:
    from optuna_dashboard import run_server

    from tuner.study import describe, open_storage

    storage = resolve_storage(args)
    store = open_storage(storage, heartbeat=None)
    check_port(args.host, args.port)
    print(
        f"optuna-dashboard on {describe(storage)}: http://{args.host}:{args.port}/ (Ctrl-C stops)",
        file=sys.stderr,
        flush=True,
    )
    run_server(store, host=args.host, port=args.port)
    return 0
