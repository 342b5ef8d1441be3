"""iALS (Hu, Koren, Volinsky 2008) with an exact (Cholesky) or conjugate-gradient row solver."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np
import scipy.linalg

from tuner.errors import ConfigError
from tuner.solvers import _blas, _kernels
from tuner.solvers.base import FactorizationModel, SidePlan, check_number, worker_count

SOLVERS = ("cg", "cholesky")

#: Rows per block of the dense products of a half-iteration (Y^T Y and the rotations). The
#: blocks are fixed, not one per thread, so a fit's rounding does not depend on its threads.
ROW_BLOCK = 2048
#: Below this many multiply-adds (a few milliseconds) a product runs on the calling thread:
#: handing it to threads would cost more than it saves.
PARALLEL_WORK = 1 << 25


@contextmanager
def _row_blocks(n_rows: int, k: int) -> Iterator[Callable[[Callable[[int, int], object]], list]]:
    """Yields ``run(job)``: ``job(lo, hi)`` on every row block, in block order.

    The blocks run on as many threads as the fit has numba threads, each block a one-thread
    BLAS call (NumPy releases the GIL), so the dense products use every core while BLAS itself
    stays single-threaded.
    """
    bounds = [(lo, min(lo + ROW_BLOCK, n_rows)) for lo in range(0, n_rows, ROW_BLOCK)]
    threads = min(worker_count(), len(bounds))
    if threads <= 1 or n_rows * k * k < PARALLEL_WORK:
        yield lambda job: [job(lo, hi) for lo, hi in bounds]
        return
    with ThreadPoolExecutor(threads) as pool:
        yield lambda job: list(pool.map(lambda b: job(*b), bounds))


def _gram(a: np.ndarray) -> np.ndarray:
    """``a.T @ a`` as float64, summed over row blocks in block order."""
    with _row_blocks(*a.shape) as run:
        parts = run(lambda lo, hi: a[lo:hi].T @ a[lo:hi])
    gram = np.zeros((a.shape[1], a.shape[1]), dtype=np.float64)
    for part in parts:
        gram += part
    return gram


def _rotate(a: np.ndarray, basis: np.ndarray, scratch: np.ndarray) -> None:
    """``a := a @ basis`` in place, block by block through ``scratch`` (as large as ``a``)."""

    def job(lo: int, hi: int) -> None:
        np.dot(a[lo:hi], basis, out=scratch[lo:hi])
        a[lo:hi] = scratch[lo:hi]

    with _row_blocks(*a.shape) as run:
        run(job)


class IALS(FactorizationModel):
    """Implicit ALS: every (user, item) pair is observed, with confidence.

    Preference p_ui = 1 on liked pairs (0 elsewhere), confidence c_ui = 1 + alpha * r_ui
    (1 elsewhere). Each user row solves
    ``(Y^T Y + Y_u^T (C_u - I) Y_u + lambda_u I) x_u = Y_u^T C_u 1`` where Y^T Y is shared by
    all rows of the half-iteration, so a row costs its likes, not the whole catalogue.

    Each half-iteration computes Y^T Y once, takes its eigenbasis and solves in it (the shared
    term becomes diagonal). Both sides stay in that basis: rotating the user and the item
    factors by one orthogonal matrix changes neither the scores nor the objective, so the fitted
    factors are those of the original systems up to a rotation of both sides (and rounding).
    ``solver="cholesky"`` solves each row exactly (rows with fewer likes than ``factors``
    through the equivalent smaller dual system); ``solver="cg"`` takes
    ``cg_steps`` conjugate-gradient steps warm-started from the previous factors (Takacs et al.
    2011, as in ``implicit``).

    Args:
        factors: k, the latent dimension.
        regularization: lambda >= 0.
        iterations: full alternations (users then items).
        alpha: confidence slope (> 0): c = 1 + alpha * r.
        solver: "cg" or "cholesky".
        cg_steps: CG steps per row and half-iteration (>= 1).
        reg_scaling: "none", "frequency" (lambda * n_u) or "rendle"
            (lambda * (n_u + reg_alpha0 * n_other) ** reg_nu, Rendle et al. 2021) or
            "relative" (lambda * (n_u / mean n_u) ** reg_nu: lambda is the average row's).
        reg_alpha0, reg_nu: the "rendle" scaling's constants (reg_nu also "relative"'s).
        init_scale: standard deviation of the Gaussian initial factors.
        random_state: seed of the initialisation.
        num_threads: numba threads for the fit (0 = numba's default).
    """

    name = "ials"
    label = "iALS"  # how reports and help texts name the model

    def __init__(
        self,
        factors: int = 100,
        regularization: float = 1e-3,
        iterations: int = 5,
        alpha: float = 10.0,
        solver: str = "cg",
        cg_steps: int = 3,
        reg_scaling: str = "none",
        reg_alpha0: float = 1.0,
        reg_nu: float = 1.0,
        init_scale: float = 0.01,
        random_state: int | None = 0,
        num_threads: int = 0,
    ) -> None:
        super().__init__(
            factors=factors,
            regularization=regularization,
            iterations=iterations,
            reg_scaling=reg_scaling,
            reg_alpha0=reg_alpha0,
            reg_nu=reg_nu,
            init_scale=init_scale,
            random_state=random_state,
            num_threads=num_threads,
        )
        self.alpha = alpha
        self.solver = solver
        self.cg_steps = cg_steps

    def _validate(self) -> None:
        super()._validate()
        check_number("alpha", self.alpha, low=0.0, low_open=True)
        check_number("cg_steps", self.cg_steps, integer=True, low=1)
        if self.solver not in SOLVERS:
            raise ConfigError(
                f"The 'solver' parameter must be one of {', '.join(SOLVERS)}. "
                f"Got {self.solver!r} instead."
            )

    def _divergence_hint(self) -> str:
        return (
            f"lower alpha (now {self.alpha!r}) or raise regularization "
            f"(now {self.regularization!r})"
        )

    def _prepare(self, k: int, n_users: int, n_items: int) -> None:
        w = worker_count()
        self._scratch = np.empty((max(n_users, n_items), k), dtype=np.float32)
        if self.solver == "cg":
            self._vec32 = np.empty((w, 3, k), dtype=np.float32)
        else:
            self._mat = np.empty((w, k, k), dtype=np.float64)
            self._blas_args = np.zeros((w, 4), dtype=np.int32)
            self._blas_scalars = np.zeros((w, 2), dtype=np.float64)
            self._panel = np.empty((w, max(k, _kernels.GATHER_COLUMNS) * k), dtype=np.float64)
            self._vec = np.empty((w, 3, k), dtype=np.float64)

    def _half_step(self, plan: SidePlan, x: np.ndarray, y: np.ndarray) -> None:
        m = plan.matrix
        k = x.shape[1]
        # Single precision: Y^T Y is summed from float32 products, so double precision would
        # only refine their rounding. LAPACK's divide-and-conquer driver.
        evals, evecs = scipy.linalg.eigh(
            _gram(y).astype(np.float32), driver="evd", check_finite=False
        )
        evals = np.maximum(evals, 0.0)  # Y^T Y is PSD; tiny negatives are rounding
        basis = np.ascontiguousarray(evecs, dtype=np.float32)
        # Both sides move into the eigenbasis and stay there (see the class doc): no rotation
        # back. The exact solver overwrites x, so only CG's warm start needs x rotated.
        _rotate(y, basis, self._scratch)
        a = float(self.alpha)
        if self.solver == "cg":
            _rotate(x, basis, self._scratch)
            _kernels.solve_rows_cg(
                m.indptr, m.indices, m.data, y, evals, plan.lam,
                a, 0.0, a, 1.0, int(self.cg_steps), plan.row_order, x, self._vec32,
            )  # fmt: skip
        else:
            _kernels.solve_rows_exact(
                m.indptr, m.indices, m.data, y, evals.astype(np.float64), plan.lam,
                a, 0.0, a, 1.0, k, plan.row_order, x, self._mat, self._panel, self._vec,
                _blas.DSYRK, self._blas_args, self._blas_scalars,
            )  # fmt: skip
