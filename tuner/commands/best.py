"""tuner best: print a study's best parameters."""

from __future__ import annotations

import argparse
import json
import sys

from tuner.commands._common import add_storage, add_study_name, resolve_storage

HELP = "print the best parameters of a study"
DESCRIPTION = """\
Print the best trial of a study: model, constructor parameters (iterations at the trial's best
iteration), validation MRR@100 with its standard error, trial number and the counts of
complete / pruned / failed trials. Warns when other trials are within noise of the best.

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
    if summary.get("noise_warning"):
        print(f"warning: {summary['noise_warning']}", file=sys.stderr)
    if args.format == "json":
        print(json.dumps(summary, indent=2))
        return 0
    hidden = {"params", "noise_warning", "val_mrr_se"}
    rows = [(k, v) for k, v in summary.items() if k not in hidden]
    if summary.get("val_mrr_se") is not None and summary.get("val_mrr_at_100") is not None:
        i = next(j for j, (k, _) in enumerate(rows) if k == "val_mrr_at_100")
        rows[i] = (
            "val_mrr_at_100",
            f"{summary['val_mrr_at_100']:.4f} ± {summary['val_mrr_se']:.4f}",
        )
    rows[2:2] = [(f"  {k}", v) for k, v in summary["params"].items()]
    rows.insert(2, ("params", ""))
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        shown = f"{value:.6g}" if isinstance(value, float) else str(value)
        print(f"{key:<{width}}  {shown}".rstrip())
    return 0
