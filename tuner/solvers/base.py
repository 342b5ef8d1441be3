"""What every factorization model shares: parameter checks, input checks, the fit loop.

A model alternates two half-iterations (solve every user row with the items fixed, then every
item row with the users fixed). Subclasses implement :meth:`FactorizationModel._half_step`;
the base class owns initialisation, threads, the iteration hook and divergence detection.
"""

from __future__ import annotations

import contextlib
import inspect
import numbers
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np
import scipy.sparse as sp

from tuner.errors import ConfigError, DataError, SolverError
from tuner.solvers import _kernels

Callback = Callable[[int, "FactorizationModel"], "bool | None"]

REG_SCALINGS = ("none", "frequency", "rendle", "relative")

# Factors beyond this magnitude mean the alternating solves are blowing up: for likes data the
# predictions x_u . y_i live near [0, 1 + alpha * r], so no sane fit gets anywhere near it.
DIVERGENCE_LIMIT = 1e8


@dataclass
class SidePlan:
    """One side's rows, fixed for the whole fit.

    Attributes:
        matrix: (n_rows, n_other) CSR float32 with sorted indices, values > 0.
        lam: (n_rows,) float64 per-row regularization.
        row_order: (n_rows,) int64 rows by decreasing length (cyclic deal to workers).
    """

    matrix: sp.csr_matrix
    lam: np.ndarray
    row_order: np.ndarray


def max_threads() -> int:
    """Size of numba's thread pool (NUMBA_NUM_THREADS), the most a fit can use."""
    return int(numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]


@contextlib.contextmanager
def numba_threads(num_threads: int) -> Iterator[int]:
    """Use ``num_threads`` numba threads inside the block (0 = leave the current setting).

    Requests above the pool size numba was started with (NUMBA_NUM_THREADS) are capped to it.
    Yields the number of threads in effect and restores the previous count afterwards.

    Raises:
        ConfigError: ``num_threads`` is negative.
    """
    if int(num_threads) < 0:
        raise ConfigError(f"num_threads must be >= 0 (0 = numba's default). Got {num_threads}.")
    previous = numba.get_num_threads()
    if int(num_threads) == 0:
        yield previous
        return
    numba.set_num_threads(min(int(num_threads), max_threads()))
    try:
        yield numba.get_num_threads()
    finally:
        numba.set_num_threads(previous)


def check_user_items(user_items: Any) -> sp.csr_matrix:
    """Validate a users x items likes matrix; return it as canonical CSR float32.

    Canonical: sorted indices, no duplicate entries (summed) and no stored zeros (they mean
    "no interaction"). The caller's matrix is never changed: it is returned as it is when
    already canonical CSR float32, otherwise a full copy is made canonical (a conversion such
    as ``csr_matrix(m, dtype=...)`` may share ``indices`` and ``indptr`` with the caller's, so
    sorting it in place would reorder them under the caller's data).

    Raises:
        DataError: not a 2-D scipy.sparse matrix, no stored like, or a negative or
            non-finite value.
    """
    if not sp.issparse(user_items) or user_items.ndim != 2:
        raise DataError(
            f"user_items must be a 2-D scipy.sparse matrix (users x items); got "
            f"{type(user_items).__name__}. Fix: pass scipy.sparse.csr_matrix(likes) or "
            "PreparedData.train_val()."
        )
    m = user_items
    if not (
        m.format == "csr"
        and m.dtype == np.float32
        and m.has_canonical_format
        and (m.data != 0).all()
    ):
        m = sp.csr_matrix(user_items, dtype=np.float32, copy=True)
        m.sum_duplicates()
        m.eliminate_zeros()
        m.sort_indices()
    if m.shape[0] == 0 or m.shape[1] == 0 or m.nnz == 0:
        raise DataError(
            f"user_items has shape {m.shape} and {m.nnz} stored likes; at least one like is "
            "needed. Fix: check the data split."
        )
    if not np.isfinite(m.data).all() or (m.data < 0).any():
        raise DataError(
            "user_items must hold finite non-negative weights (1 for a like, or a count); "
            "found a negative or non-finite one. Fix: clean the matrix first."
        )
    return m


