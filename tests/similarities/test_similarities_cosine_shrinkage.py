"""Cosine with a shrinkage term: 0 is today's cosine bit for bit, a positive one is Koren's
shrunk cosine x_i . x_j / (|x_i| |x_j| + shrinkage), ranked as the kernel ranks."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from tuner.errors import ConfigError
from tuner.similarities import cosine_neighbors


def weighted_likes(n_users: int, n_items: int, density: float, seed: int) -> sp.csr_matrix:
    """Skewed item popularity with random positive weights (no tied similarities)."""
    rng = np.random.default_rng(seed)
    pop = rng.pareto(1.5, n_items) + 0.2
    p = np.minimum(density * pop / pop.mean(), 1.0)
    mask = rng.random((n_users, n_items)) < p
    return sp.csr_matrix(
        np.where(mask, rng.random((n_users, n_items)) + 0.5, 0.0), dtype=np.float32
    )


def shrunk_reference(x: np.ndarray, shrinkage: float, k: int) -> list[list[tuple[int, float]]]:
    """Each item's k best co-occurring items by shrunk cosine (ties: lower index first)."""
    x = np.asarray(x, dtype=np.float64)
    dots = x.T @ x
    norms = np.linalg.norm(x, axis=0)
    sims = dots / (np.outer(norms, norms) + shrinkage)
    out = []
    for i in range(x.shape[1]):
        co = [j for j in range(x.shape[1]) if j != i and dots[i, j] > 0]
        ranked = sorted(co, key=lambda j: (-sims[i, j], j))[:k]
        out.append([(j, sims[i, j]) for j in ranked])
    return out


def test_zero_shrinkage_is_the_plain_cosine_bit_for_bit() -> None:
    x = sp.csr_matrix((np.random.default_rng(4).random((90, 70)) < 0.1).astype(np.float32))
    plain = cosine_neighbors(x, top_k=15, num_threads=1)
    zero = cosine_neighbors(x, top_k=15, shrinkage=0.0, num_threads=1)
    for name in ("indices", "scores", "n_nonzero"):
        assert np.array_equal(getattr(plain, name), getattr(zero, name)), name
        assert getattr(plain, name).dtype == getattr(zero, name).dtype
    assert zero.info["shrinkage"] == 0.0 and zero.info["top_k"] == 15


@pytest.mark.parametrize("shrinkage", [0.5, 20.0])
def test_positive_shrinkage_matches_the_dense_reference(shrinkage: float) -> None:
    x = sp.csr_matrix((np.random.default_rng(5).random((80, 50)) < 0.12).astype(np.float32))
    nb = cosine_neighbors(x, top_k=8, shrinkage=shrinkage)
    ref = shrunk_reference(x.toarray(), shrinkage, 8)
    dots = x.toarray().T @ x.toarray()
    for i, expected in enumerate(ref):
        kept = nb.indices[i] >= 0
        assert nb.indices[i][kept].tolist() == [j for j, _ in expected], i
        np.testing.assert_allclose(nb.scores[i][kept], [s for _, s in expected], rtol=1e-6)
        assert nb.n_nonzero[i] == int((dots[i] > 0).sum() - (dots[i, i] > 0))


def test_shrinkage_pulls_down_pairs_that_share_one_like() -> None:
    # items 0 and 1 share their only like; items 2 and 3 share 20 of their 21 likes
    x = np.zeros((40, 4), dtype=np.float32)
    x[0, [0, 1]] = 1
    x[1:21, 2] = x[1:21, 3] = 1
    x[21, 2] = x[22, 3] = 1
    m = sp.csr_matrix(x)
    plain = cosine_neighbors(m, top_k=1)
    shrunk = cosine_neighbors(m, top_k=1, shrinkage=10.0)
    assert plain.scores[0, 0] == pytest.approx(1.0)
    assert plain.scores[2, 0] == pytest.approx(20 / 21)
    assert shrunk.scores[0, 0] == pytest.approx(1 / 11)
    assert shrunk.scores[2, 0] == pytest.approx(20 / 31)


def test_negligible_shrinkage_ranks_as_the_kernel_does() -> None:
    x = weighted_likes(120, 90, 0.08, seed=6)
    kernel = cosine_neighbors(x, top_k=12, num_threads=2)
    block = cosine_neighbors(x, top_k=12, shrinkage=1e-9)
    assert np.array_equal(kernel.indices, block.indices)
    assert np.array_equal(kernel.n_nonzero, block.n_nonzero)
    np.testing.assert_allclose(kernel.scores, block.scores, rtol=1e-5)


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf")])
def test_a_bad_shrinkage_is_one_line(bad: float) -> None:
    with pytest.raises(ConfigError, match="shrinkage must be a finite number >= 0"):
        cosine_neighbors(sp.csr_matrix(np.eye(3, dtype=np.float32)), shrinkage=bad)
