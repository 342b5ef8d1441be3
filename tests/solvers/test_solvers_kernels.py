"""The numba row solvers against their dense NumPy references."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from tuner.solvers import _blas, _kernels
from tuner.solvers.base import regularization_per_row

K = 8


def _matrix(n_rows: int = 60, n_cols: int = 40, seed: int = 0) -> sp.csr_matrix:
    """Rows from empty to longer than K, so both the dual and the k x k paths run."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, 3 * K, n_rows)
    lengths[:3] = (0, 1, K)
    rows = np.repeat(np.arange(n_rows), lengths)
    cols = np.concatenate([rng.choice(n_cols, n, replace=False) for n in lengths])
    vals = rng.integers(1, 4, rows.shape[0]).astype(np.float32)
    m = sp.csr_matrix((vals, (rows, cols)), shape=(n_rows, n_cols))
    m.sort_indices()
    return m


def _scratch(workers: int) -> tuple[object, ...]:
    return (
        np.empty((workers, K, K)),
        np.empty((workers, max(K, _kernels.GATHER_COLUMNS) * K)),
        np.empty((workers, 3, K)),
        _blas.DSYRK,
        np.zeros((workers, 4), dtype=np.int32),
        np.zeros((workers, 2)),
    )


def test_cholesky_matches_numpy() -> None:
    rng = np.random.default_rng(1)
    g = rng.standard_normal((12, 12))
    a = g @ g.T + 0.1 * np.eye(12)
    b = rng.standard_normal(12)
    work = a.copy()
    assert _kernels.cholesky_inplace(work, 12)
    np.testing.assert_allclose(np.tril(work), np.linalg.cholesky(a), rtol=1e-10, atol=1e-12)
    x = b.copy()
    _kernels.cholesky_solve_inplace(work, 12, x)
    np.testing.assert_allclose(x, np.linalg.solve(a, b), rtol=1e-9)


@pytest.mark.parametrize("transpose", [False, True])
def test_syrk_lower_matches_numpy(transpose: bool) -> None:
    rng = np.random.default_rng(5)
    g = rng.standard_normal((13, 7))
    n = 13 if transpose else 7
    out = np.full((n, n), 2.0)
    args = np.zeros(4, dtype=np.int32)
    scalars = np.zeros(2)
    beta = 0.0 if transpose else 1.0
    _kernels.syrk_lower(_blas.DSYRK, g, 13, 7, transpose, beta, out, args, scalars)
    want = (g @ g.T if transpose else g.T @ g) + beta * 2.0
    np.testing.assert_allclose(np.tril(out), np.tril(want), rtol=1e-12)
    np.testing.assert_array_equal(np.triu(out, 1), np.triu(np.full((n, n), 2.0), 1))


def test_cholesky_rejects_indefinite() -> None:
    a = np.diag([1.0, -1.0, 2.0])
    assert not _kernels.cholesky_inplace(a, 3)


# (gw, bw): ALS is w = 1, b = r; iALS with alpha = 3 is w = 3 r, b = 1 + 3 r.
MODELS = {"als": ((0.0, 1.0), (1.0, 0.0)), "ials": ((3.0, 0.0), (3.0, 1.0))}


@pytest.mark.parametrize("model", sorted(MODELS))
@pytest.mark.parametrize("scaling", ["none", "frequency", "rendle", "relative"])
@pytest.mark.parametrize("workers", [1, 3])
def test_exact_sweep_matches_dense_solve(model: str, scaling: str, workers: int) -> None:
    m = _matrix()
    rng = np.random.default_rng(2)
    y = rng.standard_normal((m.shape[1], K)).astype(np.float32)
    lam = regularization_per_row(np.diff(m.indptr), m.shape[1], 0.05, scaling, 0.5, 0.7)
    gw, bw = MODELS[model]
    gram = y.T.astype(np.float64) @ y if model == "ials" else np.zeros((K, K))
    # The kernel works in the eigenbasis of the shared Gram term (identity for ALS).
    evals, evecs = np.linalg.eigh(gram)
    y_rot = (y @ evecs.astype(np.float32)).astype(np.float32)
    out = np.empty((m.shape[0], K), dtype=np.float32)
    order = np.argsort(-np.diff(m.indptr)).astype(np.int64)
    _kernels.solve_rows_exact(
        m.indptr, m.indices, m.data, y_rot, np.maximum(evals, 0.0), lam,
        *gw, *bw, K, order, out, *_scratch(workers),
    )  # fmt: skip
    ref = _kernels.solve_rows_reference(m.indptr, m.indices, m.data, y, gram, lam, gw, bw)
    np.testing.assert_allclose(out @ evecs.T, ref, rtol=1e-4, atol=1e-5)


