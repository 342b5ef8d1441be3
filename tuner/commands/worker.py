"""tuner worker: join an existing study from another shell or machine."""

from __future__ import annotations

import argparse
import sys

from tuner.commands._common import (
    add_data,
    add_storage,
    add_study_name,
    int_at_least,
    resolve_storage,
)

HELP = "join an existing study and run trials until its global budget is spent"
DESCRIPTION = """\
Join a study created by 'tuner study' and run trials until the study holds its budget of
finished trials. The worker loads the prepared split once, checks that its fingerprint (and
--space, if given) match the study's, and refuses otherwise.

example (second machine, same PostgreSQL study):
  tuner worker --storage postgresql+psycopg://tuner@db-host/tuner --study-name ials-1 \\
      --data /data/synthetic
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_study_name(parser)
    add_storage(parser)
    add_data(parser, required=False)
    parser.add_argument(
        "--n-trials",
        type=int_at_least(1),
        default=None,
        metavar="N",
        help="global budget (default: the study's)",
    )
    parser.add_argument(
        "--space",
        metavar="FILE",
        default=None,
        help="refuse to run unless the study searches exactly this space",
    )
    parser.add_argument(
        "--seed",
        type=int_at_least(0),
        default=None,
        help="sampler seed (default: study seed + trials so far)",
    )
    parser.add_argument(
        "--threads",
        type=int_at_least(0),
        default=0,
        metavar="T",
        help="numba threads for this worker (default: all)",
    )
    parser.add_argument(
        "--heartbeat",
        type=int_at_least(0),
        default=60,
        metavar="S",
        help="heartbeat seconds on SQLite/PostgreSQL (default: 60; 0 = off)",
    )
    parser.add_argument(
        "--timeout-minutes",
        type=float,
        default=None,
        metavar="M",
        help="start no new trial after M minutes (the running one finishes)",
    )
    parser.add_argument("--quiet", action="store_true", help="log warnings only")


def run(args: argparse.Namespace) -> int:
    import optuna

    from tuner.study import describe, run_worker

    optuna.logging.set_verbosity(optuna.logging.WARNING if args.quiet else optuna.logging.INFO)
    storage = resolve_storage(args)
    result = run_worker(
        storage=storage,
        study_name=args.study_name,
        data_dir=args.data,
        n_trials=args.n_trials,
        seed=args.seed,
        num_threads=args.threads,
        heartbeat=args.heartbeat or None,
        space_path=args.space,
        timeout=args.timeout_minutes * 60.0 if args.timeout_minutes is not None else None,
    )
    c = result.counts
    stopped = f", {c.interrupted} interrupted (not counted in the budget)" if c.interrupted else ""
    print(
        f"worker done: ran {result.trials_run} trial(s); study {args.study_name!r} in "
        f"{describe(storage)} holds {c.complete} complete, {c.pruned} pruned, "
        f"{c.failed} failed{stopped}",
        file=sys.stderr,
    )
    return 0
