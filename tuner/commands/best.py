"""tuner best: print a study's best parameters."""

from __future__ import annotations

import argparse
import json

from tuner.commands._common import add_storage, add_study_name, resolve_storage

HELP = "print the best parameters of a study"
DESCRIPTION = """\
Print the best trial of a study: model, constructor parameters, validation MRR@100, trial
number and the counts of complete / pruned / failed trials.

example:
  tuner best --study-name ials-1 --format table
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_study_name(parser)
    add_storage(parser)
    parser.add_argument(
        "--format",
        choices=["json", "table"],
        default="json",
        help="json (default) or a readable table",
    )


def run(args: argparse.Namespace) -> int:
    from tuner.study import best_summary

    summary = best_summary(resolve_storage(args), args.study_name)
    if args.format == "json":
        print(json.dumps(summary, indent=2))
        return 0
    rows = [(k, v) for k, v in summary.items() if k != "params"]
    rows[2:2] = [(f"  {k}", v) for k, v in summary["params"].items()]
    rows.insert(2, ("params", ""))
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        shown = f"{value:.6g}" if isinstance(value, float) else str(value)
        print(f"{key:<{width}}  {shown}".rstrip())
    return 0