def test_relative_scaling_is_lambda_at_the_average_row() -> None:
    counts = np.array([1, 2, 3, 10, 0])
    lam = regularization_per_row(counts, 50, 0.3, "relative", 1.0, 0.5)
    np.testing.assert_allclose(lam, 0.3 * (counts / counts.mean()) ** 0.5)
    # nu = 0 is the unscaled penalty; nu = 1 is ALS-WR's lambda * n_u, divided by the mean.
    flat = regularization_per_row(counts, 50, 0.3, "relative", 1.0, 0.0)
    np.testing.assert_allclose(flat, regularization_per_row(counts, 50, 0.3, "none", 1.0, 0.0))
    wr = regularization_per_row(counts, 50, 0.3, "relative", 1.0, 1.0)
    freq = regularization_per_row(counts, 50, 0.3, "frequency", 1.0, 1.0)
    np.testing.assert_allclose(wr, freq / counts.mean())


@pytest.mark.parametrize("scaling", ["none", "frequency", "relative"])
@pytest.mark.parametrize("steps", [1, 3])
def test_cg_sweep_matches_dense_cg(scaling: str, steps: int) -> None:
    m = _matrix(seed=3)
    rng = np.random.default_rng(4)
    y = rng.standard_normal((m.shape[1], K)).astype(np.float32)
    x0 = rng.standard_normal((m.shape[0], K)).astype(np.float32)
    lam = regularization_per_row(np.diff(m.indptr), m.shape[1], 0.05, scaling, 1.0, 1.0)
    gram = y.T.astype(np.float64) @ y
    evals, evecs = np.linalg.eigh(gram)
    basis = evecs.astype(np.float32)
    x = x0 @ basis
    order = np.argsort(-np.diff(m.indptr)).astype(np.int64)
    _kernels.solve_rows_cg(
        m.indptr, m.indices, m.data, y @ basis, evals.astype(np.float32), lam,
        3.0, 0.0, 3.0, 1.0, steps, order, x, np.empty((2, 3, K), dtype=np.float32),
    )  # fmt: skip
    ref = _kernels.solve_rows_cg_reference(
        m.indptr, m.indices, m.data, y, gram, lam, (3.0, 0.0), (3.0, 1.0), steps, x0
    )
    np.testing.assert_allclose(x @ basis.T, ref, rtol=2e-3, atol=2e-4)


def test_exact_sweep_marks_singular_rows_nan() -> None:
    m = _matrix()
    y = np.zeros((m.shape[1], K), dtype=np.float32)
    out = np.empty((m.shape[0], K), dtype=np.float32)
    order = np.arange(m.shape[0], dtype=np.int64)
    lam = np.zeros(m.shape[0])
    _kernels.solve_rows_exact(
        m.indptr, m.indices, m.data, y, np.zeros(K), lam, 0.0, 1.0, 1.0, 0.0, K, order, out,
        *_scratch(2),
    )  # fmt: skip
    nonempty = np.diff(m.indptr) > 0
    assert np.isnan(out[nonempty]).all()
    assert (out[~nonempty] == 0).all()


def test_max_abs() -> None:
    x = np.array([[1.0, -3.0], [2.0, 0.5]], dtype=np.float32)
    assert _kernels.max_abs(x) == 3.0
    x[1, 0] = np.nan
    assert np.isnan(_kernels.max_abs(x))
    x[1, 0] = -np.inf
    assert _kernels.max_abs(x) == np.inf


def test_exact_sweep_with_long_rows_matches_dense_solve() -> None:
    """k = 80 with rows of 70 likes (dual form through SYRK) and 300 (several panels)."""
    k = 80
    rng = np.random.default_rng(6)
    n_cols = 400
    lengths = np.array([0, 5, 70, 79, 80, 300])
    rows = np.repeat(np.arange(lengths.shape[0]), lengths)
    cols = np.concatenate([rng.choice(n_cols, n, replace=False) for n in lengths])
    m = sp.csr_matrix((np.ones(rows.shape[0], dtype=np.float32), (rows, cols)), (6, n_cols))
    m.sort_indices()
    y = rng.standard_normal((n_cols, k)).astype(np.float32)
    lam = np.full(6, 0.5)
    out = np.empty((6, k), dtype=np.float32)
    _kernels.solve_rows_exact(
        m.indptr, m.indices, m.data, y, np.zeros(k), lam, 0.0, 1.0, 1.0, 0.0, k,
        np.arange(6, dtype=np.int64), out, np.empty((2, k, k)),
        np.empty((2, max(k, _kernels.GATHER_COLUMNS) * k)), np.empty((2, 3, k)),
        _blas.DSYRK, np.zeros((2, 4), dtype=np.int32), np.zeros((2, 2)),
    )  # fmt: skip
    ref = _kernels.solve_rows_reference(
        m.indptr, m.indices, m.data, y, np.zeros((k, k)), lam, (0.0, 1.0), (1.0, 0.0)
    )
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-5)
