"""Matrix-factorization solvers: course ALS and iALS (Cholesky or CG), numba-parallel.

>>> from tuner.solvers import MODELS
>>> model = MODELS["ials"](factors=64, alpha=10.0, iterations=5).fit(train)  # doctest: +SKIP
>>> scores = model.user_factors[0] @ model.item_factors.T  # doctest: +SKIP
"""

from __future__ import annotations

from tuner.errors import ConfigError, SolverError
from tuner.solvers.als import ALS
from tuner.solvers.base import FactorizationModel
from tuner.solvers.ials import IALS

MODELS: dict[str, type[FactorizationModel]] = {"als": ALS, "ials": IALS}


def get_model(name: str) -> type[FactorizationModel]:
    """The model class registered under ``name``; ConfigError listing the valid names."""
    try:
        return MODELS[name]
    except KeyError:
        raise ConfigError(
            f"Unknown model {name!r}. Valid models: {', '.join(sorted(MODELS))}."
        ) from None


__all__ = ["ALS", "IALS", "MODELS", "FactorizationModel", "SolverError", "get_model"]
