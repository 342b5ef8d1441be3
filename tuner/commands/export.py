"""tuner export: best parameters with a test score, all trials and the figures."""

from __future__ import annotations

import argparse
import sys

from tuner.commands._common import add_data, add_storage, add_study_name, resolve_storage

HELP = "export best params (with test MRR@100 of a refit), trials.csv and figures"
DESCRIPTION = """\
Refit the best parameters on train + validation, score MRR@100 on test, and write into DIR:
best_params.json, trials.csv, figures/ (optimization history, intermediate values,
parallel coordinates, parameter importances; plotly HTML) and model/, the refitted model
(tuner recommend --model DIR/model, tuner.load_model; --no-model skips it). A study of an
item-based method (slim, cosine) has no model/: its test figure is the item-based
recommender of the neighbours refitted on train + validation, and best_params.json is what
'tuner similarities --slim-params' / '--cosine-params' take.

example:
  tuner export --study-name ials-1 --out storage/runs/ials-1
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_study_name(parser)
    add_storage(parser)
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory")
    add_data(parser, required=False)
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        metavar="T",
        help="numba threads for the refit (default: all)",
    )
    parser.add_argument(
        "--no-model",
        action="store_true",
        help="do not write the refitted model as DIR/model",
    )


def run(args: argparse.Namespace) -> int:
    import json

    from tuner.study import export_study

    best = export_study(
        storage=resolve_storage(args),
        study_name=args.study_name,
        out=args.out,
        data_dir=args.data,
        num_threads=args.threads,
        write_model=not args.no_model,
    )
    print(
        json.dumps({k: best[k] for k in ("model", "params", "val_mrr_at_100", "test_mrr_at_100")})
    )
    written = "best_params.json, trials.csv, figures/" + (", model/" if best["model_dir"] else "")
    print(f"wrote {args.out}/{written}", file=sys.stderr)
    return 0