def regularization_per_row(
    counts: np.ndarray,
    n_other: int,
    regularization: float,
    reg_scaling: str,
    reg_alpha0: float,
    reg_nu: float,
) -> np.ndarray:
    """Per-row regularization lambda_u, (n_rows,) float64.

    ``none``: lambda; ``frequency`` (ALS-WR): lambda * n_u; ``rendle`` (Rendle et al. 2021):
    lambda * (n_u + alpha0 * n_other) ** nu, with n_u the row's number of stored likes;
    ``relative``: lambda * (n_u / mean n) ** nu, the frequency scaling with exponent nu
    measured from the average row, so that lambda is the average row's penalty whatever nu
    is: nu = 0 is ``none``, nu = 1 is ALS-WR rescaled, and a search over (lambda, nu) finds
    good lambdas in one range instead of one that shifts by decades with nu.
    """
    counts = counts.astype(np.float64)
    if reg_scaling == "none":
        return np.full(counts.shape[0], regularization, dtype=np.float64)
    if reg_scaling == "frequency":
        return regularization * counts
    if reg_scaling == "relative":
        mean = counts.mean() if counts.size else 0.0
        if mean <= 0.0:
            return np.full(counts.shape[0], regularization, dtype=np.float64)
        return regularization * (counts / mean) ** reg_nu
    return regularization * (counts + reg_alpha0 * n_other) ** reg_nu


def check_number(
    name: str,
    value: Any,
    *,
    integer: bool = False,
    low: float | None = None,
    low_open: bool = False,
) -> None:
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind) or not np.isfinite(float(value)):
        what = "an integer" if integer else "a finite number"
        raise ConfigError(f"The {name!r} parameter must be {what}. Got {value!r} instead.")
    if low is not None and (value <= low if low_open else value < low):
        rule = ">" if low_open else ">="
        raise ConfigError(f"The {name!r} parameter must be {rule} {low}. Got {value!r} instead.")


