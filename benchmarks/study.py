"""Study figures: successive halving vs no pruning in the same wall-clock budget.

Runs one iALS study per arm (same data, space, seed and TPE sampler; one worker using all the
numba threads) until ``--budget-minutes`` have passed, then reports trials per hour, how many
were pruned, the iterations spent and the best validation MRR@100 reached.

Usage (figures, not a test; other processes on the machine make them noisy):

    OPENBLAS_NUM_THREADS=1 NUMBA_NUM_THREADS=2 .venv/bin/python benchmarks/study.py \\
        --scale 1.0 --budget-minutes 15 --json out/bench-study.json

The synthetic split is prepared once under ``storage/data/bench-synthetic-SCALE`` (or pass
``--data DIR`` for any prepared split). Each arm uses a fresh SQLite file in a temporary
directory; the in-flight trial at the deadline is allowed to finish, so the elapsed time per
arm is measured, not assumed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState

from tuner.paths import tuner_home
from tuner.study import default_space_path, run_study, trial_counts


def prepared(scale: float, seed: int) -> Path:
    from tuner.data import is_prepared_dir, prepare

    out = tuner_home() / "data" / f"bench-synthetic-{scale:g}"
    if not is_prepared_dir(out):
        prepare("synthetic", out, scale=scale, seed=seed)
    return out


def run_arm(
    data: Path,
    pruner: str,
    space: Path,
    minutes: float,
    seed: int,
    report_users: int,
    min_resource: int,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"tuner-bench-study-{pruner}-") as tmp:
        t0 = time.perf_counter()
        study = run_study(
            data_dir=data,
            model="ials",
            storage=f"sqlite:///{tmp}/bench.db",
            study_name=f"bench-{pruner}",
            n_trials=100_000,
            space_path=space,
            pruner=pruner,
            min_resource=min_resource,
            seed=seed,
            timeout=minutes * 60.0,
            report_users=report_users,
            heartbeat=None,
            show_progress=sys.stderr.isatty(),
        )
        elapsed = time.perf_counter() - t0
        counts = trial_counts(study)
        finished = [t for t in study.trials if t.state.is_finished()]
        best = study.best_trial if counts.complete else None
        t_start = min(t.datetime_start for t in finished if t.datetime_start)
        best_after = (
            (best.datetime_complete - t_start).total_seconds()
            if best is not None and best.datetime_complete is not None
            else None
        )
        return {
            "pruner": pruner if pruner == "none" else f"{pruner} (min_resource={min_resource})",
            "elapsed_minutes": round(elapsed / 60.0, 2),
            "trials_finished": counts.finished,
            "complete": counts.complete,
            "pruned": counts.pruned,
            "failed": counts.failed,
            "trials_per_hour": round(counts.finished / (elapsed / 3600.0), 1),
            "complete_per_hour": round(counts.complete / (elapsed / 3600.0), 1),
            "iterations_spent": int(sum(t.user_attrs.get("iterations_run", 0) for t in finished)),
            "best_val_mrr_at_100": float(best.value) if best is not None and best.value else None,
            "best_params": best.params if best is not None else None,
            "best_found_after_minutes": round(best_after / 60.0, 2) if best_after else None,
            "fit_seconds_total": round(
                sum(t.user_attrs.get("fit_seconds", 0.0) for t in finished), 1
            ),
            "eval_seconds_total": round(
                sum(t.user_attrs.get("eval_seconds", 0.0) for t in finished), 1
            ),
            "pruned_at_iteration": sorted(
                t.user_attrs.get("iterations_run", 0)
                for t in finished
                if t.state == TrialState.PRUNED
            ),
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="synthetic scale (1 = Zen size)")
    parser.add_argument("--data", default=None, help="a prepared split instead of the synthetic")
    parser.add_argument("--budget-minutes", type=float, default=15.0, help="per arm")
    parser.add_argument("--space", default=str(default_space_path("ials")))
    parser.add_argument("--pruners", default="sha,none", help="comma-separated arms")
    parser.add_argument("--min-resource", type=int, default=1, help="first rung (iterations)")
    parser.add_argument("--report-users", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="also write the figures here")
    args = parser.parse_args()

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    data = Path(args.data) if args.data else prepared(args.scale, args.seed)
    manifest = json.loads((data / "manifest.json").read_text())
    arms = [
        run_arm(
            data,
            p,
            Path(args.space),
            args.budget_minutes,
            args.seed,
            args.report_users,
            args.min_resource,
        )
        for p in args.pruners.split(",")
    ]
    result = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "data": {k: manifest.get(k) for k in ("source", "n_users", "n_items", "n_train", "n_val")},
        "space": args.space,
        "budget_minutes_per_arm": args.budget_minutes,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "NUMBA_NUM_THREADS": os.environ.get("NUMBA_NUM_THREADS"),
            "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS"),
        },
        "arms": arms,
    }
    print("| pruner | minutes | finished | complete | pruned | trials/h | iterations | best MRR |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for a in arms:
        best = f"{a['best_val_mrr_at_100']:.4f}" if a["best_val_mrr_at_100"] else "-"
        print(
            f"| {a['pruner']} | {a['elapsed_minutes']} | {a['trials_finished']} | {a['complete']}"
            f" | {a['pruned']} | {a['trials_per_hour']} | {a['iterations_spent']} | {best} |"
        )
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
