"""iALS (Hu, Koren, Volinsky 2008) with an exact (Cholesky) or conjugate-gradient row solver."""

from __future__ import annotations

import numpy as np

from tuner.errors import ConfigError
from tuner.solvers import _blas, _kernels
from tuner.solvers.base import FactorizationModel, SidePlan, check_number, worker_count

SOLVERS = ("cg", "cholesky")


class IALS(FactorizationModel):
    """Implicit ALS: every (user, item) pair is observed, with confidence.

    Preference p_ui = 1 on liked pairs (0 elsewhere), confidence c_ui = 1 + alpha * r_ui
    (1 elsewhere). Each user row solves
    ``(Y^T Y + Y_u^T (C_u - I) Y_u + lambda_u I) x_u = Y_u^T C_u 1`` where Y^T Y is shared by
    all rows of the half-iteration, so a row costs its likes, not the whole catalogue.

    Each half-iteration computes Y^T Y once, takes its eigenbasis and solves in it (the shared
    term becomes diagonal); the solutions are rotated back, so they equal those of the original
    system up to rounding. ``solver="cholesky"`` solves each row exactly (rows with fewer likes
    than ``factors`` through the equivalent smaller dual system); ``solver="cg"`` takes
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
        n = max(n_users, n_items)
        self._rotated_other = np.empty((n, k), dtype=np.float32)
        self._rotated_rows = np.empty((n, k), dtype=np.float32)
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
        gram = y.T @ y
        evals, evecs = np.linalg.eigh(gram.astype(np.float64))
        evals = np.maximum(evals, 0.0)  # Y^T Y is PSD; tiny negatives are rounding
        basis = np.ascontiguousarray(evecs, dtype=np.float32)
        y_rot = self._rotated_other[: y.shape[0]]
        np.dot(y, basis, out=y_rot)
        x_rot = self._rotated_rows[: x.shape[0]]
        a = float(self.alpha)
        if self.solver == "cg":
            np.dot(x, basis, out=x_rot)
            _kernels.solve_rows_cg(
                m.indptr, m.indices, m.data, y_rot, evals.astype(np.float32), plan.lam,
                a, 0.0, a, 1.0, int(self.cg_steps), plan.row_order, x_rot, self._vec32,
            )  # fmt: skip
        else:
            _kernels.solve_rows_exact(
                m.indptr, m.indices, m.data, y_rot, evals, plan.lam,
                a, 0.0, a, 1.0, k, plan.row_order, x_rot, self._mat, self._panel, self._vec,
            _blas.DSYRK, self._blas_args, self._blas_scalars,
            )  # fmt: skip
        np.dot(x_rot, basis.T, out=x)
