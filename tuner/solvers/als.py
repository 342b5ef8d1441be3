"""ALS as taught in the course: least squares over each user's (item's) likes only."""

from __future__ import annotations

import numpy as np

from tuner.solvers import _blas, _kernels
from tuner.solvers.base import FactorizationModel, SidePlan, worker_count


class ALS(FactorizationModel):
    """Alternating least squares on the observed likes only.

    For each user u with liked items I_u (their factors Q_u, their values r_u) it solves
    ``(Q_u^T Q_u + lambda_u I) x_u = Q_u^T r_u`` exactly (Cholesky), then the same for items.
    A row with fewer likes than ``factors`` is solved in its smaller dual form
    ``x_u = Q_u^T (Q_u Q_u^T + lambda_u I)^-1 r_u`` (the same solution, much cheaper).

    Args:
        factors: k, the latent dimension.
        regularization: lambda >= 0 (0 makes rows with fewer than k likes singular).
        iterations: full alternations (users then items).
        reg_scaling: "none" (lambda), "frequency" (lambda * n_u, ALS-WR) or "rendle"
            (lambda * (n_u + reg_alpha0 * n_other) ** reg_nu) or "relative"
            (lambda * (n_u / mean n_u) ** reg_nu: lambda is the average row's).
        reg_alpha0, reg_nu: the "rendle" scaling's constants (reg_nu also "relative"'s).
        init_scale: standard deviation of the Gaussian initial factors.
        random_state: seed of the initialisation.
        num_threads: numba threads for the fit (0 = numba's default).
    """

    name = "als"
    label = "ALS"  # how reports and help texts name the model

    def __init__(
        self,
        factors: int = 64,
        regularization: float = 1e-3,
        iterations: int = 5,
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

    def _prepare(self, k: int, n_users: int, n_items: int) -> None:
        w = worker_count()
        self._mat = np.empty((w, k, k), dtype=np.float64)
        self._blas_args = np.zeros((w, 4), dtype=np.int32)
        self._blas_scalars = np.zeros((w, 2), dtype=np.float64)
        self._panel = np.empty((w, max(k, _kernels.GATHER_COLUMNS) * k), dtype=np.float64)
        self._vec = np.empty((w, 3, k), dtype=np.float64)
        self._diag = np.zeros(k, dtype=np.float64)

    def _half_step(self, plan: SidePlan, x: np.ndarray, y: np.ndarray) -> None:
        m = plan.matrix
        _kernels.solve_rows_exact(
            m.indptr, m.indices, m.data, y, self._diag, plan.lam,
            0.0, 1.0, 1.0, 0.0, x.shape[1], plan.row_order,
            x, self._mat, self._panel, self._vec,
            _blas.DSYRK, self._blas_args, self._blas_scalars,
        )  # fmt: skip
