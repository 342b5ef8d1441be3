"""Item-item cosine on the user-item matrix (classic item2item collaborative filtering)."""

from __future__ import annotations

import math
import time

import numpy as np
import scipy.sparse as sp

from tuner.errors import ConfigError
from tuner.similarities import _kernels
from tuner.similarities._common import (
    CHUNK,
    Neighbors,
    Progress,
    check_top_k,
    shuffled,
)
from tuner.solvers import check_user_items, numba_threads


def cosine_neighbors(
    user_items: sp.spmatrix,
    *,
    top_k: int = 100,
    shrinkage: float = 0.0,
    num_threads: int = 0,
    progress: Progress | None = None,
) -> Neighbors:
    """Top-K cosine neighbours of every item: cos(i, j) = x_i . x_j / (|x_i| |x_j| + shrinkage).

    Only items that share at least one user with the anchor are ranked (the others have cosine
    0); items without likes get no neighbours. The item x item matrix is never built: each
    anchor's row of ``X.T @ X`` is accumulated in a scratch row and cut to the top K at once.

    The shrinkage term (Koren's shrunk similarity) pulls the cosine of pairs with small norms,
    which a single shared like makes look perfect, towards 0; 0 is the plain cosine. A
    positive shrinkage is computed block-wise with SciPy's sparse product (the numba kernel
    scales by per-item norms, which a shrunk denominator is not), single-threaded.

    Args:
        user_items: (n_users, n_items) sparse, non-negative (likes); fit on train + validation.
        top_k: neighbours kept per item.
        shrinkage: added to the norms' product in the denominator (>= 0).
        num_threads: numba threads (0 = numba's default).
        progress: optional ``progress(method, done, total)`` callback.

    Returns:
        :class:`Neighbors` with method "cosine"; ``info`` holds ``top_k`` and ``shrinkage``.

    Raises:
        ConfigError: a negative or non-finite shrinkage, or top_k < 1.
    """
    if not (math.isfinite(shrinkage) and shrinkage >= 0):
        raise ConfigError(f"Cosine shrinkage must be a finite number >= 0. Got {shrinkage!r}.")
    start = time.perf_counter()
    x = check_user_items(user_items)
    n_items = x.shape[1]
    k = check_top_k(top_k, n_items)
    if shrinkage > 0:
        return _shrunk_cosine(x, k, float(shrinkage), progress, start)
    xt = x.T.tocsr()
    xt.sort_indices()
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=0)).ravel())
    inv_norms = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0).astype(np.float32)
    n_nonzero = np.zeros(n_items, dtype=np.int64)
    indices = np.full((n_items, k), -1, dtype=np.int32)
    scores = np.zeros((n_items, k), dtype=np.float32)
    warm = np.flatnonzero(norms > 0)
    order = shuffled(warm)
    with numba_threads(num_threads) as threads:
        blocks = threads
        acc = np.zeros((blocks, n_items), dtype=np.float32)
        touched = np.zeros((blocks, n_items + 1), dtype=np.int32)
        out_idx = np.empty((min(CHUNK, max(order.size, 1)), k), dtype=np.int32)
        out_val = np.empty_like(out_idx, dtype=np.float32)
        out_nnz = np.empty(out_idx.shape[0], dtype=np.int64)
        for lo in range(0, order.size, CHUNK):
            chunk = order[lo : lo + CHUNK]
            m = chunk.size
            _kernels.cosine_topk(
                x.indptr, x.indices, x.data, xt.indptr, xt.indices, xt.data, inv_norms,
                chunk, out_idx[:m], out_val[:m], out_nnz[:m], acc, touched,
            )  # fmt: skip
            indices[chunk] = out_idx[:m]
            scores[chunk] = out_val[:m]
            n_nonzero[chunk] = out_nnz[:m]
            if progress is not None:
                progress("cosine", lo + m, order.size)
    return Neighbors(
        "cosine",
        indices,
        scores,
        n_nonzero,
        info={
            "top_k": int(k),
            "shrinkage": 0.0,
            "seconds": time.perf_counter() - start,
            "threads": blocks,
        },
    )


# upper bound of the co-occurrence entries of one block of anchors in the shrunk path
SHRUNK_BLOCK_ENTRIES = 1 << 24


def _shrunk_cosine(
    x: sp.csr_matrix, k: int, shrinkage: float, progress: Progress | None, start: float
) -> Neighbors:
    """The shrunk cosine of every warm item against its co-occurring items, a block of
    anchors at a time: their rows of ``X.T @ X`` by a sparse product, divided by
    ``|x_i| |x_j| + shrinkage``, cut to the K best by (score descending, item ascending)."""
    n_items = x.shape[1]
    xt = x.T.tocsr()
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=0), dtype=np.float64).ravel())
    indices = np.full((n_items, k), -1, dtype=np.int32)
    scores = np.zeros((n_items, k), dtype=np.float32)
    n_nonzero = np.zeros(n_items, dtype=np.int64)
    warm = np.flatnonzero(norms > 0)
    step = max(1, min(CHUNK, SHRUNK_BLOCK_ENTRIES // max(n_items, 1)))
    for lo in range(0, warm.size, step):
        anchors = warm[lo : lo + step]
        block = (xt[anchors] @ x).tocsr()
        rows = np.repeat(np.arange(anchors.size), np.diff(block.indptr))
        cols = block.indices.astype(np.int64)
        keep = cols != anchors[rows]
        rows, cols = rows[keep], cols[keep]
        dots = block.data[keep].astype(np.float64)
        shrunk = dots / (norms[anchors[rows]] * norms[cols] + shrinkage)
        counts = np.bincount(rows, minlength=anchors.size)
        n_nonzero[anchors] = counts
        ptr = np.concatenate(([0], np.cumsum(counts)))
        for a, item in enumerate(anchors):
            vals, cand = shrunk[ptr[a] : ptr[a + 1]], cols[ptr[a] : ptr[a + 1]]
            if vals.size > k:
                # everything at or above the k-th largest score, ties included, so that the
                # final order (score descending, then item ascending) does not depend on how
                # the partition split them
                kth = np.partition(vals, vals.size - k)[vals.size - k]
                above = vals >= kth
                vals, cand = vals[above], cand[above]
            best = np.lexsort((cand, -vals))[:k]
            indices[item, : best.size] = cand[best]
            scores[item, : best.size] = vals[best]
        if progress is not None:
            progress("cosine", lo + anchors.size, warm.size)
    return Neighbors(
        "cosine",
        indices,
        scores,
        n_nonzero,
        info={
            "top_k": int(k),
            "shrinkage": shrinkage,
            "seconds": time.perf_counter() - start,
            "threads": 1,
        },
    )
