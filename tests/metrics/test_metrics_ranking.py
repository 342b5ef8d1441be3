"""The evaluator against a brute-force NumPy ranking, including masking, ties and subsets."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from tuner.errors import ConfigError, DataError
from tuner.metrics import (
    RankingMetrics,
    evaluate,
    evaluate_scorer,
    popularity_baseline,
    popularity_scores,
)
from tuner.metrics import _kernels as kernels


def brute_force(
    scores: np.ndarray,
    exclude: sp.csr_matrix,
    heldout: sp.csr_matrix,
    k: int,
    users: np.ndarray | None = None,
) -> tuple[np.ndarray, int]:
    """Mean (MRR, HR, NDCG) by a full stable sort of -score per user (the documented policy)."""
    per = brute_force_per_user(scores, exclude, heldout, k, users)
    return per.mean(axis=0), len(per)


def brute_force_per_user(
    scores: np.ndarray,
    exclude: sp.csr_matrix,
    heldout: sp.csr_matrix,
    k: int,
    users: np.ndarray | None = None,
) -> np.ndarray:
    """(n_users, 3) per-user (MRR, HR, NDCG) by a full stable sort of -score per user."""
    ex = exclude.toarray() > 0
    ho = heldout.toarray() > 0
    rows = np.flatnonzero(ho.any(axis=1)) if users is None else [u for u in users if ho[u].any()]
    per = []
    for u in rows:
        items = np.flatnonzero(ho[u] & ~ex[u])
        if items.shape[0] == 0:
            per.append((0.0, 0.0, 0.0))
            continue
        ranks = kernels.ranks_reference(scores[u], ex[u], items)
        hits = ranks[ranks < k]
        if hits.shape[0] == 0:
            per.append((0.0, 0.0, 0.0))
            continue
        ideal = sum(1.0 / np.log2(j + 2) for j in range(min(items.shape[0], k)))
        per.append((1.0 / (hits.min() + 1), 1.0, float(np.sum(1.0 / np.log2(hits + 2))) / ideal))
    return np.array(per)


def problem(
    seed: int = 0, multi: bool = False
) -> tuple[np.ndarray, np.ndarray, sp.csr_matrix, sp.csr_matrix]:
    """Small-integer factors, so scores are exact and ties frequent."""
    rng = np.random.default_rng(seed)
    n_users, n_items, d = 120, 300, 3
    u = rng.integers(-2, 3, (n_users, d)).astype(np.float32)
    v = rng.integers(-2, 3, (n_items, d)).astype(np.float32)
    ex = sp.random(n_users, n_items, density=0.08, format="csr", random_state=seed + 1)
    ho = sp.random(n_users, n_items, density=0.012 if multi else 0.004, format="csr",
                   random_state=seed + 2)  # fmt: skip
    if not multi:  # at most one held-out like per user, as in the prepared splits
        ho = sp.csr_matrix(
            (np.ones(ho.indptr.shape[0] - 1), (np.arange(n_users), np.zeros(n_users))),
            shape=ho.shape,
        ).multiply(0) + _first_per_row(ho)
    ex.data[:] = 1.0
    ho.data[:] = 1.0
    return u, v, ex.tocsr(), ho.tocsr()


def _first_per_row(m: sp.csr_matrix) -> sp.csr_matrix:
    rows = np.flatnonzero(np.diff(m.indptr) > 0)
    cols = m.indices[m.indptr[rows]]
    return sp.csr_matrix((np.ones(rows.shape[0]), (rows, cols)), shape=m.shape)


@pytest.mark.parametrize("k", [1, 3, 10, 100])
@pytest.mark.parametrize("multi", [False, True])
@pytest.mark.parametrize(("batch", "block", "threads"), [(256, 4096, 1), (7, 16, 2)])
def test_evaluate_equals_brute_force(
    k: int, multi: bool, batch: int, block: int, threads: int
) -> None:
    u, v, ex, ho = problem(seed=k, multi=multi)
    want, n = brute_force(u @ v.T, ex, ho, k)
    got = evaluate(u, v, ex, ho, k=k, batch_size=batch, block_size=block, num_threads=threads)
    assert got.n_users == n and got.k == k
    np.testing.assert_allclose([got.mrr, got.hr, got.ndcg], want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("k", [1, 10, 100])
@pytest.mark.parametrize("multi", [False, True])
def test_evaluate_scorer_equals_brute_force(k: int, multi: bool) -> None:
    u, v, ex, ho = problem(seed=10 + k, multi=multi)
    scores = u @ v.T
    want, n = brute_force(scores, ex, ho, k)
    got = evaluate_scorer(lambda users: scores[users], ex, ho, k=k, batch_size=13)
    assert got.n_users == n
    np.testing.assert_allclose([got.mrr, got.hr, got.ndcg], want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("multi", [False, True])
def test_standard_errors_equal_a_numpy_reference(multi: bool) -> None:
    u, v, ex, ho = problem(seed=3, multi=multi)
    per = brute_force_per_user(u @ v.T, ex, ho, 100)
    want = per.std(axis=0, ddof=1) / np.sqrt(per.shape[0])
    got = evaluate(u, v, ex, ho, k=100)
    assert got.mrr_se > 0
    np.testing.assert_allclose([got.mrr_se, got.hr_se, got.ndcg_se], want, rtol=1e-10)
    # One user: no spread to estimate, so no error bar rather than a NaN.
    one = evaluate(u, v, ex, ho, k=10, users=[int(np.flatnonzero(np.diff(ho.indptr))[0])])
    assert one.n_users == 1 and one.mrr_se == 0.0


def test_known_answer_with_ties_and_masking() -> None:
    # One user, items 0..4 all score 1 except item 3 (score 2). Item 3 is a training like
    # (masked); the candidates in order are 0, 1, 2, 4 (ties by index), the held-out like is 2.
    u = np.ones((1, 1), dtype=np.float32)
    v = np.array([[1], [1], [1], [2], [1]], dtype=np.float32)
    ex = sp.csr_matrix(([1.0], ([0], [3])), shape=(1, 5))
    ho = sp.csr_matrix(([1.0], ([0], [2])), shape=(1, 5))
    got = evaluate(u, v, ex, ho, k=5)
    assert got == RankingMetrics(mrr=1 / 3, hr=1.0, ndcg=0.5, n_users=1, k=5)
    assert evaluate(u, v, ex, ho, k=2).mrr == 0.0
    # Without the mask item 3 comes first and pushes item 2 to position 4.
    assert evaluate(u, v, ex * 0, ho, k=5).mrr == 0.25


def test_heldout_also_excluded_never_hits() -> None:
    u = np.ones((1, 1), dtype=np.float32)
    v = np.array([[3], [2], [1]], dtype=np.float32)
    ex = sp.csr_matrix(([1.0], ([0], [0])), shape=(1, 3))
    got = evaluate(u, v, ex, ex, k=3)
    assert got.n_users == 1 and got.mrr == 0.0


def test_users_subset_and_users_without_heldout() -> None:
    u, v, ex, ho = problem(seed=5)
    has = np.flatnonzero(np.diff(ho.indptr) > 0)
    none = np.flatnonzero(np.diff(ho.indptr) == 0)
    subset = np.concatenate([has[::2], none[:3]])
    want, n = brute_force(u @ v.T, ex, ho, 10, users=subset)
    got = evaluate(u, v, ex, ho, k=10, users=subset)
    assert got.n_users == n == has[::2].shape[0]
    np.testing.assert_allclose([got.mrr, got.hr, got.ndcg], want)


def test_popularity_baseline_equals_popularity_scorer() -> None:
    _, _, ex, ho = problem(seed=6)
    pop = popularity_scores(ex)
    assert pop.shape == (ex.shape[1],) and pop.sum() == ex.nnz
    want = evaluate_scorer(lambda users: np.tile(pop, (users.shape[0], 1)), ex, ho, k=20)
    assert popularity_baseline(ex, ex, ho, k=20) == want


def test_count_block_matches_reference() -> None:
    rng = np.random.default_rng(7)
    scores = rng.integers(0, 4, (1, 50)).astype(np.float32)
    items = rng.permutation(50).astype(np.int32)
    counts = np.zeros(1, dtype=np.int64)
    keep = np.empty(1, dtype=np.bool_)
    ptr = np.array([0, 1], dtype=np.int64)
    empty = np.zeros(0, dtype=np.int64)
    kernels.count_block(
        scores, np.zeros(1, dtype=np.int64), items, 0, ptr, items[10:11], scores[0, 10:11],
        counts, np.zeros(2, dtype=np.int64), empty, np.zeros(1, dtype=np.int64), 100, keep,
    )  # fmt: skip
    assert counts[0] == kernels.count_block_reference(
        scores[0], items, float(scores[0, 10]), int(items[10])
    )
    assert keep[0]


def test_errors() -> None:
    u, v, ex, ho = problem()
    with pytest.raises(DataError, match="shape"):
        evaluate(u[:-1], v, ex, ho)
    with pytest.raises(DataError, match="shape"):
        evaluate(u, v, ex[:, :-1], ho)
    with pytest.raises(ConfigError, match="'k'"):
        evaluate(u, v, ex, ho, k=0)
    bad = v.copy()
    bad[0, 0] = np.nan
    with pytest.raises(DataError, match="NaN"):
        evaluate(u, bad, ex, ho)
    with pytest.raises(DataError, match="shape"):
        evaluate_scorer(lambda users: np.zeros((users.shape[0], 2)), ex, ho)


def test_no_heldout_users_gives_zero_users() -> None:
    u, v, ex, _ = problem()
    got = evaluate(u, v, ex, sp.csr_matrix(ex.shape, dtype=np.float32))
    assert got.n_users == 0 and got.as_dict()["mrr"] == 0.0
