"""Options shared by several subcommands, spelled the same everywhere."""

from __future__ import annotations

import argparse
import os

from tuner.paths import default_storage_url


def add_storage(parser: argparse._ActionsContainer) -> None:
    parser.add_argument(
        "--storage",
        default=None,
        metavar="URL",
        help="study storage URL: sqlite:///FILE, postgresql+psycopg://USER@HOST/DB, or "
        "journal:///FILE (Optuna's journal file, many processes on one machine). "
        "Default: $TUNER_STORAGE, else the SQLite file under storage/.",
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
