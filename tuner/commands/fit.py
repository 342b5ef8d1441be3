"""tuner fit: refit a tuned configuration on train + validation and write a model directory."""

from __future__ import annotations

import argparse
import sys

from tuner.commands._common import add_data, add_storage, resolve_storage

HELP = "refit the best configuration on train + validation and write a model directory"
DESCRIPTION = """\
Refit the best trial of a study (or the model and params of a best_params.json written by
'tuner export') on train + validation, with the study's seed, and write into MODEL: the user
and item factors (.npy), the likes they were fitted on, the raw user / item ids and item names,
and model.json (parameters, data fingerprint, validation and test MRR@100 with their standard
errors, tuner's version). The refit is the one 'tuner export' makes: the same factors.

Use the model with 'tuner recommend', 'tuner similar', or tuner.load_model(MODEL) in Python.
Models are factor models (als, ials); a study of an item-based method (slim, cosine) has no
factors to save: give its best_params.json to 'tuner similarities'.

examples:
  tuner fit --data storage/data/zen --study-name ials-1 --out storage/models/ials
  tuner fit --data storage/data/zen --params storage/runs/ials-1/best_params.json --out m
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_data(parser)
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--study-name", metavar="NAME", help="refit the best trial of this Optuna study"
    )
    which.add_argument(
        "--params", metavar="FILE", help="refit the model and params of this best_params.json"
    )
    add_storage(parser)
    parser.add_argument("--out", required=True, metavar="MODEL", help="model directory to write")
    parser.add_argument(
        "--threads", type=int, default=0, metavar="T", help="numba threads (default: all)"
    )


def run(args: argparse.Namespace) -> int:
    from tuner.model import fit_model

    meta = fit_model(
        data_dir=args.data,
        out=args.out,
        study_name=args.study_name,
        storage=resolve_storage(args) if args.study_name else None,
        params_path=args.params,
        num_threads=args.threads,
        log=lambda line: print(line, file=sys.stderr),
    )
    test = meta["test_mrr_at_100"]
    se = meta["test_mrr_se"]
    shown = f"{test:.4f}" + (f" +- {se:.4f}" if se is not None else "")
    print(
        f"wrote {args.out}: {meta['model']} with {meta['factors']} factors, "
        f"{meta['n_users']:,} users x {meta['n_items']:,} items; test MRR@100 {shown}",
        file=sys.stderr,
    )
    return 0
