"""tuner's numba solvers and evaluator side by side with ``implicit`` 0.7 (figures, not a test).

Data: the Zen-shaped synthetic (``tuner.data.prepare("synthetic", scale=...)``; scale 1 is
75,910 users x 104,503 items), k = 100, numba at 2 threads, BLAS at 1 thread. Each solver runs
in its own child process, so the peak memory (``ru_maxrss``) is per solver.

Matching hyperparameters: tuner's iALS uses confidence c = 1 + alpha * r; implicit's
``AlternatingLeastSquares`` uses its matrix values as the confidence (times its own ``alpha``),
so implicit gets ``1 + alpha * r`` as values and ``alpha=1.0``. Both use plain lambda * I
regularization. implicit's CG takes ``cg_steps=3`` like ours.

Seconds per iteration exclude compilation (kernels are compiled, or loaded from numba's cache,
on a tiny matrix first) and fit set-up: the mean of iterations 2..n from the iteration hooks.
The machine may be shared, so every solver runs ``--rounds`` times, interleaved, and the table
shows the best round of each (all rounds are in the JSON).
The evaluator comparison scores the same implicit-trained model with ``tuner.metrics.evaluate``
and ``implicit.evaluation.ranking_metrics_at_k`` (K = 100) on the validation users. MRR@100 of
both libraries comes from the same evaluator (ours; implicit's reports no MRR).

    OPENBLAS_NUM_THREADS=1 NUMBA_NUM_THREADS=2 python benchmarks/solvers.py --json bench.json
    python benchmarks/solvers.py --scale 0.2 --iterations 3      # a quicker, smaller run
"""

from __future__ import annotations

import os

# Before numpy/numba are imported: BLAS single-threaded, numba at 2 threads (the benchmark's
# contract); a caller's explicit NUMBA_NUM_THREADS is respected.
for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ[_var] = "1"
os.environ.setdefault("NUMBA_NUM_THREADS", "2")

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

RUNS = ("ials_cg", "implicit_cg", "ials_chol", "implicit_chol", "als")
LABELS = {
    "ials_cg": "tuner iALS, CG (3 steps)",
    "implicit_cg": "implicit ALS, use_cg=True",
    "ials_chol": "tuner iALS, Cholesky",
    "implicit_chol": "implicit ALS, use_cg=False",
    "als": "tuner ALS (course), Cholesky",
}


