"""ALS and iALS through their public API: closed forms, convergence, quality, errors."""

from __future__ import annotations

import itertools
from pathlib import Path

import numba
import numpy as np
import pytest
import scipy.sparse as sp
from implicit.cpu.als import AlternatingLeastSquares

from tuner.errors import ConfigError, DataError, SolverError
from tuner.metrics import evaluate, popularity_baseline
from tuner.solvers import ALS, IALS, get_model
from tuner.solvers.base import max_threads, regularization_per_row


def planted(
    n_users: int = 500, n_items: int = 400, n_groups: int = 8, seed: int = 0
) -> sp.csr_matrix:
    """Users like mostly items of their own group; item popularity is skewed within groups."""
    rng = np.random.default_rng(seed)
    ug = rng.integers(0, n_groups, n_users)
    ig = rng.integers(0, n_groups, n_items)
    ig[:n_groups] = np.arange(n_groups)
    pop = rng.pareto(1.5, n_items) + 0.5
    rows, cols = [], []
    for u in range(n_users):
        own = np.flatnonzero(ig == ug[u])
        p = pop[own] / pop[own].sum()
        n = min(own.shape[0], int(rng.integers(5, 25)))
        rows.append(np.full(n, u))
        cols.append(rng.choice(own, n, replace=False, p=p))
        noise = rng.integers(0, n_items, 2)
        rows.append(np.full(2, u))
        cols.append(noise)
    m = sp.csr_matrix(
        (
            np.ones(sum(map(len, rows)), dtype=np.float32),
            (np.concatenate(rows), np.concatenate(cols)),
        ),
        shape=(n_users, n_items),
    )
    m.data[:] = 1.0
    m.sort_indices()
    return m


def leave_one_out(m: sp.csr_matrix, seed: int = 0) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    rng = np.random.default_rng(seed)
    train = m.tolil(copy=True)
    rows, cols = [], []
    for u in range(m.shape[0]):
        items = m.indices[m.indptr[u] : m.indptr[u + 1]]
        if items.shape[0] >= 3:
            i = int(rng.choice(items))
            train[u, i] = 0
            rows.append(u)
            cols.append(i)
    held = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=m.shape)
    train_csr = train.tocsr()
    train_csr.eliminate_zeros()
    return train_csr.astype(np.float32), held


