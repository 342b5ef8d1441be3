"""tuner delete-study: remove a study and all its trials from a storage."""

from __future__ import annotations

import argparse
import sys

from tuner.commands._common import add_storage, add_study_name, resolve_storage

HELP = "delete a study and all its trials (needs --yes)"
DESCRIPTION = """\
Delete the study and every trial of it from the storage. This cannot be undone, so the
command refuses without --yes. List the studies with 'tuner studies'.

example:
  tuner delete-study --study-name ials-old --yes
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_study_name(parser)
    add_storage(parser)
    parser.add_argument(
        "--yes", action="store_true", help="confirm the deletion (it cannot be undone)"
    )


def run(args: argparse.Namespace) -> int:
    import optuna

    from tuner.commands.studies import missing_file
    from tuner.errors import ConfigError, StorageError
    from tuner.study import describe, load_study, open_storage

    url = resolve_storage(args)
    where = describe(url)
    missing = missing_file(url)
    if missing is not None:
        raise StorageError(
            f"No study {args.study_name!r} in storage {where!r}: the file {missing} does not "
            "exist. Fix: pass the --storage of the study ('tuner studies --storage URL' lists "
            "them)."
        )
    n_trials = len(load_study(url, args.study_name).get_trials(deepcopy=False))
    if not args.yes:
        raise ConfigError(
            f"Deleting study {args.study_name!r} ({n_trials} trials) from {where!r} cannot be "
            "undone; add --yes to confirm."
        )
    optuna.delete_study(study_name=args.study_name, storage=open_storage(url, heartbeat=None))
    print(f"deleted study {args.study_name!r} ({n_trials} trials) from {where}", file=sys.stderr)
    return 0