def _peak_mb() -> float:
    """This process's peak resident memory in MB.

    ``ru_maxrss`` survives fork + exec on Linux (a child starts at its parent's peak), so the
    parent stays small (data are prepared in a child too) and, where available, the kernel's
    per-address-space high-water mark (VmHWM) is used instead.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _child(run: str, data_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    import numpy as np
    import scipy.sparse as sp

    from tuner.data import load_prepared
    from tuner.metrics import evaluate
    from tuner.solvers import ALS, IALS

    data = load_prepared(data_dir)
    train, val = data.train, data.val
    threads = int(os.environ["NUMBA_NUM_THREADS"])
    tiny = sp.random(50, 40, density=0.2, format="csr", dtype=np.float32, random_state=0)
    tiny.data[:] = 1.0
    out: dict[str, Any] = {"run": run}
    stamps: list[float] = []

    if run.startswith("implicit"):
        from implicit.cpu.als import AlternatingLeastSquares

        conf = train.copy()
        conf.data = 1.0 + args.alpha * conf.data
        model = AlternatingLeastSquares(
            factors=args.factors,
            regularization=args.regularization,
            alpha=1.0,
            iterations=args.iterations,
            use_cg=run == "implicit_cg",
            num_threads=threads,
            random_state=args.seed,
        )
        model.cg_steps = 3  # its default, not a constructor argument in 0.7
        per_iter: list[float] = []
        t0 = time.perf_counter()
        model.fit(conf, show_progress=False, callback=lambda it, el, loss: per_iter.append(el))
        out["fit_seconds"] = time.perf_counter() - t0
        out["iteration_seconds"] = per_iter
        uf, vf = np.asarray(model.user_factors), np.asarray(model.item_factors)
    else:
        cls = ALS if run == "als" else IALS
        kw: dict[str, Any] = {
            "factors": args.factors,
            "regularization": args.regularization,
            "num_threads": threads,
            "random_state": args.seed,
        }
        if cls is IALS:
            kw.update(alpha=args.alpha, solver="cg" if run == "ials_cg" else "cholesky")
        cls(**kw, iterations=1).fit(tiny)  # compile or load the kernels outside the timing
        model = cls(**kw, iterations=args.iterations)
        t0 = time.perf_counter()

        def stamp(iteration: int, fitted: Any) -> None:
            stamps.append(time.perf_counter())

        model.fit(train, callback=stamp)
        out["fit_seconds"] = time.perf_counter() - t0
        out["iteration_seconds"] = list(np.diff([t0, *stamps]))
        uf, vf = np.asarray(model.user_factors), np.asarray(model.item_factors)
    steady = out["iteration_seconds"][1:] or out["iteration_seconds"]
    out["seconds_per_iteration"] = float(np.mean(steady))

    evaluate(uf[:50], vf[:40], tiny, tiny, k=10)  # compile the evaluator outside the timing
    t0 = time.perf_counter()
    metrics = evaluate(uf, vf, train, val, k=100, num_threads=threads)
    out["eval_seconds"] = time.perf_counter() - t0
    out["mrr"] = metrics.mrr
    out["hr"] = metrics.hr
    out["ndcg"] = metrics.ndcg
    out["eval_users"] = metrics.n_users

    if run == "implicit_chol":
        from implicit.evaluation import ranking_metrics_at_k

        t0 = time.perf_counter()
        theirs = ranking_metrics_at_k(
            model, train, val, K=100, show_progress=False, num_threads=threads
        )
        out["implicit_eval_seconds"] = time.perf_counter() - t0
        # With one held-out like per user implicit's "map" is MRR and its "precision" is HR/K
        # normalised by min(K, n_heldout) = 1, i.e. HR: the two evaluators must agree.
        out["implicit_eval_metrics"] = {key: float(v) for key, v in theirs.items()}
    out["peak_rss_mb"] = _peak_mb()
    return out


def _table(res: dict[str, dict[str, Any]], summary: dict[str, Any]) -> str:
    ref = {
        "ials_cg": "implicit_cg",
        "ials_chol": "implicit_chol",
        "als": "implicit_chol",
    }
    lines = [
        "| solver | s / iteration | ratio vs implicit | MRR@100 (val) | peak RSS (MB) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for run in RUNS:
        r = res[run]
        ratio = (
            f"{r['seconds_per_iteration'] / res[ref[run]]['seconds_per_iteration']:.2f}x"
            if run in ref
            else ""
        )
        lines.append(
            f"| {LABELS[run]} | {r['seconds_per_iteration']:.2f} | {ratio} | {r['mrr']:.4f} "
            f"| {r['peak_rss_mb']:.0f} |"
        )
    lines.append(f"| popularity (floor) | | | {summary['mrr_popularity']:.4f} | |")
    lines += [
        "",
        "| evaluator (same implicit-trained model, K = 100) | seconds | ratio |",
        "| --- | ---: | ---: |",
        f"| tuner.metrics.evaluate ({summary['eval_users']:,} users) | "
        f"{summary['eval_ours_seconds']:.2f} | {summary['eval_ratio']:.2f}x |",
        f"| implicit.evaluation.ranking_metrics_at_k | {summary['eval_implicit_seconds']:.2f} | |",
        "",
        f"Evaluators agree (MRR = implicit's map, HR = its precision, NDCG): "
        f"{summary['eval_agrees']}.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--scale", type=float, default=1.0, help="synthetic scale (1 = Zen shape)")
    p.add_argument("--iterations", type=int, default=5)
    p.add_argument("--factors", type=int, default=100)
    p.add_argument("--alpha", type=float, default=10.0)
    p.add_argument("--regularization", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--rounds", type=int, default=2, help="interleaved repetitions (best kept)")
    p.add_argument(
        "--runs", default=",".join(RUNS), help="comma-separated subset of " + ",".join(RUNS)
    )
    p.add_argument("--data", type=Path, help="an existing prepared directory to reuse")
    p.add_argument("--json", type=Path, help="write the figures here")
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.child:
        print(json.dumps(_child(args.child, args.data, args)))
        return 0

    runs = [r for r in args.runs.split(",") if r]
    with tempfile.TemporaryDirectory(prefix="tuner-bench-") as tmp:
        data_dir = args.data
        if data_dir is None:
            data_dir = Path(tmp) / "data"
            t0 = time.perf_counter()
            code = (
                "import json, sys; from tuner.data import prepare; "
                "m = prepare('synthetic', sys.argv[1], scale=float(sys.argv[2]), "
                "seed=int(sys.argv[3])); print(json.dumps(m, default=str))"
            )
            done = subprocess.run(
                [sys.executable, "-c", code, str(data_dir), str(args.scale), str(args.seed)],
                capture_output=True,
                text=True,
            )
            if done.returncode:
                sys.stderr.write(done.stderr)
                raise SystemExit("preparing the synthetic data failed")
            m = json.loads(done.stdout.strip().splitlines()[-1])
            print(
                f"data: {m['n_users']:,} users x {m['n_items']:,} items, {m['n_train']:,} train "
                f"likes, {m['n_val']:,} val users ({time.perf_counter() - t0:.1f} s)",
                flush=True,
            )
        rounds: dict[str, list[dict[str, Any]]] = {run: [] for run in runs}
        for rnd in range(args.rounds):
            for run in runs:
                cmd = [sys.executable, __file__, "--child", run, "--data", str(data_dir)]
                cmd += ["--iterations", str(args.iterations), "--factors", str(args.factors)]
                cmd += ["--alpha", str(args.alpha), "--regularization", str(args.regularization)]
                cmd += ["--seed", str(args.seed)]
                done = subprocess.run(cmd, capture_output=True, text=True)
                if done.returncode:
                    sys.stderr.write(done.stderr)
                    raise SystemExit(f"benchmark run {run!r} failed")
                r = json.loads(done.stdout.strip().splitlines()[-1])
                rounds[run].append(r)
                print(
                    f"round {rnd + 1} {run:14s} {r['seconds_per_iteration']:7.2f} s/it  "
                    f"MRR@100 {r['mrr']:.4f}  eval {r['eval_seconds']:.2f} s  "
                    f"peak {r['peak_rss_mb']:.0f} MB",
                    flush=True,
                )
        from tuner.data import load_prepared
        from tuner.metrics import popularity_baseline

        data = load_prepared(data_dir)
        pop = popularity_baseline(data.train, data.train, data.val, k=100)
    res: dict[str, dict[str, Any]] = {}
    for run, rs in rounds.items():
        best = dict(rs[0])
        best["seconds_per_iteration"] = min(r["seconds_per_iteration"] for r in rs)
        best["eval_seconds"] = min(r["eval_seconds"] for r in rs)
        if "implicit_eval_seconds" in best:
            best["implicit_eval_seconds"] = min(r["implicit_eval_seconds"] for r in rs)
        best["peak_rss_mb"] = max(r["peak_rss_mb"] for r in rs)
        best["rounds"] = rs
        res[run] = best

    figures: dict[str, Any] = {
        "scale": args.scale,
        "factors": args.factors,
        "iterations": args.iterations,
        "alpha": args.alpha,
        "regularization": args.regularization,
        "numba_threads": int(os.environ["NUMBA_NUM_THREADS"]),
        "rounds": args.rounds,
        "mrr_popularity": pop.mrr,
        "runs": res,
    }
    if "ials_cg" in res and "implicit_cg" in res:
        figures["ials_cg_ratio"] = (
            res["ials_cg"]["seconds_per_iteration"] / res["implicit_cg"]["seconds_per_iteration"]
        )
    if "implicit_chol" in res:
        base = res["implicit_chol"]["seconds_per_iteration"]
        for run, key in (("ials_chol", "ials_chol_ratio"), ("als", "als_ratio")):
            if run in res:
                figures[key] = res[run]["seconds_per_iteration"] / base
        figures["eval_ours_seconds"] = res["implicit_chol"]["eval_seconds"]
        figures["eval_implicit_seconds"] = res["implicit_chol"]["implicit_eval_seconds"]
        figures["eval_ratio"] = figures["eval_ours_seconds"] / figures["eval_implicit_seconds"]
        figures["eval_users"] = res["implicit_chol"]["eval_users"]
        theirs = res["implicit_chol"]["implicit_eval_metrics"]
        r = res["implicit_chol"]
        figures["eval_agrees"] = bool(
            abs(theirs["map"] - r["mrr"]) < 1e-9
            and abs(theirs["precision"] - r["hr"]) < 1e-9
            and abs(theirs["ndcg"] - r["ndcg"]) < 1e-6
        )
    if "ials_cg" in res:
        figures["mrr_ours"] = res["ials_cg"]["mrr"]
    if "implicit_cg" in res:
        figures["mrr_implicit"] = res["implicit_cg"]["mrr"]
    for run in res:
        figures[f"{run}_seconds_per_iteration"] = res[run]["seconds_per_iteration"]
        figures[f"{run}_mrr"] = res[run]["mrr"]
        figures[f"{run}_peak_rss_mb"] = res[run]["peak_rss_mb"]
    if set(RUNS) <= set(res):
        print()
        print(_table(res, figures))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        print(f"\nfigures written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
