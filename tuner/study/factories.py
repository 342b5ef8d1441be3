"""Pruners and samplers by name, with every setting explicit.

Every worker process builds its own pruner from the study's stored settings, so nothing may be
left to "auto": with ``min_resource="auto"`` two processes could infer different rungs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tuner.errors import ConfigError

if TYPE_CHECKING:
    import optuna

PRUNERS = ("sha", "sha-margin", "noise", "hyperband", "median", "none")
#: How many standard errors of the difference a trial must trail the best finished trial by
#: before the "noise" pruner stops it.
NOISE_Z = 2.0
#: The standard errors by which a trial under the "sha-margin" pruner may miss a rung's cut
#: and go on.
MARGIN_Z = 1.0

#: Sampler names for ``--sampler``: multivariate TPE (one joint model of the parameters,
#: Optuna 5's default for one objective, set explicitly so that Optuna 4 samples the same way),
#: the same with ``group`` (conditional parameters get their own joint model; on a space
#: without them it samples as ``tpe`` does), ``tpe`` ranking pruned trials among the complete
#: ones by their best report (:class:`tuner.study.samplers.PrunedAwareTPESampler`), Optuna's
#: Gaussian-process sampler
#: fitted to pruned trials too (:class:`tuner.study.samplers.PrunedAwareGPSampler`; needs
#: PyTorch), CMA-ES (needs the ``cmaes`` package) and random search.
SAMPLERS = ("tpe", "tpe-multivariate", "tpe-pruned", "gp", "cmaes", "random")
DEFAULT_SAMPLER = "tpe"
_NEEDS = {
    "gp": ("torch", "pip install 'tuner[gp]' (PyTorch; its CPU build is enough)"),
    "cmaes": ("cmaes", "pip install cmaes"),
}


def pruner_config(
    name: str = "sha", *, min_resource: int = 1, reduction_factor: int = 3, max_resource: int = 5
) -> dict[str, Any]:
    """Validated pruner settings, in the form stored in the study's attributes.

    Args:
        name: "sha" (successive halving), "sha-margin"
            (:class:`tuner.study.pruners.MarginHalvingPruner`), "noise"
            (:class:`tuner.study.pruners.NoiseAwarePruner`), "hyperband",
            "median" or "none".
        min_resource: iterations every trial runs before its first rung (>= 1).
        reduction_factor: keep the top 1/reduction_factor at each rung (>= 2).
        max_resource: the most iterations a trial can run (Hyperband's bracket sizes).

    Raises:
        ConfigError: unknown name or out-of-range setting.
    """
    if name not in PRUNERS:
        raise ConfigError(f"Unknown pruner {name!r}; choose one of {list(PRUNERS)}.")
    if not isinstance(min_resource, int) or min_resource < 1:
        raise ConfigError(f"min_resource must be an integer >= 1. Got {min_resource!r} instead.")
    if not isinstance(reduction_factor, int) or reduction_factor < 2:
        raise ConfigError(
            f"reduction_factor must be an integer >= 2. Got {reduction_factor!r} instead."
        )
    return {
        "name": name,
        "min_resource": min_resource,
        "reduction_factor": reduction_factor,
        "max_resource": max(int(max_resource), min_resource),
    }


def make_pruner(config: dict[str, Any]) -> optuna.pruners.BasePruner:
    """The Optuna pruner for a :func:`pruner_config` dict (resource = solver iterations)."""
    import optuna

    name = config["name"]
    if name == "sha":
        return optuna.pruners.SuccessiveHalvingPruner(
            min_resource=config["min_resource"],
            reduction_factor=config["reduction_factor"],
            min_early_stopping_rate=0,
        )
    if name == "sha-margin":
        from tuner.study.pruners import MarginHalvingPruner

        return MarginHalvingPruner(
            min_resource=config["min_resource"],
            reduction_factor=config["reduction_factor"],
            z=MARGIN_Z,
        )
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(
            min_resource=config["min_resource"],
            max_resource=config["max_resource"],
            reduction_factor=config["reduction_factor"],
        )
    if name == "median":
        return optuna.pruners.MedianPruner(
            n_startup_trials=5, n_warmup_steps=config["min_resource"] - 1
        )
    if name == "noise":
        from tuner.study.pruners import NoiseAwarePruner

        return NoiseAwarePruner(z=NOISE_Z, n_warmup_steps=config["min_resource"] - 1)
    if name == "none":
        return optuna.pruners.NopPruner()
    raise ConfigError(f"Unknown pruner {name!r}; choose one of {list(PRUNERS)}.")


def check_sampler(name: str) -> str:
    """``name`` when it is a known sampler whose dependencies import; ConfigError otherwise."""
    import importlib.util

    if name not in SAMPLERS:
        raise ConfigError(f"Unknown sampler {name!r}; choose one of {', '.join(SAMPLERS)}.")
    if name in _NEEDS:
        module, install = _NEEDS[name]
        if importlib.util.find_spec(module) is None:
            raise ConfigError(
                f"The {name!r} sampler needs the {module!r} package, which is not installed. "
                f"Fix: {install}, or choose another --sampler."
            )
    return name


def make_sampler(
    name: str = DEFAULT_SAMPLER, *, seed: int | None = 0
) -> optuna.samplers.BaseSampler:
    """A seeded sampler (see :data:`SAMPLERS`).

    The TPE variants use the constant liar, so parallel workers spread out instead of
    proposing the same point while each other's trials run.
    """
    import warnings

    import optuna

    check_sampler(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if name == "tpe":
            return optuna.samplers.TPESampler(seed=seed, constant_liar=True, multivariate=True)
        if name == "tpe-multivariate":
            return optuna.samplers.TPESampler(
                seed=seed, constant_liar=True, multivariate=True, group=True
            )
        if name == "tpe-pruned":
            from tuner.study.samplers import PrunedAwareTPESampler

            return PrunedAwareTPESampler(seed=seed, constant_liar=True, multivariate=True)
        if name == "gp":
            from tuner.study.samplers import PrunedAwareGPSampler

            return PrunedAwareGPSampler(seed=seed)
        if name == "cmaes":
            return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)
        return optuna.samplers.RandomSampler(seed=seed)
