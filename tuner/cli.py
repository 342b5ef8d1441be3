"""The ``tuner`` console script: one subcommand per module in :mod:`tuner.commands`.

Every :class:`~tuner.errors.TunerError` becomes one line on stderr and exit status 2; ``--debug``
shows the traceback instead (Optuna's CLI does the same with its usage errors).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings
from collections.abc import Sequence
from typing import TextIO

from tuner import __version__
from tuner.errors import TunerError

# name -> module; each module defines HELP, DESCRIPTION, add_arguments(parser) and run(args).
COMMANDS: dict[str, str] = {
    "prepare": "tuner.commands.prepare",
    "study": "tuner.commands.study",
    "worker": "tuner.commands.worker",
    "dashboard": "tuner.commands.dashboard",
    "best": "tuner.commands.best",
    "export": "tuner.commands.export",
    "similarities": "tuner.commands.similarities",
    "run": "tuner.commands.run",
    "fit": "tuner.commands.fit",
    "recommend": "tuner.commands.recommend",
    "similar": "tuner.commands.similar",
    "studies": "tuner.commands.studies",
    "delete-study": "tuner.commands.delete_study",
}


class _ArgumentParser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exit status 2, like every other error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(
        prog="tuner",
        description="Hyperparameter search for ALS / iALS recommenders on implicit feedback.",
        epilog="Run 'tuner COMMAND --help' for the options and an example of each command.",
    )
    parser.add_argument("--version", action="version", version=f"tuner {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show full tracebacks instead of one-line errors"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_ArgumentParser)
    for name, module_name in COMMANDS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        p = sub.add_parser(
            name,
            help=module.HELP,
            description=module.DESCRIPTION,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.add_argument(
            "--debug",
            action="store_true",
            default=argparse.SUPPRESS,
            help="show full tracebacks instead of one-line errors",
        )
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def _warnings_as_one_line(prog: str) -> None:
    """Show tuner's own warnings (e.g. names for unknown item ids) as one plain line each;
    other libraries' warnings keep Python's format."""
    original = getattr(warnings.showwarning, "__wrapped__", warnings.showwarning)

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        if category.__module__.startswith("tuner."):
            print(f"{prog}: warning: {message}", file=file or sys.stderr)
        else:
            original(message, category, filename, lineno, file, line)

    setattr(show, "__wrapped__", original)  # noqa: B010 - so a second call does not stack
    warnings.showwarning = show


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return 2
    if not args.debug:
        _warnings_as_one_line(f"tuner {args.command}")
    try:
        return int(args._run(args) or 0)
    except TunerError as exc:
        if args.debug:
            raise
        print(f"tuner {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if args.debug:
            raise
        print(f"tuner {args.command}: interrupted; finished work is kept.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
