"""Benchmark of the item-item similarity kernels at Zen size, beside their references.

* cosine top-K of every item vs implicit's ``CosineRecommender(K)`` (same neighbours?);
* SLIM for every item vs the course's per-item scikit-learn ``ElasticNet`` loop, timed on a
  random sample of items in the same run (same coefficients?);
* cosine of 64-d item factors for every item (the ALS / iALS similarity);
* peak resident memory after each step.

Usage (full size; BLAS single-threaded, numba on both cores)::

    OPENBLAS_NUM_THREADS=1 NUMBA_NUM_THREADS=2 .venv/bin/python benchmarks/similarities.py \\
        --json storage/bench/similarities.json

``--scale 0.1`` runs the same on a smaller synthetic data set; ``--data DIR`` uses a prepared
split instead of generating one. JIT compilation happens on a tiny matrix first and is not
counted.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp


def peak_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def load_data(args: argparse.Namespace) -> tuple[sp.csr_matrix, dict[str, Any]]:
    from tuner.data import load_prepared, prepare

    if args.data:
        data = load_prepared(args.data)
    else:
        out = Path(tempfile.mkdtemp(prefix="bench-sim-")) / f"synthetic-{args.scale}"
        prepare("synthetic", out, scale=args.scale, seed=0)
        data = load_prepared(out)
    x = data.train_val()
    info = {
        "source": data.manifest.get("source"),
        "scale": data.manifest.get("scale"),
        "n_users": int(x.shape[0]),
        "n_items": int(x.shape[1]),
        "n_likes_train_val": int(x.nnz),
    }
    return x, info


def warm_up(threads: int) -> None:
    from tuner.similarities import cosine_neighbors, factor_neighbors, slim_neighbors

    rng = np.random.default_rng(0)
    tiny = sp.csr_matrix((rng.random((60, 40)) < 0.2).astype(np.float32))
    cosine_neighbors(tiny, top_k=5, num_threads=threads)
    slim_neighbors(tiny, top_k=5, num_threads=threads)
    factor_neighbors(rng.normal(size=(40, 4)).astype(np.float32), method="als", top_k=5)


def bench_cosine(x: sp.csr_matrix, k: int, threads: int) -> dict[str, Any]:
    from implicit.nearest_neighbours import CosineRecommender

    from tuner.similarities import cosine_neighbors

    # implicit keeps the item itself among its K neighbours: K + 1 gives K others
    model = CosineRecommender(K=k + 1, num_threads=threads)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        model.fit(x, show_progress=False)
        t_implicit = time.perf_counter() - t0
    mem_implicit = peak_mb()
    t0 = time.perf_counter()
    ours = cosine_neighbors(x, top_k=k, num_threads=threads)
    t_ours = time.perf_counter() - t0
    sim = model.similarity.tocsr()
    max_diff = 0.0
    overlap = []
    for i in range(x.shape[1]):
        row = sim.indices[sim.indptr[i] : sim.indptr[i + 1]]
        vals = sim.data[sim.indptr[i] : sim.indptr[i + 1]]
        keep = row != i
        ref_vals = np.sort(vals[keep])[::-1][:k]
        got = ours.scores[i][ours.indices[i] >= 0]
        if ref_vals.size != got.size:
            max_diff = float("inf")
            continue
        if got.size:
            max_diff = max(max_diff, float(np.abs(ref_vals - got).max()))
            # sets may differ only through ties at the K-th score
            inter = np.intersect1d(row[keep], ours.indices[i][: got.size]).size
            overlap.append(inter / got.size)
    return {
        "implicit_seconds": t_implicit,
        "ours_seconds": t_ours,
        "speedup_vs_implicit": t_implicit / t_ours,
        "max_abs_score_diff": max_diff,
        "mean_neighbour_overlap": float(np.mean(overlap)) if overlap else None,
        "peak_mb_after_implicit": mem_implicit,
        "peak_mb_after_ours": peak_mb(),
    }


def bench_slim(
    x: sp.csr_matrix, k: int, threads: int, sample: int, alpha: float, l1_ratio: float
) -> dict[str, Any]:
    from sklearn.linear_model import ElasticNet

    from tuner.similarities import slim_neighbors

    n_items = x.shape[1]
    t0 = time.perf_counter()
    ours = slim_neighbors(x, alpha=alpha, l1_ratio=l1_ratio, top_k=k, num_threads=threads)
    t_ours = time.perf_counter() - t0
    mem = peak_mb()
    warm = np.flatnonzero(np.diff(x.tocsc().indptr) > 0)
    rng = np.random.default_rng(0)
    items = rng.choice(warm, size=min(sample, warm.size), replace=False)
    xc = x.tocsc()
    times, diffs, rel, nnz_match = [], [], [], []
    for j in items:
        saved = xc.data[xc.indptr[j] : xc.indptr[j + 1]].copy()
        y = np.zeros(x.shape[0])
        y[xc.indices[xc.indptr[j] : xc.indptr[j + 1]]] = saved
        xc.data[xc.indptr[j] : xc.indptr[j + 1]] = 0.0  # the course's "X[:, j] = 0"
        model = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, positive=True, fit_intercept=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t1 = time.perf_counter()
            model.fit(xc, y)
            times.append(time.perf_counter() - t1)
        xc.data[xc.indptr[j] : xc.indptr[j + 1]] = saved
        coef = model.coef_
        keep = ours.indices[j] >= 0
        got = ours.scores[j][keep].astype(np.float64)
        ref = coef[ours.indices[j][keep]]
        top_ref = np.sort(coef)[::-1][: keep.sum()]
        if got.size:
            diffs.append(float(max(np.abs(got - ref).max(), np.abs(got - top_ref).max())))
            rel.append(float(np.abs(got - ref).max() / max(got.max(), 1e-12)))
        nnz_match.append(int(ours.n_nonzero[j]) - int((coef > 0).sum()))
    per_item = float(np.mean(times))
    ours_per_item = t_ours / max(ours.info["n_solved"], 1)
    return {
        "ours_seconds_all_items": t_ours,
        "ours_items": int(ours.info["n_solved"]),
        "ours_ms_per_item": 1000 * ours_per_item,
        "sweeps_mean": ours.info["sweeps_mean"],
        "not_converged": ours.info["n_not_converged"],
        "median_nonzero_weights": float(np.median(ours.n_nonzero[warm])),
        "sklearn_sample_items": int(items.size),
        "sklearn_seconds_per_item": per_item,
        "sklearn_projected_all_items_hours": per_item * warm.size / 3600,
        "speedup_vs_sklearn": per_item / ours_per_item,
        "max_abs_coef_diff_top_k": max(diffs) if diffs else None,
        "max_rel_coef_diff_top_k": max(rel) if rel else None,
        "nonzero_count_diff_range": [min(nnz_match), max(nnz_match)] if nnz_match else None,
        "alpha": alpha,
        "l1_ratio": l1_ratio,
        "n_items": int(n_items),
        "peak_mb_after_ours": mem,
    }


def bench_factors(n_items: int, k: int, threads: int, dim: int = 64) -> dict[str, Any]:
    from tuner.similarities import factor_neighbors

    v = np.random.default_rng(1).normal(size=(n_items, dim)).astype(np.float32)
    t0 = time.perf_counter()
    factor_neighbors(v, method="ials", top_k=k, num_threads=threads)
    return {"seconds": time.perf_counter() - t0, "dim": dim, "peak_mb_after": peak_mb()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scale", type=float, default=1.0, help="synthetic scale (1 = Zen size)")
    p.add_argument("--data", help="prepared data directory instead of a generated synthetic")
    p.add_argument("--top-k", type=int, default=100)
    p.add_argument("--threads", type=int, default=0, help="numba / implicit threads (0 = all)")
    p.add_argument("--sklearn-items", type=int, default=50, help="items timed with sklearn")
    p.add_argument("--slim-alpha", type=float, default=1e-4)
    p.add_argument("--slim-l1-ratio", type=float, default=0.15)
    p.add_argument("--skip", default="", help="comma list of steps to skip: cosine,slim,factors")
    p.add_argument("--json", help="write the figures to this JSON file")
    args = p.parse_args(argv)

    import numba

    threads = args.threads or numba.get_num_threads()
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    result: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "cpus_numba": numba.get_num_threads(),
            "threads": threads,
            "processor": platform.processor() or platform.machine(),
        },
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    t0 = time.perf_counter()
    x, info = load_data(args)
    result["data"] = {**info, "seconds": time.perf_counter() - t0}
    result["peak_mb_after_data"] = peak_mb()
    print(f"data: {info}", flush=True)
    warm_up(threads)
    if "cosine" not in skip:
        result["cosine"] = bench_cosine(x, args.top_k, threads)
        print(f"cosine: {json.dumps(result['cosine'])}", flush=True)
    if "factors" not in skip:
        result["factors"] = bench_factors(x.shape[1], args.top_k, threads)
        print(f"factors: {json.dumps(result['factors'])}", flush=True)
    if "slim" not in skip:
        result["slim"] = bench_slim(
            x, args.top_k, threads, args.sklearn_items, args.slim_alpha, args.slim_l1_ratio
        )
        print(f"slim: {json.dumps(result['slim'])}", flush=True)
    result["peak_mb"] = peak_mb()
    result["seconds_total"] = time.perf_counter() - t0
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
