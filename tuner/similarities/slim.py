"""SLIM (Ning & Karypis, 2011): per item a non-negative elastic net on the other items' columns."""

from __future__ import annotations

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

DEFAULT_ALPHA = 1e-4
DEFAULT_L1_RATIO = 0.15
# size of the first working set, and the fewest violators a round may add (up to
# max(WORKING_SET_GROWTH, |W|), the strongest first); they change speed, not results. A small
# first set is cheap, and the violators of its solution predict the support far better than
# the co-occurrences do: a large first set spends most of its Gram block on popular items
# whose weights end at zero
INIT_WORKING_SET = 96
WORKING_SET_GROWTH = 256
# largest working set solved on a dense Gram block (float32: 64 MB per thread; at most 32767:
# positions take 15 bits of a sort key); larger ones fall back to sweeps on the residual
GRAM_CAP = 4096
# tolerances from which the sweeps keep their running sums in float32 (scikit-learn's default
# is 1e-4; tighter ones get float64)
SWEEP_FLOAT32_TOL = 1e-5


def slim_neighbors(
    user_items: sp.spmatrix,
    *,
    alpha: float = DEFAULT_ALPHA,
    l1_ratio: float = DEFAULT_L1_RATIO,
    top_k: int = 100,
    tol: float = 1e-4,
    max_iter: int = 1000,
    items: np.ndarray | None = None,
    num_threads: int = 0,
    progress: Progress | None = None,
) -> Neighbors:
    """SLIM weights of every item, kept as its top-K neighbours.

    For item j the weights w solve scikit-learn's
    ``ElasticNet(alpha, l1_ratio, positive=True, fit_intercept=False).fit(X_without_j, x_j)``
    (n = n_users in the 1/(2n) factor); ``w[k]`` is item k's weight in predicting j, reported
    as the similarity of neighbour k to anchor j. Items without likes get no neighbours.

    Args:
        user_items: (n_users, n_items) sparse, non-negative; fit on train + validation.
        alpha: overall penalty strength (> 0).
        l1_ratio: share of the L1 penalty, in [0, 1].
        top_k: neighbours kept per item; ``n_nonzero`` counts all non-zero weights.
        tol: stop when a full sweep changes no weight by more than tol x the largest weight.
        max_iter: maximum full sweeps per item (scikit-learn's default is 1000 too).
        items: optional (m,) anchor items to solve (default: all); the others stay empty.
        num_threads: numba threads (0 = numba's default).
        progress: optional ``progress(method, done, total)`` callback.

    Returns:
        :class:`Neighbors` with method "slim"; ``info`` holds the parameters, the sweep counts
        and the number of items that hit ``max_iter``.
    """
    if not alpha > 0:
        raise ConfigError(f"SLIM alpha must be > 0. Got {alpha} instead; the course used 1e-4.")
    if not 0.0 <= l1_ratio <= 1.0:
        raise ConfigError(
            f"SLIM l1_ratio must be in [0, 1]. Got {l1_ratio} instead; the course used 0.15."
        )
    if not tol > 0 or int(max_iter) < 1:
        raise ConfigError(f"SLIM needs tol > 0 and max_iter >= 1. Got {tol}, {max_iter}.")
    start = time.perf_counter()
    x = check_user_items(user_items)
    n_users, n_items = x.shape
    # users renumbered by decreasing number of likes (no sum over users depends on their
    # order): the kernel's optimality checks walk each column from its heaviest users, whose
    # residuals are the most negative, and may stop early (see slim_topk)
    x = x[np.argsort(-np.diff(x.indptr), kind="stable")]
    k = check_top_k(top_k, n_items)
    xt = x.T.tocsr()
    xt.sort_indices()
    sq_norms = np.asarray(x.multiply(x).sum(axis=0), dtype=np.float64).ravel()
    # likes (every entry 1): the kernel reads the values from one broadcast element, which
    # stays in L1, instead of a second stream beside the indices (the column walks are bound
    # by memory latency)
    unit = bool(x.nnz and x.data.min() == 1.0 and x.data.max() == 1.0)
    if unit:
        data = t_data = np.broadcast_to(np.float32(1.0), x.data.shape)
    else:
        data, t_data = x.data, xt.data
    l1 = float(alpha * l1_ratio * n_users)
    l2 = float(alpha * (1.0 - l1_ratio) * n_users)
    anchors = np.arange(n_items) if items is None else np.asarray(items, dtype=np.int64)
    order = shuffled(anchors[sq_norms[anchors] > 0])

    indices = np.full((n_items, k), -1, dtype=np.int32)
    scores = np.zeros((n_items, k), dtype=np.float32)
    n_nonzero = np.zeros(n_items, dtype=np.int64)
    sweeps = np.zeros(n_items, dtype=np.int32)
    with numba_threads(num_threads) as threads:
        blocks = threads
        cap = min(GRAM_CAP, n_items, 32767)
        init = min(INIT_WORKING_SET, n_items)
        grow = min(WORKING_SET_GROWTH, n_items)
        resid = np.zeros((blocks, n_users), dtype=np.float64)
        resid32 = np.zeros((blocks, n_users), dtype=np.float32)
        # float32 (exact counts for likes): the scatters into them hit a cache half the size
        gram = np.zeros((blocks, n_items), dtype=np.float32)
        bound = np.zeros((blocks, n_items), dtype=np.float32)
        coef = np.zeros((blocks, n_items), dtype=np.float64)
        state = np.zeros((blocks, n_items), dtype=np.int8)
        # one slot more than items / users: the branch-free lists write before they count
        touched = np.zeros((blocks, n_items + 1), dtype=np.int32)
        cand = np.zeros((blocks, n_items), dtype=np.int32)
        active = np.zeros((blocks, n_items), dtype=np.int32)
        heap_val = np.zeros((blocks, max(init, grow, cap)), dtype=np.float32)
        heap_idx = np.zeros((blocks, max(init, grow, cap)), dtype=np.int32)
        # likes: the Gram block holds co-occurrence counts, exact in 16 bits while no item
        # has more likes (half the cache of float32)
        counts = unit and (sq_norms.max(initial=0.0) <= np.iinfo(np.uint16).max)
        gram_type = np.dtype(np.uint16 if counts else np.float32)
        # rows padded by a cache line: a power-of-two stride puts a tile's rows in one cache set
        gm = np.zeros((blocks, cap, cap + 64 // gram_type.itemsize), dtype=gram_type)
        g_ws = np.zeros((blocks, cap), dtype=np.float64)
        w_ws = np.zeros((blocks, cap), dtype=np.float64)
        # the sweeps' running G w: float32 (half the sweeps' time) while the tolerance is far
        # above its rounding, which a sum over a round's updates keeps near 1e-6 relative
        sweep_type = np.dtype(np.float32 if tol >= SWEEP_FLOAT32_TOL else np.float64)
        q_ws = np.zeros((blocks, cap), dtype=sweep_type)
        # the working set's likes as sorted (user, position) keys, and the radix buffers (the
        # values only for weighted data); pages are touched only as far as a working set's
        # likes reach; 32-bit keys while users and positions fit (131,072 users)
        likes = max(x.nnz, 1)
        user_bits = max(1, int(n_users - 1).bit_length())
        key_type = np.uint32 if user_bits + _kernels.POS_BITS <= 32 else np.int64
        keys = [np.zeros((blocks, likes), dtype=key_type) for _ in range(3)]
        vals = [np.zeros((blocks, likes if not unit else 1), dtype=np.float32) for _ in range(3)]
        hist = np.zeros((blocks, 2048), dtype=np.int64)
        checked = np.zeros((blocks, n_items), dtype=np.float64)
        q0_ws = np.zeros((blocks, cap), dtype=np.float64)
        order_val = np.zeros((blocks, n_items), dtype=np.float32)
        order_idx = np.zeros((blocks, n_items), dtype=np.int32)
        order_pos = np.zeros((blocks, n_items), dtype=np.int32)
        saved = np.zeros((blocks, n_users), dtype=np.float32)
        open_span = np.zeros((blocks, 2, n_items), dtype=np.int64)
        open_terms = np.zeros((blocks, 3, n_items), dtype=np.float64)
        longest = int(np.diff(xt.indptr).max(initial=0))
        cand_ptr = np.zeros((blocks, longest + 1), dtype=np.int64)
        cand_likes = np.zeros((blocks, likes), dtype=np.int32)
        cand_vals = np.zeros((blocks, likes if not unit else 1), dtype=np.float32)
        size = min(CHUNK, max(order.size, 1))
        out_idx = np.empty((size, k), dtype=np.int32)
        out_val = np.empty((size, k), dtype=np.float32)
        out_nnz = np.empty(size, dtype=np.int32)
        out_sweeps = np.empty(size, dtype=np.int32)
        for lo in range(0, order.size, CHUNK):
            # threads take every n-th anchor of a chunk and then wait for each other: most
            # expensive (most liked) first makes their shares even, the order of the chunks
            # stays shuffled
            chunk = order[lo : lo + CHUNK]
            chunk = chunk[np.argsort(-sq_norms[chunk], kind="stable")]
            m = chunk.size
            _kernels.slim_topk(
                x.indptr, x.indices, data, xt.indptr, xt.indices, t_data, sq_norms,
                l1, l2, float(tol), int(max_iter), init, grow, chunk,
                out_idx[:m], out_val[:m], out_nnz[:m], out_sweeps[:m],
                resid, resid32, gram, bound, coef, state, touched, cand, active, heap_val,
                heap_idx, gm, g_ws, w_ws, q_ws, unit, user_bits, keys[0], vals[0], keys[1],
                vals[1], keys[2], vals[2], hist, checked, q0_ws, order_val, order_idx, order_pos,
                saved, open_span, open_terms, cand_ptr, cand_likes, cand_vals,
            )  # fmt: skip
            indices[chunk] = out_idx[:m]
            scores[chunk] = out_val[:m]
            n_nonzero[chunk] = out_nnz[:m]
            sweeps[chunk] = out_sweeps[:m]
            if progress is not None:
                progress("slim", lo + m, order.size)
    solved = sweeps[order]
    info = {
        "alpha": float(alpha),
        "l1_ratio": float(l1_ratio),
        "tol": float(tol),
        "max_iter": int(max_iter),
        "n_solved": int(order.size),
        "sweeps_mean": float(solved.mean()) if solved.size else 0.0,
        "sweeps_max": int(solved.max()) if solved.size else 0,
        "n_not_converged": int((solved >= max_iter).sum()),
        "sweep_sums": sweep_type.name,
        "seconds": time.perf_counter() - start,
    }
    return Neighbors("slim", indices, scores, n_nonzero, info=info)
