"""Item-item cosine of learned item factors (any solver of :data:`tuner.solvers.MODELS`)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from tuner.errors import ConfigError
from tuner.similarities import _kernels
from tuner.similarities._common import (
    Neighbors,
    Progress,
    check_top_k,
)
from tuner.solvers import numba_threads

# anchors per BLAS block: (block, n_items) float32 scores, ~200 MB at full Zen size
FACTOR_BLOCK = 512


def factor_neighbors(
    item_factors: np.ndarray,
    *,
    method: str,
    top_k: int = 100,
    warm: np.ndarray | None = None,
    num_threads: int = 0,
    progress: Progress | None = None,
) -> Neighbors:
    """Top-K neighbours of every item by cosine of its factor vector.

    Args:
        item_factors: (n_items, d) float32 item factors.
        method: name recorded in the result (the solver's registry key, e.g. "ials").
        top_k: neighbours kept per item.
        warm: (n_items,) bool, items with training likes; cold items (zero or untrained
            factors) are neither anchors nor neighbours. None = every item with a non-zero vector.
        num_threads: numba threads for the top-K pass (0 = numba's default).
        progress: optional ``progress(method, done, total)`` callback.

    Returns:
        :class:`Neighbors`; ``n_nonzero`` is the number of other warm items (every pair has a
        cosine).
    """
    start = time.perf_counter()
    v = np.asarray(item_factors, dtype=np.float32)
    if v.ndim != 2 or not np.isfinite(v).all():
        raise ConfigError(
            f"item_factors must be a finite (n_items, d) array; got shape {v.shape}. Fix: refit."
        )
    n_items = v.shape[0]
    k = check_top_k(top_k, n_items)
    norms = np.linalg.norm(v, axis=1)
    valid = norms > 0 if warm is None else (np.asarray(warm, dtype=bool) & (norms > 0))
    vn = np.ascontiguousarray(
        v * np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)[:, None],
        dtype=np.float32,
    )
    anchors = np.flatnonzero(valid).astype(np.int64)
    indices = np.full((n_items, k), -1, dtype=np.int32)
    scores = np.zeros((n_items, k), dtype=np.float32)
    n_nonzero = np.zeros(n_items, dtype=np.int64)
    n_nonzero[anchors] = anchors.size - 1
    out_idx = np.empty((FACTOR_BLOCK, k), dtype=np.int32)
    out_val = np.empty((FACTOR_BLOCK, k), dtype=np.float32)
    block = np.empty((FACTOR_BLOCK, n_items), dtype=np.float32)
    vt = vn.T
    with (
        numba_threads(num_threads) as threads,
        ThreadPoolExecutor(threads) as pool,
        threadpool_limits(1, user_api="blas"),
    ):
        # each thread runs a one-thread BLAS product on its own rows of the block (numpy
        # releases the GIL): all cores work even where BLAS is pinned to one thread
        step = -(-FACTOR_BLOCK // threads)
        for lo in range(0, anchors.size, FACTOR_BLOCK):
            chunk = anchors[lo : lo + FACTOR_BLOCK]
            m = chunk.size
            rows = vn[chunk]
            parts = [
                (rows[r0 : r0 + step], block[r0 : min(r0 + step, m)]) for r0 in range(0, m, step)
            ]
            list(pool.map(lambda part: np.matmul(part[0], vt, out=part[1]), parts))
            _kernels.dense_topk(block[:m], chunk, valid, out_idx[:m], out_val[:m])
            indices[chunk] = out_idx[:m]
            scores[chunk] = out_val[:m]
            if progress is not None and (lo // FACTOR_BLOCK) % 16 == 15:
                progress(method, lo + m, anchors.size)
    if progress is not None:
        progress(method, anchors.size, anchors.size)
    return Neighbors(
        method,
        indices,
        scores,
        n_nonzero,
        info={"factors": int(v.shape[1]), "seconds": time.perf_counter() - start},
    )


def fit_factor_model(
    name: str,
    params: dict[str, Any],
    user_items: sp.spmatrix,
    *,
    seed: int = 0,
    num_threads: int = 0,
) -> Any:
    """Fit ``name`` with ``params`` and ``seed`` on ``user_items`` (through ``build_model``).

    Raises:
        ConfigError: unknown model name or parameters the model does not take (the message
            names the fix: a best_params.json written by 'tuner export' for this model).
    """
    from tuner.solvers import build_model

    try:
        model = build_model(name, params, seed=seed, num_threads=num_threads)
    except ConfigError as exc:
        raise ConfigError(
            f"{exc} Fix: pass the 'params' of a best_params.json written by 'tuner export' "
            "for this model."
        ) from None
    return model.fit(user_items)  # fit validates it (tuner.solvers.check_user_items)
