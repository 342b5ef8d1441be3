"""Pruners and samplers by name: every pruner behaves as named; bad settings are refused."""

from __future__ import annotations

import optuna
import pytest

from tuner.errors import ConfigError
from tuner.study.factories import PRUNERS, make_pruner, make_sampler, pruner_config


def _curves(trial: optuna.trial.Trial) -> float:
    """Learning curves whose level is set by x: low-x trials are clearly worse at every step."""
    x = trial.suggest_float("x", 0.0, 1.0)
    for step in range(1, 10):
        trial.report(x * step, step=step)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return x * 9


@pytest.mark.parametrize("name", PRUNERS)
def test_each_pruner_prunes_or_not_as_named(name: str) -> None:
    study = optuna.create_study(
        direction="maximize",
        sampler=make_sampler("random", seed=0),
        pruner=make_pruner(pruner_config(name, max_resource=9)),
    )
    study.optimize(_curves, n_trials=30)
    n_pruned = len(study.get_trials(states=(optuna.trial.TrialState.PRUNED,)))
    assert (n_pruned == 0) == (name == "none")


def test_seeded_tpe_repeats_itself() -> None:
    def suggestions(seed: int) -> list[float]:
        study = optuna.create_study(sampler=make_sampler("tpe", seed=seed))
        study.optimize(lambda t: t.suggest_float("x", 0, 1) ** 2, n_trials=12)
        return [t.params["x"] for t in study.trials]

    assert suggestions(3) == suggestions(3)
    assert suggestions(3) != suggestions(4)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"name": "asha"}, "Unknown pruner 'asha'"),
        ({"name": "sha", "min_resource": 0}, "min_resource must be an integer >= 1"),
        ({"name": "sha", "reduction_factor": 1}, "reduction_factor must be an integer >= 2"),
    ],
)
def test_bad_pruner_settings(kwargs: dict, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        pruner_config(**kwargs)


def test_unknown_sampler() -> None:
    with pytest.raises(ConfigError, match=r"Unknown sampler 'cmaes'; choose one of"):
        make_sampler("cmaes")
