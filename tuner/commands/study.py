"""tuner study: create or resume a study and run W local workers on it."""

from __future__ import annotations

import argparse
import json
import sys

from tuner.commands._common import (
    add_data,
    add_storage,
    add_study_name,
    int_at_least,
    resolve_storage,
)

HELP = "create or resume an Optuna study and run local workers on it"
DESCRIPTION = """\
Create (or resume) a study of one model on a prepared split and run --workers local worker
processes until --n-trials trials have finished (complete, pruned or failed; global across all
workers, including ones joined with 'tuner worker'). Each trial fits on train and reports
validation MRR@100 after every iteration; successive halving prunes the weak ones. The
item-based methods (slim, cosine: item-item neighbours, scored as an item-based recommender)
report once per trial, so nothing is pruned; --patience and --report-users do not apply.

example:
  tuner study --data storage/data/synthetic --model ials --study-name ials-1 \\
      --n-trials 60 --workers 2 --enqueue search_spaces/enqueue/ials-course-best.toml
  tuner study --data storage/data/synthetic --model slim --study-name slim-1 \
      --n-trials 8 --enqueue search_spaces/enqueue/slim-course.toml
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from tuner.objectives import DEFAULT_MIN_GAIN, DEFAULT_PATIENCE, OBJECTIVES
    from tuner.study.factories import DEFAULT_SAMPLER, PRUNERS, SAMPLERS

    add_data(parser)
    parser.add_argument("--model", required=True, choices=sorted(OBJECTIVES), help="model to tune")
    add_study_name(parser)
    add_storage(parser)
    parser.add_argument(
        "--space",
        metavar="FILE",
        default=None,
        help="search space TOML (default: search_spaces/MODEL.toml, the course's space; "
        "search_spaces/MODEL-wide.toml for real tuning)",
    )
    parser.add_argument(
        "--n-trials",
        type=int_at_least(1),
        default=50,
        metavar="N",
        help="global budget of finished trials (default: 50)",
    )
    parser.add_argument(
        "--workers",
        type=int_at_least(1),
        default=1,
        metavar="W",
        help="local worker processes sharing the cores (default: 1)",
    )
    parser.add_argument(
        "--pruner",
        choices=PRUNERS,
        default="sha",
        help=(
            "sha = successive halving over iterations (default); sha-margin = the same, but a "
            "trial within 1 standard error of a rung's cut goes on; noise = prune only a trial "
            "2 standard errors below the best at the same iteration; hyperband, median, none"
        ),
    )
    parser.add_argument(
        "--min-resource",
        type=int,
        default=1,
        metavar="I",
        help="iterations before the first pruning rung (default: 1)",
    )
    parser.add_argument(
        "--reduction-factor",
        type=int,
        default=3,
        metavar="R",
        help="keep the top 1/R at each rung (default: 3)",
    )
    parser.add_argument(
        "--sampler",
        choices=SAMPLERS,
        default=DEFAULT_SAMPLER,
        help=f"how trials are proposed (default: {DEFAULT_SAMPLER}); gp needs PyTorch, "
        "cmaes the cmaes package",
    )
    parser.add_argument(
        "--patience",
        type=int,
        default=DEFAULT_PATIENCE,
        metavar="P",
        help="stop a trial's fit after P iterations without a new best validation MRR@100 "
        f"(default: {DEFAULT_PATIENCE}; 0 = run every iteration)",
    )
    parser.add_argument(
        "--min-gain",
        type=float,
        default=DEFAULT_MIN_GAIN,
        metavar="G",
        help="an iteration counts as a new best for --patience only when it improves the best "
        f"by at least G times it (0.01 = 1%%; default: {DEFAULT_MIN_GAIN:g}, any gain)",
    )
    parser.add_argument("--seed", type=int, default=0, help="sampler seed; worker i uses seed + i")
    parser.add_argument(
        "--enqueue",
        metavar="FILE",
        default=None,
        help="JSON list or TOML [[trials]] of parameter sets to try first",
    )
    parser.add_argument(
        "--cores",
        type=int,
        default=None,
        metavar="C",
        help="cores to share between the workers (default: all)",
    )
    parser.add_argument(
        "--heartbeat",
        type=int,
        default=60,
        metavar="S",
        help="heartbeat seconds on SQLite/PostgreSQL; a trial silent for 2*S is "
        "failed and retried (default: 60; 0 = off)",
    )
    parser.add_argument(
        "--report-users",
        type=int,
        default=5000,
        metavar="U",
        help="validation users scored for the per-iteration reports "
        "(seeded subsample; the final value uses all; default: 5000)",
    )
    parser.add_argument(
        "--timeout-minutes",
        type=float,
        default=None,
        metavar="M",
        help="start no new trial after M minutes (running ones finish); the study can be "
        "resumed later with the same command",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from tuner.study import best_summary, describe, run_study, trial_counts

    storage = resolve_storage(args)
    study = run_study(
        data_dir=args.data,
        model=args.model,
        storage=storage,
        study_name=args.study_name,
        n_trials=args.n_trials,
        workers=args.workers,
        space_path=args.space,
        pruner=args.pruner,
        seed=args.seed,
        enqueue=args.enqueue,
        min_resource=args.min_resource,
        reduction_factor=args.reduction_factor,
        cores=args.cores,
        heartbeat=args.heartbeat or None,
        report_users=args.report_users,
        sampler=args.sampler,
        patience=args.patience or None,
        min_gain=args.min_gain,
        show_progress=not args.no_progress,
        timeout=args.timeout_minutes * 60.0 if args.timeout_minutes is not None else None,
    )
    counts = trial_counts(study)
    print(
        f"study {study.study_name!r} in {describe(storage)}: {counts.complete} complete, "
        f"{counts.pruned} pruned, {counts.failed} failed",
        file=sys.stderr,
    )
    if counts.complete:
        summary = best_summary(storage, study.study_name)
        print(json.dumps({k: summary[k] for k in ("trial_number", "val_mrr_at_100", "params")}))
        print(
            f"next: tuner export --study-name {study.study_name} --out DIR "
            f"(or tuner dashboard to browse)",
            file=sys.stderr,
        )
    return 0
