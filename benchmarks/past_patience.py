"""Would fitting a study's best configuration on past patience 1 raise its test figure?

Reads ``benchmarks/tuning.py --json`` files. For each split seed there, the best
configuration of one of tuner's runs (``--side``) is fitted on train for ``--iterations``
iterations with validation MRR@100 scored after each; for each patience in ``--patience``
the iteration a fit under that patience would keep is refitted on train + validation and
scored on test, as ``tuner export`` does. Patience 1 reproduces the study's own export (a
check); the others are paired against it over seeds (figures, not a test).

    .venv/bin/python benchmarks/past_patience.py out/a1.json out/a2.json
    .venv/bin/python benchmarks/past_patience.py out/a1.json --datasets citeulike
"""

from __future__ import annotations

import os

if __name__ == "__main__":
    for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
        os.environ[_var] = "1"
    os.environ.setdefault("NUMBA_NUM_THREADS", "2")

import argparse
import json
import math
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import tuning  # the same datasets and splits as the tuning benchmark

from tuner.data import load_prepared
from tuner.metrics import evaluate
from tuner.model import refit
from tuner.objectives import Patience
from tuner.solvers import build_model

K = 100
#: The study seed of tuning.py's runs unless --study-seed gave another: the refit's
#: initialisation.
STUDY_SEED = 0


def kept_iteration(curve: list[float], patience: int) -> int:
    """The iteration (1-based) a fit stopped by ``patience`` keeps: its best one so far."""
    rule = Patience(patience)
    for i, value in enumerate(curve, start=1):
        rule.update(i, value)
        if rule.ran_out(i):
            break
    return rule.best_iteration


def one_seed(
    data_dir: Path,
    params: dict[str, Any],
    iterations: int,
    patiences: list[int],
    study_seed: int = STUDY_SEED,
) -> dict[int, tuple[int, float, float]]:
    """{patience: (kept iteration, its validation MRR, test MRR of the refit)}."""
    data = load_prepared(data_dir)
    curve: list[float] = []

    def score(iteration: int, fitted: Any) -> bool:
        val = evaluate(fitted.user_factors, fitted.item_factors, data.train, data.val, k=K)
        curve.append(float(val.mrr))
        return False

    build_model("ials", dict(params, iterations=iterations), seed=study_seed).fit(
        data.train, callback=score
    )
    train_val = data.train_val()
    out = {}
    for patience in patiences:
        it = kept_iteration(curve, patience)
        fitted = refit(data, "ials", dict(params, iterations=it), seed=study_seed)
        test = evaluate(fitted.user_factors, fitted.item_factors, train_val, data.test, k=K)
        out[patience] = (it, curve[it - 1], float(test.mrr))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("runs", nargs="+", type=Path, help="benchmarks/tuning.py --json files")
    p.add_argument("--side", default="same_trials", choices=("same_trials", "same_time"))
    p.add_argument("--datasets", default="movielens,synthetic", help="comma-separated")
    p.add_argument("--patience", default="1,3,20", help="comma-separated; 1 comes first")
    p.add_argument("--iterations", type=int, default=20)
    p.add_argument("--data-root", type=Path, default=tuning.DEFAULT_DATA_ROOT)
    args = p.parse_args(argv)
    patiences = sorted({1, *(int(x) for x in args.patience.split(","))})
    wanted = args.datasets.split(",")

    seeds: dict[tuple[str, int], tuple[dict[str, Any], int]] = {}
    scale = 0.1
    for path in args.runs:
        run = json.loads(path.read_text())
        scale = run["settings"].get("synthetic_scale", scale)
        study_seed = int(run["settings"].get("run_study_kwargs", {}).get("seed", STUDY_SEED))
        for name, ds in run["datasets"].items():
            for s in ds["per_seed"]:
                seeds[(name, s["seed"])] = (s, study_seed)
    with tempfile.TemporaryDirectory() as tmp:
        for name in wanted:
            keys = sorted(k for k in seeds if k[0] == name)
            rows = []
            for _, seed in keys:
                run_seed, study_seed = seeds[(name, seed)]
                s = run_seed[args.side]
                data_dir = Path(tmp) / f"{name}-{seed}"
                tuning._prepare(tuning.DATASETS[name], args.data_root, data_dir, seed, scale)
                got = one_seed(data_dir, s["best_params"], args.iterations, patiences, study_seed)
                rows.append((s["test_mrr"], got))
                shown = ", ".join(
                    f"patience {q}: iteration {it}, val {v:.4f}, test {t:.4f}"
                    for q, (it, v, t) in got.items()
                )
                print(f"{name} seed {seed}: exported test {s['test_mrr']:.4f} | {shown}")
            if not rows:
                continue
            base = np.array([got[1][2] for _, got in rows])
            if not np.allclose(base, [exported for exported, _ in rows], atol=1e-6):
                print(f"{name}: patience 1 does not reproduce the export; check the seed")
            for q in patiences[1:]:
                diff = np.array([got[q][2] for _, got in rows]) - base
                mean, se = tuning._mean_se(diff.tolist())
                changed = int(np.count_nonzero(np.abs(diff) > 1e-9))
                print(
                    f"{name}: patience {q} - patience 1, test MRR@{K}: {mean:+.4f} ± "
                    f"{se if se is not None else math.nan:.4f} over {diff.size} seeds "
                    f"({changed} changed)"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
