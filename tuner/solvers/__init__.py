"""Matrix-factorization solvers: course ALS and iALS (Cholesky or CG), numba-parallel.

>>> from tuner.solvers import MODELS
>>> model = MODELS["ials"](factors=64, alpha=10.0, iterations=5).fit(train)  # doctest: +SKIP
>>> scores = model.user_factors[0] @ model.item_factors.T  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tuner.errors import ConfigError, SolverError
from tuner.solvers.als import ALS
from tuner.solvers.base import FactorizationModel, check_user_items, numba_threads
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


def model_label(name: str) -> str:
    """How reports and help texts name model ``name``: its class's ``label`` ("iALS"), or the
    registry key when the class has none."""
    return str(getattr(get_model(name), "label", name))


def model_parameters(name: str) -> frozenset[str]:
    """The constructor arguments of model ``name`` that a search space or a file may set.

    Everything in the solver's signature but ``random_state`` and ``num_threads``, which belong
    to the run (its seed and its cores), not to the configuration.
    """
    import inspect

    names = list(inspect.signature(get_model(name).__init__).parameters)[1:]
    return frozenset(n for n in names if n not in ("random_state", "num_threads"))


def build_model(
    name: str, params: Mapping[str, Any], *, seed: int = 0, num_threads: int = 0
) -> FactorizationModel:
    """A fresh, unfitted model ``name`` with constructor arguments ``params``.

    The one place a configuration becomes a model: the trials, the export's refit and the
    similarities all build through it, so the same parameters and seed give the same factors.

    Args:
        name: model registry key ("als", "ials").
        params: constructor arguments (a best configuration, fixed ones included).
        seed: ``random_state`` of the initialisation (a study's seed).
        num_threads: numba threads for the fit (0 = numba's default).

    Raises:
        ConfigError: unknown model or a parameter the model does not take.
    """
    known = model_parameters(name)
    unknown = sorted(set(params) - known)
    if unknown:
        raise ConfigError(
            f"Model {name!r} takes no parameter(s) {unknown}; known: {sorted(known)}."
        )
    return get_model(name)(**dict(params), random_state=seed, num_threads=num_threads)


__all__ = [
    "ALS",
    "IALS",
    "MODELS",
    "FactorizationModel",
    "SolverError",
    "build_model",
    "check_user_items",
    "get_model",
    "model_label",
    "model_parameters",
    "numba_threads",
]
