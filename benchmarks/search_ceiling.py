"""How far the wide iALS space goes with a larger budget: tuner's test MRR@100 after 30, 60, 120
and 240 trials against the plain loop's after its 30 (figures, not a test).

The question it answers: is "1.10x the loop's test MRR@100 at the loop's wall time" (issue 14)
within reach of the space at all? If tuner's test figure after several times the loop's trials
(and wall time) stays below 1.10x, no search strategy reaches that target within the loop's
time on that data.

Same splits, threads, loop and tuner defaults as ``benchmarks/tuning.py`` (split seeds
``--seeds``, BLAS 1 thread, numba and implicit 2). tuner's study is resumed from one budget to
the next (finished trials count), and after each budget its best configuration is exported
(refit on train + validation, scored on test).

    .venv/bin/python benchmarks/search_ceiling.py --json out/ceiling.json
    .venv/bin/python benchmarks/search_ceiling.py --datasets movielens --seeds 1 --budgets 30,60
"""

from __future__ import annotations

import os

if __name__ == "__main__":
    for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
        os.environ[_var] = "1"
    os.environ.setdefault("NUMBA_NUM_THREADS", "2")

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numba

sys.path.insert(0, str(Path(__file__).resolve().parent))

import tuning  # the same loop, splits and warm-up as the tuning benchmark

from tuner.study import export_study, run_study


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--datasets", default="citeulike,movielens,synthetic")
    p.add_argument("--seeds", default="1,2,3")
    p.add_argument("--budgets", default="30,60,120,240", help="tuner's trial budgets")
    p.add_argument("--loop-trials", type=int, default=30)
    p.add_argument("--synthetic-scale", type=float, default=0.1)
    p.add_argument("--data-root", type=Path, default=tuning.DEFAULT_DATA_ROOT)
    p.add_argument("--space", type=Path, default=tuning.REPO / "search_spaces" / "ials-wide.toml")
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    args.datasets = [d for d in args.datasets.split(",") if d]
    bad = [d for d in args.datasets if d not in tuning.DATASETS]
    if bad:
        p.error(f"--datasets: unknown {', '.join(bad)}; use {', '.join(tuning.DATASETS)}")
    args.seeds = [int(s) for s in args.seeds.split(",") if s]
    args.budgets = sorted(int(b) for b in args.budgets.split(",") if b)
    return args


def run(args: argparse.Namespace) -> dict[str, list[dict[str, Any]]]:
    threads = numba.get_num_threads()
    out: dict[str, list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="tuner-ceiling-") as tmp:
        work = Path(tmp)
        tuning.warm_up(work / "warm", "ials", threads, {"space_path": args.space})
        for name in args.datasets:
            ds = tuning.DATASETS[name]
            for seed in args.seeds:
                d = work / f"{name}-{seed}"
                data_dir = d / "data"
                tuning._prepare(
                    ds, args.data_root, data_dir, seed=seed, scale=args.synthetic_scale
                )
                loop = tuning.run_loop(data_dir, args.loop_trials, threads)
                row: dict[str, Any] = {
                    "seed": seed,
                    "loop": {
                        "trials": args.loop_trials,
                        "seconds": loop.seconds,
                        "val": loop.best_val_mrr,
                        "test": loop.test_mrr,
                    },
                    "tuner": [],
                }
                storage = f"sqlite:///{d / 'tuner.db'}"
                spent = 0.0
                for budget in args.budgets:
                    t0 = time.perf_counter()
                    study = run_study(
                        data_dir=data_dir,
                        model="ials",
                        storage=storage,
                        study_name="ceiling",
                        n_trials=budget,
                        space_path=args.space,
                    )
                    spent += time.perf_counter() - t0
                    best = export_study(
                        storage=storage,
                        study_name="ceiling",
                        out=d / f"export-{budget}",
                        data_dir=data_dir,
                        write_model=False,
                    )
                    row["tuner"].append(
                        {
                            "trials": budget,
                            "seconds": spent,
                            "val": float(study.best_value),
                            "test": best["test_mrr_at_100"],
                            "params": best["params"],
                        }
                    )
                    print(
                        f"{name} seed {seed}: tuner {budget} trials {spent:.0f} s "
                        f"val {study.best_value:.4f} test {best['test_mrr_at_100']:.4f} | "
                        f"loop {args.loop_trials} trials {loop.seconds:.0f} s "
                        f"val {loop.best_val_mrr:.4f} test {loop.test_mrr:.4f}",
                        flush=True,
                    )
                out.setdefault(name, []).append(row)
    return out


def _x(mean: float | None, se: float | None, digits: int) -> str:
    if mean is None:
        return "-"
    return f"{mean:.{digits}f}x" + ("" if se is None else f" ± {se:.{digits}f}")


def _ratios(rows: list[dict[str, Any]], i: int, key: str) -> tuple[float | None, float | None]:
    """Mean and standard error over seeds of tuner's figure at budget ``i`` over the loop's."""
    return tuning._mean_se([r["tuner"][i][key] / r["loop"][key] for r in rows if r["loop"][key]])


def table(results: dict[str, list[dict[str, Any]]], budgets: list[int]) -> str:
    lines = [
        "| data | tuner trials | tuner s / loop s | val, tuner / loop | test, tuner / loop |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, rows in results.items():
        for i, budget in enumerate(budgets):
            t, t_se = _ratios(rows, i, "seconds")
            v, v_se = _ratios(rows, i, "val")
            s, s_se = _ratios(rows, i, "test")
            lines.append(
                f"| {name} | {budget} | {_x(t, t_se, 2)} | {_x(v, v_se, 3)} | {_x(s, s_se, 3)} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    print(
        f"tuner (space {args.space.name}, study defaults) after {args.budgets} trials vs the "
        f"plain loop's {args.loop_trials}; seeds {args.seeds}; BLAS 1 thread, numba "
        f"{numba.get_num_threads()} threads",
        flush=True,
    )
    results = run(args)
    print()
    print("Ratios are per seed, then mean ± standard error over seeds.")
    print(table(results, args.budgets))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
