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
        init = min(INIT_WORKING_SET, n_items)
        grow = min(WORKING_SET_GROWTH, n_items)
        user_bits = max(1, int(n_users - 1).bit_length())
        sweep_type = np.dtype(np.float32 if tol >= SWEEP_FLOAT32_TOL else np.float64)
        workspace = _slim_workspace(
            threads, x, xt, sq_norms, unit, init, grow, user_bits, sweep_type
        )
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
                x.indptr, x.indices, data, xt.indptr, xt.indices, t_data, sq_norms, l1, l2,
                float(tol), int(max_iter), init, grow, unit, user_bits, chunk, out_idx[:m],
                out_val[:m], out_nnz[:m], out_sweeps[:m], workspace,
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


def _slim_workspace(
    threads: int,
    x: sp.csr_matrix,
    xt: sp.csr_matrix,
    sq_norms: np.ndarray,
    unit: bool,
    init: int,
    grow: int,
    user_bits: int,
    sweep_type: np.dtype,
) -> _kernels.SlimWorkspace:
    """Zeroed scratch of :func:`_kernels.slim_topk`, one row per thread.

    Args:
        threads: numba threads (the kernel's blocks).
        x, xt: the (n_users, n_items) CSR matrix and its transpose as the kernel gets them.
        sq_norms: (n_items,) float64 squared column norms.
        unit: every like is 1 (no values are kept).
        init, grow: the first working set's size and a round's least growth.
        user_bits: bits of the largest user index.
        sweep_type: float32 or float64, the sweeps' running G w.
    """
    blocks = threads
    n_users, n_items = x.shape
    cap = min(GRAM_CAP, n_items, 32767)
    heap = max(init, grow, cap)
    # likes: the Gram block holds co-occurrence counts, exact in 16 bits while no item has
    # more likes (half the cache of float32)
    counts = unit and (sq_norms.max(initial=0.0) <= np.iinfo(np.uint16).max)
    gram_type = np.dtype(np.uint16 if counts else np.float32)
    # the working set's likes as sorted (user, position) keys, and the radix buffers (the
    # values only for weighted data); pages are touched only as far as a working set's likes
    # reach; 32-bit keys while users and positions fit (131,072 users)
    likes = max(x.nnz, 1)
    key_type = np.uint32 if user_bits + _kernels.POS_BITS <= 32 else np.int64
    n_vals = likes if not unit else 1
    longest = int(np.diff(xt.indptr).max(initial=0))

    def zeros(*shape: int, dtype: type | np.dtype) -> np.ndarray:
        return np.zeros((blocks, *shape), dtype=dtype)

    # allocated in this order (it decides which rows share cache sets)
    r = zeros(n_users, dtype=np.float64)
    r32 = zeros(n_users, dtype=np.float32)
    # float32 (exact counts for likes): the scatters into them hit a cache half the size
    g = zeros(n_items, dtype=np.float32)
    bd = zeros(n_items, dtype=np.float32)
    w = zeros(n_items, dtype=np.float64)
    st = zeros(n_items, dtype=np.int8)
    # one slot more than items: the branch-free list writes before it counts
    tl = zeros(n_items + 1, dtype=np.int32)
    cl = zeros(n_items, dtype=np.int32)
    al = zeros(n_items, dtype=np.int32)
    hv = zeros(heap, dtype=np.float32)
    hi = zeros(heap, dtype=np.int32)
    # rows padded by a cache line: a power-of-two stride puts a tile's rows in one cache set
    gm = zeros(cap, cap + 64 // gram_type.itemsize, dtype=gram_type)
    gw = zeros(cap, dtype=np.float64)
    ww = zeros(cap, dtype=np.float64)
    # the sweeps' running G w: float32 while the tolerance is far above its rounding, which a
    # sum over a round's updates keeps near 1e-6 relative
    qw = zeros(cap, dtype=sweep_type)
    keys = [zeros(likes, dtype=key_type) for _ in range(3)]
    vals = [zeros(n_vals, dtype=np.float32) for _ in range(3)]
    return _kernels.SlimWorkspace(
        r=r, r32=r32, g=g, bd=bd, w=w, st=st, tl=tl, cl=cl, al=al, hv=hv, hi=hi, gm=gm,
        gw=gw, ww=ww, qw=qw, ws_keys=keys[0], ws_vals=vals[0], keys_a=keys[1], vals_a=vals[1],
        keys_b=keys[2], vals_b=vals[2], hist=zeros(2048, dtype=np.int64),
        ck=zeros(n_items, dtype=np.float64), q0=zeros(cap, dtype=np.float64),
        ov=zeros(n_items, dtype=np.float32), oi=zeros(n_items, dtype=np.int32),
        op=zeros(n_items, dtype=np.int32), rj=zeros(n_users, dtype=np.float32),
        open_span=zeros(2, n_items, dtype=np.int64),
        open_terms=zeros(3, n_items, dtype=np.float64), cp_=zeros(longest + 1, dtype=np.int64),
        cli=zeros(likes, dtype=np.int32), clv=zeros(n_vals, dtype=np.float32),
    )  # fmt: skip
