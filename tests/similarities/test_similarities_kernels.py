"""Each numba kernel against its NumPy reference (and scikit-learn / implicit where they apply)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from implicit.nearest_neighbours import CosineRecommender

from tuner.similarities import _kernels, cosine_neighbors, factor_neighbors, slim_neighbors


def random_likes(n_users: int, n_items: int, density: float, seed: int) -> sp.csr_matrix:
    """Binary likes with a skewed item popularity (so that top-K cuts and ties happen)."""
    rng = np.random.default_rng(seed)
    pop = rng.pareto(1.5, n_items) + 0.2
    p = np.minimum(density * pop / pop.mean(), 1.0)
    dense = rng.random((n_users, n_items)) < p
    return sp.csr_matrix(dense.astype(np.float32))


def heap_topk(scores: np.ndarray, k: int, exclude: int) -> tuple[np.ndarray, np.ndarray]:
    valid = np.ones(scores.shape[0], dtype=np.bool_)
    out_idx = np.empty((1, k), dtype=np.int32)
    out_val = np.empty((1, k), dtype=np.float32)
    _kernels.dense_topk(
        scores[None, :].astype(np.float32), np.array([exclude]), valid, out_idx, out_val
    )
    return out_idx[0], out_val[0]


@pytest.mark.parametrize("k", [1, 5, 40])
@pytest.mark.parametrize("seed", [0, 1])
def test_heap_topk_matches_reference_with_ties(k: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 6, 30).astype(np.float32)  # many ties: index order decides
    idx, val = heap_topk(scores, k, exclude=3)
    ref_idx, ref_val = _kernels.topk_reference(scores, k, exclude=3)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_array_equal(val, ref_val)


def test_dense_topk_skips_invalid_items_and_pads() -> None:
    scores = np.array([[0.9, 0.8, 0.7, 0.6]], dtype=np.float32)
    valid = np.array([True, False, True, True])
    out_idx = np.empty((1, 5), dtype=np.int32)
    out_val = np.empty((1, 5), dtype=np.float32)
    _kernels.dense_topk(scores, np.array([0]), valid, out_idx, out_val)
    assert out_idx[0].tolist() == [2, 3, -1, -1, -1]
    assert out_val[0, 2:].tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("k", [3, 20])
def test_cosine_kernel_matches_dense_reference(k: int) -> None:
    x = random_likes(80, 60, 0.08, seed=2)
    nb = cosine_neighbors(x, top_k=k, num_threads=2)
    sim = _kernels.cosine_reference(x.toarray())
    for i in range(x.shape[1]):
        ref_idx, ref_val = _kernels.topk_reference(sim[i], k, exclude=i)
        n = int((ref_idx >= 0).sum())
        assert int((nb.indices[i] >= 0).sum()) == n
        np.testing.assert_allclose(nb.scores[i, :n], ref_val[:n], rtol=1e-5, atol=1e-6)
        # same neighbours up to ties of equal score
        for j, s in zip(nb.indices[i, :n], nb.scores[i, :n], strict=True):
            assert abs(sim[i, j] - s) < 1e-5
        assert nb.n_nonzero[i] == int(np.isfinite(sim[i]).sum())


@pytest.mark.filterwarnings("ignore:Method expects CSR input")
def test_cosine_matches_implicit() -> None:
    x = random_likes(300, 200, 0.05, seed=3)
    k = 20
    ours = cosine_neighbors(x, top_k=k)
    model = CosineRecommender(K=k + 1)  # implicit keeps the item itself in its K
    model.fit(x, show_progress=False)
    sim = model.similarity.tocsr()
    for i in range(x.shape[1]):
        row = sim[i]
        keep = row.indices != i
        ref = np.sort(row.data[keep])[::-1][:k]
        got = ours.scores[i][ours.indices[i] >= 0]
        np.testing.assert_allclose(got[: ref.size], ref, rtol=1e-5, atol=1e-6)


def test_slim_kernel_matches_numpy_reference() -> None:
    x = random_likes(60, 25, 0.15, seed=4)
    alpha, l1_ratio = 1e-3, 0.3
    nb = slim_neighbors(x, alpha=alpha, l1_ratio=l1_ratio, top_k=24, tol=1e-10, max_iter=10_000)
    ref = _kernels.slim_reference(x.toarray(), alpha, l1_ratio)
    got = nb.to_csr().toarray().T  # column j = item j's weights, as in the reference
    np.testing.assert_allclose(got, ref, atol=1e-5)
    np.testing.assert_array_equal(nb.n_nonzero, (ref > 0).sum(axis=0))
    assert np.all(np.diag(got) == 0)


@pytest.mark.parametrize(("alpha", "l1_ratio"), [(1e-4, 0.15), (5e-3, 0.5)])
def test_slim_matches_sklearn_elastic_net(alpha: float, l1_ratio: float) -> None:
    from sklearn.linear_model import ElasticNet

    x = random_likes(400, 150, 0.04, seed=5)
    nb = slim_neighbors(x, alpha=alpha, l1_ratio=l1_ratio, top_k=149, tol=1e-10, max_iter=100_000)
    xc = x.tocsc()
    popular = np.argsort(-np.diff(xc.indptr), kind="stable")
    for j in popular[[0, 5, 30, 100]]:
        xj = xc.copy()
        xj.data[xj.indptr[j] : xj.indptr[j + 1]] = 0.0
        model = ElasticNet(
            alpha=alpha, l1_ratio=l1_ratio, positive=True, fit_intercept=False,
            tol=1e-12, max_iter=100_000,
        )  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(xj, x[:, j].toarray().ravel())
        ours = np.zeros(x.shape[1])
        keep = nb.indices[j] >= 0
        ours[nb.indices[j][keep]] = nb.scores[j][keep]
        np.testing.assert_allclose(ours, model.coef_, atol=1e-5)
        assert nb.n_nonzero[j] == int((model.coef_ > 1e-9).sum())


def test_slim_subset_of_items_leaves_the_others_empty() -> None:
    x = random_likes(100, 40, 0.1, seed=6)
    full = slim_neighbors(x, top_k=10)
    part = slim_neighbors(x, top_k=10, items=np.array([3, 9]))
    np.testing.assert_array_equal(part.indices[[3, 9]], full.indices[[3, 9]])
    assert (part.indices[np.setdiff1d(np.arange(40), [3, 9])] == -1).all()


@pytest.mark.parametrize(("weighted", "cap"), [(False, 4096), (True, 4096), (True, 8)])
def test_slim_weights_do_not_depend_on_threads_or_other_items(
    monkeypatch: pytest.MonkeyPatch, weighted: bool, cap: int
) -> None:
    """Each item's weights are the same bit for bit whether the items share one thread's
    workspace, are split over two, or are solved alone: every phase of the kernel leaves its
    scratch as it found it (with a small Gram cap, the residual fallback's too)."""
    import tuner.similarities.slim as slim_module

    monkeypatch.setattr(slim_module, "GRAM_CAP", cap)
    x = random_likes(300, 120, 0.08, seed=2)
    if weighted:
        x.data = np.random.default_rng(2).uniform(0.5, 3.0, x.nnz).astype(np.float32)
    runs = [
        slim_neighbors(x, alpha=1e-3, l1_ratio=0.3, top_k=119, num_threads=threads)
        for threads in (1, 2)
    ]
    assert runs[0].n_nonzero.max() > cap or cap > 8  # the small cap does take the fallback
    for run in runs[1:]:
        np.testing.assert_array_equal(run.indices, runs[0].indices)
        np.testing.assert_array_equal(run.scores, runs[0].scores)
    for item in (0, 17, 64, 101):
        alone = slim_neighbors(x, alpha=1e-3, l1_ratio=0.3, top_k=119, items=np.array([item]))
        np.testing.assert_array_equal(alone.indices[item], runs[0].indices[item])
        np.testing.assert_array_equal(alone.scores[item], runs[0].scores[item])


def test_factor_cosine_matches_numpy() -> None:
    rng = np.random.default_rng(7)
    v = rng.normal(size=(50, 8)).astype(np.float32)
    v[4] = 0.0  # a cold item: neither anchor nor neighbour
    nb = factor_neighbors(v, method="als", top_k=5)
    norms = np.linalg.norm(v, axis=1)
    vn = v / np.where(norms > 0, norms, 1)[:, None]
    sim = vn @ vn.T
    valid = norms > 0
    for i in np.flatnonzero(valid):
        ref_idx, ref_val = _kernels.topk_reference(sim[i], 5, exclude=i, valid=valid)
        np.testing.assert_allclose(nb.scores[i], ref_val, rtol=1e-5, atol=1e-6)
        assert set(nb.indices[i]) == set(ref_idx)
    assert (nb.indices[4] == -1).all()
    assert 4 not in nb.indices


def test_slim_residual_fallback_gives_the_same_weights(monkeypatch: pytest.MonkeyPatch) -> None:
    """Working sets larger than the dense Gram scratch are solved on the residual instead."""
    import tuner.similarities.slim as slim_module

    x = random_likes(200, 80, 0.08, seed=8)
    gram = slim_neighbors(x, top_k=79, tol=1e-10, max_iter=100_000)
    monkeypatch.setattr(slim_module, "GRAM_CAP", 2)
    resid = slim_neighbors(x, top_k=79, tol=1e-10, max_iter=100_000)
    np.testing.assert_array_equal(resid.n_nonzero, gram.n_nonzero)
    np.testing.assert_allclose(resid.scores, gram.scores, atol=1e-6)


def test_slim_weighted_matrix_matches_numpy_reference() -> None:
    """Confidences other than 1 take the kernel's general path (likes read no values)."""
    x = random_likes(80, 30, 0.15, seed=9)
    x.data = np.random.default_rng(9).uniform(0.5, 3.0, x.nnz).astype(np.float32)
    alpha, l1_ratio = 1e-3, 0.3
    nb = slim_neighbors(x, alpha=alpha, l1_ratio=l1_ratio, top_k=29, tol=1e-10, max_iter=10_000)
    ref = _kernels.slim_reference(x.toarray(), alpha, l1_ratio)
    np.testing.assert_allclose(nb.to_csr().toarray().T, ref, atol=1e-5)
    np.testing.assert_array_equal(nb.n_nonzero, (ref > 0).sum(axis=0))


@pytest.mark.parametrize(("init", "grow", "cap"), [(2, 2, 4096), (2, 2, 9), (2, 512, 4096)])
def test_slim_growing_working_set_gives_the_same_weights(
    monkeypatch: pytest.MonkeyPatch, init: int, grow: int, cap: int
) -> None:
    """A working set that grows over several optimality rounds (its Gram block extended in
    place, or outgrowing the block and moving to the residual mid-solve), or in one jump,
    ends at the same optimum as the numpy reference."""
    import tuner.similarities.slim as slim_module

    x = random_likes(120, 40, 0.12, seed=10)
    alpha, l1_ratio = 1e-3, 0.3
    monkeypatch.setattr(slim_module, "INIT_WORKING_SET", init)
    monkeypatch.setattr(slim_module, "WORKING_SET_GROWTH", grow)
    monkeypatch.setattr(slim_module, "GRAM_CAP", cap)
    nb = slim_neighbors(x, alpha=alpha, l1_ratio=l1_ratio, top_k=39, tol=1e-10, max_iter=10_000)
    ref = _kernels.slim_reference(x.toarray(), alpha, l1_ratio)
    np.testing.assert_allclose(nb.to_csr().toarray().T, ref, atol=1e-5)
    np.testing.assert_array_equal(nb.n_nonzero, (ref > 0).sum(axis=0))
    # the solves did grow: most items support more weights than the first working set
    assert (nb.n_nonzero > init).mean() > 0.5


# (weighted, key type, Gram type): SLIM's choices, 32-bit keys up to 131,072 users, 16-bit
# counts for likes
LAYOUTS = [
    (False, np.int64, np.float32),
    (False, np.uint32, np.float32),
    (False, np.uint32, np.uint16),
    (True, np.int64, np.float32),
    (True, np.uint32, np.float32),
]


# one radix pass over the users, two, or three (a few likes spread over 5M users: 64-bit keys
# only, as SLIM chooses past 131,072 users)
@pytest.mark.parametrize(
    ("n_users", "weighted", "key_type", "gram_type"),
    [(n, *layout) for n in (50, 5000) for layout in LAYOUTS]
    + [(5_000_000, *layout) for layout in LAYOUTS if layout[1] is np.int64],
)
def test_extend_gram_matches_dense_product_over_several_steps(
    weighted: bool, key_type: type, gram_type: type, n_users: int
) -> None:
    """The Gram block grown step by step (old rows add only the new items' pairs) equals
    X[:, W].T @ X[:, W] after every step, whatever the key and block types."""
    user_bits = (n_users - 1).bit_length()
    assert key_type is np.int64 or user_bits + _kernels.POS_BITS <= 32
    if n_users > 5000:
        rows = np.random.default_rng(11).choice(n_users, 400, replace=False)
        small = random_likes(400, 30, 0.3, seed=11).tocoo()
        x = sp.csr_matrix((small.data, (rows[small.row], small.col)), shape=(n_users, 30))
    else:
        x = random_likes(n_users, 30, 0.1, seed=11)
    if weighted:
        x.data = np.random.default_rng(11).uniform(0.5, 2.0, x.nnz).astype(np.float32)
    xt = x.T.tocsr()
    xt.sort_indices()
    sq = np.asarray(x.multiply(x).sum(axis=0), dtype=np.float64).ravel()
    al = np.random.default_rng(12).permutation(30).astype(np.int32)
    cap, likes = 30, x.nnz
    g2 = np.full((cap, cap + 16), 7777, dtype=gram_type)  # untouched entries stay 7777
    keys = [np.zeros(likes, dtype=key_type) for _ in range(3)]
    vals = [np.zeros(likes, dtype=np.float32) for _ in range(3)]
    hist = np.zeros(2048, dtype=np.int64)
    xc = x.tocsc().astype(np.float64)
    s_old = n_keys = 0
    for s in (1, 5, 12, 13, 30):
        n_keys = _kernels._extend_gram(
            al, s_old, s, n_keys, sq, xt.indptr, xt.indices, xt.data, not weighted,
            user_bits, g2, keys[0], vals[0], keys[1], vals[1], keys[2], vals[2], hist,
        )  # fmt: skip
        ref = (xc[:, al[:s]].T @ xc[:, al[:s]]).toarray()
        np.testing.assert_allclose(g2[:s, :s].astype(np.float64), ref, rtol=1e-5, atol=1e-5)
        # the kept likes are those of the first s items, sorted by (user, position)
        assert n_keys == xc[:, al[:s]].nnz
        assert np.all(np.diff(keys[0][:n_keys].astype(np.int64)) > 0)
        s_old = s


def test_bucket_order_sorts_by_decreasing_value_to_an_eighth_of_an_octave() -> None:
    """SLIM checks candidates in this order; a later one may exceed an earlier one by less
    than 12.5% (the same bucket), never more, and every candidate comes exactly once."""
    rng = np.random.default_rng(13)
    n = 5000
    vals = np.zeros(n + 7, dtype=np.float32)  # longer than n: only vals[:n] is ordered
    vals[:n] = np.exp(rng.normal(0.0, 6.0, n))
    vals[:10] = 1e-30  # the floor SLIM gives bounds a little under l1
    out = np.full(n + 7, -1, dtype=np.int32)
    _kernels._bucket_order(vals, n, np.zeros(2048, dtype=np.int64), out)
    np.testing.assert_array_equal(np.sort(out[:n]), np.arange(n))
    got = vals[out[:n]].astype(np.float64)
    assert np.all(got[1:] < got[:-1] * 1.125)
    assert np.all(got[1:] < np.maximum.accumulate(got)[:-1] * 1.125)
    assert (out[n:] == -1).all()


def test_col_dot_until_stops_only_below_the_threshold() -> None:
    """The SLIM checks walk a column against a residual that is <= 0 there: the walk may end
    once the value is <= stop (the rest can only lower it), and then returns an upper bound."""
    rng = np.random.default_rng(14)
    r = -rng.random(500).astype(np.float32)
    t_indices = np.sort(rng.choice(500, 300, replace=False)).astype(np.int32)
    t_data = rng.uniform(0.5, 2.0, 300).astype(np.float32)
    exact = 5.0 + float(np.dot(t_data.astype(np.float64), r[t_indices]))
    for lo, hi in [(0, 300), (7, 250), (0, 15), (3, 3)]:
        want = 5.0 + float(np.dot(t_data[lo:hi].astype(np.float64), r[t_indices[lo:hi]]))
        value, full = _kernels._col_dot_until(lo, hi, t_indices, t_data, r, 5.0, -1e9)
        assert full and value == pytest.approx(want, rel=1e-6, abs=1e-6)
    stops = 0
    for stop in np.linspace(exact - 1.0, 5.0, 40):
        value, full = _kernels._col_dot_until(0, 300, t_indices, t_data, r, 5.0, stop)
        if full:
            assert value == pytest.approx(exact, rel=1e-6)
        else:
            stops += 1
            assert exact - 1e-4 <= value <= stop + 1e-9  # an upper bound, already low enough
    assert stops > 30  # most thresholds above the final value end the walk early


@pytest.mark.parametrize("weighted", [False, True])
def test_slim_with_long_columns_matches_numpy_reference(
    monkeypatch: pytest.MonkeyPatch, weighted: bool
) -> None:
    """Columns of many likes, so that the optimality checks end walks early, over several
    rounds of a growing working set: the same optimum as the reference."""
    import tuner.similarities.slim as slim_module

    x = random_likes(500, 50, 0.2, seed=15)
    if weighted:
        x.data = np.random.default_rng(15).uniform(0.5, 3.0, x.nnz).astype(np.float32)
    assert np.median(np.diff(x.tocsc().indptr)) > 32
    alpha, l1_ratio = 1e-2, 0.3  # (at 1e-3 some items need more than 10,000 sweeps)
    monkeypatch.setattr(slim_module, "INIT_WORKING_SET", 2)
    monkeypatch.setattr(slim_module, "WORKING_SET_GROWTH", 2)
    nb = slim_neighbors(x, alpha=alpha, l1_ratio=l1_ratio, top_k=49, tol=1e-10, max_iter=10_000)
    assert nb.info["n_not_converged"] == 0
    ref = _kernels.slim_reference(x.toarray(), alpha, l1_ratio)
    np.testing.assert_allclose(nb.to_csr().toarray().T, ref, atol=1e-5)
    np.testing.assert_array_equal(nb.n_nonzero, (ref > 0).sum(axis=0))
    assert (nb.n_nonzero > 2).mean() > 0.5


def test_slim_counts_past_16_bits_keep_a_float_gram() -> None:
    """Likes put co-occurrence counts into a 16-bit Gram block; an item with more likes than
    that holds (65,535) must not wrap them. (More than 131,072 users also take the 64-bit
    sort keys.)"""
    n_users = 140_000
    rng = np.random.default_rng(16)
    cols = [
        np.ones(n_users, dtype=bool),
        rng.random(n_users) < 0.97,
        rng.random(n_users) < 0.6,
        rng.random(n_users) < 0.3,
    ]
    x = sp.csr_matrix(np.stack(cols, axis=1).astype(np.float32))
    assert x.sum(axis=0).max() > 65_535 and n_users > 2**17
    alpha, l1_ratio = 1e-4, 0.15
    nb = slim_neighbors(x, alpha=alpha, l1_ratio=l1_ratio, top_k=3, tol=1e-10, max_iter=100_000)
    ref = _kernels.slim_reference(x.toarray(), alpha, l1_ratio)
    np.testing.assert_allclose(nb.to_csr().toarray().T, ref, rtol=1e-4, atol=1e-6)


def test_slim_at_the_default_tolerance_is_as_close_to_the_optimum_as_sklearn() -> None:
    """Both stop at the same rule (a sweep's largest step <= tol x the largest weight); ours
    defers the smallest steps of a sweep, so check that its weights are no farther from the
    exact optimum than scikit-learn's, at the default tol of both."""
    from sklearn.linear_model import ElasticNet

    x = random_likes(600, 120, 0.06, seed=17)
    alpha, l1_ratio = 1e-3, 0.3
    ours = slim_neighbors(x, alpha=alpha, l1_ratio=l1_ratio, top_k=119).to_csr().toarray().T
    exact = _kernels.slim_reference(x.toarray(), alpha, l1_ratio, tol=1e-12)
    xc = x.tocsc()
    popular = np.argsort(-np.diff(xc.indptr), kind="stable")
    for j in popular[[0, 3, 10, 40]]:
        xj = xc.copy()
        xj.data[xj.indptr[j] : xj.indptr[j + 1]] = 0.0
        model = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, positive=True, fit_intercept=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(xj, x[:, j].toarray().ravel())
        err_ours = np.abs(ours[:, j] - exact[:, j]).max()
        err_sklearn = np.abs(model.coef_ - exact[:, j]).max()
        assert err_ours <= 2 * err_sklearn + 1e-6, (j, err_ours, err_sklearn)


def test_slim_float32_sweep_sums_stay_as_close_to_the_optimum(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """At the default tolerance the sweeps keep their running G w in float32; with long
    columns (large co-occurrence counts, the most rounding) the weights must stay as close to
    the exact optimum as with float64 sums."""
    import tuner.similarities.slim as slim_module

    x = random_likes(4000, 40, 0.25, seed=18)
    alpha, l1_ratio = 1e-3, 0.3
    exact = _kernels.slim_reference(x.toarray(), alpha, l1_ratio, tol=1e-12)
    found = {}
    for name, threshold in [("float32", 0.0), ("float64", np.inf)]:
        monkeypatch.setattr(slim_module, "SWEEP_FLOAT32_TOL", threshold)
        nb = slim_neighbors(x, alpha=alpha, l1_ratio=l1_ratio, top_k=39)
        assert nb.info["sweep_sums"] == name
        found[name] = nb.to_csr().toarray().T
    err32 = np.abs(found["float32"] - exact).max(axis=0)
    err64 = np.abs(found["float64"] - exact).max(axis=0)
    assert np.all(err32 <= 2 * err64 + 1e-6), (err32.max(), err64.max())
    assert (exact > 0).sum(axis=0).mean() > 5