def initial_factors(model: ALS | IALS, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The documented initialisation: Gaussian * init_scale, users then items, one generator."""
    rng = np.random.default_rng(model.random_state)
    x = rng.standard_normal((shape[0], model.factors), dtype=np.float32)
    x *= np.float32(model.init_scale)
    y = rng.standard_normal((shape[1], model.factors), dtype=np.float32)
    y *= np.float32(model.init_scale)
    return x, y


def dense_update(
    m: np.ndarray, other: np.ndarray, model: ALS | IALS, *, x0: np.ndarray | None = None
) -> np.ndarray:
    """Closed form (or textbook CG from x0) of one side given the other, with dense NumPy."""
    other = other.astype(np.float64)
    k = other.shape[1]
    lam = regularization_per_row(
        (m > 0).sum(axis=1), m.shape[1], model.regularization, model.reg_scaling,
        model.reg_alpha0, model.reg_nu,
    )  # fmt: skip
    out = np.zeros((m.shape[0], k))
    for u in range(m.shape[0]):
        liked = m[u] > 0
        if not liked.any():
            continue
        if isinstance(model, ALS):
            q = other[liked]
            a = q.T @ q + lam[u] * np.eye(k)
            b = q.T @ m[u, liked]
        else:
            c = 1.0 + model.alpha * m[u]
            a = (other * c[:, None]).T @ other + lam[u] * np.eye(k)
            b = (other * c[:, None]).T @ liked.astype(np.float64)
        if x0 is None or not isinstance(model, IALS) or model.solver == "cholesky":
            out[u] = np.linalg.solve(a, b)
            continue
        x = x0[u].astype(np.float64)
        r = b - a @ x
        p = r.copy()
        rs = r @ r
        for _ in range(model.cg_steps):
            if rs < 1e-20:
                break
            ap = a @ p
            step = rs / (p @ ap)
            x += step * p
            r -= step * ap
            new = r @ r
            p = r + new / rs * p
            rs = new
        out[u] = x
    return out


def objective(m: np.ndarray, x: np.ndarray, y: np.ndarray, model: ALS | IALS) -> float:
    counts_u = (m > 0).sum(axis=1)
    counts_i = (m > 0).sum(axis=0)
    args = (model.regularization, model.reg_scaling, model.reg_alpha0, model.reg_nu)
    lam_u = regularization_per_row(counts_u, m.shape[1], *args)
    lam_i = regularization_per_row(counts_i, m.shape[0], *args)
    s = x.astype(np.float64) @ y.T.astype(np.float64)
    if isinstance(model, ALS):
        loss = (((m - s) ** 2) * (m > 0)).sum()
    else:
        loss = ((1.0 + model.alpha * m) * ((m > 0) - s) ** 2).sum()
    return float(loss + lam_u @ (x.astype(np.float64) ** 2).sum(1) + lam_i @ (y**2).sum(1))


CASES = [
    ALS(factors=6, regularization=0.1),
    ALS(factors=6, regularization=0.05, reg_scaling="frequency"),
    IALS(factors=6, regularization=0.1, alpha=4.0, solver="cholesky"),
    IALS(factors=6, regularization=0.02, alpha=4.0, solver="cholesky", reg_scaling="rendle",
         reg_alpha0=0.3, reg_nu=0.8),
    IALS(factors=6, regularization=0.1, alpha=4.0, solver="cg"),
    IALS(factors=6, regularization=0.01, alpha=4.0, solver="cg", cg_steps=2,
         reg_scaling="frequency"),
]  # fmt: skip


@pytest.mark.parametrize("template", CASES, ids=repr)
def test_one_iteration_equals_dense_closed_form(template: ALS | IALS) -> None:
    """Both halves of the first iteration, rebuilt from the documented initialisation.

    iALS returns its factors in the eigenbasis of its last half-iteration: both sides rotated by
    one orthogonal matrix, the same model. So the check is on what such a rotation leaves alone,
    the inner products of all user and item factors (scores included); ALS does not rotate.
    """
    m = planted(60, 45, seed=1)
    m.data = np.random.default_rng(0).integers(1, 4, m.nnz).astype(np.float32)
    model = type(template)(**{**template.get_params(), "iterations": 1})
    model.fit(m)
    x0, y0 = initial_factors(model, m.shape)
    dense = m.toarray().astype(np.float64)
    x1 = dense_update(dense, y0, model, x0=x0)
    y1 = dense_update(dense.T, x1, model, x0=y0)
    want = np.vstack([x1, y1])
    got = np.vstack([model.user_factors, model.item_factors]).astype(np.float64)
    if isinstance(model, ALS):
        np.testing.assert_allclose(got, want, rtol=2e-3, atol=2e-4)
    np.testing.assert_allclose(got @ got.T, want @ want.T, rtol=2e-3, atol=2e-3)


@pytest.mark.parametrize("template", CASES, ids=repr)
def test_objective_decreases_every_iteration(template: ALS | IALS) -> None:
    m = planted(80, 60, seed=2)
    dense = m.toarray().astype(np.float64)
    losses: list[float] = []
    model = type(template)(**{**template.get_params(), "iterations": 6})
    model.fit(
        m, callback=lambda it, mod: losses.append(objective(dense, mod.user_factors,
                                                            mod.item_factors, mod))
    )  # fmt: skip
    assert len(losses) == 6
    assert all(b <= a * (1 + 1e-5) for a, b in itertools.pairwise(losses)), losses
    assert losses[-1] < losses[0]


def test_factors_are_float32_c_contiguous() -> None:
    m = planted(50, 40)
    model = IALS(factors=5, iterations=2).fit(m)
    for f, n in ((model.user_factors, 50), (model.item_factors, 40)):
        assert f is not None
        assert f.dtype == np.float32 and f.flags.c_contiguous and f.shape == (n, 5)


def test_ials_recovers_planted_structure_far_better_than_popularity() -> None:
    train, held = leave_one_out(planted(seed=3), seed=3)
    model = IALS(factors=8, regularization=1.0, alpha=5.0, iterations=8).fit(train)
    ours = evaluate(model.user_factors, model.item_factors, train, held, k=20)
    pop = popularity_baseline(train, train, held, k=20)
    assert ours.n_users == pop.n_users > 400
    assert ours.mrr > 5 * pop.mrr
    assert ours.hr > pop.hr + 0.3


def test_als_beats_popularity_on_planted_structure() -> None:
    # Course ALS fits only the likes (all ones), a much weaker signal than iALS: a modest margin.
    train, held = leave_one_out(planted(seed=3), seed=3)
    model = ALS(factors=8, regularization=0.1, iterations=8).fit(train)
    ours = evaluate(model.user_factors, model.item_factors, train, held, k=20)
    pop = popularity_baseline(train, train, held, k=20)
    assert ours.mrr > 1.5 * pop.mrr


@pytest.mark.slow
def test_ials_beats_popularity_on_prepared_synthetic(prepared_small: Path) -> None:
    from tuner.data import load_prepared

    data = load_prepared(prepared_small)
    model = IALS(factors=32, regularization=1.0, alpha=10.0, iterations=8).fit(data.train)
    ours = evaluate(model.user_factors, model.item_factors, data.train, data.val)
    pop = popularity_baseline(data.train, data.train, data.val)
    # Measured: MRR 0.075 vs 0.033, HR 0.55 vs 0.24 (303 validation users).
    assert ours.mrr > 1.6 * pop.mrr, (ours, pop)
    assert ours.hr > pop.hr + 0.15, (ours, pop)


@pytest.mark.parametrize("solver", ["cg", "cholesky"])
def test_reproducible_for_seed_and_threads(solver: str) -> None:
    m = planted(120, 90, seed=4)
    threads = [1, 2] if numba.config.NUMBA_NUM_THREADS >= 2 else [1]
    fits = [
        IALS(factors=8, solver=solver, iterations=3, random_state=7, num_threads=t).fit(m)
        for t in threads + threads
    ]
    for f in fits[1:]:
        np.testing.assert_array_equal(f.user_factors, fits[0].user_factors)
        np.testing.assert_array_equal(f.item_factors, fits[0].item_factors)
    other = IALS(factors=8, solver=solver, iterations=3, random_state=8).fit(m)
    assert not np.array_equal(other.user_factors, fits[0].user_factors)


def test_num_threads_is_restored() -> None:
    before = numba.get_num_threads()
    seen: list[int] = []
    ALS(factors=4, iterations=1, num_threads=1).fit(
        planted(40, 30), callback=lambda it, mod: seen.append(numba.get_num_threads())
    )
    assert seen == [1]
    assert numba.get_num_threads() == before


def test_callback_stops_early_and_exceptions_propagate() -> None:
    m = planted(40, 30)
    seen: list[int] = []
    model = ALS(factors=4, iterations=10).fit(
        m, callback=lambda it, mod: seen.append(it) or it == 3
    )
    assert seen == [1, 2, 3] and model.iterations_run == 3

    class Stop(Exception):
        pass

    def boom(it: int, mod: object) -> None:
        raise Stop

    with pytest.raises(Stop):
        IALS(factors=4).fit(m, callback=boom)


@pytest.mark.parametrize(
    "model",
    [ALS(factors=20, regularization=0.0), IALS(factors=40, regularization=0.0, solver="cholesky")],
    ids=repr,
)
def test_singular_systems_raise_solver_error(model: ALS | IALS) -> None:
    m = planted(50, 30)
    with pytest.raises(SolverError, match="regularization"):
        model.fit(m)
    assert model.user_factors is None and model.item_factors is None


def test_exploding_factors_raise_solver_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tuner.solvers.base.DIVERGENCE_LIMIT", 1e-3)
    with pytest.raises(SolverError, match="lower alpha"):
        IALS(factors=4, alpha=50.0).fit(planted(40, 30))


@pytest.mark.parametrize(
    ("cls", "kwargs", "match"),
    [
        (ALS, {"factors": 0}, "'factors'"),
        (ALS, {"regularization": -1.0}, "'regularization'"),
        (ALS, {"reg_scaling": "log"}, "'reg_scaling'"),
        (IALS, {"alpha": 0.0}, "'alpha'"),
        (IALS, {"solver": "lu"}, "'solver'"),
        (IALS, {"cg_steps": 0}, "'cg_steps'"),
        (IALS, {"init_scale": 0.0}, "'init_scale'"),
        (IALS, {"iterations": 2.5}, "'iterations'"),
    ],
)
def test_invalid_parameters_raise_config_error(cls: type, kwargs: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        cls(**kwargs).fit(planted(20, 20))


def test_invalid_data_raises_data_error() -> None:
    with pytest.raises(DataError):
        ALS().fit(np.ones((3, 3)))
    bad = sp.csr_matrix(np.array([[1.0, -1.0], [0.0, 1.0]], dtype=np.float32))
    with pytest.raises(DataError):
        IALS().fit(bad)


def test_unknown_model_names_the_valid_ones() -> None:
    with pytest.raises(ConfigError, match="Valid models: als, ials"):
        get_model("svd")


@pytest.mark.parametrize("solver", ["cg", "cholesky"])
def test_ials_factors_do_not_depend_on_the_thread_count(solver: str) -> None:
    """Large enough that the dense products of the user half run in row blocks on threads."""
    if max_threads() < 2:
        pytest.skip("numba has one thread here (NUMBA_NUM_THREADS=1): no second count to compare")
    m = planted(5000, 3000, seed=3)
    one = IALS(factors=96, iterations=2, solver=solver, num_threads=1).fit(m)
    two = IALS(factors=96, iterations=2, solver=solver, num_threads=2).fit(m)
    np.testing.assert_array_equal(one.user_factors, two.user_factors)
    np.testing.assert_array_equal(one.item_factors, two.item_factors)


def test_other_sparse_formats_and_stored_zeros_fit_the_same() -> None:
    m = planted(60, 50, seed=5)
    with_zero = m.copy()
    with_zero.data[::7] = 0.0  # stored zeros mean "no like"
    clean = with_zero.copy()
    clean.eliminate_zeros()
    a = IALS(factors=6, iterations=2).fit(clean)
    b = IALS(factors=6, iterations=2).fit(with_zero.tocoo().astype(np.float64))
    np.testing.assert_allclose(a.user_factors, b.user_factors, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(a.item_factors, b.item_factors, rtol=1e-6, atol=1e-7)


def test_cg_and_cholesky_reach_similar_quality() -> None:
    train, held = leave_one_out(planted(seed=6), seed=6)
    scores = []
    for solver in ("cg", "cholesky"):
        model = IALS(factors=8, regularization=1.0, alpha=5.0, iterations=10, solver=solver)
        model.fit(train)
        scores.append(evaluate(model.user_factors, model.item_factors, train, held, k=20).mrr)
    assert abs(scores[0] - scores[1]) < 0.2 * max(scores)


@pytest.mark.parametrize("solver", ["cg", "cholesky"])
def test_ials_fits_as_well_as_implicit(solver: str) -> None:
    # implicit takes its matrix values as the confidence (times its alpha): given 1 + alpha r
    # with alpha=1.0 it fits tuner's objective, so both should reach the same quality.
    train, held = leave_one_out(planted(seed=3), seed=3)
    ours = IALS(factors=8, regularization=1.0, alpha=5.0, iterations=10, solver=solver)
    ours.fit(train)
    confidence = train.copy()
    confidence.data = 1.0 + 5.0 * confidence.data
    theirs = AlternatingLeastSquares(
        factors=8,
        regularization=1.0,
        alpha=1.0,
        iterations=10,
        use_cg=solver == "cg",
        random_state=0,
        num_threads=1,
    )
    theirs.fit(confidence, show_progress=False)
    their_x, their_y = np.asarray(theirs.user_factors), np.asarray(theirs.item_factors)
    a = evaluate(ours.user_factors, ours.item_factors, train, held, k=20)
    b = evaluate(their_x, their_y, train, held, k=20)
    assert a.n_users == b.n_users > 400
    assert abs(a.mrr - b.mrr) <= 0.1 * b.mrr
    assert abs(a.hr - b.hr) <= 0.03
    assert a.mrr > 5 * popularity_baseline(train, train, held, k=20).mrr
    # the same objective, reached as low as implicit reaches it (or lower)
    m = train.toarray()
    assert objective(m, ours.user_factors, ours.item_factors, ours) <= 1.01 * objective(
        m, their_x, their_y, ours
    )
