"""MRR@K, HR@K and NDCG@K of factor models and of arbitrary dense scorers.

Policy (see :mod:`tuner.metrics._kernels`): the evaluated users are the rows of ``heldout`` with
at least one like (optionally a given subset of them); a user's candidates are all items not in
their ``exclude`` row (their training likes), ranked by decreasing score with ties broken by
lower item index. MRR@K is 1 / (position of the first held-out like) when it is within the top
K, else 0; HR@K is 1 when any held-out like is in the top K; NDCG@K is DCG over the user's
held-out likes divided by the ideal DCG. All three are means over the evaluated users. A
held-out like that is also in ``exclude`` cannot be recommended and never counts as a hit.

:func:`evaluate` never materialises the full score matrix: it scans items in blocks (BLAS
matrix products, items ordered by decreasing factor norm so that high scores come first) and
counts, per user, the candidates that outrank the held-out like; a user leaves the scan as soon
as K candidates outrank it, which is where most of the time is saved.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

import numba
import numpy as np
import scipy.sparse as sp

from tuner.errors import ConfigError, DataError
from tuner.metrics import _kernels

Scorer = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class RankingMetrics:
    """Means over the evaluated users of the per-user metrics at cut-off ``k``.

    Each ``*_se`` is the standard error of its mean, ``std(per_user, ddof=1) / sqrt(n_users)``
    (0 with fewer than two users): with one held-out like per user, two configurations whose
    MRR differ by less than about two standard errors are not told apart by this split.
    """

    mrr: float
    hr: float
    ndcg: float
    n_users: int
    k: int
    mrr_se: float = 0.0
    hr_se: float = 0.0
    ndcg_se: float = 0.0

    def as_dict(self) -> dict[str, float | int]:
        """Plain dict (JSON-ready)."""
        return asdict(self)


@dataclass
class _Heldout:
    """The evaluated users and their usable held-out likes as a small CSR."""

    users: np.ndarray  # (n,) int64
    ptr: np.ndarray  # (n + 1,) int64
    items: np.ndarray  # (n_ho,) int32


def _as_csr(name: str, m: Any) -> sp.csr_matrix:
    if not sp.issparse(m):
        raise DataError(
            f"{name} must be a scipy.sparse matrix (users x items); got {type(m).__name__}."
        )
    m = m.tocsr()
    if not m.has_sorted_indices or not m.data.all():
        m = m.copy()
        m.eliminate_zeros()  # a stored zero is not a like
        m.sort_indices()
    return m


def _heldout(
    exclude: Any, heldout: Any, users: Sequence[int] | np.ndarray | None
) -> tuple[sp.csr_matrix, _Heldout]:
    ex = _as_csr("exclude", exclude)
    ho = _as_csr("heldout", heldout)
    if ex.shape != ho.shape:
        raise DataError(
            f"exclude has shape {ex.shape} but heldout has shape {ho.shape}; both must be "
            "(n_users, n_items) of the same split. Fix: pass the matching train and val/test."
        )
    has = np.diff(ho.indptr) > 0
    if users is None:
        sel = np.flatnonzero(has)
    else:
        sel = np.asarray(users, dtype=np.int64).ravel()
        if sel.size and (sel.min() < 0 or sel.max() >= ho.shape[0]):
            raise DataError(
                f"users must be row indices in [0, {ho.shape[0]}); got values from "
                f"{sel.min()} to {sel.max()}."
            )
        sel = sel[has[sel]]
    sub = ho[sel]
    overlap = sub.multiply(ex[sel])
    if overlap.nnz:
        sub = (sub - sub.multiply(overlap.astype(bool))).tocsr()
        sub.eliminate_zeros()
        sub.sort_indices()
    return ex, _Heldout(
        users=sel.astype(np.int64),
        ptr=sub.indptr.astype(np.int64),
        items=sub.indices.astype(np.int32),
    )


def _check_k(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ConfigError(f"The 'k' cut-off must be an integer >= 1. Got {k!r} instead.")
    return int(k)


def _summarise(h: _Heldout, ranks: np.ndarray, k: int) -> RankingMetrics:
    n = h.users.shape[0]
    if n == 0:
        return RankingMetrics(mrr=0.0, hr=0.0, ndcg=0.0, n_users=0, k=k)
    per = _kernels.metrics_from_ranks(h.ptr, ranks, k)
    mrr, hr, ndcg = per.mean(axis=0)
    se = per.std(axis=0, ddof=1) / np.sqrt(n) if n > 1 else np.zeros(3)
    return RankingMetrics(
        mrr=float(mrr),
        hr=float(hr),
        ndcg=float(ndcg),
        n_users=n,
        k=k,
        mrr_se=float(se[0]),
        hr_se=float(se[1]),
        ndcg_se=float(se[2]),
    )


def _exclusions(
    ex: sp.csr_matrix, users: np.ndarray, position: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    lengths = (ex.indptr[users + 1] - ex.indptr[users]).astype(np.int64)
    ptr = np.zeros(users.shape[0] + 1, dtype=np.int64)
    np.cumsum(lengths, out=ptr[1:])
    pos = np.empty(int(ptr[-1]), dtype=np.int64)
    _kernels.exclusion_positions(users, ex.indptr, ex.indices, position, ptr, pos)
    return ptr, pos


def _chunks(n: int, batch_size: int) -> list[tuple[int, int]]:
    return [(s, min(s + batch_size, n)) for s in range(0, n, batch_size)]


def _threads(num_threads: int) -> int:
    return int(num_threads) if num_threads > 0 else int(numba.get_num_threads())


def evaluate(
    user_factors: np.ndarray,
    item_factors: np.ndarray,
    exclude: Any,
    heldout: Any,
    *,
    k: int = 100,
    users: Sequence[int] | np.ndarray | None = None,
    batch_size: int = 256,
    num_threads: int = 0,
    block_size: int = 4096,
) -> RankingMetrics:
    """MRR@K, HR@K and NDCG@K of the scores ``user_factors @ item_factors.T``.

    Args:
        user_factors: (n_users, d) float32 (other dtypes are converted once).
        item_factors: (n_items, d) float32.
        exclude: (n_users, n_items) sparse, the likes never recommended (training likes).
        heldout: (n_users, n_items) sparse, the held-out likes.
        k: cut-off K.
        users: evaluate only these rows (those without a held-out like are skipped).
        batch_size: users scored together (memory ~ batch_size * block_size * 4 bytes/thread).
        num_threads: threads scoring user batches in parallel (0 = numba's thread count).
        block_size: items per scoring block.

    Returns:
        The means over the evaluated users.
    """
    k = _check_k(k)
    u_f = np.ascontiguousarray(user_factors, dtype=np.float32)
    v_f = np.ascontiguousarray(item_factors, dtype=np.float32)
    ex, h = _heldout(exclude, heldout, users)
    if (
        u_f.ndim != 2
        or v_f.ndim != 2
        or u_f.shape[1] != v_f.shape[1]
        or ((u_f.shape[0], v_f.shape[0]) != ex.shape)
    ):
        raise DataError(
            f"factor shapes {u_f.shape} and {v_f.shape} do not fit the {ex.shape} matrices; "
            "expected (n_users, d) and (n_items, d). Fix: evaluate the model fitted on this split."
        )
    if not (np.isfinite(u_f[h.users]).all() and np.isfinite(v_f).all()):
        raise DataError("the factors hold NaN or inf; they cannot be ranked. Fix: refit.")
    n_items = v_f.shape[0]
    ho_score = np.empty(h.items.shape[0], dtype=np.float32)
    _kernels.heldout_scores(h.users, h.ptr, h.items, u_f, v_f, ho_score)
    order = np.argsort(-np.einsum("ij,ij->i", v_f, v_f), kind="stable")
    position = np.empty(n_items, dtype=np.int64)
    position[order] = np.arange(n_items)
    v_scan = v_f[order]
    item_ids = order.astype(np.int32)
    ex_ptr, ex_pos = _exclusions(ex, h.users, position)
    ranks = np.zeros(h.items.shape[0], dtype=np.int64)

    def run(bounds: tuple[int, int]) -> None:
        s, e = bounds
        ptr = h.ptr[s : e + 1] - h.ptr[s]
        counts = ranks[h.ptr[s] : h.ptr[e]]
        items = h.items[h.ptr[s] : h.ptr[e]]
        scores_h = ho_score[h.ptr[s] : h.ptr[e]]
        eptr = ex_ptr[s : e + 1] - ex_ptr[s]
        epos = ex_pos[ex_ptr[s] : ex_ptr[e]]
        cursor = eptr[:-1].copy()
        u_chunk = u_f[h.users[s:e]]
        active = np.flatnonzero(np.diff(ptr) > 0)
        for b0 in range(0, n_items, block_size):
            if active.shape[0] == 0:
                break
            b1 = min(b0 + block_size, n_items)
            rows = u_chunk if active.shape[0] == e - s else u_chunk[active]
            scores = rows @ v_scan[b0:b1].T
            keep = np.empty(active.shape[0], dtype=np.bool_)
            _kernels.count_block(
                scores, active, item_ids[b0:b1], b0, ptr, items, scores_h, counts,
                eptr, epos, cursor, k, keep,
            )  # fmt: skip
            active = active[keep]

    chunks = _chunks(h.users.shape[0], int(batch_size))
    n_threads = min(_threads(num_threads), max(1, len(chunks)))
    if n_threads == 1:
        for c in chunks:
            run(c)
    else:
        with ThreadPoolExecutor(n_threads) as pool:
            list(pool.map(run, chunks))
    return _summarise(h, ranks, k)


def evaluate_scorer(
    scorer: Scorer,
    exclude: Any,
    heldout: Any,
    *,
    k: int = 100,
    users: Sequence[int] | np.ndarray | None = None,
    batch_size: int = 256,
) -> RankingMetrics:
    """MRR@K, HR@K and NDCG@K of an arbitrary dense scorer (same policy as :func:`evaluate`).

    Args:
        scorer: ``scorer(users)`` with ``users`` (m,) int64 returns (m, n_items) scores
            (float32 preferred), e.g. an item-item similarity recommender or popularity.
        exclude, heldout, k, users: as in :func:`evaluate`.
        batch_size: users per ``scorer`` call.
    """
    k = _check_k(k)
    ex, h = _heldout(exclude, heldout, users)
    n_items = ex.shape[1]
    item_ids = np.arange(n_items, dtype=np.int32)
    ex_ptr, ex_pos = _exclusions(ex, h.users, np.arange(n_items, dtype=np.int64))
    ranks = np.zeros(h.items.shape[0], dtype=np.int64)
    for s, e in _chunks(h.users.shape[0], int(batch_size)):
        scores = np.ascontiguousarray(scorer(h.users[s:e]), dtype=np.float32)
        if scores.shape != (e - s, n_items):
            raise DataError(
                f"the scorer returned shape {scores.shape} for {e - s} users; expected "
                f"({e - s}, {n_items}). Fix: return one row of item scores per user."
            )
        if not np.isfinite(scores).all():
            raise DataError("the scorer returned NaN or inf scores; they cannot be ranked.")
        ptr = h.ptr[s : e + 1] - h.ptr[s]
        items = h.items[h.ptr[s] : h.ptr[e]]
        local = np.repeat(np.arange(e - s), np.diff(ptr))
        scores_h = np.ascontiguousarray(scores[local, items])
        eptr = ex_ptr[s : e + 1] - ex_ptr[s]
        keep = np.empty(e - s, dtype=np.bool_)
        _kernels.count_block(
            scores, np.arange(e - s, dtype=np.int64), item_ids, 0, ptr, items, scores_h,
            ranks[h.ptr[s] : h.ptr[e]], eptr, ex_pos[ex_ptr[s] : ex_ptr[e]], eptr[:-1].copy(),
            k, keep,
        )  # fmt: skip
    return _summarise(h, ranks, k)
