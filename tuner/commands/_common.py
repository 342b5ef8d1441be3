"""Options shared by several subcommands, spelled the same everywhere."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable

from tuner.paths import default_storage_url


def int_at_least(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse ``type``: an integer >= ``low`` (and <= ``high``). argparse names the flag in
    the error: "argument --n-trials: must be an integer >= 1, got '-5'"."""
    rule = f">= {low}" if high is None else f"in {low}..{high}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"must be an integer {rule}, got {text!r}")
        return value

    parse.__name__ = f"integer {rule}"
    return parse


def add_storage(parser: argparse._ActionsContainer) -> None:
    parser.add_argument(
        "--storage",
        default=None,
        metavar="URL",
        help="study storage URL: sqlite:///FILE, postgresql+psycopg://USER@HOST/DB (postgres:// "
        "and postgresql:// mean the same), or journal:///FILE (Optuna's journal file, many "
        "processes on one machine). Default: $TUNER_STORAGE, else the SQLite file under "
        "storage/. Only 'study' and 'run' create a missing file.",
    )


def resolve_storage(args: argparse.Namespace) -> str:
    """--storage, else $TUNER_STORAGE, else the embedded SQLite default."""
    return args.storage or os.environ.get("TUNER_STORAGE") or default_storage_url()


def add_study_name(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    parser.add_argument(
        "--study-name", required=required, metavar="NAME", help="name of the Optuna study"
    )


def add_data(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    parser.add_argument(
        "--data",
        required=required,
        metavar="DIR",
        help="prepared data directory written by 'tuner prepare' (train/val/test + manifest)",
    )
