"""A/B of the SLIM kernel: another checkout's ``slim_neighbors`` against this one's.

Both run on the same full-size synthetic data (Zen-shaped, scale 1) for the same random
anchors, each in its own worker process (both import ``tuner``), alternately, after a warm-up
(JIT compilation and one untimed run). Prints each run's wall and CPU seconds (CPU: all
threads of the worker, less sensitive to other work on a shared machine), the min / median of
both sides, the ratios new / old and whether the outputs (neighbours, weights, non-zero
counts, sweep statistics) are identical.

Usage (the old code in a worktree; BLAS single-threaded, numba on two threads)::

    git worktree add --detach /tmp/slim_old <commit>
    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/slim_ab.py --old /tmp/slim_old

``--scale`` and ``--items`` change the data and the number of anchors; ``--runs`` the timed
runs of each side.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import scipy.sparse as sp

ROOT = Path(__file__).resolve().parents[1]


def worker(matrix: str, anchors: str, out: str, threads: int) -> None:
    """Serve runs of ``slim_neighbors``: one line "run" in, its seconds out; "quit" saves the
    last output to ``out``."""
    import time

    import tuner
    from tuner.similarities import slim_neighbors

    x = sp.load_npz(matrix).tocsr()
    items = np.load(anchors)
    rng = np.random.default_rng(0)
    tiny = sp.csr_matrix((rng.random((60, 40)) < 0.2).astype(np.float32))
    slim_neighbors(tiny, top_k=5, num_threads=threads)
    nb = slim_neighbors(x, top_k=100, items=items, num_threads=threads)
    print(f"ready {Path(tuner.__file__).resolve().parents[1]}", flush=True)
    for line in sys.stdin:
        if line.strip() != "run":
            break
        t0, c0 = time.perf_counter(), time.process_time()
        nb = slim_neighbors(x, top_k=100, items=items, num_threads=threads)
        print(f"{time.perf_counter() - t0:.4f} {time.process_time() - c0:.4f}", flush=True)
    np.savez(
        out,
        indices=nb.indices,
        scores=nb.scores,
        n_nonzero=nb.n_nonzero,
        info=np.array(repr(sorted((k, v) for k, v in nb.info.items() if k != "seconds"))),
    )


def start(root: Path, args: list[str]) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(root), OPENBLAS_NUM_THREADS="1")
    proc = subprocess.Popen(
        [sys.executable, __file__, "--worker", *args],
        cwd=root,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    if proc.stdout.readline().strip() != f"ready {root}":
        raise SystemExit(f"the worker on {root} failed to start, or imported another tuner")
    return proc


def timed(proc: subprocess.Popen[str]) -> tuple[float, float]:
    """One run's wall and CPU seconds (all threads)."""
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write("run\n")
    proc.stdin.flush()
    wall, cpu = proc.stdout.readline().split()
    return float(wall), float(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--old", type=Path, help="root of the old checkout (required)")
    parser.add_argument("--new", type=Path, default=ROOT, help="root of the new checkout")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--items", type=int, default=3000, help="anchors solved per run")
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each side")
    parser.add_argument("--threads", type=int, default=2, help="numba threads")
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        matrix, anchors, out, threads = args.worker
        worker(matrix, anchors, out, int(threads))
        return
    if args.old is None:
        parser.error("--old (the old checkout's root) is required")

    from tuner.data.matrix import build_matrix
    from tuner.data.synthetic import generate

    tmp = Path(tempfile.mkdtemp(prefix="slim-ab-"))
    x = build_matrix(generate(args.scale, 0)).matrix.tocsr().astype(np.float32)
    sp.save_npz(tmp / "x.npz", x)
    items = np.random.default_rng(0).choice(x.shape[1], args.items, replace=False)
    np.save(tmp / "items.npy", items)
    print(f"data: {x.shape[0]:,} users x {x.shape[1]:,} items, {x.nnz:,} likes; "
          f"{args.items:,} anchors, {args.threads} numba threads")  # fmt: skip
    sides = {"old": args.old.resolve(), "new": args.new.resolve()}
    procs = {
        name: start(root, [str(tmp / "x.npz"), str(tmp / "items.npy"),
                           str(tmp / f"{name}.npz"), str(args.threads)])
        for name, root in sides.items()
    }  # fmt: skip
    times: dict[str, list[float]] = {"old": [], "new": []}
    cpu: dict[str, list[float]] = {"old": [], "new": []}
    for run in range(args.runs):
        # alternate which side goes first, so that a slow spell of the machine hits both
        for name in ("old", "new") if run % 2 == 0 else ("new", "old"):
            wall, used = timed(procs[name])
            times[name].append(wall)
            cpu[name].append(used)
            print(f"run {run + 1} {name}: {wall:.3f} s ({used:.3f} s CPU)", flush=True)
    for proc in procs.values():
        assert proc.stdin is not None
        proc.stdin.write("quit\n")
        proc.stdin.close()
        proc.wait()
    old, new = (np.load(tmp / f"{name}.npz") for name in ("old", "new"))
    identical = all(np.array_equal(old[key], new[key]) for key in old.files)
    for label, table in (("wall", times), ("CPU", cpu)):
        for name in ("old", "new"):
            low, mid = min(table[name]), statistics.median(table[name])
            print(f"{name} {label}: min {low:.3f} s, median {mid:.3f} s")
        ratio = statistics.median(table["new"]) / statistics.median(table["old"])
        ratio_min = min(table["new"]) / min(table["old"])
        print(f"new / old {label}: {ratio:.3f} (median), {ratio_min:.3f} (min)")
    print(f"outputs identical: {identical}")


if __name__ == "__main__":
    main()
