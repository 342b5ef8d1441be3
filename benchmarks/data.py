"""Data-layer figures: full-size synthetic generate/build/split, and writing + parsing a
full-size ``zen_ratings.csv`` (the course's list-literal layout) produced by the generator.

Usage (figures, not a test; other processes on the machine make them noisy):

    OPENBLAS_NUM_THREADS=1 NUMBA_NUM_THREADS=2 .venv/bin/python benchmarks/data.py \\
        --json out/bench-data.json

Also loads ../shared/data/ml-latest-small/ratings.csv and ../shared/data/citeulike-a/users.dat
when they exist beside the project (skip with --no-real).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from tuner.data import build_matrix, generate_synthetic, load, split_leave_one_out
from tuner.data.writers import write_zen

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
T = TypeVar("T")


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def bench_synthetic(scale: float, seed: int) -> tuple[list[dict[str, Any]], Any]:
    inter, t_gen = timed(lambda: generate_synthetic(scale=scale, seed=seed))
    like, t_build = timed(lambda: build_matrix(inter))
    _, t_split = timed(lambda: split_leave_one_out(like.matrix, seed=seed))
    shape = f"{like.matrix.shape[0]:,} x {like.matrix.shape[1]:,}, {like.matrix.nnz:,} likes"
    rows = [
        {"step": "synthetic: generate", "seconds": t_gen, "what": f"{inter.n_likes:,} draws"},
        {"step": "synthetic: build matrix", "seconds": t_build, "what": shape},
        {"step": "synthetic: split", "seconds": t_split, "what": "20% test + 20% val users"},
        {
            "step": "synthetic: total",
            "seconds": t_gen + t_build + t_split,
            "what": "generate + build + split",
        },
    ]
    return rows, like


def bench_zen(like: Any) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="tuner-bench-zen-") as tmp:
        _, t_write = timed(lambda: write_zen(like, tmp))
        size = (Path(tmp) / "zen_ratings.csv").stat().st_size
        inter, t_load = timed(lambda: load("zen", tmp))
        back, t_build = timed(lambda: build_matrix(inter))
    same = (back.matrix != like.matrix).nnz == 0
    parse = float(inter.details["parse_seconds"])  # type: ignore[arg-type]
    rows = int(inter.details["rows"])  # type: ignore[call-overload]
    return [
        {"step": "zen: write 3 files", "seconds": t_write, "what": f"{size / 1e6:.1f} MB ratings"},
        {
            "step": "zen: parse zen_ratings.csv",
            "seconds": parse,
            "what": f"{rows:,} rows, {inter.n_likes:,} ids",
        },
        {"step": "zen: load all 3 files", "seconds": t_load, "what": "ratings + names + sources"},
        {
            "step": "zen: build matrix",
            "seconds": t_build,
            "what": "identical to generated" if same else "MISMATCH",
        },
    ]


def bench_real() -> list[dict[str, Any]]:
    cases: list[tuple[str, str, Path, dict[str, Any]]] = [
        (
            "ml-latest-small (>= 4)",
            "interactions",
            SHARED / "ml-latest-small" / "ratings.csv",
            {"min_rating": 4, "names": SHARED / "ml-latest-small" / "movies.csv"},
        ),
        ("citeulike-a", "lists", SHARED / "citeulike-a" / "users.dat", {"lists_format": "count"}),
    ]
    rows = []
    for label, source, path, options in cases:
        if not path.exists():
            continue
        t0 = time.perf_counter()
        like = build_matrix(load(source, path, **options))
        split_leave_one_out(like.matrix, seed=0)
        m = like.matrix
        rows.append(
            {
                "step": f"{label}: load + build + split",
                "seconds": time.perf_counter() - t0,
                "what": f"{m.shape[0]:,} x {m.shape[1]:,}, {m.nnz:,} likes",
            }
        )
    return rows


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = ["| step | seconds | what |", "| --- | ---: | --- |"]
    lines += [f"| {r['step']} | {r['seconds']:.2f} | {r['what']} |" for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="synthetic scale (1 = Zen)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    parser.add_argument("--no-real", action="store_true", help="skip ../shared/data sets")
    args = parser.parse_args(argv)

    rows, like = bench_synthetic(args.scale, args.seed)
    rows += bench_zen(like)
    if not args.no_real:
        rows += bench_real()
    print(markdown(rows))
    if args.json:
        out = {
            "scale": args.scale,
            "seed": args.seed,
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "machine": platform.machine(),
            "rows": [{**r, "seconds": round(r["seconds"], 3)} for r in rows],
        }
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
