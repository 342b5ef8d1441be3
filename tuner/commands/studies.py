"""tuner studies: every study in a storage with its model, trial counts, best value and data."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tuner.commands._common import add_storage, resolve_storage

HELP = "list the studies in a storage (model, trials by state, best value, data, last activity)"
DESCRIPTION = """\
List every study in the storage: its model, trials by state (complete, pruned, failed,
running), the best validation MRR@100 with its standard error, the fingerprint of the data it
was tuned on and when a trial last started or finished (UTC).

examples:
  tuner studies
  tuner studies --storage postgresql+psycopg://tuner@db.example.org/tuner --json
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_storage(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def missing_file(url: str) -> Path | None:
    """The file behind a SQLite or journal URL when it does not exist (opening would create
    an empty one), else None."""
    for scheme in ("sqlite:///", "journal://"):
        if url.startswith(scheme):
            name = url[len(scheme) :]
            if name and name != ":memory:" and not Path(name).expanduser().exists():
                return Path(name)
    return None


def list_studies(url: str) -> list[dict[str, Any]]:
    """One dict per study of the storage ``url``, by name.

    Raises:
        StorageError: the storage cannot be opened.
    """
    import optuna

    from tuner.objectives import ATTR_VAL_SE
    from tuner.study import ATTR_FINGERPRINT, ATTR_MODEL, open_storage, trial_counts

    storage = open_storage(url, heartbeat=None)
    rows = []
    for name in sorted(optuna.get_all_study_names(storage)):
        study = optuna.load_study(study_name=name, storage=storage)
        counts = trial_counts(study)
        try:
            best = study.best_trial
        except (ValueError, RuntimeError):
            # No complete trial yet, or a multi-objective study (no single best).
            best = None
        trials = study.get_trials(deepcopy=False)
        times = [t for tr in trials for t in (tr.datetime_start, tr.datetime_complete) if t]
        se = best.user_attrs.get(ATTR_VAL_SE) if best is not None else None
        rows.append(
            {
                "study_name": name,
                "model": study.user_attrs.get(ATTR_MODEL),
                "complete": counts.complete,
                "pruned": counts.pruned,
                "failed": counts.failed,
                "running": counts.running,
                "waiting": counts.waiting,
                "best_value": best.value if best is not None else None,
                "best_value_se": se,
                "best_trial": best.number if best is not None else None,
                "data_fingerprint": study.user_attrs.get(ATTR_FINGERPRINT),
                "last_activity": max(times).isoformat(sep=" ", timespec="seconds")
                if times
                else None,
            }
        )
    return rows


def _best(row: dict[str, Any]) -> str:
    if row["best_value"] is None:
        return "-"
    se = row["best_value_se"]
    return f"{row['best_value']:.4f}" + (f" +- {se:.4f}" if se is not None else "")


def run(args: argparse.Namespace) -> int:
    from tuner.study import describe

    url = resolve_storage(args)
    missing = missing_file(url)
    if missing is not None:
        print(
            f"no studies in {describe(url)} (the file {missing} does not exist)", file=sys.stderr
        )
        return 0
    rows = list_studies(url)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print(f"no studies in {describe(url)}", file=sys.stderr)
        return 0
    header = (
        "study",
        "model",
        "complete",
        "pruned",
        "failed",
        "running",
        "best val MRR@100",
        "data",
        "last activity",
    )
    table = [
        (
            r["study_name"],
            str(r["model"] or "-"),
            str(r["complete"]),
            str(r["pruned"]),
            str(r["failed"]),
            str(r["running"]),
            _best(r),
            (r["data_fingerprint"] or "-")[:12],
            r["last_activity"] or "-",
        )
        for r in rows
    ]
    widths = [max(len(h), *(len(t[c]) for t in table)) for c, h in enumerate(header)]
    numeric = {2, 3, 4, 5, 6}
    for line in (header, *table):
        cells = [
            v.rjust(w) if c in numeric else v.ljust(w)
            for c, (v, w) in enumerate(zip(line, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())
    print(f"{len(rows)} studies in {describe(url)}", file=sys.stderr)
    return 0