class FactorizationModel(ABC):
    """A matrix-factorization recommender fitted by alternating least squares.

    Contract for subclasses: ``_half_step(plan, x, y)`` overwrites ``x`` (n_rows, k) float32
    with the solutions of its rows given the other side's factors ``y`` (n_other, k) float32,
    and must leave NaN in any row whose system could not be solved.

    After :meth:`fit`: ``user_factors`` (n_users, k) float32 C-contiguous and ``item_factors``
    (n_items, k) float32 C-contiguous; the score of (u, i) is ``user_factors[u] @
    item_factors[i]``.
    """

    name = "base"

    def __init__(
        self,
        factors: int,
        regularization: float,
        iterations: int,
        reg_scaling: str,
        reg_alpha0: float,
        reg_nu: float,
        init_scale: float,
        random_state: int | None,
        num_threads: int,
    ) -> None:
        self.factors = factors
        self.regularization = regularization
        self.iterations = iterations
        self.reg_scaling = reg_scaling
        self.reg_alpha0 = reg_alpha0
        self.reg_nu = reg_nu
        self.init_scale = init_scale
        self.random_state = random_state
        self.num_threads = num_threads
        self.user_factors: np.ndarray | None = None
        self.item_factors: np.ndarray | None = None
        self.iterations_run = 0

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"

    def get_params(self) -> dict[str, Any]:
        """Constructor arguments (the search-space parameter names)."""
        names = list(inspect.signature(type(self).__init__).parameters)[1:]
        return {name: getattr(self, name) for name in names}

    def _validate(self) -> None:
        check_number("factors", self.factors, integer=True, low=1)
        check_number("regularization", self.regularization, low=0.0)
        check_number("iterations", self.iterations, integer=True, low=0)
        check_number("reg_alpha0", self.reg_alpha0, low=0.0)
        check_number("reg_nu", self.reg_nu, low=0.0)
        check_number("init_scale", self.init_scale, low=0.0, low_open=True)
        check_number("num_threads", self.num_threads, integer=True, low=0)
        if self.reg_scaling not in REG_SCALINGS:
            raise ConfigError(
                f"The 'reg_scaling' parameter must be one of {', '.join(REG_SCALINGS)}. "
                f"Got {self.reg_scaling!r} instead."
            )
        if self.random_state is not None:
            check_number("random_state", self.random_state, integer=True, low=0)

    def _plan(self, matrix: sp.csr_matrix, n_other: int) -> SidePlan:
        counts = np.diff(matrix.indptr)
        lam = regularization_per_row(
            counts,
            n_other,
            float(self.regularization),
            self.reg_scaling,
            float(self.reg_alpha0),
            float(self.reg_nu),
        )
        order = np.argsort(-counts, kind="stable").astype(np.int64)
        return SidePlan(matrix=matrix, lam=lam, row_order=order)

    @abstractmethod
    def _half_step(self, plan: SidePlan, x: np.ndarray, y: np.ndarray) -> None:
        """Overwrite ``x`` with the row solutions given the other side ``y`` (see class doc)."""

    @abstractmethod
    def _prepare(self, k: int, n_users: int, n_items: int) -> None:
        """Allocate the per-fit scratch buffers (called once per fit, threads already set)."""

    def _divergence_hint(self) -> str:
        return f"raise regularization (now {self.regularization!r})"

    def _check_finite(self, x: np.ndarray, side: str, iteration: int) -> None:
        worst = _kernels.max_abs(x)
        if np.isfinite(worst) and worst <= DIVERGENCE_LIMIT:
            return
        what = (
            "NaN/inf or a system that is not positive definite"
            if not np.isfinite(worst)
            else f"|factor| up to {worst:.3g}"
        )
        self.user_factors = None
        self.item_factors = None
        raise SolverError(
            f"{type(self).__name__} diverged in iteration {iteration} ({side} factors: {what}); "
            f"the per-row systems are ill-conditioned. Fix: {self._divergence_hint()}."
        )

    def fit(self, user_items: Any, callback: Callback | None = None) -> FactorizationModel:
        """Fit on a likes matrix.

        Args:
            user_items: (n_users, n_items) scipy.sparse likes, float32 CSR preferred (other
                formats are converted once); values > 0 are likes (or counts).
            callback: ``callback(iteration, model)`` after every full iteration (1-based);
                returning True stops training; its exceptions (e.g. ``optuna.TrialPruned``)
                propagate with the factors of the last finished iteration kept.

        Returns:
            self, with ``user_factors`` and ``item_factors`` set.

        Raises:
            ConfigError: a constructor parameter is invalid.
            DataError: the matrix is empty, negative or non-finite.
            SolverError: the factors became non-finite or exploded (none are kept).
        """
        self._validate()
        ui = check_user_items(user_items)
        iu = ui.T.tocsr()
        iu.sort_indices()
        n_users, n_items = ui.shape
        k = int(self.factors)
        rng = np.random.default_rng(self.random_state)
        x = rng.standard_normal((n_users, k), dtype=np.float32)
        x *= np.float32(self.init_scale)
        y = rng.standard_normal((n_items, k), dtype=np.float32)
        y *= np.float32(self.init_scale)
        self.user_factors = None
        self.item_factors = None
        self.iterations_run = 0
        users = self._plan(ui, n_items)
        items = self._plan(iu, n_users)
        with numba_threads(int(self.num_threads)):
            self._prepare(k, n_users, n_items)
            for it in range(1, int(self.iterations) + 1):
                self._half_step(users, x, y)
                self._check_finite(x, "user", it)
                self._half_step(items, y, x)
                self._check_finite(y, "item", it)
                self.user_factors = x
                self.item_factors = y
                self.iterations_run = it
                if callback is not None and callback(it, self):
                    break
        if self.user_factors is None:  # iterations == 0: the initialisation is the model
            self.user_factors = x
            self.item_factors = y
        return self


def worker_count() -> int:
    """Workers for the row sweeps: the numba threads currently in effect."""
    return int(numba.get_num_threads())
