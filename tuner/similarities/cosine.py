"""Item-item cosine on the user-item matrix (classic item2item collaborative filtering)."""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

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
    num_threads: int = 0,
    progress: Progress | None = None,
) -> Neighbors:
    """Top-K cosine neighbours of every item: cos(i, j) = x_i . x_j / (|x_i| |x_j|).

    Only items that share at least one user with the anchor are ranked (the others have cosine
    0); items without likes get no neighbours. The item x item matrix is never built: each
    anchor's row of ``X.T @ X`` is accumulated in a scratch row and cut to the top K at once.

    Args:
        user_items: (n_users, n_items) sparse, non-negative (likes); fit on train + validation.
        top_k: neighbours kept per item.
        num_threads: numba threads (0 = numba's default).
        progress: optional ``progress(method, done, total)`` callback.

    Returns:
        :class:`Neighbors` with method "cosine".
    """
    start = time.perf_counter()
    x = check_user_items(user_items)
    n_items = x.shape[1]
    k = check_top_k(top_k, n_items)
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
        info={"seconds": time.perf_counter() - start, "threads": blocks},
    )
